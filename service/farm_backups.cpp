// InventoryBackups: see farm_backups.h.
#include "service/farm_backups.h"

#include <fmt/format.h>

#include "reconciler/backup_engine.h"
#include "reconciler/recovery.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"
#include "service/farm_store.h"
#include "service/logged_apply.h"

namespace farmctl::service {
namespace {

nlohmann::json copy_fields(const std::string& farm, const runtime::BackupRow& c) {
  return {{"farm", farm},         {"copy", c.id},          {"volume", c.source},  {"level", c.level},
          {"schedule", c.schedule}, {"taken_at", c.taken_at}, {"size_mb", c.size_mb}};
}

// An order's disk as the Plan IR names it: "NAME" is the global disk.
std::string plan_disk(const std::string& disk) {
  return disk.find('/') == std::string::npos ? "global/" + disk : disk;
}

}  // namespace

// Under the inventory lock, with the journal's unfinished actions finished
// first, as for an apply. Returns "" or why it could not start.
std::string InventoryBackups::with_engine(
    const std::string& farm, const std::function<void(reconcile::BackupEngine&, const runtime::FarmRow&)>& fn) {
  auto row = inventory_.farm(farm);
  if (!row || !row->plan_json) return fmt::format("farm {} has not been applied", farm);
  std::optional<runtime::InventoryLock> lock;
  try {
    lock.emplace(inventory_.path(), "farmctl serve: backups of " + farm, lock_timeout_);
  } catch (const runtime::LockBusy& busy) {
    return busy.what();
  }
  runtime::Topology topology = inventory_.topology();
  runtime::DriverSet drivers(topology, runtime::DriverContext{inventory_.path()});
  if (!inventory_.open_journal_entries().empty()) {
    reconcile::RecoveryReport report = reconcile::recover_interrupted_actions(inventory_, drivers);
    for (const std::string& line : report.lines) log_.warn("journal.recovered", {{"message", line}});
  }
  LoggedApply events(farm, log_, metrics_);
  reconcile::ApplyOptions options;
  options.parallelism = parallelism_;
  options.stop = &stop_;
  reconcile::BackupEngine engine(inventory_, drivers, clock_, events, options);
  fn(engine, *inventory_.farm(farm));
  return {};
}

void InventoryBackups::log_report(const std::string& farm, const reconcile::BackupReport& report) {
  for (const auto& c : report.taken) log_.info("backup.taken", copy_fields(farm, c));
  for (const auto& c : report.freed) log_.info("backup.freed", copy_fields(farm, c));
  for (const auto& f : report.failures) log_.warn("backup.failed", {{"farm", farm}, {"message", f}});
}

// Copies the schedule took are billed to the farm's owner (a farm without
// one is the provider's own); an order's snapshot is billed with its order.
void InventoryBackups::bill(const std::string& farm, const reconcile::BackupReport& report) {
  auto stored = FarmStore(inventory_.database()).farm(farm);
  if (!stored || !stored->owner_id) return;
  WorkOrderStore orders(inventory_.database());
  for (const auto& c : report.taken)
    if (!c.manual)
      orders.bill_copy(*stored->owner_id, c.id, static_cast<std::int64_t>(c.size_mb),
                       fmt::format("copy {} of {} ({} level {}), farm {}", c.id, c.source, c.schedule, c.level, farm));
}

void InventoryBackups::run(const std::string& farm) {
  try {
    auto row = inventory_.farm(farm);
    if (!row || !row->plan_json) return;
    std::string why = with_engine(farm, [&](reconcile::BackupEngine& engine, const runtime::FarmRow& f) {
      reconcile::BackupReport report = engine.run_schedules(f);
      log_report(farm, report);
      bill(farm, report);
    });
    if (!why.empty()) log_.warn("backup.failed", {{"farm", farm}, {"message", why}});
  } catch (const std::exception& e) {
    log_.warn("backup.failed", {{"farm", farm}, {"message", e.what()}});
  }
}

std::string InventoryBackups::carry_out(const WorkOrder& order) {
  std::string failure;
  try {
    std::string disk = plan_disk(order.parameters.value("disk", std::string()));
    std::string why = with_engine(order.farm, [&](reconcile::BackupEngine& engine, const runtime::FarmRow& f) {
      reconcile::BackupReport report;
      if (order.type == "take-snapshot") {
        report = engine.take_now(f, disk);
      } else {
        auto copy_id = order.parameters.value("copy", std::int64_t{0});
        auto copy = runtime::BackupStore(inventory_).by_id(copy_id);
        if (copy && copy->farm_id == f.id && copy->source != disk) {
          failure = fmt::format("copy {} is of disk {}, not {}", copy_id, copy->source, disk);
          return;
        }
        report = order.parameters.value("into", std::string("in-place")) == "new-volume"
                     ? engine.restore_to_new(f, copy_id)
                     : engine.restore(f, copy_id);
      }
      log_report(order.farm, report);
      if (!report.ok()) failure = report.failures.front();
    });
    if (!why.empty()) return why;
  } catch (const reconcile::BackupRefused& e) {
    return e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
  return failure;
}

}  // namespace farmctl::service
