#include "service/farm_reconciler.h"

#include <fmt/format.h>

#include "reconciler/apply.h"
#include "reconciler/recovery.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"
#include "service/logged_apply.h"

namespace farmctl::service {
namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

// The moves still to make: a server already on the host it is asked to move
// to (an order retried after its move was made) needs none.
reconcile::PlanOptions with_moves(runtime::Inventory& inventory, const runtime::Topology& topology,
                                  const std::string& farm, const ServerMoves& moves) {
  reconcile::PlanOptions options;
  if (moves.empty()) return options;
  std::map<std::string, std::string> placed;
  if (auto row = inventory.farm(farm))
    for (const runtime::PlacementRow& p : inventory.farm_record(*row).placements)
      if (const runtime::HostRow* h = topology.host(p.host_id)) placed[p.server] = h->name;
  for (const auto& [server, host] : moves)
    if (placed.count(server) == 0 || placed[server] != host) options.move_to[server] = host;
  return options;
}

ReconcileOutcome failure(std::string reason, std::string message) {
  return {ReconcileOutcome::Result::failure, std::move(reason), std::move(message), 0};
}

}  // namespace

void InventoryReconciler::recover_journal() {
  if (inventory_.open_journal_entries().empty()) return;
  runtime::DriverSet drivers(inventory_.topology(), runtime::DriverContext{inventory_.path()});
  reconcile::RecoveryReport report = reconcile::recover_interrupted_actions(inventory_, drivers);
  for (const std::string& line : report.lines) log_.warn("journal.recovered", {{"message", line}});
}

ReconcileOutcome InventoryReconciler::reconcile(const FarmSource& farm, const ServerMoves& moves) {
  const std::string& name = farm.plan().farm;
  discovery_.reset();
  try {
    std::optional<runtime::InventoryLock> lock;
    try {
      lock.emplace(inventory_.path(), "farmctl serve: reconcile " + name, options_.lock_timeout);
    } catch (const runtime::LockBusy& busy) {
      return failure("InventoryLocked", busy.what());
    }
    recover_journal();
    runtime::Topology topology = inventory_.topology();
    runtime::DriverSet drivers(topology, runtime::DriverContext{inventory_.path()});
    reconcile::Discovery discovery;
    try {
      auto scope = inventory_.farm_volume_scope(farm.plan().farm);
      discovery = drivers.discover_all(&scope);
    } catch (const runtime::DeviceError& e) {
      return failure("DeviceUnreachable", e.what());
    }
    reconcile::ReconcilePlan plan;
    try {
      plan = reconcile::make_plan(farm.plan(), inventory_, topology, discovery,
                                  with_moves(inventory_, topology, name, moves));
    } catch (const reconcile::PlanRefused& refused) {
      return failure("PlanRefused", joined(refused.reasons()));
    }
    if (plan.empty()) return {};
    log_.info("apply.started", {{"farm", name}, {"actions", plan.actions.size()}});
    LoggedApply events(name, log_, metrics_);
    reconcile::ApplyOptions apply_options;
    apply_options.parallelism = options_.parallelism;
    apply_options.stop = &stop_;
    reconcile::ApplyResult result = reconcile::apply_plan(plan, inventory_, drivers, events, apply_options);
    if (result.ok()) return {ReconcileOutcome::Result::success, "", "", result.done};
    std::vector<std::string> lines = result.failures;
    if (result.not_started > 0 && result.failed == 0)
      return {ReconcileOutcome::Result::interrupted, "Interrupted",
              fmt::format("stopped with {} of {} actions not started", result.not_started, result.total), result.done};
    for (const std::string& r : result.rolled_back) lines.push_back("rolled back: " + r);
    ReconcileOutcome out = failure("ApplyFailed", fmt::format("{} done, {} failed, {} skipped: {}", result.done,
                                                              result.failed, result.skipped, joined(lines)));
    out.actions_run = result.done + result.failed;
    return out;
  } catch (const std::exception& e) {
    return failure("Error", e.what());
  }
}

std::vector<std::string> InventoryReconciler::refusals(const FarmSource& farm, const ServerMoves& moves) {
  try {
    runtime::Topology topology = inventory_.topology();
    if (!discovery_) {
      runtime::DriverSet drivers(topology, runtime::DriverContext{inventory_.path()});
      discovery_ = drivers.discover_all();
    }
    reconcile::make_plan(farm.plan(), inventory_, topology, *discovery_,
                         with_moves(inventory_, topology, farm.plan().farm, moves));
    return {};
  } catch (const reconcile::PlanRefused& refused) {
    return refused.reasons();
  } catch (const std::exception& e) {
    // Devices out of reach are not a reason to refuse the order: the
    // reconcile will find out, and retry.
    return {};
  }
}

}  // namespace farmctl::service
