#pragma once
// Checkpoints a WAL database on a thread and connection of its own, so that
// the connection writing it never stops to copy pages back. SQLite's
// automatic checkpoint runs inside the commit that crosses its threshold,
// on the writer's thread: in an apply that thread journals every action and
// is what the whole apply waits on, while the second core has room.
//
// While a BackgroundCheckpointer lives, the writer's automatic checkpoint is
// off; a PASSIVE checkpoint runs on the other connection whenever a commit
// leaves the WAL at `threshold_pages` or more. PASSIVE never waits for the
// writer or for readers, so nothing the writer does is held up; when it
// cannot copy everything, the next commit over the threshold asks again.
// Destroying it stops the thread and turns the automatic checkpoint back on.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/sqlite.h"

namespace farmctl::runtime {

class BackgroundCheckpointer {
 public:
  explicit BackgroundCheckpointer(Database& writer, int threshold_pages = Database::kWalAutocheckpointPages);
  ~BackgroundCheckpointer();
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;

  // Checkpoints run so far (for tests).
  int checkpoints() const;

 private:
  static int after_commit(void* self, sqlite3* db, const char* name, int wal_pages);
  void run(std::string path);

  Database& writer_;
  const int threshold_pages_;
  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  int checkpoints_ = 0;
  std::thread thread_;  // last: it starts once the rest is set up
};

}  // namespace farmctl::runtime
