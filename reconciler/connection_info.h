#pragma once
// What a host needs to attach a farm server's disks (farmctl connection-info):
// per disk the protocol, the storage system, the target port (fc: its WWN;
// iscsi: portal and target IQN; scsi: the gateway), the LUN and the farm
// file's target, and the disk's storage node identifier — read from the inventory alone (placements, bindings, ports,
// devices), as the storage delivery service would tell a new host.
#include <optional>
#include <string>
#include <vector>

#include "runtime/inventory.h"

namespace farmctl::reconcile {

struct DiskConnection {
  std::string volume;    // the farm file's volume id
  int target = 0;        // the farm file's target
  std::string protocol;  // fc, iscsi, scsi
  std::string storage_system;  // array name
  std::string model;
  std::string serial;
  std::string device_volume;  // the array's volume id
  std::string storage_node;   // VENDOR__MODEL__SERIAL__DEVICEID (runtime/storage_node_id.h)
  std::string initiator;      // the host's WWN or IQN (scsi: gateway:NAME)
  std::string port;           // the array port's name
  std::string port_wwn;       // fc, scsi
  std::string target_iqn;     // iscsi
  std::string portal;         // iscsi, when the wiring map gives one
  std::string gateway;        // scsi
  int lun = 0;                // what the array presents (scsi: on the gateway)
  bool mapped = false;        // false while an apply has not finished the export
};

struct ConnectionInfo {
  std::string farm;
  std::string server;
  std::string host;
  std::vector<DiskConnection> disks;  // by target
};

// nullopt and `why` when the farm or the server is not in the inventory.
std::optional<ConnectionInfo> connection_info(runtime::Inventory& inventory, const std::string& farm,
                                              const std::string& server, std::string& why);
std::string render_connection_info_text(const ConnectionInfo& info);
std::string render_connection_info_json(const ConnectionInfo& info);

}  // namespace farmctl::reconcile
