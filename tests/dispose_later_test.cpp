// runtime::dispose_later: an object handed over is destroyed, on another
// thread, in the order given.
#include "runtime/dispose_later.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace farmctl::runtime {
namespace {

struct Recorder {
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
};

struct Tracked {
  Recorder* recorder;
  int number;
  ~Tracked() {
    std::lock_guard lock(recorder->mutex);
    recorder->order.push_back(number);
    recorder->threads.push_back(std::this_thread::get_id());
  }
};

TEST_CASE("dispose_later destroys what it is given on another thread, in order", "[runtime]") {
  Recorder recorder;
  for (int i = 0; i < 3; ++i) dispose_later(std::unique_ptr<Tracked>(new Tracked{&recorder, i}));
  dispose_later(std::unique_ptr<Tracked>());  // nothing to free is fine
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(recorder.mutex);
      if (recorder.order.size() == 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard lock(recorder.mutex);
  REQUIRE(recorder.order == std::vector<int>{0, 1, 2});
  for (std::thread::id id : recorder.threads) CHECK(id != std::this_thread::get_id());
}

}  // namespace
}  // namespace farmctl::runtime
