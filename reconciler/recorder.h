#pragma once
// Records in the inventory what a successful action did to the estate: the
// disk unit's new state (ARCHITECTURE.md's diagram), its owner, bindings,
// zones. Runs inside the caller's transaction; the action's Effect says what
// to record, so a saved plan records the same as a fresh one.
#include <unordered_set>
#include <vector>

#include "reconciler/action.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// The bindings of one commit's bind actions, inserted together by flush()
// (Inventory::insert_bindings): one INSERT per bind cost more in starting
// and finishing the statement than in the row. A pending binding is flushed
// before anything reads or writes the bindings of its unit (a map of the
// same unit), or any binding at all (every other action but allocate,
// copy, bind, map and zone).
class PendingBindings {
 public:
  explicit PendingBindings(runtime::Inventory& inventory) : inv_(inventory) {}
  void add(const runtime::BindingRow& row);
  void flush_unit(runtime::RowId volume_id);  // if one of the unit's is pending
  void flush();

 private:
  runtime::Inventory& inv_;
  std::vector<runtime::BindingRow> rows_;
  // The units of rows_: every bind and map asks, hundreds per commit.
  std::unordered_set<runtime::RowId> units_;
};

// Within the caller's transaction; the caller flushes `pending` before it
// commits (or reads bindings).
void record_success(runtime::Inventory& inventory, runtime::RowId farm_id, const std::string& farm,
                    const Action& action, PendingBindings& pending);
// One action on its own.
void record_success(runtime::Inventory& inventory, runtime::RowId farm_id, const std::string& farm,
                    const Action& action);

}  // namespace farmctl::reconcile
