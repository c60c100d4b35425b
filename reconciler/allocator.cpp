#include "reconciler/allocator.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace farmctl::reconcile {
namespace {

constexpr std::size_t kMaxMetaMembers = 16;

bool raid_matches(const std::optional<std::string>& wanted, const std::optional<std::string>& have) {
  return !wanted || wanted == have;
}

}  // namespace

// The free pre-carved volumes of one array and class, sorted by size, with
// what this plan has already taken. Finding the next untaken volume at or
// after (or before) a position is near O(1) through path-compressed skip
// links, so handing out thousands of equal-sized volumes stays linear; a RAID
// level none of the untaken volumes has is answered at once, not by a scan.
class VolumeAllocator::FreeList {
 public:
  explicit FreeList(std::vector<runtime::FreeVolume> volumes)
      : volumes_(std::move(volumes)), taken_(volumes_.size(), false) {
    next_.resize(volumes_.size() + 1);
    prev_.resize(volumes_.size() + 1);
    std::iota(next_.begin(), next_.end(), 0);
    std::iota(prev_.begin(), prev_.end(), 0);  // prev_ is shifted by one: index i+1 stands for volume i
    for (const runtime::FreeVolume& v : volumes_) ++untaken_by_raid_[v.raid.value_or("")];
  }

  std::size_t size() const { return volumes_.size(); }
  const runtime::FreeVolume& at(std::size_t i) const { return volumes_[i]; }

  // First untaken index with size >= min_size whose raid matches and that
  // is not in `skip`, or size() when none.
  std::size_t first_fit(std::uint64_t min_size, const std::optional<std::string>& raid,
                        const std::vector<std::size_t>& skip = {}) {
    if (none_with(raid)) return size();
    auto it = std::lower_bound(volumes_.begin(), volumes_.end(), min_size,
                               [](const runtime::FreeVolume& v, std::uint64_t s) { return v.size_mb < s; });
    for (std::size_t i = find_next(static_cast<std::size_t>(it - volumes_.begin())); i < size();
         i = find_next(i + 1))
      if (raid_matches(raid, volumes_[i].raid) && !contains(skip, i)) return i;
    return size();
  }

  // Largest untaken index with size < max_size whose raid matches and that is
  // not in `skip`, or size().
  std::size_t last_below(std::uint64_t max_size, const std::optional<std::string>& raid,
                         const std::vector<std::size_t>& skip = {}) {
    if (none_with(raid)) return size();
    auto it = std::lower_bound(volumes_.begin(), volumes_.end(), max_size,
                               [](const runtime::FreeVolume& v, std::uint64_t s) { return v.size_mb < s; });
    std::size_t end = static_cast<std::size_t>(it - volumes_.begin());  // first index with size >= max_size
    for (std::size_t p = find_prev(end); p > 0; p = find_prev(p - 1))
      if (raid_matches(raid, volumes_[p - 1].raid) && !contains(skip, p - 1)) return p - 1;
    return size();
  }

  void take(std::size_t i) {
    taken_[i] = true;
    --untaken_by_raid_[volumes_[i].raid.value_or("")];
    next_[i] = i + 1;
    prev_[i + 1] = i;
  }
  bool taken(std::size_t i) const { return taken_[i]; }

 private:
  std::size_t find_next(std::size_t i) {
    std::size_t root = i;
    while (next_[root] != root) root = next_[root];
    while (next_[i] != root) i = std::exchange(next_[i], root);
    return root;
  }
  // prev_ is shifted by one: returns p such that p-1 is the last untaken
  // index below the p asked for, or 0 when there is none.
  std::size_t find_prev(std::size_t p) {
    std::size_t root = p;
    while (prev_[root] != root) root = prev_[root];
    while (prev_[p] != root) p = std::exchange(prev_[p], root);
    return root;
  }

  bool none_with(const std::optional<std::string>& raid) const {
    if (!raid) return false;
    auto it = untaken_by_raid_.find(*raid);
    return it == untaken_by_raid_.end() || it->second == 0;
  }

  static bool contains(const std::vector<std::size_t>& v, std::size_t i) {
    return std::find(v.begin(), v.end(), i) != v.end();
  }

  std::vector<runtime::FreeVolume> volumes_;
  std::vector<bool> taken_;
  std::map<std::string, std::size_t> untaken_by_raid_;  // "" for none
  std::vector<std::size_t> next_;
  std::vector<std::size_t> prev_;
};

VolumeAllocator::VolumeAllocator(runtime::Inventory& inventory, const runtime::Topology& topology)
    : inventory_(inventory), topology_(topology) {
  for (const runtime::PoolRow& p : topology.pools) pool_used_[p.id] = p.used_mb;
}

VolumeAllocator::~VolumeAllocator() = default;

VolumeAllocator::FreeList& VolumeAllocator::free_list(RowId device_id, const std::string& cls) {
  auto key = std::pair(device_id, cls);
  auto it = free_lists_.find(key);
  if (it == free_lists_.end())
    it = free_lists_.emplace(key, std::make_unique<FreeList>(inventory_.free_volumes(device_id, cls))).first;
  return *it->second;
}

// The whole row of a volume chosen (the free list keeps only what it chooses by).
runtime::VolumeRow VolumeAllocator::row_of(const runtime::FreeVolume& chosen) {
  auto row = inventory_.volume(chosen.id);
  if (!row) throw std::runtime_error(fmt::format("the inventory lost volume row {} while planning", chosen.id));
  return *row;
}

std::uint64_t VolumeAllocator::pool_free_mb(RowId pool_id) const {
  const runtime::PoolRow* pool = topology_.pool(pool_id);
  if (pool == nullptr) return 0;
  std::uint64_t used = pool_used_.at(pool_id);
  return used >= pool->size_mb ? 0 : pool->size_mb - used;
}

bool VolumeAllocator::reserve_in_pool(RowId pool_id, std::uint64_t extra_mb) {
  if (pool_free_mb(pool_id) < extra_mb) return false;
  pool_used_[pool_id] += extra_mb;
  return true;
}

std::optional<Allocation> VolumeAllocator::best_single(const AllocationRequest& r, std::uint64_t max_waste) {
  FreeList* best_list = nullptr;
  std::size_t best_index = 0;
  RowId best_device = 0;
  for (RowId device : r.arrays) {
    FreeList& list = free_list(device, r.cls);
    std::size_t i = list.first_fit(r.size_mb, r.raid);
    if (i == list.size() || list.at(i).size_mb - r.size_mb > max_waste) continue;
    if (best_list == nullptr || list.at(i).size_mb < best_list->at(best_index).size_mb)
      best_list = &list, best_index = i, best_device = device;
  }
  if (best_list == nullptr) return std::nullopt;
  best_list->take(best_index);
  runtime::VolumeRow v = row_of(best_list->at(best_index));
  return Allocation{Allocation::Kind::single, best_device, {v}, std::nullopt, v.size_mb};
}

std::optional<Allocation> VolumeAllocator::pool_slice(const AllocationRequest& r) {
  const runtime::PoolRow* best = nullptr;
  for (RowId device : r.arrays)
    for (const runtime::PoolRow& p : topology_.pools) {
      if (p.device_id != device || p.cls != r.cls || !raid_matches(r.raid, p.raid)) continue;
      if (pool_free_mb(p.id) < r.size_mb) continue;
      if (best == nullptr || pool_free_mb(p.id) > pool_free_mb(best->id)) best = &p;
    }
  if (best == nullptr) return std::nullopt;
  pool_used_[best->id] += r.size_mb;
  return Allocation{Allocation::Kind::slice, best->device_id, {}, best->id, r.size_mb};
}

// Greedy on one array: the smallest volume that covers what remains, else the
// largest one below it, until covered or out of members. Picks are only
// taken from the free list once the best array's meta is accepted.
std::optional<Allocation> VolumeAllocator::best_meta(const AllocationRequest& r, std::uint64_t max_waste) {
  struct Candidate {
    RowId device;
    std::vector<std::size_t> picks;
    std::uint64_t total;
  };
  std::optional<Candidate> best;
  for (RowId device : r.arrays) {
    FreeList& list = free_list(device, r.cls);
    std::vector<std::size_t> picks;
    std::uint64_t total = 0;
    while (total < r.size_mb && picks.size() < kMaxMetaMembers) {
      std::uint64_t remaining = r.size_mb - total;
      std::size_t i = list.first_fit(remaining, r.raid, picks);
      if (i == list.size()) i = list.last_below(remaining, r.raid, picks);
      if (i == list.size()) break;
      picks.push_back(i);
      total += list.at(i).size_mb;
    }
    bool fits = total >= r.size_mb && total - r.size_mb <= max_waste && picks.size() >= 2;
    if (fits && (!best || picks.size() < best->picks.size() ||
                 (picks.size() == best->picks.size() && total < best->total)))
      best = Candidate{device, picks, total};
  }
  if (!best) return std::nullopt;
  FreeList& list = free_list(best->device, r.cls);
  Allocation a{Allocation::Kind::meta, best->device, {}, std::nullopt, best->total};
  for (std::size_t i : best->picks) {
    list.take(i);
    a.members.push_back(row_of(list.at(i)));
  }
  return a;
}

std::optional<Allocation> VolumeAllocator::allocate(const AllocationRequest& r, std::string& why_not) {
  std::uint64_t tolerable = r.size_mb / 8;
  if (auto a = best_single(r, tolerable)) return a;
  if (auto a = pool_slice(r)) return a;
  if (auto a = best_meta(r, tolerable)) return a;
  if (auto a = best_single(r, UINT64_MAX)) return a;
  why_not = describe_candidates(r);
  return std::nullopt;
}

std::optional<std::vector<runtime::VolumeRow>> VolumeAllocator::members_for_growth(
    RowId device_id, const std::string& cls, const std::optional<std::string>& raid, std::uint64_t extra_mb,
    std::string& why_not) {
  AllocationRequest r{"", extra_mb, cls, raid, {device_id}};
  if (auto single = best_single(r, UINT64_MAX)) return single->members;
  if (auto meta = best_meta(r, UINT64_MAX)) return meta->members;
  why_not = describe_candidates(r);
  return std::nullopt;
}

std::string VolumeAllocator::describe_candidates(const AllocationRequest& r) {
  if (r.arrays.empty()) return "no array is reachable from every host that uses it";
  std::string out;
  for (RowId device : r.arrays) {
    const runtime::DeviceRow* d = topology_.device(device);
    FreeList& list = free_list(device, r.cls);
    std::uint64_t free_mb = 0, largest = 0;
    int count = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list.taken(i) || !raid_matches(r.raid, list.at(i).raid)) continue;
      ++count;
      free_mb += list.at(i).size_mb;
      largest = std::max(largest, list.at(i).size_mb);
    }
    std::uint64_t pool_free = 0;
    for (const runtime::PoolRow& p : topology_.pools)
      if (p.device_id == device && p.cls == r.cls && raid_matches(r.raid, p.raid))
        pool_free = std::max(pool_free, pool_free_mb(p.id));
    out += fmt::format("{}{}: {} free {} volumes ({} MB, largest {} MB), largest pool room {} MB",
                       out.empty() ? "" : "; ", d != nullptr ? d->config.name : "?", count, r.cls, free_mb, largest,
                       pool_free);
  }
  return out;
}

}  // namespace farmctl::reconcile
