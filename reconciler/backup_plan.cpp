// BackupPlanner: see backup_plan.h.
#include "reconciler/backup_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reconciler/name_hash.h"

namespace farmctl::reconcile {
namespace {

using runtime::DeviceAction;
using runtime::VolumeRow;
using runtime::VolumeState;

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
    slice.device_volume = fmt::format("b{:08x}-{}-g{}", name_hash(fmt::format("{}\n{}\n{}", farm_.name, source, policy.level)),
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

// Scrub or deallocate a volume no host sees any more.
int BackupPlanner::teardown_step(Op op, const std::string& disk, const VolumeRow& v, std::vector<int> deps) {
  std::string array = array_name(v.device_id);
  Effect e;
  e.volume_row = v.id;
  e.teardown = true;
  DeviceAction a;
  a.device = array;
  a.volume = v.device_volume;
  if (op == Op::deallocate && v.origin == "slice" && v.pool_id)
    if (const runtime::PoolRow* pool = topo_.pool(*v.pool_id)) a.pool = pool->name;
  return add(op, disk, a, e, std::move(deps), fmt::format("{}:{}", array, v.device_volume));
}

void BackupPlanner::add_free(const runtime::BackupRow& copy, const std::string& reason) {
  auto v = inv_.volume(copy.volume_id);
  if (!v) return;
  std::vector<int> ids{teardown_step(Op::scrub, copy.source, *v, {})};
  ids.push_back(teardown_step(Op::deallocate, copy.source, *v, {ids.front()}));
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

// Targets each server of the farm uses: its exports in the applied farm
// file and every export the inventory records (restored volumes' included).
std::map<std::string, std::set<int>> BackupPlanner::targets_in_use() const {
  std::map<std::string, std::set<int>> used;
  for (const runtime::BindingRow& b : record_.bindings) used[b.server].insert(b.target);
  auto plan = nlohmann::json::parse(farm_.plan_json.value_or(std::string()), nullptr, false);
  if (!plan.is_discarded() && plan.contains("exports"))
    for (const auto& e : plan["exports"]) used[e.value("server", std::string())].insert(e.value("target", -1));
  return used;
}

void BackupPlanner::add_restore_to_new(const runtime::BackupRow& copy, TimePoint at) {
  const VolumeRow* unit = unit_of(copy.source);
  auto backup = inv_.volume(copy.volume_id);
  if (unit == nullptr || !backup) {
    refusals_.push_back(fmt::format("copy {} is of disk {}, which farm {} no longer has: there is no server to "
                                    "export a new volume to", copy.id, copy.source, farm_.name));
    return;
  }
  if (unit->device_id != backup->device_id) {
    refusals_.push_back(fmt::format("copy {} is on {}, disk {} now on {}: its servers' paths do not reach the copy's "
                                    "array", copy.id, array_name(backup->device_id), copy.source,
                                    array_name(unit->device_id)));
    return;
  }
  std::vector<const runtime::BindingRow*> exports;
  for (const runtime::BindingRow& b : record_.bindings)
    if (b.volume_id == unit->id && b.bound) exports.push_back(&b);
  if (exports.empty()) {
    refusals_.push_back(fmt::format("disk {} is exported to no server: nobody would see a new volume", copy.source));
    return;
  }
  // One target free on every server that sees the disk.
  auto used = targets_in_use();
  int target = 1;
  auto taken = [&](int t) {
    return std::any_of(exports.begin(), exports.end(), [&](const auto* b) { return used[b->server].count(t) > 0; });
  };
  while (target <= 255 && taken(target)) ++target;
  if (target > 255) {
    refusals_.push_back(fmt::format("the servers of disk {} have no free target left", copy.source));
    return;
  }
  std::string array = array_name(backup->device_id);
  AllocationRequest request{"restore of copy " + std::to_string(copy.id), copy.size_mb, unit->cls, std::nullopt,
                            {backup->device_id}};
  std::string why;
  auto allocation = alloc_.allocate(request, why);
  if (allocation && allocation->kind == Allocation::Kind::meta) {
    why = "only a meta-volume of several pre-carved volumes would hold it";
    allocation.reset();
  }
  if (!allocation) {
    refusals_.push_back(fmt::format("no storage on {} for a new volume of {} MB: {}", array, copy.size_mb, why));
    return;
  }
  VolumeRow fresh;
  fresh.device_id = backup->device_id;
  std::vector<int> ids;
  Effect alloc_effect;
  alloc_effect.state_after = VolumeState::Allocated;
  DeviceAction a;
  a.device = array;
  if (allocation->kind == Allocation::Kind::slice) {
    const runtime::PoolRow* pool = topo_.pool(*allocation->pool_id);
    fresh.device_volume = fmt::format("r{:08x}-{}-g{}", name_hash(farm_.name + "\n" + copy.source),
                                      at.time_since_epoch().count(), out_.generation);
    fresh.size_mb = copy.size_mb;
    fresh.cls = unit->cls;
    fresh.raid = pool->raid;
    fresh.origin = "slice";
    fresh.pool_id = pool->id;
    fresh.state = VolumeState::Allocated;
    alloc_effect.slice = fresh;
    a.pool = pool->name;
    a.size_mb = copy.size_mb;
  } else {
    fresh = allocation->members.front();
    alloc_effect.volume_row = fresh.id;
  }
  a.volume = fresh.device_volume;
  ids.push_back(add(Op::allocate, copy.source, a, alloc_effect, {},
                    fmt::format("{}:{} for copy {} of {}", array, fresh.device_volume, copy.id, copy.source)));
  Effect restore_effect;
  restore_effect.volume_row = fresh.id;  // 0 for a slice: found by its id on the array
  restore_effect.restored = runtime::RestoredRow{0, farm_.id, 0, copy.source, copy.taken_at, format_utc(at)};
  DeviceAction r;
  r.device = array;
  r.volume = fresh.device_volume;
  r.source = backup->device_volume;
  int restore = add(Op::restore, copy.source, r, restore_effect, {ids.back()},
                    fmt::format("{}:{} from copy {} ({})", array, fresh.device_volume, copy.id, copy.taken_at));
  ids.push_back(restore);
  std::map<std::string, int> binds;  // by initiator: hosts behind one gateway share its masking
  std::map<std::pair<RowId, std::string>, std::set<int>> luns;  // (port, initiator) -> taken
  for (const runtime::BindingRow* b : exports) {
    runtime::BindingRow want = *b;
    want.id = 0;
    want.volume_id = 0;
    want.target = target;
    want.bound = true;
    want.mapped = false;
    if (b->gateway_id) {  // the array's LUN towards the gateway: one free for its port and initiator
      auto key = std::pair(b->port_id, b->initiator);
      if (!luns.count(key)) {
        auto in_use = inv_.luns_in_use(b->port_id, b->initiator);
        luns[key].insert(in_use.begin(), in_use.end());
      }
      int lun = 0;
      if (auto shared = binds.find(b->initiator); shared != binds.end())
        lun = out_.actions[static_cast<std::size_t>(shared->second - 1)].device_action.lun;
      else
        while (luns[key].count(lun)) ++lun;
      luns[key].insert(lun);
      want.lun = lun;
    } else {
      want.lun = target;  // a direct fc or iscsi host sees the array's LUN, which is the target
    }
    int bind = 0;
    if (auto shared = binds.find(b->initiator); shared != binds.end()) {
      bind = shared->second;
    } else {
      Effect e;
      e.binding = want;
      DeviceAction m;
      m.device = array;
      m.volume = fresh.device_volume;
      m.initiator = b->initiator;
      const runtime::PortRow* port = topo_.port(b->port_id);
      m.port = port != nullptr ? port->name : "";
      m.lun = want.lun;
      bind = add(Op::bind, copy.source, m, e, {restore},
                 fmt::format("{}:{} to {} lun {}", array, fresh.device_volume, b->initiator, want.lun));
      out_.actions.back().server = b->server;
      binds[b->initiator] = bind;
      ids.push_back(bind);
    }
    want.mapped = true;
    Effect e;
    e.binding = want;
    ids.push_back(add(Op::map, copy.source, presentation(want, fresh), e, {bind},
                      fmt::format("new volume {}:{} to server {} target {}", array, fresh.device_volume, b->server,
                                  target)));
    out_.actions.back().server = b->server;
  }
  out_.changes.push_back({ChangeKind::create, fmt::format("new volume from copy {} of {}", copy.id, copy.source), "",
                          fmt::format("{}:{} at target {}", array, fresh.device_volume, target), ids});
}

void BackupPlanner::add_release(const runtime::RestoredRow& restored) {
  auto v = inv_.volume(restored.volume_id);
  if (!v) return;
  std::string array = array_name(v->device_id);
  std::vector<int> unmaps, ids;
  std::map<std::string, const runtime::BindingRow*> by_initiator;
  for (const runtime::BindingRow& b : record_.bindings) {
    if (b.volume_id != v->id) continue;
    by_initiator.emplace(b.initiator, &b);
    if (!b.mapped) continue;
    Effect e;
    e.binding = b;
    e.teardown = true;
    unmaps.push_back(add(Op::unmap, restored.source, presentation(b, *v), e, {},
                         fmt::format("{}:{} from server {}", array, v->device_volume, b.server)));
  }
  ids = unmaps;
  std::vector<int> unbinds;
  for (const auto& [initiator, b] : by_initiator) {
    Effect e;
    e.binding = *b;
    e.teardown = true;
    DeviceAction u;
    u.device = array;
    u.volume = v->device_volume;
    u.initiator = initiator;
    const runtime::PortRow* port = topo_.port(b->port_id);
    u.port = port != nullptr ? port->name : "";
    u.lun = b->lun;
    unbinds.push_back(add(Op::unbind, restored.source, u, e, unmaps,
                          fmt::format("{}:{} from {}", array, v->device_volume, initiator)));
  }
  ids.insert(ids.end(), unbinds.begin(), unbinds.end());
  ids.push_back(teardown_step(Op::scrub, restored.source, *v, unbinds.empty() ? unmaps : unbinds));
  ids.push_back(teardown_step(Op::deallocate, restored.source, *v, {ids.back()}));
  out_.changes.push_back({ChangeKind::destroy, fmt::format("restored volume {} (of {})", restored.id, restored.source),
                          "", "released", ids});
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
