#pragma once
// One writer per inventory. The lock is an exclusive flock(2) on
// "<inventory>.lock", which the kernel releases when the holder's process
// ends in any way (exit, crash, kill -9), so a dead holder never leaves it
// held. The file's text says who holds it (pid, command, since when) for the
// message a second writer prints. force_unlock exists for the rare case of a
// holder that is alive but stuck (docs/cli.md, "force-unlock").
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace farmctl::runtime {

struct LockHolder {
  long pid = 0;
  std::string command;
  std::string since;
  bool alive = false;
};

class LockBusy : public std::runtime_error {
 public:
  LockBusy(const std::string& message, LockHolder holder) : std::runtime_error(message), holder_(std::move(holder)) {}
  const LockHolder& holder() const { return holder_; }

 private:
  LockHolder holder_;
};

class InventoryLock {
 public:
  // Waits up to `timeout` (zero: not at all); throws LockBusy naming the holder.
  InventoryLock(const std::string& inventory_path, const std::string& command, std::chrono::milliseconds timeout);
  ~InventoryLock();
  InventoryLock(const InventoryLock&) = delete;
  InventoryLock& operator=(const InventoryLock&) = delete;

 private:
  int fd_ = -1;
};

std::optional<LockHolder> read_lock_holder(const std::string& inventory_path);
// Removes the lock file so that a new writer can start even while the stuck
// holder lives; returns what it broke. The holder's open transaction (if any)
// is still protected by SQLite's own locking.
std::optional<LockHolder> force_unlock(const std::string& inventory_path);

}  // namespace farmctl::runtime
