#pragma once
// How hosts reach arrays (WIRING.md): scsi through the host's gateway, whose
// fabric must hold a port of the array; fc through a host initiator on a
// fabric that holds a port of the array; iscsi from a host IQN to an array
// port with an IQN. An array that lists its protocols must list the one used
// (scsi rides on the array's fc ports behind the gateway).
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "reconciler/key_hash.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

using runtime::RowId;

// One way from a host to an array.
struct StoragePath {
  RowId array_id = 0;
  RowId port_id = 0;
  std::string port_name;
  std::string port_wwn;        // fc: the array port zoned with the initiator
  std::string initiator;       // the host's WWN or IQN; for scsi the gateway ("gateway:gw1")
  std::optional<RowId> gateway_id;
  std::optional<RowId> fabric_id;  // fc: the fabric to zone on
};

// Paths are found once per (host, array, protocol) and kept: a plan asks
// again for each disk and export of a server. Not for use from two threads.
class Reachability {
 public:
  explicit Reachability(const runtime::Topology& topology) : topology_(topology) {}
  bool host_speaks(const runtime::HostRow& host, std::string_view protocol) const;
  // The path, or nullptr when there is none; valid as long as this object.
  const StoragePath* find(const runtime::HostRow& host, RowId array_id, std::string_view protocol) const;
  std::optional<StoragePath> path(const runtime::HostRow& host, RowId array_id, std::string_view protocol) const;
  // The protocols a host has, "scsi fc iscsi" order, for messages.
  std::string protocols_of(const runtime::HostRow& host) const;

 private:
  bool array_offers(const runtime::DeviceRow& array, std::string_view protocol) const;
  std::optional<StoragePath> search(const runtime::HostRow& host, RowId array_id, std::string_view protocol) const;
  const runtime::Topology& topology_;
  // (host, array, protocol: 0 scsi, 1 fc, 2 iscsi) -> what search() found
  mutable std::unordered_map<std::tuple<RowId, RowId, int>, std::optional<StoragePath>, KeyHash> found_;
};

}  // namespace farmctl::reconcile
