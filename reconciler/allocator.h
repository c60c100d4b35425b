#pragma once
// VolumeAllocator: chooses the storage that realises a volume of the plan.
//
// Policy (docs/allocation.md), deterministic for a given inventory:
//   1. a single free pre-carved volume of the class, the smallest that fits,
//      if it wastes at most 1/8 of the size asked;
//   2. else a slice of exactly the size from a pool of the class (the pool
//      with the most free space; ties by array and pool name);
//   3. else a meta-volume of at most 16 free pre-carved volumes on one array,
//      wasting at most 1/8 (fewest members, then least waste, then array name);
//   4. else the smallest single volume that fits, whatever it wastes;
//   5. else no allocation, with a reason naming what was looked at.
// A RAID level asked for must match; none asked accepts any. Arrays are tried
// in the order given (the caller passes only arrays every host of the volume
// can reach). What one call hands out is reserved for the rest of the plan.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/inventory.h"

namespace farmctl::reconcile {

using runtime::RowId;

struct AllocationRequest {
  std::string plan_volume;
  std::uint64_t size_mb = 0;
  std::string cls = "std";
  std::optional<std::string> raid;
  std::vector<RowId> arrays;  // candidates, in preference order
};

struct Allocation {
  enum class Kind { single, meta, slice };
  Kind kind = Kind::single;
  RowId device_id = 0;
  std::vector<runtime::VolumeRow> members;  // single: one; meta: head first; slice: none
  std::optional<RowId> pool_id;
  std::uint64_t capacity_mb = 0;
};

class VolumeAllocator {
 public:
  VolumeAllocator(runtime::Inventory& inventory, const runtime::Topology& topology);
  ~VolumeAllocator();

  // nullopt: nothing fits; `why_not` says what was looked at.
  std::optional<Allocation> allocate(const AllocationRequest& request, std::string& why_not);

  // Free pre-carved volumes of one array adding up to at least extra_mb, to
  // grow a meta-volume (at most 16 members, kMaxMetaMembers). nullopt when none suffice.
  std::optional<std::vector<runtime::VolumeRow>> members_for_growth(RowId device_id, const std::string& cls,
                                                                    const std::optional<std::string>& raid,
                                                                    std::uint64_t extra_mb, std::string& why_not);
  // Reserves room in a pool (for a slice that grows); false when it lacks room.
  bool reserve_in_pool(RowId pool_id, std::uint64_t extra_mb);
  std::uint64_t pool_free_mb(RowId pool_id) const;

 private:
  class FreeList;
  FreeList& free_list(RowId device_id, const std::string& cls);
  std::optional<Allocation> best_single(const AllocationRequest& r, std::uint64_t max_waste);
  std::optional<Allocation> pool_slice(const AllocationRequest& r);
  std::optional<Allocation> best_meta(const AllocationRequest& r, std::uint64_t max_waste);
  std::string describe_candidates(const AllocationRequest& r);

  runtime::Inventory& inventory_;
  const runtime::Topology& topology_;
  std::map<std::pair<RowId, std::string>, std::unique_ptr<FreeList>> free_lists_;
  std::map<RowId, std::uint64_t> pool_used_;
};

}  // namespace farmctl::reconcile
