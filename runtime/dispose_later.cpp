#include "runtime/dispose_later.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace farmctl::runtime {
namespace {

// Never destroyed, its thread never joined: when the process ends, what is
// still queued or being freed is simply given back with the rest of its
// memory (the reason for freeing on another core is not to wait for it).
// Nothing here or in what it frees is a static the exit tears down.
class Disposer {
 public:
  Disposer() { std::thread([this] { run(); }).detach(); }

  void add(std::function<void()> free) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(free));
    }
    ready_.notify_one();
  }

 private:
  [[noreturn]] void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      ready_.wait(lock, [this] { return !queue_.empty(); });
      std::function<void()> free = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      free();
      free = nullptr;
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace

void dispose_on_background_thread(std::function<void()> free) {
  static Disposer* const disposer = new Disposer;  // deliberately never deleted (see above)
  disposer->add(std::move(free));
}

}  // namespace farmctl::runtime
