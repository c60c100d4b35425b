#include "compiler/lowering.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <ostream>
#include <string_view>
#include <unordered_map>

#include <boost/container/small_vector.hpp>

#include "compiler/json_writer.h"

namespace farmctl::fml {
namespace {

plan::VolumeView volume_view(const DiskSpec& spec, std::string_view id) {
  plan::VolumeView v;
  v.id = id;
  v.size_mb = spec.size_mb;
  v.cls = to_string(spec.cls);
  if (spec.raid) v.raid = to_string(*spec.raid);
  v.image = spec.image ? &*spec.image : nullptr;
  v.backup = &spec.backup;
  v.attributes = &spec.attributes;
  v.line = spec.pos.line;
  return v;
}

std::string_view protocol_of(std::optional<AccessPath> access, std::optional<AccessPath> fallback = std::nullopt) {
  return to_string(access.value_or(fallback.value_or(AccessPath::scsi)));
}

// One entry of a server's target table: a private disk or a shared disk.
struct TargetEntry {
  int target;
  const PrivateDisk* disk = nullptr;
  const SharedDisk* shared = nullptr;
};

// A role has a few disks: its table is made on the stack, once per tier.
using TargetTable = boost::container::small_vector<TargetEntry, 8>;

TargetTable targets_of(const ServerRole& role) {
  TargetTable entries;
  for (const PrivateDisk& d : role.disks) entries.push_back({d.target, &d, nullptr});
  for (const SharedDisk& s : role.shared) entries.push_back({s.target, nullptr, &s});
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.target < b.target; });
  return entries;
}

// Below this many volumes a second thread costs more than it saves.
constexpr std::size_t kTwoThreadsFromVolumes = 20'000;

// How many servers, volumes and exports: a whole plan's, or those ahead of
// a server's own.
struct PlanCounts {
  std::size_t servers = 0, volumes = 0, exports = 0;
};

// Where one tier's servers, volumes and exports go in the plan (their first
// index among the plan's servers, volumes and exports).
struct TierSlots {
  const Tier* tier = nullptr;
  const ServerRole* role = nullptr;
  PlanCounts first;
};

// The slots of every tier, in document order (global disks first among the volumes).
std::vector<TierSlots> slots_of(const Farm& farm, PlanCounts& counts) {
  std::vector<TierSlots> slots;
  slots.reserve(farm.tiers.size());
  counts = {0, farm.globals.size(), 0};
  for (const Tier& tier : farm.tiers) {
    const ServerRole* role = &farm.roles.at(tier.role);  // settled by the analyzer
    slots.push_back({&tier, role, counts});
    auto n = static_cast<std::size_t>(tier.init_servers);
    counts.servers += n;
    counts.volumes += n * role->disks.size();
    counts.exports += n * (role->disks.size() + role->shared.size());
  }
  return slots;
}

// The tier of the plan's server `server` (servers counted across the tiers
// in document order).
std::size_t tier_of(const std::vector<TierSlots>& slots, std::size_t server) {
  auto it = std::upper_bound(slots.begin(), slots.end(), server,
                             [](std::size_t s, const TierSlots& t) { return s < t.first.servers; });
  auto t = static_cast<std::size_t>(it - slots.begin()) - 1;  // a tier of no servers may share its start
  while (server >= slots[t].first.servers + static_cast<std::size_t>(slots[t].tier->init_servers)) ++t;
  return t;
}

// The items ahead of server `server`'s own; past the last server, the whole plan's.
PlanCounts items_before(const std::vector<TierSlots>& slots, const PlanCounts& counts, std::size_t server) {
  if (server >= counts.servers) return counts;
  const TierSlots& at = slots[tier_of(slots, server)];
  std::size_t i = server - at.first.servers;
  return {server, at.first.volumes + i * at.role->disks.size(),
          at.first.exports + i * (at.role->disks.size() + at.role->shared.size())};
}

// A global disk, with its volume's id made once.
struct Global {
  const GlobalDisk* disk;
  std::string id;
};
using GlobalsByName = std::unordered_map<std::string_view, Global>;

GlobalsByName globals_of(const Farm& farm) {
  GlobalsByName globals;
  for (const GlobalDisk& g : farm.globals) globals.emplace(g.global_name, Global{&g, "global/" + g.global_name});
  return globals;
}

plan::VolumeView global_volume(const Global& g) {
  plan::VolumeView v = volume_view(g.disk->spec, g.id);
  v.shared = true;
  return v;
}

// Which kinds of item a sink takes: the others are not made for it.
struct Kinds {
  bool servers = true, volumes = true, exports = true;
};

// Servers [first, last) of the plan, each with its private volumes and its
// exports in target order, to the sink's server, volume and export_ (those
// of the kinds it takes). The views stand for the call only.
template <class Sink>
void lower_servers(const std::vector<TierSlots>& slots, std::size_t first, std::size_t last,
                   const GlobalsByName& globals, Sink& sink) {
  if (first >= last) return;
  std::size_t t = tier_of(slots, first);
  TargetTable table = targets_of(*slots[t].role);
  std::string server, id;  // their memory serves every server
  for (std::size_t s = first; s < last; ++s) {
    if (s >= slots[t].first.servers + static_cast<std::size_t>(slots[t].tier->init_servers)) {
      // The next tier with servers: the servers are counted in tier order.
      do ++t;
      while (slots[t].tier->init_servers == 0);
      table = targets_of(*slots[t].role);
    }
    const Tier& tier = *slots[t].tier;
    const ServerRole& role = *slots[t].role;
    auto i = static_cast<int>(s - slots[t].first.servers);
    server.assign(tier.name);
    server += '-';
    json::append_number(server, i);  // not fmt::format_to: it parses its format each time
    if (sink.kinds.servers) sink.server({server, tier.name, role.name, role.hw, i, tier.pos.line, role.npiv});
    if (!sink.kinds.volumes && !sink.kinds.exports) continue;
    for (const TargetEntry& e : table) {
      if (e.disk != nullptr) {
        id.assign(server);
        id += "/t";
        json::append_number(id, e.target);
        if (sink.kinds.exports)
          sink.export_({id, server, e.target, protocol_of(e.disk->spec.access), e.disk->spec.pos.line});
        if (sink.kinds.volumes) {
          plan::VolumeView v = volume_view(e.disk->spec, id);
          if (e.disk->drivename) v.drivename = *e.disk->drivename;
          v.server = server;
          sink.volume(v);
        }
      } else if (sink.kinds.exports) {
        const Global& g = globals.at(e.shared->global_name);
        sink.export_({g.id, server, e.target, protocol_of(e.shared->access, g.disk->spec.access), e.shared->pos.line});
      }
    }
  }
}

// Puts items into the plan's vectors, from the given indices on.
struct SlotFiller {
  plan::Plan& out;
  PlanCounts at;
  Kinds kinds;
  void server(const plan::ServerView& s) { out.servers[at.servers++] = plan::to_server(s); }
  void volume(const plan::VolumeView& v) { out.volumes[at.volumes++] = plan::to_volume(v); }
  void export_(const plan::ExportView& e) { out.exports[at.exports++] = plan::to_export(e); }
};

// Writes the items of one kind, as the plan's JSON does.
struct ItemWriter {
  json::Writer& w;
  Kinds kinds;
  void server(const plan::ServerView& s) { plan::write_item(w, s); }
  void volume(const plan::VolumeView& v) { plan::write_item(w, v); }
  void export_(const plan::ExportView& e) { plan::write_item(w, e); }
};

// One part of the plan's JSON, in document order: text around the lists,
// the global disks' volumes, or the items of one kind of servers [first, last).
struct Part {
  enum class What { text, globals, servers, volumes, exports } what;
  std::string text;
  std::size_t first = 0, last = 0;
};

// About this many items to a part: enough that a part is worth a turn,
// few enough that the parts being made and written take little memory.
constexpr std::size_t kItemsPerPart = 4096;

// The parts of the JSON of a plan of `counts`: the same skeleton as
// plan::to_json writes, by a writer told where the items went.
std::vector<Part> parts_of(const Farm& farm, const PlanCounts& counts) {
  std::vector<Part> parts;
  std::string text;
  json::Writer w(text);
  auto list = [&](std::string_view key, Part::What what, std::size_t items) {
    w.key(key);
    w.begin_array();
    parts.push_back({Part::What::text, std::move(text)});
    text.clear();
    if (what == Part::What::volumes && !farm.globals.empty()) parts.push_back({Part::What::globals, {}});
    std::size_t per_server = counts.servers == 0 ? 1 : std::max<std::size_t>(1, items / counts.servers);
    std::size_t servers_per_part = std::max<std::size_t>(64, kItemsPerPart / per_server);
    for (std::size_t first = 0; first < counts.servers; first += servers_per_part)
      parts.push_back({what, {}, first, std::min(counts.servers, first + servers_per_part)});
    if (items > 0) w.holds_values();
    w.end_array();
  };
  w.begin_object();
  w.field("format_version", plan::kFormatVersion);
  w.field("farm", farm.name);
  w.field("fml_version", farm.fml_version);
  list("servers", Part::What::servers, counts.servers);
  list("volumes", Part::What::volumes, counts.volumes);
  list("exports", Part::What::exports, counts.exports);
  w.end_object();
  text += '\n';
  parts.push_back({Part::What::text, std::move(text)});
  return parts;
}

}  // namespace

plan::Plan lower(const Farm& farm) {
  plan::Plan out;
  out.farm = farm.name;
  out.fml_version = farm.fml_version;
  PlanCounts counts;
  std::vector<TierSlots> slots = slots_of(farm, counts);
  // Made empty, then filled in place.
  out.servers.resize(counts.servers);
  out.volumes.resize(counts.volumes);
  out.exports.resize(counts.exports);
  GlobalsByName globals = globals_of(farm);
  for (std::size_t k = 0; k < farm.globals.size(); ++k)
    out.volumes[k] = plan::to_volume(global_volume(globals.at(farm.globals[k].global_name)));
  auto fill = [&](std::size_t first, std::size_t last) {
    SlotFiller filler{out, items_before(slots, counts, first), Kinds{}};
    lower_servers(slots, first, last, globals, filler);
  };
  if (counts.volumes < kTwoThreadsFromVolumes) {
    fill(0, counts.servers);
    return out;
  }
  std::size_t half = counts.servers / 2;
  auto second = std::async(std::launch::async, [&] { fill(half, counts.servers); });
  fill(0, half);
  second.get();
  return out;
}

bool write_plan_json(const Farm& farm, std::ostream& out) {
  PlanCounts counts;
  std::vector<TierSlots> slots = slots_of(farm, counts);
  GlobalsByName globals = globals_of(farm);
  std::vector<Part> parts = parts_of(farm, counts);

  // Each part is made into a thread's own text, then written in its turn:
  // while one thread writes, the other makes the next part, and no more of
  // the plan's text than two parts is ever held.
  auto make = [&](const Part& part, std::string& text) {
    text.clear();
    json::Writer w(text);
    PlanCounts before = items_before(slots, counts, part.first);
    if (part.what == Part::What::globals) {
      w.continue_in_list(false);
      for (const GlobalDisk& g : farm.globals) plan::write_item(w, global_volume(globals.at(g.global_name)));
      return;
    }
    Kinds kinds{part.what == Part::What::servers, part.what == Part::What::volumes,
                part.what == Part::What::exports};
    w.continue_in_list(kinds.servers ? before.servers > 0 : kinds.volumes ? before.volumes > 0 : before.exports > 0);
    ItemWriter sink{w, kinds};
    lower_servers(slots, part.first, part.last, globals, sink);
  };
  std::atomic<std::size_t> next{0};
  std::mutex turn_mutex;
  std::condition_variable turn_changed;
  std::size_t turn = 0;
  bool failed = false;
  auto take_parts = [&] {
    std::string made;
    for (std::size_t k; (k = next++) < parts.size();) {
      const std::string* text = &parts[k].text;
      if (parts[k].what != Part::What::text) {
        make(parts[k], made);
        text = &made;
      }
      std::unique_lock lock(turn_mutex);
      turn_changed.wait(lock, [&] { return turn == k; });
      if (!failed) failed = !out.write(text->data(), static_cast<std::streamsize>(text->size()));
      ++turn;
      turn_changed.notify_all();
    }
  };
  if (counts.volumes < kTwoThreadsFromVolumes) {
    take_parts();
  } else {
    auto second = std::async(std::launch::async, take_parts);
    take_parts();
    second.get();
  }
  return !failed && static_cast<bool>(out);
}

}  // namespace farmctl::fml
