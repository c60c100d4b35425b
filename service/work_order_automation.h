#pragma once
// The automation that carries work orders out (ARCHITECTURE.md, "Work
// orders"). Called by the reconcile loop, on its thread:
//
// 1. open_new_orders: takes `new` orders oldest first, a farm at a time. For
//    each it makes the order's edit on top of the farm as it is now and the
//    orders before it (order_edit.h) and checks the customer's quota; then it
//    checks that the planner would accept the farm so edited (a dry run).
//    Then, in ONE transaction, it stores each edit as the farm's next
//    revision and marks each order `open` with its revision. An order that
//    cannot be carried out is marked `failed` with the reason instead, and
//    changes nothing.
//    A migrate-server order edits nothing: its move is checked on its own
//    (a dry run with the move), and the order is opened at the farm's current
//    revision; the reconcile loop passes the moves of open orders to the
//    reconcile (open_moves), which makes them.
// 2. farm_reconciled: after the loop reconciled a farm, closes the open
//    orders its applied revision carries out (each with its billable event,
//    all in one transaction), or counts a failed attempt against them and
//    fails those out of attempts.
//
// Crash safety: a crash before step 1's commit leaves the orders `new` and
// the farm as it was; after it, the orders are `open` and their edits
// stored, so a restart only reconciles — an edit is never made twice. A
// close is guarded by the order's state, and billable_events allows one row
// per order.
//
// One transaction per farm and step, not per order: each commit waits for
// the disk (synchronous=FULL), and orders arrive faster than that.
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sqlite.h"
#include "service/farm_backups.h"
#include "service/farm_reconciler.h"
#include "service/farm_source_cache.h"
#include "service/json_log.h"
#include "service/order_edit.h"
#include "service/work_orders.h"

namespace farmctl::service {

class WorkOrderAutomation {
 public:
  WorkOrderAutomation(runtime::Database& db, FarmSourceCache& cache, FarmReconciler& reconciler, JsonLog& log,
                      int max_attempts)
      : db_(db), cache_(cache), reconciler_(reconciler), log_(log), max_attempts_(max_attempts) {}

  // Step 1 for up to `limit` orders; returns the farms that got a revision.
  std::set<std::string> open_new_orders(int limit);
  // Step 2. `applied_revision` is the revision the reconcile applied (0 for none).
  // Snapshots and restores (is_backup_order) are carried out here, by `backups`.
  void farm_reconciled(std::string_view farm, int applied_revision, const ReconcileOutcome& outcome);
  void set_backups(FarmBackups* backups) { backups_ = backups; }

 private:
  struct Staged {
    WorkOrder order;
    OrderEdit edit;
  };
  // Step 1 for one farm's orders (oldest first). With `check_each`, every
  // edit gets its own dry run (to find the order a refusal is due to);
  // otherwise only the farm after all of them does. False: the dry run of
  // the whole batch was refused, nothing was opened; try again checking each.
  bool open_farm_orders(const std::string& farm, const std::vector<WorkOrder>& orders, bool check_each);
  void fail(const WorkOrder& order, const std::string& reason);
  runtime::Database& db_;
  FarmSourceCache& cache_;
  FarmReconciler& reconciler_;
  JsonLog& log_;
  int max_attempts_;
  FarmBackups* backups_ = nullptr;
};

// The move a migrate-server order asks for (empty for other types), and the
// moves of a farm's open orders: what its next reconcile carries out.
ServerMoves move_of(const WorkOrder& order);
ServerMoves open_moves(runtime::Database& db, std::string_view farm);

// take-snapshot, restore-disk: orders the backup engine carries out, not a farm edit.
bool is_backup_order(std::string_view type);

// Storage the farms of an account ask for, in MB (for its quota).
std::uint64_t storage_used_by(runtime::Database& db, FarmSourceCache& cache, std::int64_t account_id);

}  // namespace farmctl::service
