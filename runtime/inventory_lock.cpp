#include "runtime/inventory_lock.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace farmctl::runtime {
namespace {

std::string lock_path(const std::string& inventory_path) { return inventory_path + ".lock"; }

std::string now_text() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

LockHolder parse_holder(const std::string& text) {
  LockHolder h;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "pid") h.pid = std::atol(value.c_str());
    if (key == "command") h.command = value;
    if (key == "since") h.since = value;
  }
  h.alive = h.pid > 0 && (kill(static_cast<pid_t>(h.pid), 0) == 0 || errno == EPERM);
  return h;
}

}  // namespace

InventoryLock::InventoryLock(const std::string& inventory_path, const std::string& command,
                             std::chrono::milliseconds timeout) {
  std::string path = lock_path(inventory_path);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
      // The file may have been removed by force-unlock after we opened it:
      // only a lock on the file that is at the path counts.
      struct stat by_fd {}, by_path {};
      if (::fstat(fd_, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 && by_fd.st_ino == by_path.st_ino) break;
    }
    ::close(fd_);
    fd_ = -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      LockHolder holder = read_lock_holder(inventory_path).value_or(LockHolder{});
      throw LockBusy(fmt::format("the inventory {} is locked by pid {} ({}) since {}; wait for it, pass "
                                 "--lock-timeout, or if that process is stuck run farmctl force-unlock",
                                 inventory_path, holder.pid, holder.command.empty() ? "?" : holder.command,
                                 holder.since.empty() ? "?" : holder.since),
                     holder);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string text = fmt::format("pid={}\ncommand={}\nsince={}\n", getpid(), command, now_text());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) < 0) {
    // the lock holds all the same; only the message for others suffers
  }
}

InventoryLock::~InventoryLock() {
  if (fd_ >= 0) {
    if (::ftruncate(fd_, 0) != 0) {
    }
    ::close(fd_);  // releases the flock
  }
}

std::optional<LockHolder> read_lock_holder(const std::string& inventory_path) {
  std::ifstream in(lock_path(inventory_path));
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return std::nullopt;
  return parse_holder(text.str());
}

std::optional<LockHolder> force_unlock(const std::string& inventory_path) {
  auto holder = read_lock_holder(inventory_path);
  ::unlink(lock_path(inventory_path).c_str());
  return holder;
}

}  // namespace farmctl::runtime
