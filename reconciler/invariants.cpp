#include "reconciler/invariants.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/backup_store.h"

namespace farmctl::reconcile {
namespace {

using runtime::RowId;
using runtime::VolumeState;

class Checker {
 public:
  Checker(runtime::Inventory& inv, const std::map<std::string, runtime::DeviceState>* devices)
      : inv_(inv), devices_(devices), topo_(inv.topology()) {}

  std::vector<std::string> run() {
    volumes_ = inv_.all_volumes();
    for (const auto& v : volumes_) by_id_[v.id] = &v;
    bindings_ = inv_.all_bindings();
    for (const auto& p : inv_.all_placements()) {
      if (!placed_.emplace(p.host_id, p.farm_id).second)
        fail("host {} is placed twice", host_name(p.host_id));
    }
    for (const auto& f : inv_.farms()) farm_names_[f.id] = f.name;
    check_units();
    check_bindings();
    check_copies();
    check_virtual_ports();
    if (devices_ != nullptr) check_devices();
    return std::move(violations_);
  }

 private:
  template <class... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    violations_.push_back(fmt::format(f, std::forward<Args>(args)...));
  }

  std::string host_name(RowId id) const {
    const auto* h = topo_.host(id);
    return h != nullptr ? h->name : fmt::format("#{}", id);
  }
  std::string device_name(RowId id) const {
    const auto* d = topo_.device(id);
    return d != nullptr ? d->config.name : fmt::format("#{}", id);
  }
  std::string unit_name(const runtime::VolumeRow& v) const {
    return fmt::format("{}:{}", device_name(v.device_id), v.device_volume);
  }

  void check_units() {
    std::set<RowId> with_bindings;
    for (const auto& b : bindings_) with_bindings.insert(b.volume_id);
    for (const auto& v : volumes_) {
      std::string name = unit_name(v);
      if (v.state == VolumeState::Free) {
        if (v.farm_id || v.plan_volume || v.parent_id)
          fail("volume {} is Free but still belongs to a farm or a meta-volume", name);
        if (with_bindings.count(v.id)) fail("volume {} is Free but still has bindings", name);
        if (v.dirty_farm) fail("volume {} is Free but holds farm {}'s data: it was never scrubbed", name, *v.dirty_farm);
        if (v.origin == "slice") fail("volume {} is a Free slice: slices exist only while a farm owns them", name);
        continue;
      }
      if (!v.farm_id) fail("volume {} is {} but belongs to no farm", name, runtime::to_string(v.state));
      if (v.state == VolumeState::Member) {
        const runtime::VolumeRow* head = v.parent_id ? by_id_[*v.parent_id] : nullptr;
        if (head == nullptr) {
          fail("volume {} is a meta member without a head", name);
          continue;
        }
        if (head->farm_id != v.farm_id) fail("meta member {} and its head {} belong to different farms", name, unit_name(*head));
        if (head->parent_id) fail("meta head {} is itself a member", unit_name(*head));
        if (head->device_id != v.device_id) fail("meta member {} sits on another array than its head", name);
      } else if (v.parent_id) {
        fail("volume {} has a meta head but is in state {}, not Member", name, runtime::to_string(v.state));
      }
      if ((v.state == VolumeState::Bound || v.state == VolumeState::Mapped) && !with_bindings.count(v.id))
        fail("volume {} is {} but has no binding", name, runtime::to_string(v.state));
    }
  }

  void check_bindings() {
    for (const auto& b : bindings_) {
      const runtime::VolumeRow* v = by_id_.count(b.volume_id) ? by_id_[b.volume_id] : nullptr;
      if (v == nullptr) continue;
      if (v->farm_id != b.farm_id)
        fail("volume {} of farm {} is bound to host {} for farm {}", unit_name(*v), farm(v->farm_id),
             host_name(b.host_id), farm(b.farm_id));
      auto placed = placed_.find(b.host_id);
      if (placed == placed_.end() || placed->second != b.farm_id)
        fail("volume {} is exported to host {}, which is not placed in farm {}", unit_name(*v), host_name(b.host_id),
             farm(b.farm_id));
    }
  }

  // A backup copy is a whole volume of its farm that no host sees.
  void check_copies() {
    std::set<RowId> with_bindings;
    for (const auto& b : bindings_) with_bindings.insert(b.volume_id);
    for (const runtime::BackupRow& c : runtime::BackupStore(inv_).all()) {
      const runtime::VolumeRow* v = by_id_.count(c.volume_id) ? by_id_[c.volume_id] : nullptr;
      if (v == nullptr) {
        fail("copy {} of {} (farm {}) has no volume", c.id, c.source, farm(c.farm_id));
        continue;
      }
      if (v->farm_id != c.farm_id)
        fail("copy {} of {} is volume {}, which belongs to farm {}, not the copy's farm {}", c.id, c.source,
             unit_name(*v), farm(v->farm_id), farm(c.farm_id));
      if (v->state != VolumeState::Configured)
        fail("copy {} of {} is volume {} in state {}, not Configured", c.id, c.source, unit_name(*v),
             runtime::to_string(v->state));
      if (v->plan_volume || v->parent_id) fail("copy {} of {} is volume {}, which is also a disk of the farm file", c.id, c.source, unit_name(*v));
      if (with_bindings.count(v->id)) fail("copy {} of {} (volume {}) is exported to a host", c.id, c.source, unit_name(*v));
    }
    for (const auto& [farm_id, name] : farm_names_)
      for (const runtime::RestoredRow& r : runtime::BackupStore(inv_).restored_of_farm(farm_id)) {
        const runtime::VolumeRow* v = by_id_.count(r.volume_id) ? by_id_[r.volume_id] : nullptr;
        if (v == nullptr) fail("restored volume {} of farm {} has no volume", r.id, name);
        else if (v->farm_id != farm_id)
          fail("restored volume {} of farm {} is volume {}, which belongs to farm {}", r.id, name, unit_name(*v),
               farm(v->farm_id));
        else if (v->plan_volume)
          fail("restored volume {} of farm {} is volume {}, which is also a disk of the farm file", r.id, name,
               unit_name(*v));
      }
  }

  // NPIV: a virtual port is carried, if at all, by the host its server is
  // placed on, and only its own farm's exports go through it.
  void check_virtual_ports() {
    std::map<std::pair<RowId, std::string>, RowId> host_of;  // (farm, server) -> host
    for (const auto& p : inv_.all_placements()) host_of[{p.farm_id, p.server}] = p.host_id;
    std::map<std::string, RowId> owner;
    for (const auto& v : inv_.all_virtual_ports()) {
      owner[v.wwpn] = v.farm_id;
      if (!v.host_id) continue;
      auto placed = host_of.find({v.farm_id, v.server});
      if (placed == host_of.end())
        fail("virtual port {} of farm {} is on host {}, but its server {} is not placed", v.wwpn, farm(v.farm_id),
             host_name(*v.host_id), v.server);
      else if (placed->second != *v.host_id)
        fail("virtual port {} of farm {} is on host {}, but its server {} is on host {}", v.wwpn, farm(v.farm_id),
             host_name(*v.host_id), v.server, host_name(placed->second));
    }
    for (const auto& b : bindings_) {
      auto o = owner.find(b.initiator);
      if (o != owner.end() && o->second != b.farm_id)
        fail("an export of farm {} goes through virtual port {} of farm {}", farm(b.farm_id), b.initiator,
             farm(o->second));
    }
  }

  std::string farm(std::optional<RowId> id) const {
    if (!id) return "(none)";
    auto it = farm_names_.find(*id);
    return it != farm_names_.end() ? it->second : fmt::format("#{}", *id);
  }

  void check_devices() {
    std::map<std::tuple<std::string, std::string, std::string>, int> masks;  // array, volume, initiator -> LUN
    std::map<std::tuple<std::string, std::string, std::string>, std::pair<int, int>> maps;  // device, volume, host
    for (const auto& [device, state] : *devices_) {
      for (const auto& m : state.maskings) masks[{device, m.volume, m.initiator}] = m.lun;
      for (const auto& m : state.mappings) maps[{device, m.volume, m.host}] = {m.target, m.lun};
    }
    std::set<std::tuple<std::string, std::string, std::string>> recorded_masks, recorded_maps;
    for (const auto& b : bindings_) {
      const runtime::VolumeRow* v = by_id_.count(b.volume_id) ? by_id_[b.volume_id] : nullptr;
      if (v == nullptr) continue;
      std::string array = device_name(v->device_id);
      std::string map_device = b.gateway_id ? device_name(*b.gateway_id) : array;
      if (b.bound) recorded_masks.insert({array, v->device_volume, b.initiator});
      if (b.mapped) recorded_maps.insert({map_device, v->device_volume, host_name(b.host_id)});
      auto mask = masks.find({array, v->device_volume, b.initiator});
      if (b.bound && mask == masks.end())
        fail("the inventory has {} bound to {}, but the array does not", unit_name(*v), b.initiator);
      else if (b.bound && mask->second != b.lun)
        fail("the inventory has {} bound to {} at LUN {}, but the array masks it at LUN {}", unit_name(*v),
             b.initiator, b.lun, mask->second);
      auto map = maps.find({map_device, v->device_volume, host_name(b.host_id)});
      if (b.mapped && map == maps.end())
        fail("the inventory has {} mapped to host {}, but {} does not", unit_name(*v), host_name(b.host_id),
             map_device);
      else if (b.mapped && map->second != std::pair(b.target, b.lun))
        fail("the inventory has {} mapped to host {} at target {}, LUN {}, but {} shows it at target {}, LUN {}",
             unit_name(*v), host_name(b.host_id), b.target, b.lun, map_device, map->second.first, map->second.second);
    }
    std::unordered_map<std::string, const runtime::VolumeRow*> owned;  // "array:volume" of farm units
    for (const auto& v : volumes_)
      if (v.farm_id) owned[unit_name(v)] = &v;
    for (const auto& [device, state] : *devices_) {
      for (const auto& m : state.maskings) {
        auto it = owned.find(device + ":" + m.volume);
        if (it != owned.end() && !recorded_masks.count({device, m.volume, m.initiator}))
          fail("{} of farm {} is masked to {} on the array, which the inventory does not record", it->first,
               farm(it->second->farm_id), m.initiator);
      }
      for (const auto& m : state.mappings) {
        std::string array = m.array.empty() ? device : m.array;
        auto it = owned.find(array + ":" + m.volume);
        if (it != owned.end() && !recorded_maps.count({device, m.volume, m.host}))
          fail("{} shows {}:{} of farm {} to host {}, which the inventory does not record", device, array, m.volume,
               farm(it->second->farm_id), m.host);
      }
    }
    for (const auto& z : inv_.all_zones()) {
      auto d = devices_->find(device_name(z.fabric_id));
      if (d == devices_->end()) continue;
      bool present = std::any_of(d->second.zones.begin(), d->second.zones.end(), [&](const auto& dz) {
        return dz.initiator == z.initiator && dz.port == z.port_wwn;
      });
      if (!present)
        fail("the inventory has {} zoned with {} on {} for farm {}, but the fabric does not", z.initiator, z.port_wwn,
             d->first, farm(z.farm_id));
    }
    std::map<RowId, std::vector<const runtime::VolumeRow*>> members;  // meta head -> its members
    for (const auto& v : volumes_)
      if (v.parent_id && v.state == VolumeState::Member) members[*v.parent_id].push_back(&v);
    for (auto& [head_id, rows] : members) {
      const runtime::VolumeRow* head = by_id_.count(head_id) ? by_id_[head_id] : nullptr;
      if (head == nullptr) continue;
      auto d = devices_->find(device_name(head->device_id));
      if (d == devices_->end()) continue;
      std::sort(rows.begin(), rows.end(),
                [](const auto* a, const auto* b) { return a->member_order < b->member_order; });
      std::vector<std::string> expected{head->device_volume};
      for (const auto* m : rows) expected.push_back(m->device_volume);
      auto dv = std::find_if(d->second.volumes.begin(), d->second.volumes.end(),
                             [&](const auto& x) { return x.id == head->device_volume; });
      std::vector<std::string> found = dv != d->second.volumes.end() ? dv->members : std::vector<std::string>{};
      if (found != expected)
        fail("meta-volume {} has members {} in the inventory, but {} on the array", unit_name(*head),
             fmt::join(expected, "+"), found.empty() ? std::string("none") : fmt::format("{}", fmt::join(found, "+")));
    }
    for (const auto& v : volumes_) {
      if (v.origin != "slice") continue;
      auto d = devices_->find(device_name(v.device_id));
      if (d == devices_->end()) continue;
      bool present = std::any_of(d->second.volumes.begin(), d->second.volumes.end(),
                                 [&](const auto& dv) { return dv.id == v.device_volume; });
      if (!present) fail("the inventory has slice {}, but the array does not", unit_name(v));
    }
  }

  runtime::Inventory& inv_;
  const std::map<std::string, runtime::DeviceState>* devices_;
  runtime::Topology topo_;
  std::vector<runtime::VolumeRow> volumes_;
  std::unordered_map<RowId, const runtime::VolumeRow*> by_id_;
  std::vector<runtime::BindingRow> bindings_;
  std::map<RowId, RowId> placed_;
  std::map<RowId, std::string> farm_names_;
  std::vector<std::string> violations_;
};

}  // namespace

std::vector<std::string> check_invariants(runtime::Inventory& inventory,
                                          const std::map<std::string, runtime::DeviceState>* devices) {
  return Checker(inventory, devices).run();
}

}  // namespace farmctl::reconcile
