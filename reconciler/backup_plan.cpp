// BackupPlanner: see backup_plan.h.
#include "reconciler/backup_plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace farmctl::reconcile {
namespace {

using runtime::DeviceAction;
using runtime::VolumeRow;
using runtime::VolumeState;

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

}  // namespace

BackupPlanner::BackupPlanner(runtime::Inventory& inventory, const runtime::Topology& topology,
                             const runtime::FarmRow& farm)
    : inv_(inventory), topo_(topology), farm_(farm), record_(inventory.farm_record(farm)), alloc_(inventory, topology) {
  out_.farm = farm.name;
  out_.generation = inventory.generation();
  out_.plan_json = farm.plan_json.value_or(std::string());  // the farm's plan stays what it is
}

int BackupPlanner::add(Op op, const std::string& volume, DeviceAction a, Effect e, std::vector<int> deps,
                       std::string detail) {
  Action action;
  action.id = static_cast<int>(out_.actions.size()) + 1;
  action.op = op;
  action.volume = volume;
  action.device = a.device;
  a.op = op;
  a.farm = farm_.name;
  action.device_action = std::move(a);
  action.effect = std::move(e);
  action.depends_on = std::move(deps);
  action.detail = std::move(detail);
  out_.actions.push_back(std::move(action));
  return out_.actions.back().id;
}

const VolumeRow* BackupPlanner::unit_of(const std::string& plan_volume) const {
  for (const VolumeRow& v : record_.volumes)
    if (v.plan_volume == plan_volume) return &v;
  return nullptr;
}

std::uint64_t BackupPlanner::capacity(const VolumeRow& head) const {
  std::uint64_t total = head.size_mb;
  for (const VolumeRow& v : record_.volumes)
    if (v.parent_id == head.id) total += v.size_mb;
  return total;
}

std::string BackupPlanner::array_name(runtime::RowId id) const {
  const runtime::DeviceRow* d = topo_.device(id);
  return d != nullptr ? d->config.name : "?";
}

void BackupPlanner::add_copy(const std::string& source, const fml::BackupPolicy& policy, TimePoint at, bool manual) {
  const VolumeRow* unit = unit_of(source);
  if (unit == nullptr || unit->state == VolumeState::Allocated || unit->state == VolumeState::Unconfigured) {
    refusals_.push_back(fmt::format("disk {} of farm {} is not built yet: nothing to copy", source, farm_.name));
    return;
  }
  std::uint64_t size = capacity(*unit);
  std::string array = array_name(unit->device_id);
  // A copy lives on its disk's own array: that is where a snap can copy.
  AllocationRequest request{"copy of " + source, size, unit->cls, std::nullopt, {unit->device_id}};
  std::string why;
  auto allocation = alloc_.allocate(request, why);
  if (allocation && allocation->kind == Allocation::Kind::meta) {
    why = "only a meta-volume of several pre-carved volumes would hold it, and a copy must be one volume";
    allocation.reset();
  }
  if (!allocation) {
    refusals_.push_back(fmt::format("no storage on {} for a copy of {} ({} MB {}): {}", array, source, size,
                                    unit->cls, why));
    return;
  }
  runtime::BackupRow row;
  row.source = source;
  row.level = policy.level;
  row.schedule = fml::to_string(policy.schedule);
  row.taken_at = format_utc(at);
  row.size_mb = size;
  row.manual = manual;
  Effect snap_effect;
  snap_effect.backup = row;
  DeviceAction snap;
  snap.device = array;
  snap.source = unit->device_volume;
  snap.level = policy.level;
  std::vector<int> deps;
  std::string detail;
  if (allocation->kind == Allocation::Kind::slice) {
    const runtime::PoolRow* pool = topo_.pool(*allocation->pool_id);
    VolumeRow slice;
    slice.device_id = unit->device_id;
    // Unique however copies coincide: two levels at one tick differ in the
    // hash, a "backup now" in the same second as a scheduled copy in the
    // generation (each plan is made at another).
    slice.device_volume = fmt::format("b{:08x}-{}-g{}", fnv1a(fmt::format("{}\n{}\n{}", farm_.name, source, policy.level)),
                                      at.time_since_epoch().count(), out_.generation);
    slice.size_mb = size;
    slice.cls = unit->cls;
    slice.raid = pool->raid;
    slice.origin = "slice";
    slice.pool_id = pool->id;
    slice.state = VolumeState::Configured;
    snap.volume = slice.device_volume;
    snap.pool = pool->name;
    snap.size_mb = size;
    snap_effect.slice = slice;
    detail = fmt::format("{}:{} -> {}:{} ({} MB from pool {})", array, unit->device_volume, array,
                         slice.device_volume, size, pool->name);
  } else {
    const VolumeRow& target = allocation->members.front();
    Effect claim;
    claim.volume_row = target.id;
    claim.state_after = VolumeState::Configured;
    DeviceAction a;
    a.device = array;
    a.volume = target.device_volume;
    deps.push_back(add(Op::allocate, source, a, claim, {},
                       fmt::format("{}:{} ({} MB) for a copy of {}", array, target.device_volume, target.size_mb, source)));
    snap.volume = target.device_volume;
    snap_effect.volume_row = target.id;
    detail = fmt::format("{}:{} -> {}:{}", array, unit->device_volume, array, target.device_volume);
  }
  int id = add(Op::snap, source, snap, snap_effect, deps, detail);
  deps.push_back(id);
  out_.changes.push_back({ChangeKind::create, "copy of " + source, "",
                          fmt::format("level {} {}{}", policy.level, row.schedule, manual ? " (backup now)" : ""),
                          deps});
}

void BackupPlanner::add_free(const runtime::BackupRow& copy, const std::string& reason) {
  auto v = inv_.volume(copy.volume_id);
  if (!v) return;
  std::string array = array_name(v->device_id);
  auto step = [&](Op op, std::vector<int> deps) {
    Effect e;
    e.volume_row = v->id;
    e.teardown = true;
    DeviceAction a;
    a.device = array;
    a.volume = v->device_volume;
    if (op == Op::deallocate && v->origin == "slice" && v->pool_id)
      if (const runtime::PoolRow* pool = topo_.pool(*v->pool_id)) a.pool = pool->name;
    return add(op, copy.source, a, e, std::move(deps), fmt::format("{}:{}", array, v->device_volume));
  };
  std::vector<int> ids{step(Op::scrub, {})};
  ids.push_back(step(Op::deallocate, {ids.front()}));
  out_.changes.push_back({ChangeKind::destroy, fmt::format("copy {} of {} ({})", copy.id, copy.source, copy.taken_at),
                          "", reason, ids});
}

// The map (or unmap) that presents `unit` to the binding's host: at its
// gateway for scsi, else at the array itself.
DeviceAction BackupPlanner::presentation(const runtime::BindingRow& b, const VolumeRow& unit) const {
  const runtime::HostRow* h = topo_.host(b.host_id);
  std::string array = array_name(unit.device_id);
  DeviceAction m;
  m.device = b.gateway_id ? array_name(*b.gateway_id) : array;
  m.host = h != nullptr ? h->name : "";
  m.array = array;
  m.volume = unit.device_volume;
  m.initiator = b.initiator;
  m.target = b.target;
  m.lun = b.lun;
  return m;
}

std::vector<int> BackupPlanner::add_maps(const VolumeRow& unit, const std::string& disk, const std::vector<int>& deps,
                                        bool also_mapped) {
  std::vector<int> ids;
  for (const runtime::BindingRow& b : record_.bindings) {
    if (b.volume_id != unit.id || !b.bound || (b.mapped && !also_mapped)) continue;
    runtime::BindingRow want = b;
    want.mapped = true;
    Effect e;
    e.binding = want;
    DeviceAction m = presentation(b, unit);
    ids.push_back(add(Op::map, disk, m, e, deps, fmt::format("{} to host {} target {}", disk, m.host, b.target)));
    out_.actions.back().server = b.server;
  }
  return ids;
}

void BackupPlanner::add_restore(const runtime::BackupRow& copy) {
  const VolumeRow* unit = unit_of(copy.source);
  auto backup = inv_.volume(copy.volume_id);
  if (unit == nullptr || !backup) {
    refusals_.push_back(fmt::format("copy {} is of disk {}, which farm {} no longer has: it cannot be restored in place",
                                    copy.id, copy.source, farm_.name));
    return;
  }
  if (unit->device_id != backup->device_id) {
    refusals_.push_back(fmt::format("copy {} is on {}, disk {} now on {}: a copy restores on its own array only",
                                    copy.id, array_name(backup->device_id), copy.source, array_name(unit->device_id)));
    return;
  }
  std::string array = array_name(unit->device_id);
  std::vector<int> unmaps;
  for (const runtime::BindingRow& b : record_.bindings) {
    if (b.volume_id != unit->id || !b.mapped) continue;
    Effect e;
    e.binding = b;
    DeviceAction m = presentation(b, *unit);
    unmaps.push_back(add(Op::unmap, copy.source, m, e, {},
                         fmt::format("{} from host {} target {}", copy.source, m.host, b.target)));
    out_.actions.back().server = b.server;
  }
  Effect e;
  e.volume_row = unit->id;
  DeviceAction r;
  r.device = array;
  r.volume = unit->device_volume;
  r.source = backup->device_volume;
  int restore = add(Op::restore, copy.source, r, e, unmaps,
                    fmt::format("{}:{} from copy {} ({})", array, unit->device_volume, copy.id, copy.taken_at));
  std::vector<int> ids = unmaps;
  ids.push_back(restore);
  // Every export comes back mapped -- also one an interrupted restore left
  // unmapped (its masking says the host is meant to see the disk).
  std::vector<int> maps = add_maps(*unit, copy.source, {restore}, true);
  ids.insert(ids.end(), maps.begin(), maps.end());
  out_.changes.push_back({ChangeKind::replace, "disk " + copy.source, "",
                          fmt::format("restored from copy {} taken {}", copy.id, copy.taken_at), ids});
}

void BackupPlanner::add_give_back(const std::string& disk) {
  const VolumeRow* unit = unit_of(disk);
  if (unit == nullptr) return;
  std::vector<int> ids = add_maps(*unit, disk, {}, false);
  if (ids.empty()) return;
  out_.changes.push_back({ChangeKind::update, "disk " + disk, "", "mapping given back", ids});
}

ReconcilePlan BackupPlanner::take() {
  if (!refusals_.empty()) throw PlanRefused(refusals_);
  return std::move(out_);
}

ReconcilePlan BackupPlanner::take_possible(std::vector<std::string>& refusals) {
  refusals = std::move(refusals_);
  return std::move(out_);
}

}  // namespace farmctl::reconcile
