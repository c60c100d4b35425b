#pragma once
// The drivers an inventory's devices need, one instance per family, and
// where each device's configuration is.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/driver.h"
#include "runtime/inventory.h"

namespace farmctl::runtime {

class DriverSet {
 public:
  DriverSet(const Topology& topology, DriverContext context);
  // Throws DeviceError for a device the inventory does not know. Safe to
  // call from the executor's worker threads (drivers are made on first use).
  Driver& driver_for(const std::string& device);
  const DeviceConfig& config(const std::string& device) const;
  // Every device's state, one discovery request each. Throws DeviceError
  // naming the device that could not be read. With `scope`, each device
  // reports at least the volumes scope names for it (none when it names
  // none), and everything but volumes whole.
  // Driver::sync of every driver made so far: what any of them acknowledged
  // through run_unsynced is durable when this returns. Throws DeviceError.
  void sync_all();
  std::map<std::string, DeviceState> discover_all(const std::map<std::string, VolumeScope>* scope = nullptr);

 private:
  DriverContext context_;
  std::map<std::string, DeviceConfig> configs_;
  std::mutex mutex_;  // guards drivers_
  std::map<std::string, std::unique_ptr<Driver>> drivers_;  // by family
};

}  // namespace farmctl::runtime
