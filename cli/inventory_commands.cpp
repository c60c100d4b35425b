// `farmctl inventory import | show | check` and `farmctl force-unlock`.
#include <exception>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "compiler/source_text.h"
#include "reconciler/invariants.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"
#include "runtime/phase_timer.h"
#include "runtime/storage_node_id.h"
#include "runtime/wiring_import.h"

namespace farmctl::cli {

namespace {

std::size_t count_of(std::string_view text, std::string_view word) {
  std::size_t n = 0;
  for (std::size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + word.size())) ++n;
  return n;
}

struct ImportAttempt {
  runtime::WiringParseResult parsed;
  std::optional<runtime::ImportReport> imported;
  std::exception_ptr failed;
};

// The map is parsed on this thread while another loads each device into the
// inventory as soon as it has been read (runtime::DeviceFeed); the import
// commits only if the whole map turns out to be valid. A map the parse
// doubted (runtime::WiringRead) is rolled back like one with errors.
ImportAttempt import_once(runtime::Inventory& inventory, fml::SourceText text, const std::string& file_name,
                          runtime::WiringRead how) {
  runtime::DeviceFeed feed;
  std::size_t volumes = count_of(text.view(), "<volume");
  auto importing = std::async(std::launch::async, [&] {
    return runtime::import_wiring_map(inventory, feed, runtime::DriverContext{inventory.path()}, volumes);
  });
  ImportAttempt attempt;
  try {
    runtime::PhaseTimer timer("import: wiring map parse");
    attempt.parsed = runtime::parse_wiring_map_source(
        std::move(text), file_name, [&](const runtime::WiredDevice& d) { feed.add(d); }, how);
  } catch (...) {
    feed.close(nullptr);
    importing.wait();
    throw;
  }
  feed.close(attempt.parsed.map ? &*attempt.parsed.map : nullptr);
  try {
    attempt.imported = importing.get();
  } catch (...) {
    attempt.failed = std::current_exception();
  }
  return attempt;
}

}  // namespace

int run_inventory_import(const InventoryOptions& options) {
  // A large map is mapped, not copied (fml::SourceText): bench/run's 37 MB
  // map took 110 ms to read into a string, under 10 ms to map
  // (docs/performance.md, item 107).
  std::optional<fml::SourceText> text;
  {
    runtime::PhaseTimer timer("import: read the file");
    text = fml::SourceText::of_file(options.map_file);
  }
  if (!text) {
    runtime::WiringParseResult parsed = runtime::parse_wiring_map_file(options.map_file);
    std::cerr << parsed.rendered_diagnostics();
    throw CommandError(fmt::format("{} has errors; the inventory was not changed", options.map_file));
  }
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "inventory import", std::chrono::seconds(10));
  // Read without Xerces' validator first, against the schema's outline;
  // a map it doubts (nearly always one with an error) is read again,
  // validated, which says what is wrong.
  ImportAttempt attempt = import_once(*inventory, std::move(*text), options.map_file,
                                      runtime::WiringRead::against_outline);
  if (attempt.parsed.doubted)
    attempt = import_once(*inventory, std::move(attempt.parsed.source), options.map_file,
                          runtime::WiringRead::validated);
  std::cerr << attempt.parsed.rendered_diagnostics();
  // A map with errors was rolled back; what the import made of its devices
  // (a size the map got wrong fails the insert) is not the news.
  if (!attempt.parsed.map)
    throw CommandError(fmt::format("{} has errors; the inventory was not changed", options.map_file));
  if (attempt.failed) std::rethrow_exception(attempt.failed);
  const runtime::ImportReport& report = *attempt.imported;
  if (!report.ok()) {
    for (const std::string& r : report.refusals) std::cerr << "farmctl: refused: " << r << "\n";
    throw CommandError(fmt::format("{} was not imported; the inventory was not changed", options.map_file));
  }
  if (report.added + report.changed + report.removed == 0)
    fmt::print("{}: no changes; the inventory {} already matches it\n", options.map_file, inventory->path());
  else
    fmt::print("{}: imported into {}: {} added, {} changed, {} removed\n", options.map_file, inventory->path(),
               report.added, report.changed, report.removed);
  return 0;
}

namespace {

struct Capacity {
  std::uint64_t total = 0, free = 0;
};

}  // namespace

int run_inventory_show(const InventoryOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Topology topo = inventory->topology();
  std::vector<runtime::VolumeRow> volumes = inventory->all_volumes();
  std::map<std::string, Capacity> arrays;
  std::map<std::string, int> states;
  for (const auto& v : volumes) {
    ++states[std::string(runtime::to_string(v.state))];
    if (v.origin != "precarved") continue;
    Capacity& c = arrays[topo.device(v.device_id)->config.name];
    c.total += v.size_mb;
    if (v.state == runtime::VolumeState::Free) c.free += v.size_mb;
  }
  std::set<runtime::RowId> placed;
  for (runtime::RowId id : inventory->placed_host_ids()) placed.insert(id);
  using Json = nlohmann::ordered_json;
  Json j;
  j["inventory"] = inventory->path();
  j["generation"] = inventory->generation();
  Json jarrays = Json::array();
  for (const auto& d : topo.devices) {
    if (d.config.kind != runtime::DeviceKind::array) continue;
    Json pools = Json::array();
    for (const auto& p : topo.pools)
      if (p.device_id == d.id)
        pools.push_back(Json{{"name", p.name}, {"total_mb", p.size_mb}, {"free_mb", p.size_mb - std::min(p.used_mb, p.size_mb)}});
    jarrays.push_back(Json{{"name", d.config.name},
                           {"driver", d.config.driver},
                           {"volumes_total_mb", arrays[d.config.name].total},
                           {"volumes_free_mb", arrays[d.config.name].free},
                           {"pools", pools}});
  }
  j["arrays"] = jarrays;
  Json jstates = Json::object();
  for (const auto& [s, n] : states) jstates[s] = n;
  j["volumes_by_state"] = jstates;
  j["hosts"] = Json{{"total", topo.hosts.size()}, {"used", placed.size()}, {"idle", topo.hosts.size() - placed.size()}};
  Json farms = Json::array();
  std::map<runtime::RowId, std::string> farm_names;
  for (const auto& f : inventory->farms()) {
    farms.push_back(Json{{"name", f.name}, {"revision", f.revision}});
    farm_names[f.id] = f.name;
  }
  j["farms"] = farms;
  // Every farm disk under its vendor-neutral name (runtime/storage_node_id.h).
  Json nodes = Json::array();
  for (const auto& v : volumes) {
    if (!v.farm_id || !v.plan_volume) continue;
    const runtime::DeviceRow* array = topo.device(v.device_id);
    nodes.push_back(Json{{"storage_node", runtime::storage_node_id(*array, v.device_volume)},
                         {"farm", farm_names[*v.farm_id]},
                         {"volume", *v.plan_volume},
                         {"array", array->config.name},
                         {"device_volume", v.device_volume},
                         {"size_mb", v.size_mb},
                         {"state", runtime::to_string(v.state)}});
  }
  j["storage_nodes"] = nodes;
  if (options.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("inventory {} (generation {})\n\narrays:\n", inventory->path(), inventory->generation());
  for (const auto& a : j["arrays"]) {
    fmt::print("  {:<12} {:<5} pre-carved volumes: {} MB free of {} MB\n", a["name"].get<std::string>(),
               a["driver"].get<std::string>(), a["volumes_free_mb"].get<std::uint64_t>(),
               a["volumes_total_mb"].get<std::uint64_t>());
    for (const auto& p : a["pools"])
      fmt::print("  {:<12}       pool {}: {} MB free of {} MB\n", "", p["name"].get<std::string>(),
                 p["free_mb"].get<std::uint64_t>(), p["total_mb"].get<std::uint64_t>());
  }
  fmt::print("\nvolumes by state:\n");
  for (const auto& [s, n] : states) fmt::print("  {:<13} {}\n", s, n);
  fmt::print("\nhosts: {} idle, {} used, {} in all\n", topo.hosts.size() - placed.size(), placed.size(),
             topo.hosts.size());
  fmt::print("farms:");
  if (j["farms"].empty()) fmt::print(" none");
  for (const auto& f : j["farms"]) fmt::print(" {} (revision {})", f["name"].get<std::string>(), f["revision"].get<int>());
  fmt::print("\n");
  if (!nodes.empty()) fmt::print("\nstorage nodes of farms:\n");
  for (const auto& n : nodes)
    fmt::print("  {}  {} {} ({}:{}, {} MB, {})\n", n["storage_node"].get<std::string>(), n["farm"].get<std::string>(),
               n["volume"].get<std::string>(), n["array"].get<std::string>(), n["device_volume"].get<std::string>(),
               n["size_mb"].get<std::uint64_t>(), n["state"].get<std::string>());
  return 0;
}

int run_inventory_check(const InventoryOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Topology topo = inventory->topology();
  runtime::DriverSet drivers(topo, runtime::DriverContext{inventory->path()});
  std::map<std::string, runtime::DeviceState> devices;
  try {
    devices = drivers.discover_all();
  } catch (const runtime::DeviceError& e) {
    throw CommandError(e.what());
  }
  std::vector<std::string> violations = reconcile::check_invariants(*inventory, &devices);
  if (violations.empty()) {
    fmt::print("inventory {}: all invariants hold ({} devices checked)\n", inventory->path(), devices.size());
    return 0;
  }
  for (const std::string& v : violations) fmt::print(stderr, "violation: {}\n", v);
  if (auto open = inventory->open_journal_entries(); !open.empty())
    fmt::print(stderr,
               "note: an apply was interrupted with {} actions in flight, so the devices may be ahead of the "
               "inventory; farmctl plan or apply finishes them first\n",
               open.size());
  fmt::print(stderr, "farmctl: inventory {}: {} invariant violations\n", inventory->path(), violations.size());
  return 1;
}

int run_force_unlock(const UnlockOptions& options) {
  std::string path = runtime::resolve_inventory_path(options.db);
  auto holder = runtime::force_unlock(path);
  if (!holder) {
    fmt::print("{} was not locked\n", path);
    return 0;
  }
  fmt::print("removed the lock of {} held by pid {} ({}) since {}{}\n", path, holder->pid, holder->command,
             holder->since,
             holder->alive ? "; that process is still running: if it writes again, two writers may interleave"
                           : "; that process is gone");
  return 0;
}

}  // namespace farmctl::cli
