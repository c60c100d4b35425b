#pragma once
// Whether a farm server may move to a host (farmctl migrate, the
// migrate-server work order; docs/migration.md): the checks made before
// anything changes. The planner makes them when it plans a move; the service
// makes them when a work order arrives, from the inventory alone (no device
// is asked), so that a move that cannot be made is refused at once.
#include <optional>
#include <string>
#include <vector>

#include "compiler/plan_ir.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// The server is in the farm and placed (`placed_on`: its host's row), and
// `to` is a known, other, idle host of the server's hardware class.
// Returns the refusal, a full sentence; empty when the move may go ahead.
std::string move_host_refusal(const plan::Plan& ir, const runtime::Topology& topology,
                              std::optional<runtime::RowId> placed_on, const std::vector<runtime::RowId>& placed,
                              const std::string& server, const std::string& to);

// The host checks above, then per disk of the server: the new host and the
// array holding the disk share a protocol. Every refusal found.
std::vector<std::string> move_refusals(const plan::Plan& ir, runtime::Inventory& inventory,
                                       const std::string& server, const std::string& to);

// The sentence for a disk whose array and new host share no protocol.
std::string no_shared_protocol(const std::string& server, const std::string& host, const std::string& volume,
                               const std::string& array, const std::string& array_protocols,
                               const std::string& host_protocols);

}  // namespace farmctl::reconcile
