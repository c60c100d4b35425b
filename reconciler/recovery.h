#pragma once
// Recovery after an interrupted apply (a crash, kill -9, power loss): every
// action the journal shows as started but never finished is run again —
// actions are idempotent, so this finds out from the device what really
// happened and brings the inventory in line with it — and its outcome is
// recorded. Must run under the inventory lock, before planning.
#include <string>
#include <vector>

#include "runtime/driver_set.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

struct RecoveryReport {
  int recovered = 0;
  int failed = 0;
  std::vector<std::string> lines;  // one per action, for the operator
};

RecoveryReport recover_interrupted_actions(runtime::Inventory& inventory, runtime::DriverSet& drivers);

}  // namespace farmctl::reconcile
