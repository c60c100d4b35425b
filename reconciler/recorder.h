#pragma once
// Records in the inventory what a successful action did to the estate: the
// disk unit's new state (ARCHITECTURE.md's diagram), its owner, bindings,
// zones. Runs inside the caller's transaction; the action's Effect says what
// to record, so a saved plan records the same as a fresh one.
#include "reconciler/action.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

void record_success(runtime::Inventory& inventory, runtime::RowId farm_id, const std::string& farm,
                    const Action& action);

}  // namespace farmctl::reconcile
