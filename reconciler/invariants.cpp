#include "reconciler/invariants.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

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

  std::string farm(std::optional<RowId> id) const {
    if (!id) return "(none)";
    auto it = farm_names_.find(*id);
    return it != farm_names_.end() ? it->second : fmt::format("#{}", *id);
  }

  void check_devices() {
    std::set<std::tuple<std::string, std::string, std::string>> masks;  // array, volume, initiator
    std::set<std::tuple<std::string, std::string, std::string>> maps;   // device, volume, host
    for (const auto& [device, state] : *devices_) {
      for (const auto& m : state.maskings) masks.insert({device, m.volume, m.initiator});
      for (const auto& m : state.mappings) maps.insert({device, m.volume, m.host});
    }
    std::set<std::tuple<std::string, std::string, std::string>> recorded_masks, recorded_maps;
    for (const auto& b : bindings_) {
      const runtime::VolumeRow* v = by_id_.count(b.volume_id) ? by_id_[b.volume_id] : nullptr;
      if (v == nullptr) continue;
      std::string array = device_name(v->device_id);
      std::string map_device = b.gateway_id ? device_name(*b.gateway_id) : array;
      if (b.bound) recorded_masks.insert({array, v->device_volume, b.initiator});
      if (b.mapped) recorded_maps.insert({map_device, v->device_volume, host_name(b.host_id)});
      if (b.bound && !masks.count({array, v->device_volume, b.initiator}))
        fail("the inventory has {} bound to {}, but the array does not", unit_name(*v), b.initiator);
      if (b.mapped && !maps.count({map_device, v->device_volume, host_name(b.host_id)}))
        fail("the inventory has {} mapped to host {}, but {} does not", unit_name(*v), host_name(b.host_id),
             map_device);
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
