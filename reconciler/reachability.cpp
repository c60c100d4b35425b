#include "reconciler/reachability.h"

#include <algorithm>

namespace farmctl::reconcile {

bool Reachability::host_speaks(const runtime::HostRow& host, std::string_view protocol) const {
  if (protocol == "scsi") return host.gateway_id.has_value();
  for (const runtime::InitiatorRow& i : host.initiators) {
    if (protocol == "fc" && i.wwn && i.fabric_id) return true;
    if (protocol == "iscsi" && i.iqn) return true;
  }
  return false;
}

std::string Reachability::protocols_of(const runtime::HostRow& host) const {
  std::string out;
  for (std::string_view p : {"scsi", "fc", "iscsi"})
    if (host_speaks(host, p)) out += (out.empty() ? "" : " ") + std::string(p);
  return out.empty() ? "none" : out;
}

bool Reachability::array_offers(const runtime::DeviceRow& array, std::string_view protocol) const {
  if (array.protocols.empty()) return true;
  auto has = [&](std::string_view p) {
    return std::find(array.protocols.begin(), array.protocols.end(), p) != array.protocols.end();
  };
  if (protocol == "scsi") return has("scsi") || has("fc");
  return has(protocol);
}

const StoragePath* Reachability::find(const runtime::HostRow& host, RowId array_id, std::string_view protocol) const {
  int code = protocol == "scsi" ? 0 : protocol == "fc" ? 1 : protocol == "iscsi" ? 2 : -1;
  if (code < 0) return nullptr;  // no path speaks it
  auto key = std::tuple(host.id, array_id, code);
  auto it = found_.find(key);
  if (it == found_.end()) it = found_.emplace(key, search(host, array_id, protocol)).first;
  return it->second ? &*it->second : nullptr;
}

std::optional<StoragePath> Reachability::path(const runtime::HostRow& host, RowId array_id,
                                              std::string_view protocol) const {
  const StoragePath* found = find(host, array_id, protocol);
  return found != nullptr ? std::optional(*found) : std::nullopt;
}

std::optional<StoragePath> Reachability::search(const runtime::HostRow& host, RowId array_id,
                                                std::string_view protocol) const {
  const runtime::DeviceRow* array = topology_.device(array_id);
  if (array == nullptr || array->config.kind != runtime::DeviceKind::array || !array_offers(*array, protocol))
    return std::nullopt;
  auto port_on_fabric = [&](const std::string& fabric) -> const runtime::PortRow* {
    for (const runtime::PortRow& p : topology_.ports)
      if (p.device_id == array_id && p.wwn && p.fabric == fabric) return &p;
    return nullptr;
  };
  if (protocol == "scsi") {
    if (!host.gateway_id) return std::nullopt;
    const runtime::DeviceRow* gateway = topology_.device(*host.gateway_id);
    if (gateway == nullptr) return std::nullopt;
    const runtime::PortRow* port = port_on_fabric(gateway->san);
    if (port == nullptr) return std::nullopt;
    return StoragePath{array_id, port->id, port->name, *port->wwn, "gateway:" + gateway->config.name,
                       gateway->id, std::nullopt};
  }
  for (const runtime::InitiatorRow& i : host.initiators) {
    if (protocol == "fc" && i.wwn && i.fabric_id) {
      const runtime::DeviceRow* fabric = topology_.device(*i.fabric_id);
      if (fabric == nullptr) continue;
      if (const runtime::PortRow* port = port_on_fabric(fabric->config.name))
        return StoragePath{array_id, port->id, port->name, *port->wwn, *i.wwn, std::nullopt, fabric->id};
    }
    if (protocol == "iscsi" && i.iqn) {
      for (const runtime::PortRow& p : topology_.ports)
        if (p.device_id == array_id && p.iqn)
          return StoragePath{array_id, p.id, p.name, "", *i.iqn, std::nullopt, std::nullopt};
    }
  }
  return std::nullopt;
}

}  // namespace farmctl::reconcile
