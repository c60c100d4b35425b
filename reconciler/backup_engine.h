#pragma once
// The backup engine: runs a farm's backup policies against a clock, and the
// operator's "back up now" and "restore". Every device action goes through
// apply_plan (journal, retries, recovery) as BackupPlanner's plans.
//
// The caller holds the inventory's writer lock and has run recovery, as for
// an apply (farmctl backup/restore, the service's reconcile loop).
#include <string>
#include <vector>

#include "reconciler/apply.h"
#include "reconciler/backup_retention.h"
#include "reconciler/clock.h"
#include "runtime/backup_store.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

struct BackupReport {
  std::vector<runtime::BackupRow> taken;
  std::vector<runtime::BackupRow> freed;
  std::vector<runtime::RestoredRow> restored;  // restore_to_new: the new volume
  std::vector<std::string> failures;  // one sentence each; nothing else in the run is held up by one
  bool ok() const { return failures.empty(); }
};

// Refused before any device was touched: an unknown disk or copy, a disk
// without a policy, no storage for the copy.
class BackupRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class BackupEngine {
 public:
  BackupEngine(runtime::Inventory& inventory, runtime::DriverSet& drivers, const Clock& clock, ApplyEvents& events,
               ApplyOptions options = {});

  // Every copy the farm's applied policies want now (one per policy at
  // most, however many slots passed), then retention.
  BackupReport run_schedules(const runtime::FarmRow& farm);
  // Frees the copies no policy of the applied farm keeps.
  BackupReport enforce_retention(const runtime::FarmRow& farm);
  // A copy of `disk` now, counted in the disk's lowest-level policy (it ages
  // out with that policy's copies). Throws BackupRefused.
  BackupReport take_now(const runtime::FarmRow& farm, const std::string& disk);
  // The copy's disk becomes what the copy holds; its hosts lose the mapping
  // for the time it takes and get it back (also when the restore fails).
  // Throws BackupRefused.
  BackupReport restore(const runtime::FarmRow& farm, runtime::RowId copy_id);
  // Non-destructive: the copy into a new volume exported to the disk's
  // servers at a target free on all of them; it stays until released.
  // Throws BackupRefused.
  BackupReport restore_to_new(const runtime::FarmRow& farm, runtime::RowId copy_id);
  // Takes a restored volume away (unmap, unbind, scrub, free). Throws BackupRefused.
  BackupReport release(const runtime::FarmRow& farm, runtime::RowId restored_id);

 private:
  bool apply(const ReconcilePlan& plan, BackupReport& report);
  runtime::BackupRow copy_of(const runtime::FarmRow& farm, runtime::RowId copy_id);
  std::vector<runtime::BackupRow> newly_taken(const runtime::FarmRow& farm, const std::vector<runtime::BackupRow>& before);

  runtime::Inventory& inv_;
  runtime::DriverSet& drivers_;
  const Clock& clock_;
  ApplyEvents& events_;
  ApplyOptions options_;
};

}  // namespace farmctl::reconcile
