#include "reconciler/connection_info.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/storage_node_id.h"

namespace farmctl::reconcile {

std::optional<ConnectionInfo> connection_info(runtime::Inventory& inventory, const std::string& farm,
                                              const std::string& server, std::string& why) {
  auto row = inventory.farm(farm);
  if (!row) {
    why = fmt::format("the inventory has no farm named '{}'", farm);
    return std::nullopt;
  }
  runtime::FarmRecord record = inventory.farm_record(*row);
  auto placement = std::find_if(record.placements.begin(), record.placements.end(),
                                [&](const runtime::PlacementRow& p) { return p.server == server; });
  if (placement == record.placements.end()) {
    why = fmt::format("farm {} has no server {} placed on a host", farm, server);
    return std::nullopt;
  }
  runtime::Topology topology = inventory.topology();
  ConnectionInfo info;
  info.farm = farm;
  info.server = server;
  const runtime::HostRow* host = topology.host(placement->host_id);
  info.host = host != nullptr ? host->name : "?";
  for (const runtime::BindingRow& b : record.bindings) {
    // Only the placed host's: during a move the old host's bindings are still there.
    if (b.server != server || b.host_id != placement->host_id) continue;
    auto volume = std::find_if(record.volumes.begin(), record.volumes.end(),
                               [&](const runtime::VolumeRow& v) { return v.id == b.volume_id; });
    DiskConnection d;
    d.volume = volume != record.volumes.end() ? volume->plan_volume.value_or(volume->device_volume) : "?";
    d.device_volume = volume != record.volumes.end() ? volume->device_volume : "?";
    d.target = b.target;
    d.protocol = b.protocol;
    d.initiator = b.initiator;
    d.lun = b.lun;
    d.mapped = b.mapped;
    if (const runtime::PortRow* port = topology.port(b.port_id)) {
      d.port = port->name;
      d.port_wwn = port->wwn.value_or("");
      d.target_iqn = port->iqn.value_or("");
      if (const runtime::DeviceRow* array = topology.device(port->device_id)) {
        d.storage_system = array->config.name;
        d.model = array->model;
        d.serial = array->serial;
        if (volume != record.volumes.end()) d.storage_node = runtime::storage_node_id(*array, volume->device_volume);
        if (auto portal = array->config.attributes.find("portal"); portal != array->config.attributes.end())
          d.portal = portal->second;
      }
    }
    if (b.protocol == "iscsi") d.port_wwn.clear();
    if (b.gateway_id)
      if (const runtime::DeviceRow* gw = topology.device(*b.gateway_id)) d.gateway = gw->config.name;
    info.disks.push_back(std::move(d));
  }
  std::sort(info.disks.begin(), info.disks.end(),
            [](const DiskConnection& a, const DiskConnection& b) { return a.target < b.target; });
  return info;
}

std::string render_connection_info_text(const ConnectionInfo& info) {
  std::string out = fmt::format("server {} of farm {} on host {}: {} disk{}\n", info.server, info.farm, info.host,
                                info.disks.size(), info.disks.size() == 1 ? "" : "s");
  for (const DiskConnection& d : info.disks) {
    std::string where;
    if (d.protocol == "fc") where = fmt::format("port {} wwn {}", d.port, d.port_wwn);
    else if (d.protocol == "iscsi")
      where = fmt::format("target {}{}", d.target_iqn, d.portal.empty() ? "" : " portal " + d.portal);
    else where = fmt::format("gateway {} (array port {} wwn {})", d.gateway, d.port, d.port_wwn);
    out += fmt::format("  target {}: {} over {}: {} ({}{}{}) {}, lun {}, initiator {}, node {}{}\n", d.target,
                       d.volume, d.protocol, d.storage_system, d.model.empty() ? "model ?" : d.model,
                       d.serial.empty() ? "" : " serial ", d.serial, where, d.lun, d.initiator, d.storage_node,
                       d.mapped ? "" : " (not mapped yet)");
  }
  return out;
}

std::string render_connection_info_json(const ConnectionInfo& info) {
  nlohmann::ordered_json j;
  j["farm"] = info.farm;
  j["server"] = info.server;
  j["host"] = info.host;
  j["disks"] = nlohmann::ordered_json::array();
  for (const DiskConnection& d : info.disks) {
    nlohmann::ordered_json disk;
    disk["volume"] = d.volume;
    disk["target"] = d.target;
    disk["protocol"] = d.protocol;
    disk["storage_system"] = {{"name", d.storage_system}, {"model", d.model}, {"serial", d.serial}};
    disk["device_volume"] = d.device_volume;
    disk["storage_node"] = d.storage_node;
    disk["port"] = d.port;
    if (!d.port_wwn.empty()) disk["port_wwn"] = d.port_wwn;
    if (!d.target_iqn.empty()) disk["target_iqn"] = d.target_iqn;
    if (!d.portal.empty()) disk["portal"] = d.portal;
    if (!d.gateway.empty()) disk["gateway"] = d.gateway;
    disk["lun"] = d.lun;
    disk["initiator"] = d.initiator;
    disk["mapped"] = d.mapped;
    j["disks"].push_back(std::move(disk));
  }
  return j.dump(2) + "\n";
}

}  // namespace farmctl::reconcile
