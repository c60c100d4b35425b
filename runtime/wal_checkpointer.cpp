#include "runtime/wal_checkpointer.h"

#include <sqlite3.h>

#include <optional>
#include <string>

namespace farmctl::runtime {

BackgroundCheckpointer::BackgroundCheckpointer(Database& writer, int threshold_pages)
    : writer_(writer), threshold_pages_(threshold_pages) {
  if (writer.path().empty() || writer.path() == ":memory:") return;  // no WAL, nothing to do
  // Replaces the hook sqlite3_wal_autocheckpoint installs: the writer no
  // longer checkpoints at commit.
  sqlite3_wal_hook(writer_.handle(), &BackgroundCheckpointer::after_commit, this);
  thread_ = std::thread([this, path = writer.path()] { run(path); });
}

BackgroundCheckpointer::~BackgroundCheckpointer() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_wal_autocheckpoint(writer_.handle(), Database::kWalAutocheckpointPages);
}

int BackgroundCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

// On the writer's thread, after each commit: only a flag and a wake-up.
int BackgroundCheckpointer::after_commit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* me = static_cast<BackgroundCheckpointer*>(self);
  if (wal_pages < me->threshold_pages_) return SQLITE_OK;
  {
    std::lock_guard lock(me->mutex_);
    me->due_ = true;
  }
  me->wake_.notify_one();
  return SQLITE_OK;
}

void BackgroundCheckpointer::run(std::string path) {
  std::optional<Database> db;
  try {
    db.emplace(path);
  } catch (const SqliteError&) {
    return;  // the writer's WAL only grows until the automatic checkpoint is back
  }
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
    }
    int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      std::lock_guard lock(mutex_);
      ++checkpoints_;
    }
    // Busy or failed: the next commit over the threshold asks again.
  }
}

}  // namespace farmctl::runtime
