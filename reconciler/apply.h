#pragma once
// Applying a reconcile plan: record the new placements, run every action
// through its device's driver in dependency order — each journalled before it
// starts and recorded in the inventory when it succeeds — then settle the
// farm (its applied Plan IR, released hosts; for a destroy, the farm row).
//
// A failed action stops what depends on it; what does not depend on it still
// runs. The next plan shows exactly the work that remains.
#include <functional>
#include <string>
#include <vector>

#include "reconciler/action.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// What an apply reports as it goes (progress lines, JSON events).
class ApplyEvents {
 public:
  virtual ~ApplyEvents() = default;
  virtual void started(const Action& action) {}
  virtual void finished(const Action& action, const runtime::ActionOutcome& outcome, int attempts) {}
  virtual void skipped(const Action& action, int because_of) {}
};

struct ApplyResult {
  int total = 0;
  int done = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<std::string> failures;  // "action 7 bind sym1:0A3: <driver message>"
  bool ok() const { return failed == 0 && skipped == 0; }
};

struct ApplyOptions {
  int max_attempts = 4;          // transient failures are retried up to this many runs in all
  int first_backoff_ms = 50;     // doubled after each transient failure
};

ApplyResult apply_plan(const ReconcilePlan& plan, runtime::Inventory& inventory, runtime::DriverSet& drivers,
                       ApplyEvents& events, const ApplyOptions& options = {});

}  // namespace farmctl::reconcile
