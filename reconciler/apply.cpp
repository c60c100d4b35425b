#include "reconciler/apply.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "reconciler/action_graph.h"
#include "reconciler/recorder.h"

namespace farmctl::reconcile {
namespace {

std::string new_run_id() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("{}-{}", std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), getpid());
}

std::string action_json(const Action& a) {
  nlohmann::json j{{"id", a.id}, {"op", runtime::to_string(a.op)}, {"volume", a.volume}, {"server", a.server},
                   {"device", a.device}, {"detail", a.detail}};
  return j.dump();
}

// Runs one action: intent journalled and committed, the driver called
// (transient failures retried with backoff), the outcome and the inventory
// change committed together.
class StepRunner {
 public:
  StepRunner(const ReconcilePlan& plan, runtime::Inventory& inv, runtime::DriverSet& drivers, RowId farm_id,
             const ApplyOptions& options)
      : plan_(plan), inv_(inv), drivers_(drivers), farm_id_(farm_id), options_(options), run_id_(new_run_id()) {}

  runtime::ActionOutcome run(const Action& a, int& attempts) {
    RowId entry = inv_.write([&] {
      return inv_.journal_intent(run_id_, plan_.farm, a.id, runtime::to_string(a.op), a.device, action_json(a));
    });
    runtime::ActionOutcome outcome = call_driver(a, attempts);
    inv_.write([&] {
      if (outcome.ok()) record_success(inv_, farm_id_, plan_.farm, a);
      inv_.journal_outcome(entry, outcome.ok() ? "done" : "failed", outcome.message);
    });
    return outcome;
  }

 private:
  runtime::ActionOutcome call_driver(const Action& a, int& attempts) {
    int backoff = options_.first_backoff_ms;
    runtime::ActionOutcome outcome;
    for (attempts = 1;; ++attempts) {
      try {
        outcome = drivers_.driver_for(a.device).run(drivers_.config(a.device), a.device_action);
      } catch (const std::exception& e) {
        outcome = runtime::ActionOutcome::permanent(e.what());
      }
      if (outcome.status != runtime::ActionOutcome::Status::transient_failure || attempts >= options_.max_attempts)
        return outcome;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff *= 2;
    }
  }

  const ReconcilePlan& plan_;
  runtime::Inventory& inv_;
  runtime::DriverSet& drivers_;
  RowId farm_id_;
  const ApplyOptions& options_;
  std::string run_id_;
};

void record_placements(const ReconcilePlan& plan, runtime::Inventory& inv, RowId farm_id) {
  if (plan.placements.empty()) return;
  inv.write([&] {
    for (const NewPlacement& p : plan.placements) inv.place(farm_id, p.server, p.host_id);
  });
}

// After a fully successful apply: the farm now is its file.
void settle_farm(const ReconcilePlan& plan, runtime::Inventory& inv, RowId farm_id) {
  inv.write([&] {
    for (const std::string& server : plan.released_servers) inv.unplace(farm_id, server);
    if (plan.destroy) {
      auto farm = inv.farm(plan.farm);
      auto record = inv.farm_record(*farm);
      if (record.volumes.empty() && record.bindings.empty() && record.zones.empty() && record.placements.empty())
        inv.delete_farm(farm_id);
    } else {
      inv.set_farm_plan(farm_id, plan.plan_json);
    }
  });
}

}  // namespace

ApplyResult apply_plan(const ReconcilePlan& plan, runtime::Inventory& inventory, runtime::DriverSet& drivers,
                       ApplyEvents& events, const ApplyOptions& options) {
  ApplyResult result;
  result.total = static_cast<int>(plan.actions.size());
  RowId farm_id = inventory.write([&] { return inventory.ensure_farm(plan.farm); });
  record_placements(plan, inventory, farm_id);

  ActionGraph graph(plan.actions);
  StepRunner runner(plan, inventory, drivers, farm_id, options);
  while (!graph.finished()) {
    auto ready = graph.take_ready();
    if (ready.empty()) break;
    for (std::size_t i : ready) {
      const Action& a = graph.action(i);
      events.started(a);
      int attempts = 0;
      runtime::ActionOutcome outcome = runner.run(a, attempts);
      events.finished(a, outcome, attempts);
      if (outcome.ok()) {
        graph.mark_done(i);
        ++result.done;
        continue;
      }
      graph.mark_failed(i);
      ++result.failed;
      result.failures.push_back(fmt::format("action {} {} on {} ({}): {}", a.id, runtime::to_string(a.op), a.device,
                                            a.detail, outcome.message));
      for (std::size_t s : graph.skipped_by(i)) {
        events.skipped(graph.action(s), a.id);
        ++result.skipped;
      }
    }
  }
  if (result.ok()) settle_farm(plan, inventory, farm_id);
  return result;
}

}  // namespace farmctl::reconcile
