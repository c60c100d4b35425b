// `farmctl backup list | now` and `farmctl restore` (docs/backups.md).
#include <algorithm>
#include <functional>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "reconciler/backup_engine.h"
#include "reconciler/recovery.h"
#include "runtime/backup_store.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"

namespace farmctl::cli {
namespace {

// One line per device action: the plans here are small and made on the fly,
// so there is no total to count against.
class ActionLines : public reconcile::ApplyEvents {
 public:
  void finished(const reconcile::Action& a, const runtime::ActionOutcome& o, int attempts) override {
    std::string retries = attempts > 1 ? fmt::format(" after {} attempts", attempts) : "";
    if (o.ok())
      fmt::print("{} {}: done{}\n", runtime::to_string(a.op), a.detail, retries);
    else
      fmt::print("{} {}: FAILED{}: {}\n", runtime::to_string(a.op), a.detail, retries, o.message);
  }
  void skipped(const reconcile::Action& a, int because_of) override {
    fmt::print("{} {}: skipped (depends on failed action {})\n", runtime::to_string(a.op), a.detail, because_of);
  }
};

runtime::FarmRow farm_or_fail(runtime::Inventory& inventory, const std::string& name) {
  auto farm = inventory.farm(name);
  if (!farm) throw CommandError(fmt::format("no farm {} in the inventory {}", name, inventory.path()));
  return *farm;
}

// Under the lock, with the journal's unfinished actions finished first, as
// for an apply; then `fn(engine)`; prints what was taken, freed or failed.
int with_engine(const BackupOptions& options, const std::string& what,
                const std::function<reconcile::BackupReport(reconcile::BackupEngine&, const runtime::FarmRow&)>& fn) {
  auto inventory = open_inventory(options.db);
  runtime::FarmRow farm = farm_or_fail(*inventory, options.farm);
  runtime::InventoryLock lock(inventory->path(), what, parse_duration(options.lock_timeout));
  runtime::Topology topology = inventory->topology();
  runtime::DriverSet drivers(topology, runtime::DriverContext{inventory->path()});
  if (!inventory->open_journal_entries().empty()) reconcile::recover_interrupted_actions(*inventory, drivers);
  auto clock = reconcile::clock_from_environment();
  ActionLines lines;
  reconcile::BackupEngine engine(*inventory, drivers, *clock, lines);
  reconcile::BackupReport report;
  try {
    report = fn(engine, farm);
  } catch (const reconcile::BackupRefused& e) {
    throw CommandError(std::string(e.what()) + "; nothing was changed");
  }
  for (const auto& c : report.taken) fmt::print("copy {} of {} taken at {}\n", c.id, c.source, c.taken_at);
  for (const auto& c : report.freed) fmt::print("copy {} of {} (taken {}) freed\n", c.id, c.source, c.taken_at);
  for (const auto& f : report.failures) fmt::print(stderr, "farmctl: error: {}\n", f);
  return report.ok() ? 0 : 1;
}

int restore_to_new(const BackupOptions& options) {
  std::vector<runtime::RestoredRow> made;
  int code = with_engine(options, "restore --to-new " + options.farm + " " + options.volume,
                         [&](reconcile::BackupEngine& engine, const runtime::FarmRow& farm) {
                           auto report = engine.restore_to_new(farm, options.from);
                           made = report.restored;
                           return report;
                         });
  auto inventory = open_inventory(options.db);
  for (const auto& r : made)
    for (const auto& b : inventory->bindings_of_volume(r.volume_id))
      fmt::print("copy {} of {} restored into new volume {}: server {} sees it at target {}\n", options.from,
                 r.source, r.id, b.server, b.target);
  return code;
}

}  // namespace

int run_backup_list(const BackupOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::FarmRow farm = farm_or_fail(*inventory, options.farm);
  auto copies = runtime::BackupStore(*inventory).of_farm(farm.id);
  if (!options.volume.empty()) {
    bool known = std::any_of(copies.begin(), copies.end(), [&](const auto& c) { return c.source == options.volume; });
    auto record = inventory->farm_record(farm);
    bool disk = std::any_of(record.volumes.begin(), record.volumes.end(),
                            [&](const auto& v) { return v.plan_volume == options.volume; });
    if (!known && !disk) throw CommandError(fmt::format("farm {} has no disk {}", farm.name, options.volume));
    std::erase_if(copies, [&](const auto& c) { return c.source != options.volume; });
  }
  runtime::Topology topology = inventory->topology();
  auto where = [&](const runtime::BackupRow& c) {
    auto v = inventory->volume(c.volume_id);
    if (!v) return std::string("?");
    const runtime::DeviceRow* d = topology.device(v->device_id);
    return fmt::format("{}:{}", d != nullptr ? d->config.name : "?", v->device_volume);
  };
  if (options.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& c : copies)
      out.push_back({{"id", c.id}, {"volume", c.source}, {"level", c.level}, {"schedule", c.schedule},
                     {"taken_at", c.taken_at}, {"size_mb", c.size_mb}, {"manual", c.manual}, {"storage", where(c)}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  auto restored = runtime::BackupStore(*inventory).restored_of_farm(farm.id);
  if (!options.volume.empty())
    std::erase_if(restored, [&](const auto& r) { return r.source != options.volume; });
  auto print_restored = [&] {
    if (restored.empty()) return;
    fmt::print("\n{:>8}  {:<24} {:<20} {:<20}  {}\n", "RESTORED", "FROM DISK", "COPY TAKEN (UTC)", "RESTORED (UTC)",
               "EXPORTED");
    for (const auto& r : restored) {
      std::string exports;
      for (const auto& b : inventory->bindings_of_volume(r.volume_id))
        exports += fmt::format("{}{} t{}", exports.empty() ? "" : ", ", b.server, b.target);
      fmt::print("{:>8}  {:<24} {:<20} {:<20}  {}\n", r.id, r.source, r.copy_taken_at, r.restored_at, exports);
    }
  };
  if (copies.empty()) {
    fmt::print("farm {} has no backup copies{}\n", farm.name, options.volume.empty() ? "" : " of " + options.volume);
    print_restored();
    return 0;
  }
  fmt::print("{:>5}  {:<24} {:>5}  {:<14} {:<20} {:>9}  {}\n", "COPY", "VOLUME", "LEVEL", "SCHEDULE", "TAKEN (UTC)",
             "SIZE MB", "STORAGE");
  for (const auto& c : copies)
    fmt::print("{:>5}  {:<24} {:>5}  {:<14} {:<20} {:>9}  {}\n", c.id, c.source, c.level,
               c.manual ? c.schedule + " (now)" : c.schedule, c.taken_at, c.size_mb, where(c));
  print_restored();
  return 0;
}

int run_backup_now(const BackupOptions& options) {
  return with_engine(options, "backup now " + options.farm + " " + options.volume,
                     [&](reconcile::BackupEngine& engine, const runtime::FarmRow& farm) {
                       return engine.take_now(farm, options.volume);
                     });
}

int run_restore(const BackupOptions& options) {
  {
    auto inventory = open_inventory(options.db);
    runtime::FarmRow farm = farm_or_fail(*inventory, options.farm);
    auto copy = runtime::BackupStore(*inventory).by_id(options.from);
    if (!copy || copy->farm_id != farm.id)
      throw CommandError(fmt::format("farm {} has no copy {} (farmctl backup list {} shows its copies)", farm.name,
                                     options.from, farm.name));
    if (copy->source != options.volume)
      throw CommandError(fmt::format("copy {} is of disk {}, not {}", copy->id, copy->source, options.volume));
    if (!options.auto_approve && !options.to_new) {
      if (!stdin_is_terminal())
        throw CommandError("not restoring: stdin is not a terminal, so pass --auto-approve to restore without asking");
      if (!confirm(fmt::format("Disk {} of farm {} will become copy {} taken {}; what it holds now is lost. Restore?",
                               options.volume, farm.name, copy->id, copy->taken_at))) {
        fmt::print("restore cancelled; nothing was changed\n");
        return 1;
      }
    }
  }
  if (options.to_new) return restore_to_new(options);
  int code = with_engine(options, "restore " + options.farm + " " + options.volume,
                         [&](reconcile::BackupEngine& engine, const runtime::FarmRow& farm) {
                           return engine.restore(farm, options.from);
                         });
  if (code == 0) fmt::print("disk {} of farm {} restored from copy {}\n", options.volume, options.farm, options.from);
  return code;
}

int run_backup_release(const BackupOptions& options) {
  int code = with_engine(options, "backup release " + options.farm,
                         [&](reconcile::BackupEngine& engine, const runtime::FarmRow& farm) {
                           return engine.release(farm, options.restored);
                         });
  if (code == 0) fmt::print("restored volume {} of farm {} released\n", options.restored, options.farm);
  return code;
}

}  // namespace farmctl::cli
