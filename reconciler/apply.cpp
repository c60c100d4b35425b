#include "reconciler/apply.h"

#include <chrono>
#include <future>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "reconciler/action_graph.h"
#include "reconciler/executor.h"
#include "reconciler/recorder.h"
#include "reconciler/rollback.h"
#include "runtime/wal_checkpointer.h"

namespace farmctl::reconcile {
namespace {

std::string new_run_id() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("{}-{}", std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), getpid());
}

// The steps of an apply: the journal's intent before an action starts, the
// driver call (transient failures retried with backoff), the devices' sync,
// then the outcome and the inventory change committed together after it ends.
class ApplyHooks : public StepHooks {
 public:
  ApplyHooks(const ReconcilePlan& plan, runtime::Inventory& inv, runtime::DriverSet& drivers, RowId farm_id,
             const ApplyOptions& options, ApplyEvents& events)
      : plan_(plan), inv_(inv), drivers_(drivers), farm_id_(farm_id), options_(options), events_(events),
        run_id_(new_run_id()) {}

  std::vector<std::int64_t> commit(const std::vector<const Action*>& ended,
                                   const std::vector<Completion>& completions,
                                   const std::vector<const Action*>& starting) override {
    // The devices acknowledged these through run_unsynced. Their sync runs
    // beside the recording, and the journal commits only once it is done:
    // the journal never says done for what a device could still lose (a
    // crash before the commit leaves open intents, which recovery runs
    // again; a failed sync rolls the transaction back).
    std::future<void> synced;
    if (!ended.empty()) synced = std::async(std::launch::async, [this] { drivers_.sync_all(); });
    // The journal's rows of the whole commit, and its binds' new bindings,
    // go in a few multi-row statements, not one per action.
    std::vector<runtime::Inventory::Outcome> outcomes;
    outcomes.reserve(completions.size());
    std::vector<runtime::Inventory::Intent> intents;
    intents.reserve(starting.size());
    for (const Action* a : starting) intents.push_back({a->id, runtime::to_string(a->op), a->device, action_to_json(*a)});
    std::vector<std::int64_t> entries = inv_.write([&] {
      PendingBindings bindings(inv_);
      for (std::size_t k = 0; k < ended.size(); ++k) {
        const Completion& c = completions[k];
        if (c.outcome.ok()) record_success(inv_, farm_id_, plan_.farm, *ended[k], bindings);
        outcomes.push_back({c.journal_entry, c.outcome.ok() ? "done" : "failed", c.outcome.message});
      }
      bindings.flush();
      inv_.journal_outcomes(outcomes);
      std::vector<std::int64_t> ids = inv_.journal_intents(run_id_, plan_.farm, intents);
      if (synced.valid()) synced.get();
      return ids;
    });
    for (const Completion& c : completions) {
      if (c.outcome.ok()) done_order_.push_back(c.index);
      else failure_messages_[c.index] = c.outcome.message;
    }
    return entries;
  }

  void cancel(const std::vector<Completion>& never_started) override {
    std::vector<runtime::Inventory::Outcome> outcomes;
    for (const Completion& c : never_started)
      outcomes.push_back({c.journal_entry, "failed", "not started: the apply was stopped"});
    inv_.write([&] { inv_.journal_outcomes(outcomes); });
  }

  runtime::ActionOutcome call(const Action& a, int& attempts) override {
    int backoff = options_.first_backoff_ms;
    runtime::ActionOutcome outcome;
    for (attempts = 1;; ++attempts) {
      try {
        outcome = drivers_.driver_for(a.device).run_unsynced(drivers_.config(a.device), a.device_action);
      } catch (const std::exception& e) {
        outcome = runtime::ActionOutcome::permanent(e.what());
      }
      if (outcome.status != runtime::ActionOutcome::Status::transient_failure || attempts >= options_.max_attempts)
        return outcome;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff *= 2;
    }
  }

  int device_limit(const std::string& device) override {
    const runtime::DeviceConfig& config = drivers_.config(device);
    if (auto it = config.attributes.find("concurrency"); it != config.attributes.end()) {
      int n = std::atoi(it->second.c_str());
      if (n > 0) return n;
    }
    return drivers_.driver_for(device).concurrency_limit(config);
  }

  void on_start(const Action& a) override { events_.started(a); }
  void on_finish(const Action& a, const Completion& c) override { events_.finished(a, c.outcome, c.attempts); }
  void on_skip(const Action& a, int because_of) override { events_.skipped(a, because_of); }
  void on_reported() override { events_.reported(); }

  const std::vector<std::size_t>& done_order() const { return done_order_; }
  std::string failure_message(std::size_t index) const {
    auto it = failure_messages_.find(index);
    return it != failure_messages_.end() ? it->second : std::string();
  }

 private:
  const ReconcilePlan& plan_;
  runtime::Inventory& inv_;
  runtime::DriverSet& drivers_;
  RowId farm_id_;
  const ApplyOptions& options_;
  ApplyEvents& events_;
  std::string run_id_;
  std::vector<std::size_t> done_order_;
  std::map<std::size_t, std::string> failure_messages_;
};

void record_placements(const ReconcilePlan& plan, runtime::Inventory& inv, RowId farm_id) {
  if (plan.placements.empty()) return;
  inv.write([&] {
    for (const NewPlacement& p : plan.placements) inv.place(farm_id, p.server, p.host_id);
  });
}

// After a fully successful apply: the farm now is its file.
void settle_farm(const ReconcilePlan& plan, runtime::Inventory& inv, RowId farm_id) {
  auto farm = inv.farm(plan.farm);
  bool unchanged = farm && !plan.destroy && plan.released_servers.empty() && plan.moves.empty() &&
                   farm->plan_json == plan.plan_json;
  if (unchanged) return;  // nothing to write: saved plans of other farms stay fresh
  inv.write([&] {
    for (const std::string& server : plan.released_servers) inv.unplace(farm_id, server);
    for (const NewPlacement& m : plan.moves) inv.place(farm_id, m.server, m.host_id);  // the row moves
    if (plan.destroy) {
      auto farm = inv.farm(plan.farm);
      auto record = inv.farm_record(*farm);
      if (record.volumes.empty() && record.bindings.empty() && record.zones.empty() && record.placements.empty())
        inv.delete_farm(farm_id);
    } else {
      inv.set_farm_plan(farm_id, plan.plan_json, plan.volumes_applied);
    }
  });
}

void run_graph(ActionGraph& graph, ApplyHooks& hooks, const ApplyOptions& options) {
  ExecutorOptions exec{options.parallelism, options.stop};
  if (options.parallelism <= 1)
    run_serial(graph, hooks, exec);
  else
    run_parallel(graph, hooks, exec);
}

void count(const ActionGraph& graph, ApplyResult& result) {
  for (std::size_t i = 0; i < graph.size(); ++i) {
    switch (graph.status(i)) {
      case ActionGraph::Status::done: ++result.done; break;
      case ActionGraph::Status::skipped: ++result.skipped; break;
      case ActionGraph::Status::failed: ++result.failed; break;
      default: ++result.not_started; break;
    }
  }
}

}  // namespace

ApplyResult apply_plan(const ReconcilePlan& plan, runtime::Inventory& inventory, runtime::DriverSet& drivers,
                       ApplyEvents& events, const ApplyOptions& options) {
  ApplyResult result;
  result.total = static_cast<int>(plan.actions.size());
  auto existing = inventory.farm(plan.farm);
  RowId farm_id = existing ? existing->id : inventory.write([&] { return inventory.ensure_farm(plan.farm); });
  record_placements(plan, inventory, farm_id);

  // The journal's thread is what the apply waits on: the inventory's WAL is
  // checkpointed beside it, not inside its commits.
  runtime::BackgroundCheckpointer checkpoints(inventory.database());
  ActionGraph graph(plan.actions);
  ApplyHooks hooks(plan, inventory, drivers, farm_id, options, events);
  run_graph(graph, hooks, options);
  count(graph, result);
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (graph.status(i) != ActionGraph::Status::failed) continue;
    const Action& a = graph.action(i);
    result.failures.push_back(fmt::format("action {} {} on {} ({}): {}", a.id, runtime::to_string(a.op), a.device,
                                          a.detail, hooks.failure_message(i)));
  }

  std::vector<Action> undo = compensations(graph, hooks.done_order());
  if (!undo.empty()) {
    events.rolling_back(static_cast<int>(undo.size()));
    ActionGraph undo_graph(undo);
    ApplyOptions undo_options = options;
    undo_options.stop = nullptr;  // a rollback, once begun, finishes
    run_graph(undo_graph, hooks, undo_options);
    for (std::size_t i = 0; i < undo_graph.size(); ++i)
      result.rolled_back.push_back(fmt::format("{} {}: {}", runtime::to_string(undo_graph.action(i).op),
                                               undo_graph.action(i).detail,
                                               undo_graph.status(i) == ActionGraph::Status::done ? "done" : "FAILED"));
  }
  if (result.ok()) settle_farm(plan, inventory, farm_id);
  return result;
}

}  // namespace farmctl::reconcile
