// BackgroundCheckpointer: the WAL of a database written by one connection is
// checkpointed from another thread, and the writer's own automatic
// checkpoint is back once it is gone.
#include "runtime/wal_checkpointer.h"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/temp_dir.h"

namespace farmctl::runtime {
namespace {

// Pages in the WAL that no checkpoint has copied back yet, as another
// connection sees them (a PASSIVE checkpoint of zero frames would copy
// nothing: sqlite3_wal_checkpoint_v2 reports the log size and what it did).
int wal_frames(const std::string& path) {
  Database reader(path);
  int log = 0, copied = 0;
  sqlite3_wal_checkpoint_v2(reader.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  return log;
}

void write_rows(Database& db, int commits, int rows_per_commit) {
  for (int i = 0; i < commits; ++i) {
    Transaction tx(db);
    for (int k = 0; k < rows_per_commit; ++k) db.cached("INSERT INTO t (v) VALUES (randomblob(900))").run();
    tx.commit();
  }
}

}  // namespace

TEST_CASE("a background checkpointer copies the WAL back while the writer goes on", "[sqlite]") {
  testing::TempDir dir{"farmctl-wal"};
  const std::string path = (dir.path() / "w.db").string();
  Database writer(path);
  writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  {
    BackgroundCheckpointer checkpointer(writer, 50);
    write_rows(writer, 40, 20);  // about 5 pages a commit: the threshold is crossed many times
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (checkpointer.checkpoints() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(checkpointer.checkpoints() > 0);
  }
  Database reader(path);
  auto count = reader.prepare("SELECT COUNT(*) FROM t");
  REQUIRE(count.step());
  CHECK(count.int64(0) == 800);
}

TEST_CASE("without a background checkpointer the writer checkpoints by itself again", "[sqlite]") {
  testing::TempDir dir{"farmctl-wal"};
  const std::string path = (dir.path() / "w.db").string();
  Database writer(path);
  writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  { BackgroundCheckpointer checkpointer(writer, 1000000); }  // never due
  // Past the automatic threshold the writer copies the WAL back at a commit
  // and then starts it again from its beginning: it stays small.
  write_rows(writer, 45, 1000);  // about 10,000 pages, 225 a commit
  CHECK(wal_frames(path) < Database::kWalAutocheckpointPages);
}

}  // namespace farmctl::runtime
