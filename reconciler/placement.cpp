#include "reconciler/placement.h"

#include <algorithm>

#include <fmt/format.h>

namespace farmctl::reconcile {

HostPlacer::HostPlacer(const runtime::Topology& topology, const Reachability& reach,
                       const std::vector<RowId>& placed_hosts)
    : topology_(topology), reach_(reach), taken_(placed_hosts.begin(), placed_hosts.end()) {
  for (const runtime::HostRow& h : topology.hosts) by_hw_[h.hw].push_back(&h);
  for (auto& [hw, hosts] : by_hw_)
    std::sort(hosts.begin(), hosts.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
}

std::optional<RowId> HostPlacer::place(const std::string& hw, const std::set<std::string>& protocols,
                                       std::string& why_not) {
  auto it = by_hw_.find(hw);
  if (it == by_hw_.end()) {
    why_not = fmt::format("the wiring map has no host of hardware class '{}'", hw);
    return std::nullopt;
  }
  const auto& hosts = it->second;
  std::size_t& cursor = cursor_[hw];
  while (cursor < hosts.size() && taken_.count(hosts[cursor]->id)) ++cursor;
  for (std::size_t i = cursor; i < hosts.size(); ++i) {
    const runtime::HostRow* h = hosts[i];
    if (taken_.count(h->id)) continue;
    bool speaks_all = std::all_of(protocols.begin(), protocols.end(),
                                  [&](const std::string& p) { return reach_.host_speaks(*h, p); });
    if (!speaks_all) continue;
    taken_.insert(h->id);
    return h->id;
  }
  std::size_t idle = 0;
  for (const auto* h : hosts) idle += taken_.count(h->id) ? 0 : 1;
  std::string wanted;
  for (const std::string& p : protocols) wanted += (wanted.empty() ? "" : " and ") + p;
  why_not = idle == 0 ? fmt::format("all {} hosts of hardware class '{}' are in use", hosts.size(), hw)
                      : fmt::format("none of the {} idle hosts of hardware class '{}' speaks {}", idle, hw,
                                    wanted.empty() ? "-" : wanted);
  return std::nullopt;
}

}  // namespace farmctl::reconcile
