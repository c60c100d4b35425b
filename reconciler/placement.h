#pragma once
// HostPlacer: gives each new farm server an idle host of its hardware class
// that speaks every protocol its disks are exported over. Hosts are taken in
// name order, so placement is deterministic; placements already in the
// inventory are never revisited (they are sticky).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reconciler/reachability.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

class HostPlacer {
 public:
  HostPlacer(const runtime::Topology& topology, const Reachability& reach, const std::vector<RowId>& placed_hosts);
  // nullopt: no host fits; `why_not` says what was looked at.
  std::optional<RowId> place(const std::string& hw, const std::set<std::string>& protocols, std::string& why_not);

 private:
  const runtime::Topology& topology_;
  const Reachability& reach_;
  std::set<RowId> taken_;
  std::map<std::string, std::vector<const runtime::HostRow*>> by_hw_;  // name order
  std::map<std::string, std::size_t> cursor_;  // hosts before it are taken (for protocol-agnostic scans)
};

}  // namespace farmctl::reconcile
