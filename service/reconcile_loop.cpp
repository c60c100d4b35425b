#include "service/reconcile_loop.h"

#include <fmt/format.h>

#include "service/farm_status.h"
#include "service/farm_store.h"
#include "service/work_orders.h"

namespace farmctl::service {

ReconcileLoop::ReconcileLoop(runtime::Inventory& inventory, FarmReconciler& reconciler, FarmSourceCache& cache,
                             JsonLog& log, Metrics& metrics, LoopOptions options, const std::atomic<bool>& stop)
    : inventory_(inventory), db_(inventory.database()), reconciler_(reconciler), cache_(cache), log_(log),
      metrics_(metrics), options_(std::move(options)), stop_(stop),
      automation_(db_, cache_, reconciler_, log_, options_.order_attempts) {
  if (options_.farms_dir) directory_ = std::make_unique<FarmDirectory>(*options_.farms_dir, log_);
  // A restart carries on where the last run left its farms: the backoff of
  // each failing farm starts again from its recorded failures.
  FarmStatusStore statuses(db_);
  for (const FarmStatus& s : statuses.all()) schedule_[s.farm].failures = s.failures;
}

void ReconcileLoop::wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

std::optional<ReconcileLoop::Wake> ReconcileLoop::something_changed() {
  if (inventory_.generation() != seen_generation_) return Wake::full;
  if (directory_ && directory_->changed()) return Wake::changes;
  if (FarmStore(db_).change_stamp() != seen_farm_stamp_) return Wake::changes;
  if (WorkOrderStore(db_).new_count() > 0) return Wake::changes;
  auto now = Clock::now();
  for (const auto& [farm, s] : schedule_)
    if (s.failures > 0 && s.next_due <= now) return Wake::changes;  // a backoff ran out
  return std::nullopt;
}

// Sleeps until the next full pass is due or there is a reason for a pass
// sooner.
ReconcileLoop::Wake ReconcileLoop::wait_for_reason(Clock::time_point next_pass) {
  while (!stop_) {
    {
      std::unique_lock lock(wake_mutex_);
      auto until = std::min(next_pass, Clock::now() + options_.poll);
      wake_cv_.wait_until(lock, until, [&] { return woken_ || stop_; });
      if (stop_) return Wake::stop;
      if (woken_) {
        woken_ = false;
        return Wake::changes;
      }
    }
    if (Clock::now() >= next_pass) return Wake::full;
    try {
      if (auto why = something_changed()) return *why;
    } catch (const std::exception& e) {
      log_.error("loop.poll_failed", {{"message", e.what()}});
    }
  }
  return Wake::stop;
}

void ReconcileLoop::run() {
  log_.info("loop.started", {{"interval_ms", options_.interval.count()}});
  bool full = true;
  auto next_full = Clock::now();
  while (!stop_) {
    if (full) next_full = Clock::now() + options_.interval;
    try {
      run_pass(full);
    } catch (const std::exception& e) {
      log_.error("loop.pass_failed", {{"message", e.what()}});
    }
    Wake why = wait_for_reason(next_full);
    if (why == Wake::stop) break;
    full = why == Wake::full;
  }
  log_.info("loop.stopped");
}

void ReconcileLoop::run_pass(bool full) {
  reconciler_.forget_discovery();
  if (directory_) directory_->poll(db_);
  automation_.open_new_orders(options_.orders_per_pass);
  FarmStore farms(db_);
  seen_farm_stamp_ = farms.change_stamp();
  for (const StoredFarm& farm : farms.farms()) {
    if (stop_) break;
    reconcile_farm(farm.name, full);
  }
  seen_generation_ = inventory_.generation();
}

void ReconcileLoop::reconcile_farm(const std::string& name, bool full) {
  FarmStore farms(db_);
  FarmStatusStore statuses(db_);
  auto head = farms.current(name);
  if (!head) return;
  Schedule& schedule = schedule_[name];
  auto now = Clock::now();
  bool new_revision = head->revision != schedule.attempted_revision;
  bool backing_off = schedule.failures > 0 && now < schedule.next_due;
  if (backing_off && !new_revision) return;
  if (!full && !new_revision && schedule.failures == 0) {
    // A pass for changes: this farm only if it has work orders to finish.
    OrderFilter open;
    open.state = "open";
    open.farm = name;
    open.limit = 1;
    if (WorkOrderStore(db_).list(open).empty()) return;
  }
  schedule.attempted_revision = head->revision;

  FarmStatus status;
  if (auto saved = statuses.get(name)) status = *saved;
  status.farm = name;
  std::shared_ptr<const FarmSource> source;
  ReconcileOutcome outcome;
  auto t0 = std::chrono::steady_clock::now();
  try {
    source = cache_.get(*head);
  } catch (const FarmSourceError& e) {
    outcome = {ReconcileOutcome::Result::failure, "InvalidFarm", e.what(), 0};
  }
  if (source) {
    if (status.observed_revision != head->revision || status.status != "Ready") {
      status.status = "Reconciling";
      status.reason = "";
      status.message = fmt::format("applying revision {}", head->revision);
      statuses.save(status);
    }
    outcome = reconciler_.reconcile(*source, open_moves(db_, name));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json fields{{"farm", name}, {"revision", head->revision}, {"actions", outcome.actions_run},
                        {"ms", static_cast<std::int64_t>(seconds * 1000)}};
  switch (outcome.result) {
    case ReconcileOutcome::Result::success:
      metrics_.reconcile_finished("success", seconds);
      if (outcome.actions_run > 0 || status.status != "Ready" || schedule.failures > 0)
        log_.info("reconcile.converged", fields);
      schedule.failures = 0;
      status.status = "Ready";
      status.reason = "";
      status.message = fmt::format("revision {} applied", head->revision);
      status.observed_revision = head->revision;
      status.failures = 0;
      status.next_attempt_at.reset();
      break;
    case ReconcileOutcome::Result::interrupted:
      metrics_.reconcile_finished("interrupted", seconds);
      fields["message"] = outcome.message;
      log_.warn("reconcile.interrupted", fields);
      status.status = "Reconciling";
      status.reason = outcome.reason;
      status.message = outcome.message;
      break;
    case ReconcileOutcome::Result::failure: {
      metrics_.reconcile_finished("failure", seconds);
      ++schedule.failures;
      auto delay = options_.backoff.delay(schedule.failures);
      schedule.next_due = Clock::now() + delay;
      fields["reason"] = outcome.reason;
      fields["message"] = outcome.message;
      fields["failures"] = schedule.failures;
      fields["retry_in_ms"] = delay.count();
      log_.warn("reconcile.failed", fields);
      status.status = "Failed";
      status.reason = outcome.reason;
      status.message = outcome.message;
      status.failures = schedule.failures;
      status.next_attempt_at = format_time(schedule.next_due);
      break;
    }
  }
  statuses.save(status);
  automation_.farm_reconciled(name, outcome.result == ReconcileOutcome::Result::success ? head->revision : 0,
                              outcome);
  // Copies are taken of a farm as its file says it is, never half-way.
  if (backups_ != nullptr && outcome.result == ReconcileOutcome::Result::success && !stop_) backups_->run(name);
}

}  // namespace farmctl::service
