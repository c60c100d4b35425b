#pragma once
// Executors run an ActionGraph: which action runs when, and on which thread.
// What running an action means — journal the intent, call the driver, record
// the outcome — is the StepHooks' business (apply.cpp), so both executors run
// exactly the same steps and differ only in order and overlap.
//
//   run_serial:   one action at a time, in priority order. The reference: slow,
//                 obviously correct; tests check the parallel one against it.
//   run_parallel: up to `parallelism` actions at once, at most the device's
//                 limit on any one device, in ActionGraph::runs_before order.
//                 Driver calls run on worker threads; journalling and
//                 recording stay on the calling thread, which commits every
//                 outcome that arrived together with the intents of the next
//                 actions in ONE transaction (one fsync), and keeps each
//                 device's queue of journalled actions stocked so that a
//                 worker starts the next action the moment a slot frees,
//                 without waiting for a commit. A device's stock of open
//                 intents starts at 512 (or twice its limit) and doubles,
//                 up to 8192, while it ends half of it between two
//                 stockings: at most that stock is left for recovery to run
//                 again after a crash.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reconciler/action_graph.h"
#include "runtime/driver.h"

namespace farmctl::reconcile {

struct Completion {
  std::size_t index = 0;
  std::int64_t journal_entry = 0;
  runtime::ActionOutcome outcome;
  int attempts = 0;
};

class StepHooks {
 public:
  virtual ~StepHooks() = default;
  // Calling thread, one transaction: record the outcomes (and inventory
  // effects) of `ended`, journal the intents of `starting`; returns the
  // journal entries of `starting`.
  virtual std::vector<std::int64_t> commit(const std::vector<const Action*>& ended,
                                           const std::vector<Completion>& completions,
                                           const std::vector<const Action*>& starting) = 0;
  // Calling thread: journalled actions that will not run after all (the
  // apply was stopped before they started).
  virtual void cancel(const std::vector<Completion>& never_started) = 0;
  // Any thread: the driver call, with retries of transient failures.
  virtual runtime::ActionOutcome call(const Action& action, int& attempts) = 0;
  virtual int device_limit(const std::string& device) = 0;
  // Progress, on the calling thread.
  virtual void on_start(const Action& action) {}
  virtual void on_finish(const Action& action, const Completion& completion) {}
  virtual void on_skip(const Action& action, int because_of) {}
  // After the reports of one commit (one call per commit, not per action).
  virtual void on_reported() {}
};

struct ExecutorOptions {
  int parallelism = 8;
  // When set and true, no new action starts; running ones finish and are
  // recorded (SIGINT/SIGTERM).
  const std::atomic<bool>* stop = nullptr;
};

void run_serial(ActionGraph& graph, StepHooks& hooks, const ExecutorOptions& options);
void run_parallel(ActionGraph& graph, StepHooks& hooks, const ExecutorOptions& options);

}  // namespace farmctl::reconcile
