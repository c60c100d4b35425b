#include "runtime/driver_set.h"

#include <vector>

namespace farmctl::runtime {

DriverSet::DriverSet(const Topology& topology, DriverContext context) : context_(std::move(context)) {
  for (const DeviceRow& d : topology.devices) {
    DeviceConfig& config = configs_[d.config.name] = d.config;
    config.ports.clear();
    for (const PortRow& p : topology.ports)
      if (p.device_id == d.id) config.ports.push_back({p.name, p.wwn.value_or(""), p.iqn.value_or("")});
  }
  for (const HostRow& h : topology.hosts)
    for (const InitiatorRow& i : h.initiators) {
      if (i.wwn) context_.initiator_hosts[*i.wwn] = h.name;
      if (i.iqn) context_.initiator_hosts[*i.iqn] = h.name;
    }
}

const DeviceConfig& DriverSet::config(const std::string& device) const {
  auto it = configs_.find(device);
  if (it == configs_.end()) throw DeviceError("device '" + device + "' is not in the inventory");
  return it->second;
}

Driver& DriverSet::driver_for(const std::string& device) {
  const DeviceConfig& c = config(device);
  std::lock_guard lock(mutex_);
  auto it = drivers_.find(c.driver);
  if (it == drivers_.end()) it = drivers_.emplace(c.driver, make_driver(c.driver, context_)).first;
  return *it->second;
}

void DriverSet::sync_all() {
  std::vector<Driver*> made;
  {
    std::lock_guard lock(mutex_);
    for (auto& [family, driver] : drivers_) made.push_back(driver.get());
  }
  for (Driver* driver : made) driver->sync();  // outside the lock: the workers go on finding their drivers
}

std::map<std::string, DeviceState> DriverSet::discover_all(const std::map<std::string, VolumeScope>* scope) {
  static const VolumeScope kNone;
  std::map<std::string, DeviceState> out;
  for (const auto& [name, config] : configs_) {
    const VolumeScope* only = nullptr;
    if (scope != nullptr) {
      auto it = scope->find(name);
      only = it != scope->end() ? &it->second : &kNone;
    }
    try {
      out[name] = driver_for(name).discover(config, only);
      complete_discovery(config, out[name]);
    } catch (const DeviceError& e) {
      throw DeviceError("cannot discover device '" + name + "': " + e.what());
    }
  }
  return out;
}

}  // namespace farmctl::runtime
