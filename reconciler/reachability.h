#pragma once
// How hosts reach arrays (WIRING.md): scsi through the host's gateway, whose
// fabric must hold a port of the array; fc through a host initiator on a
// fabric that holds a port of the array; iscsi from a host IQN to an array
// port with an IQN. An array that lists its protocols must list the one used
// (scsi rides on the array's fc ports behind the gateway).
#include <optional>
#include <string>
#include <string_view>

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

class Reachability {
 public:
  explicit Reachability(const runtime::Topology& topology) : topology_(topology) {}
  bool host_speaks(const runtime::HostRow& host, std::string_view protocol) const;
  std::optional<StoragePath> path(const runtime::HostRow& host, RowId array_id, std::string_view protocol) const;
  // The protocols a host has, "scsi fc iscsi" order, for messages.
  std::string protocols_of(const runtime::HostRow& host) const;

 private:
  bool array_offers(const runtime::DeviceRow& array, std::string_view protocol) const;
  const runtime::Topology& topology_;
};

}  // namespace farmctl::reconcile
