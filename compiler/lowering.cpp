#include "compiler/lowering.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace farmctl::fml {
namespace {

plan::Volume volume_from(const DiskSpec& spec, std::string id) {
  plan::Volume v;
  v.id = std::move(id);
  v.size_mb = spec.size_mb;
  v.cls = std::string(to_string(spec.cls));
  if (spec.raid) v.raid = std::string(to_string(*spec.raid));
  v.image = spec.image;
  v.backup = spec.backup;
  std::sort(v.backup.begin(), v.backup.end(), [](const auto& a, const auto& b) { return a.level < b.level; });
  v.attributes = spec.attributes;
  v.line = spec.pos.line;
  return v;
}

std::string protocol_of(std::optional<AccessPath> access, std::optional<AccessPath> fallback = std::nullopt) {
  return std::string(to_string(access.value_or(fallback.value_or(AccessPath::scsi))));
}

// One entry of a server's target table: a private disk or a shared disk.
struct TargetEntry {
  int target;
  const PrivateDisk* disk = nullptr;
  const SharedDisk* shared = nullptr;
};

std::vector<TargetEntry> targets_of(const ServerRole& role) {
  std::vector<TargetEntry> entries;
  for (const PrivateDisk& d : role.disks) entries.push_back({d.target, &d, nullptr});
  for (const SharedDisk& s : role.shared) entries.push_back({s.target, nullptr, &s});
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.target < b.target; });
  return entries;
}

}  // namespace

plan::Plan lower(const Farm& farm) {
  plan::Plan out;
  out.farm = farm.name;
  out.fml_version = farm.fml_version;

  std::unordered_map<std::string, const GlobalDisk*> globals;
  for (const GlobalDisk& g : farm.globals) {
    globals.emplace(g.global_name, &g);
    plan::Volume v = volume_from(g.spec, "global/" + g.global_name);
    v.shared = true;
    out.volumes.push_back(std::move(v));
  }
  std::unordered_map<std::string, const ServerRole*> roles;
  for (const ServerRole& r : farm.roles) roles.emplace(r.id, &r);

  for (const Tier& tier : farm.tiers) {
    const ServerRole& role = *roles.at(tier.role_id);
    std::vector<TargetEntry> table = targets_of(role);
    for (int i = 0; i < tier.init_servers; ++i) {
      std::string server = fmt::format("{}-{}", tier.name, i);
      out.servers.push_back({server, tier.name, role.name, role.hw, i, tier.pos.line, role.npiv});
      for (const TargetEntry& e : table) {
        if (e.disk != nullptr) {
          plan::Volume v = volume_from(e.disk->spec, fmt::format("{}/t{}", server, e.target));
          v.drivename = e.disk->drivename;
          v.server = server;
          out.exports.push_back({v.id, server, e.target, protocol_of(e.disk->spec.access), e.disk->spec.pos.line});
          out.volumes.push_back(std::move(v));
        } else {
          const GlobalDisk& g = *globals.at(e.shared->global_name);
          out.exports.push_back({"global/" + g.global_name, server, e.target,
                                 protocol_of(e.shared->access, g.spec.access), e.shared->pos.line});
        }
      }
    }
  }
  return out;
}

}  // namespace farmctl::fml
