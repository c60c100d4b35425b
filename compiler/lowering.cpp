#include "compiler/lowering.h"

#include <algorithm>
#include <future>
#include <string_view>
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

// Where one tier's servers, volumes and exports go in the plan's vectors.
struct TierSlots {
  const Tier* tier = nullptr;
  const ServerRole* role = nullptr;
  std::size_t server = 0, volume = 0, export_ = 0;  // first index of each
};

// The slots of every tier, in document order, and the plan's vectors sized
// to hold them all (global disks first among the volumes).
std::vector<TierSlots> allocate(const Farm& farm, plan::Plan& out) {
  std::vector<TierSlots> slots;
  slots.reserve(farm.tiers.size());
  std::size_t servers = 0, volumes = farm.globals.size(), exports = 0;
  for (const Tier& tier : farm.tiers) {
    const ServerRole* role = &farm.roles.at(tier.role);  // settled by the analyzer
    slots.push_back({&tier, role, servers, volumes, exports});
    auto n = static_cast<std::size_t>(tier.init_servers);
    servers += n;
    volumes += n * role->disks.size();
    exports += n * (role->disks.size() + role->shared.size());
  }
  out.servers.resize(servers);
  out.volumes.resize(volumes);
  out.exports.resize(exports);
  return slots;
}

// Fills the slots of tiers [first, last): each server, its private volumes
// and its exports, at the places allocate() gave them.
void lower_tiers(const std::vector<TierSlots>& slots, std::size_t first, std::size_t last,
                 const std::unordered_map<std::string_view, const GlobalDisk*>& globals, plan::Plan& out) {
  for (std::size_t t = first; t < last; ++t) {
    const Tier& tier = *slots[t].tier;
    const ServerRole& role = *slots[t].role;
    std::vector<TargetEntry> table = targets_of(role);
    std::size_t server_at = slots[t].server, volume_at = slots[t].volume, export_at = slots[t].export_;
    for (int i = 0; i < tier.init_servers; ++i) {
      std::string server = fmt::format("{}-{}", tier.name, i);
      out.servers[server_at++] = {server, tier.name, role.name, role.hw, i, tier.pos.line, role.npiv};
      for (const TargetEntry& e : table) {
        if (e.disk != nullptr) {
          plan::Volume v = volume_from(e.disk->spec, fmt::format("{}/t{}", server, e.target));
          v.drivename = e.disk->drivename;
          v.server = server;
          out.exports[export_at++] = {v.id, server, e.target, protocol_of(e.disk->spec.access), e.disk->spec.pos.line};
          out.volumes[volume_at++] = std::move(v);
        } else {
          const GlobalDisk& g = *globals.at(e.shared->global_name);
          out.exports[export_at++] = {"global/" + g.global_name, server, e.target,
                                      protocol_of(e.shared->access, g.spec.access), e.shared->pos.line};
        }
      }
    }
  }
}

// Where to cut the tiers so that each half has about as many volumes and
// exports to make.
std::size_t balanced_cut(const std::vector<TierSlots>& slots, const plan::Plan& out) {
  std::size_t half = (out.volumes.size() + out.exports.size()) / 2;
  auto it = std::lower_bound(slots.begin(), slots.end(), half,
                             [](const TierSlots& s, std::size_t work) { return s.volume + s.export_ < work; });
  return static_cast<std::size_t>(it - slots.begin());
}

// Below this many volumes a second thread costs more than it saves.
constexpr std::size_t kTwoThreadsFromVolumes = 20'000;

}  // namespace

plan::Plan lower(const Farm& farm) {
  plan::Plan out;
  out.farm = farm.name;
  out.fml_version = farm.fml_version;
  std::vector<TierSlots> slots = allocate(farm, out);

  std::unordered_map<std::string_view, const GlobalDisk*> globals;
  std::size_t global_at = 0;
  for (const GlobalDisk& g : farm.globals) {
    globals.emplace(g.global_name, &g);
    plan::Volume v = volume_from(g.spec, "global/" + g.global_name);
    v.shared = true;
    out.volumes[global_at++] = std::move(v);
  }
  // A large farm is lowered by two threads, each filling its own slots.
  if (out.volumes.size() < kTwoThreadsFromVolumes) {
    lower_tiers(slots, 0, slots.size(), globals, out);
    return out;
  }
  std::size_t cut = balanced_cut(slots, out);
  auto second = std::async(std::launch::async, [&] { lower_tiers(slots, cut, slots.size(), globals, out); });
  lower_tiers(slots, 0, cut, globals, out);
  second.get();
  return out;
}

}  // namespace farmctl::fml
