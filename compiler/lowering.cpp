#include "compiler/lowering.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <future>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "compiler/json_writer.h"

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

// Below this many volumes a second thread costs more than it saves.
constexpr std::size_t kTwoThreadsFromVolumes = 20'000;

// Where one tier's servers, volumes and exports go in the plan (their first
// index among the plan's servers, volumes and exports).
struct TierSlots {
  const Tier* tier = nullptr;
  const ServerRole* role = nullptr;
  std::size_t server = 0, volume = 0, export_ = 0;
};

// How many of each the whole plan has.
struct PlanCounts {
  std::size_t servers = 0, volumes = 0, exports = 0;
};

// The slots of every tier, in document order (global disks first among the volumes).
std::vector<TierSlots> slots_of(const Farm& farm, PlanCounts& counts) {
  std::vector<TierSlots> slots;
  slots.reserve(farm.tiers.size());
  counts = {0, farm.globals.size(), 0};
  for (const Tier& tier : farm.tiers) {
    const ServerRole* role = &farm.roles.at(tier.role);  // settled by the analyzer
    slots.push_back({&tier, role, counts.servers, counts.volumes, counts.exports});
    auto n = static_cast<std::size_t>(tier.init_servers);
    counts.servers += n;
    counts.volumes += n * role->disks.size();
    counts.exports += n * (role->disks.size() + role->shared.size());
  }
  return slots;
}

using GlobalsByName = std::unordered_map<std::string_view, const GlobalDisk*>;

// The plan's volume of each global disk, in document order, to `volume`.
template <class Sink>
GlobalsByName lower_globals(const Farm& farm, Sink& sink) {
  GlobalsByName globals;
  for (const GlobalDisk& g : farm.globals) {
    globals.emplace(g.global_name, &g);
    plan::Volume v = volume_from(g.spec, "global/" + g.global_name);
    v.shared = true;
    sink.volume(std::move(v));
  }
  return globals;
}

// Each server of tiers [first, last), then its private volumes and its
// exports in target order, to the sink's server, volume and export_.
template <class Sink>
void lower_tiers(const std::vector<TierSlots>& slots, std::size_t first, std::size_t last, const GlobalsByName& globals,
                 Sink& sink) {
  for (std::size_t t = first; t < last; ++t) {
    const Tier& tier = *slots[t].tier;
    const ServerRole& role = *slots[t].role;
    std::vector<TargetEntry> table = targets_of(role);
    for (int i = 0; i < tier.init_servers; ++i) {
      std::string server = fmt::format("{}-{}", tier.name, i);
      sink.server({server, tier.name, role.name, role.hw, i, tier.pos.line, role.npiv});
      for (const TargetEntry& e : table) {
        if (e.disk != nullptr) {
          plan::Volume v = volume_from(e.disk->spec, fmt::format("{}/t{}", server, e.target));
          v.drivename = e.disk->drivename;
          v.server = server;
          sink.export_({v.id, server, e.target, protocol_of(e.disk->spec.access), e.disk->spec.pos.line});
          sink.volume(std::move(v));
        } else {
          const GlobalDisk& g = *globals.at(e.shared->global_name);
          sink.export_({"global/" + g.global_name, server, e.target, protocol_of(e.shared->access, g.spec.access),
                        e.shared->pos.line});
        }
      }
    }
  }
}

// Where to cut the tiers so that each side has about as many volumes and
// exports to make.
std::size_t balanced_cut(const std::vector<TierSlots>& slots, const PlanCounts& counts) {
  std::size_t half = (counts.volumes + counts.exports) / 2;
  auto it = std::lower_bound(slots.begin(), slots.end(), half,
                             [](const TierSlots& s, std::size_t work) { return s.volume + s.export_ < work; });
  return static_cast<std::size_t>(it - slots.begin());
}

// Runs `side(first, last, k)` for the tiers before the cut (k 0) and after it
// (k 1) on two threads when the plan is large; for them all (k 0) when not.
template <class Side>
void on_two_sides(const std::vector<TierSlots>& slots, const PlanCounts& counts, Side side) {
  if (counts.volumes < kTwoThreadsFromVolumes) {
    side(std::size_t{0}, slots.size(), 0);
    return;
  }
  std::size_t cut = balanced_cut(slots, counts);
  auto second = std::async(std::launch::async, [&] { side(cut, slots.size(), 1); });
  side(std::size_t{0}, cut, 0);
  second.get();
}

// Where tier `t`'s items begin; past the last tier, the plan's ends.
TierSlots slot_at(const std::vector<TierSlots>& slots, std::size_t t, const PlanCounts& counts) {
  return t < slots.size() ? slots[t] : TierSlots{nullptr, nullptr, counts.servers, counts.volumes, counts.exports};
}

// Puts items into the plan's vectors, from the given indices on.
struct SlotFiller {
  plan::Plan& out;
  std::size_t server_at = 0, volume_at = 0, export_at = 0;
  void server(plan::Server s) { out.servers[server_at++] = std::move(s); }
  void volume(plan::Volume v) { out.volumes[volume_at++] = std::move(v); }
  void export_(plan::Export e) { out.exports[export_at++] = std::move(e); }
};

// Writes items as the plan's JSON does, into one text per kind; `before`
// counts the items of each kind ahead of these (so that the first one here
// follows a comma when there are some).
struct JsonSections {
  std::string servers, volumes, exports;
  json::Writer server_writer{servers}, volume_writer{volumes}, export_writer{exports};
  // `counts`: about how many of each will be written (room is made for them:
  // strings that grew by doubling copied the 100 MB of a large plan again).
  JsonSections(const PlanCounts& before, const PlanCounts& counts = {}) {
    servers.reserve(counts.servers * 130);
    volumes.reserve(counts.volumes * 330);
    exports.reserve(counts.exports * 130);
    server_writer.continue_in_list(before.servers > 0);
    volume_writer.continue_in_list(before.volumes > 0);
    export_writer.continue_in_list(before.exports > 0);
  }
  void server(const plan::Server& s) { plan::write_item(server_writer, s); }
  void volume(const plan::Volume& v) { plan::write_item(volume_writer, v); }
  void export_(const plan::Export& e) { plan::write_item(export_writer, e); }
};

}  // namespace

plan::Plan lower(const Farm& farm) {
  plan::Plan out;
  out.farm = farm.name;
  out.fml_version = farm.fml_version;
  PlanCounts counts;
  std::vector<TierSlots> slots = slots_of(farm, counts);
  // Made empty, then filled in place by the sides.
  out.servers.resize(counts.servers);
  out.volumes.resize(counts.volumes);
  out.exports.resize(counts.exports);

  SlotFiller globals_filler{out};
  GlobalsByName globals = lower_globals(farm, globals_filler);
  on_two_sides(slots, counts, [&](std::size_t first, std::size_t last, int) {
    TierSlots from = slot_at(slots, first, counts);
    SlotFiller filler{out, from.server, from.volume, from.export_};
    lower_tiers(slots, first, last, globals, filler);
  });
  return out;
}

bool write_plan_json(const Farm& farm, std::ostream& out) {
  PlanCounts counts;
  std::vector<TierSlots> slots = slots_of(farm, counts);
  JsonSections global_volumes(PlanCounts{});
  GlobalsByName globals = lower_globals(farm, global_volumes);
  std::optional<JsonSections> sides[2];
  on_two_sides(slots, counts, [&](std::size_t first, std::size_t last, int side) {
    TierSlots from = slot_at(slots, first, counts), to = slot_at(slots, last, counts);
    PlanCounts before{from.server, from.volume, from.export_};
    sides[side].emplace(before, PlanCounts{to.server - from.server, to.volume - from.volume, to.export_ - from.export_});
    lower_tiers(slots, first, last, globals, *sides[side]);
  });

  // The skeleton around the items, by a writer told where items went.
  auto put = [&](const std::string& part) { out.write(part.data(), static_cast<std::streamsize>(part.size())); };
  std::string text;
  json::Writer w(text);
  // One list: `first` (the global disks' volumes) if any, then the sides' parts.
  auto section = [&](std::string_view key, std::size_t items, std::string JsonSections::*list,
                     const std::string* first = nullptr) {
    w.key(key);
    w.begin_array();
    put(text);
    text.clear();
    if (first != nullptr) put(*first);
    for (const std::optional<JsonSections>& side : sides)
      if (side) put((*side).*list);
    if (items > 0) w.holds_values();
    w.end_array();
  };
  w.begin_object();
  w.field("format_version", plan::kFormatVersion);
  w.field("farm", farm.name);
  w.field("fml_version", farm.fml_version);
  section("servers", counts.servers, &JsonSections::servers);
  section("volumes", counts.volumes, &JsonSections::volumes, &global_volumes.volumes);
  section("exports", counts.exports, &JsonSections::exports);
  w.end_object();
  text += '\n';
  put(text);
  return static_cast<bool>(out);
}

}  // namespace farmctl::fml
