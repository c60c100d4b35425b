// The parallel executor's stock of journalled actions (executor.h): how many
// intents a device may have open — journalled, not yet recorded as ended —
// which is what a crash leaves recovery to run again. Driven through
// StepHooks with a fake journal, so that a device's speed is chosen.
#include <algorithm>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "reconciler/executor.h"

using namespace farmctl;
using namespace farmctl::reconcile;

namespace {

std::vector<Action> independent_actions(int n, const std::string& device) {
  std::vector<Action> actions(n);
  for (int i = 0; i < n; ++i) {
    actions[i].id = i + 1;
    actions[i].device = device;
    actions[i].volume = "unit-" + std::to_string(i);
  }
  return actions;
}

// A journal that takes `commit_time` per commit and a device that takes
// `call_time` per action; counts the intents open after each commit.
class CountingHooks : public StepHooks {
 public:
  CountingHooks(std::chrono::microseconds commit_time, std::chrono::microseconds call_time, int limit)
      : commit_time_(commit_time), call_time_(call_time), limit_(limit) {}

  std::vector<std::int64_t> commit(const std::vector<const Action*>&, const std::vector<Completion>& completions,
                                   const std::vector<const Action*>& starting) override {
    std::this_thread::sleep_for(commit_time_);
    open_ += static_cast<int>(starting.size()) - static_cast<int>(completions.size());
    max_open_ = std::max(max_open_, open_);
    ++commits_;
    std::vector<std::int64_t> entries;
    for (std::size_t k = 0; k < starting.size(); ++k) entries.push_back(++last_entry_);
    return entries;
  }
  void cancel(const std::vector<Completion>&) override {}
  runtime::ActionOutcome call(const Action&, int& attempts) override {
    attempts = 1;
    if (call_time_.count() > 0) std::this_thread::sleep_for(call_time_);
    return runtime::ActionOutcome::success();
  }
  int device_limit(const std::string&) override { return limit_; }

  int max_open() const { return max_open_; }
  int commits() const { return commits_; }

 private:
  std::chrono::microseconds commit_time_, call_time_;
  int limit_;
  int open_ = 0, max_open_ = 0, commits_ = 0;
  std::int64_t last_entry_ = 0;
};

}  // namespace

TEST_CASE("a device that keeps up with the journal gets a larger stock, never more than 8192 intents open",
          "[executor][stock]") {
  // Each commit takes 5 ms, and the device runs an action in no time: it
  // goes through whatever it was given while the journal commits.
  std::vector<Action> actions = independent_actions(40000, "arr0");
  ActionGraph graph(actions);
  CountingHooks hooks(std::chrono::milliseconds(5), std::chrono::microseconds(0), 4);
  run_parallel(graph, hooks, ExecutorOptions{8, nullptr});
  CHECK(graph.finished());
  CHECK(hooks.max_open() > 512);
  CHECK(hooks.max_open() <= 8192);
  // 40,000 actions at 512 a commit would take 79 commits.
  CHECK(hooks.commits() < 40);
}

TEST_CASE("a slow device keeps a stock of 512: a crash leaves it no more intents to run again", "[executor][stock]") {
  // An instant journal and a device taking a millisecond an action: each
  // commit finds it has run one or two since the last.
  std::vector<Action> actions = independent_actions(700, "slow");
  ActionGraph graph(actions);
  CountingHooks hooks(std::chrono::microseconds(0), std::chrono::milliseconds(1), 1);
  run_parallel(graph, hooks, ExecutorOptions{8, nullptr});
  CHECK(graph.finished());
  CHECK(hooks.max_open() == 512);
}
