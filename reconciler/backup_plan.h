#pragma once
// Plans of the backup engine: taking a copy (allocate on the disk's own array
// when a pre-carved volume is used, then snap), freeing copies (scrub,
// deallocate) and restoring one in place (unmap every mapping of the disk,
// restore, map them back). They are ReconcilePlans like the planner's, so
// apply_plan journals, retries and recovers them the same way; they leave
// the farm's Plan IR as it is. Reads only; a refusal throws PlanRefused.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compiler/values.h"
#include "reconciler/action.h"
#include "reconciler/allocator.h"
#include "reconciler/clock.h"
#include "reconciler/planner.h"

namespace farmctl::reconcile {

class BackupPlanner {
 public:
  BackupPlanner(runtime::Inventory& inventory, const runtime::Topology& topology, const runtime::FarmRow& farm);

  // A copy of disk `source` (a Plan IR volume id) under `policy`, taken `at`.
  void add_copy(const std::string& source, const fml::BackupPolicy& policy, TimePoint at, bool manual);
  // Scrub and free a copy.
  void add_free(const runtime::BackupRow& copy, const std::string& reason);
  // Make the copy's disk what the copy holds, its mappings withdrawn first
  // and given back after.
  void add_restore(const runtime::BackupRow& copy);
  // The copy into a new volume on its array, exported to every server that
  // sees the copy's disk, at the lowest target free on all of them.
  void add_restore_to_new(const runtime::BackupRow& copy, TimePoint at);
  // Take a restored volume away: unmap, unbind, scrub, free.
  void add_release(const runtime::RestoredRow& restored);
  // Only the map actions that give a disk's withdrawn mappings back (after a
  // failed restore).
  void add_give_back(const std::string& disk);

  ReconcilePlan take();  // throws PlanRefused with every refusal found
  // What could be planned; the rest, one sentence each, in `refusals`.
  ReconcilePlan take_possible(std::vector<std::string>& refusals);

 private:
  int add(Op op, const std::string& volume, runtime::DeviceAction a, Effect e, std::vector<int> deps,
          std::string detail);
  int teardown_step(Op op, const std::string& disk, const runtime::VolumeRow& v, std::vector<int> deps);
  const runtime::VolumeRow* unit_of(const std::string& plan_volume) const;
  std::uint64_t capacity(const runtime::VolumeRow& head) const;
  std::string array_name(runtime::RowId id) const;
  std::map<std::string, std::set<int>> targets_in_use() const;
  runtime::DeviceAction presentation(const runtime::BindingRow& b, const runtime::VolumeRow& unit) const;
  // A map for each bound export of `unit` that is not mapped (also_mapped:
  // for every bound export, as after a restore's unmaps).
  std::vector<int> add_maps(const runtime::VolumeRow& unit, const std::string& disk, const std::vector<int>& deps,
                            bool also_mapped);

  runtime::Inventory& inv_;
  const runtime::Topology& topo_;
  runtime::FarmRow farm_;
  runtime::FarmRecord record_;
  VolumeAllocator alloc_;
  ReconcilePlan out_;
  std::vector<std::string> refusals_;
};

}  // namespace farmctl::reconcile
