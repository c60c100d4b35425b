#include "reconciler/move_check.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reconciler/reachability.h"

namespace farmctl::reconcile {
namespace {

std::string offered_protocols(const runtime::Topology& topology, runtime::RowId array_id) {
  const runtime::DeviceRow* d = topology.device(array_id);
  if (d == nullptr || d->protocols.empty()) return "any (it lists none)";
  return fmt::format("{}", fmt::join(d->protocols, " "));
}

}  // namespace

std::string no_shared_protocol(const std::string& server, const std::string& host, const std::string& volume,
                               const std::string& array, const std::string& array_protocols,
                               const std::string& host_protocols) {
  return fmt::format(
      "cannot move server {} to host {}: volume {} is on array {}, which offers {}; the host speaks {}; they share "
      "no protocol",
      server, host, volume, array, array_protocols, host_protocols);
}

std::string move_host_refusal(const plan::Plan& ir, const runtime::Topology& topology,
                              std::optional<runtime::RowId> placed_on, const std::vector<runtime::RowId>& placed,
                              const std::string& server, const std::string& to) {
  auto s = std::find_if(ir.servers.begin(), ir.servers.end(), [&](const plan::Server& x) { return x.name == server; });
  if (s == ir.servers.end()) return fmt::format("cannot move server {}: farm {} has no such server", server, ir.farm);
  if (!placed_on)
    return fmt::format("cannot move server {}: it is not placed on a host yet (apply farm {} first)", server, ir.farm);
  const runtime::HostRow* target = topology.host_named(to);
  if (target == nullptr) return fmt::format("cannot move server {}: the wiring map has no host named '{}'", server, to);
  if (target->id == *placed_on) return fmt::format("cannot move server {}: it is on host {} already", server, to);
  if (target->hw != s->hw)
    return fmt::format("cannot move server {} to host {}: the host is of hardware class '{}', the server needs '{}'",
                       server, to, target->hw, s->hw);
  if (std::find(placed.begin(), placed.end(), target->id) != placed.end())
    return fmt::format("cannot move server {} to host {}: the host is not idle", server, to);
  return {};
}

std::vector<std::string> move_refusals(const plan::Plan& ir, runtime::Inventory& inventory, const std::string& server,
                                       const std::string& to) {
  runtime::Topology topology = inventory.topology();
  runtime::FarmRecord record;
  if (auto farm = inventory.farm(ir.farm)) record = inventory.farm_record(*farm);
  std::optional<runtime::RowId> placed_on;
  for (const runtime::PlacementRow& p : record.placements)
    if (p.server == server) placed_on = p.host_id;
  std::string refusal = move_host_refusal(ir, topology, placed_on, inventory.placed_host_ids(), server, to);
  if (!refusal.empty()) return {refusal};
  const runtime::HostRow& host = *topology.host_named(to);
  Reachability reach(topology);
  std::vector<std::string> out;
  for (const plan::Export& e : ir.exports) {
    if (e.server != server) continue;
    auto row = std::find_if(record.volumes.begin(), record.volumes.end(),
                            [&](const runtime::VolumeRow& v) { return v.plan_volume == e.volume; });
    if (row == record.volumes.end()) continue;  // not made yet: the plan places it where the host reaches
    bool shared = false;
    for (std::string_view p : {"fc", "iscsi", "scsi"}) shared = shared || reach.path(host, row->device_id, p);
    const runtime::DeviceRow* array = topology.device(row->device_id);
    if (!shared)
      out.push_back(no_shared_protocol(server, to, e.volume, array ? array->config.name : "?",
                                       offered_protocols(topology, row->device_id), reach.protocols_of(host)));
  }
  return out;
}

}  // namespace farmctl::reconcile
