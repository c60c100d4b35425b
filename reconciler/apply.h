#pragma once
// Applying a reconcile plan: record the new placements, run every action
// through its device's driver (each journalled before it starts and recorded
// in the inventory when it ends), roll back the failed units (rollback.h),
// then settle the farm (its applied Plan IR, released hosts; for a destroy,
// the farm row) when everything succeeded.
//
// A failed action stops what depends on it; what does not depend on it still
// runs. The next plan shows exactly the work that remains.
#include <atomic>
#include <string>
#include <vector>

#include "reconciler/action.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// What an apply reports as it goes (progress lines, JSON events). Called on
// the applying thread.
class ApplyEvents {
 public:
  virtual ~ApplyEvents() = default;
  virtual void started(const Action& action) {}
  virtual void finished(const Action& action, const runtime::ActionOutcome& outcome, int attempts) {}
  virtual void skipped(const Action& action, int because_of) {}
  virtual void rolling_back(int compensations) {}
  // The executor has reported everything of one commit (its outcomes and the
  // actions it started): a place to flush what was written per event.
  virtual void reported() {}
};

struct ApplyResult {
  int total = 0;
  int done = 0;
  int failed = 0;
  int skipped = 0;
  int not_started = 0;  // stopped by a signal before they could start
  std::vector<std::string> failures;     // "action 7 bind on sym1 (...): <driver message>"
  std::vector<std::string> rolled_back;  // "undo bind sym1:0A3 ...: done"
  bool ok() const { return failed == 0 && skipped == 0 && not_started == 0; }
};

struct ApplyOptions {
  int parallelism = 8;        // 1: the serial reference executor
  int max_attempts = 4;       // transient failures are retried up to this many runs in all
  int first_backoff_ms = 50;  // doubled after each transient failure
  const std::atomic<bool>* stop = nullptr;  // set: start nothing new (SIGINT/SIGTERM)
};

ApplyResult apply_plan(const ReconcilePlan& plan, runtime::Inventory& inventory, runtime::DriverSet& drivers,
                       ApplyEvents& events, const ApplyOptions& options = {});

}  // namespace farmctl::reconcile
