#pragma once
// The reconcile loop: level-triggered. Each pass
//   1. stores new or changed --farms files as revisions (farm_directory.h),
//   2. opens new work orders, editing their farms (work_order_automation.h),
//   3. reconciles every stored farm that is not waiting out a backoff —
//      planning its newest revision against the inventory and the devices
//      and applying the difference (farm_reconciler.h) — records its status,
//      and closes the work orders that the applied revision carries out.
// A full pass runs every `interval`, and when the inventory's generation
// moved (a wiring import: the hardware changed). When something else changes
// — a wake() (the API stored an order or a farm), a new revision or order from
// another process, a --farms file, a backoff that ran out — a pass runs at
// once for the farms concerned only: those with a new revision, open work
// orders, or an expired backoff. The others wait for the next full pass, so a
// stream of orders for one farm does not make every farm discover its devices
// again and again.
// A farm that fails waits out an exponential backoff (backoff.h) while the
// others go on; a new revision of it ends the wait.
//
// Stop: when `stop` is set, a running apply starts no new action (running
// ones finish and are journalled) and run() returns after the pass; work
// orders still open are resumed by the next start.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/inventory.h"
#include "service/backoff.h"
#include "service/farm_backups.h"
#include "service/farm_directory.h"
#include "service/farm_reconciler.h"
#include "service/farm_source_cache.h"
#include "service/json_log.h"
#include "service/metrics.h"
#include "service/timestamps.h"
#include "service/work_order_automation.h"

namespace farmctl::service {

struct LoopOptions {
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds poll{250};  // how often to look for changes between passes
  BackoffPolicy backoff;
  int order_attempts = 3;     // failed reconciles before an open order fails
  int orders_per_pass = 200;  // new orders opened per pass, so farms converge as orders stream in
  std::optional<std::string> farms_dir;
};

class ReconcileLoop {
 public:
  ReconcileLoop(runtime::Inventory& inventory, FarmReconciler& reconciler, FarmSourceCache& cache, JsonLog& log,
                Metrics& metrics, LoopOptions options, const std::atomic<bool>& stop);
  // Runs passes until stop is set.
  void run();
  // One pass (for run() and tests); `full`: every farm, else the farms concerned.
  void run_pass(bool full = true);
  // Asks for a pass at once; thread-safe.
  void wake();
  // Runs each farm's backup policies after each successful reconcile of it
  // (none when not set: the loop tests with fake reconcilers).
  void set_backups(FarmBackups* backups) {
    backups_ = backups;
    automation_.set_backups(backups);
  }

 private:
  struct Schedule {
    int failures = 0;
    Clock::time_point next_due{};  // backoff: not before
    int attempted_revision = 0;
  };
  enum class Wake { stop, full, changes };
  Wake wait_for_reason(Clock::time_point next_pass);
  std::optional<Wake> something_changed();
  void reconcile_farm(const std::string& farm, bool full);

  runtime::Inventory& inventory_;
  runtime::Database& db_;
  FarmReconciler& reconciler_;
  FarmSourceCache& cache_;
  JsonLog& log_;
  Metrics& metrics_;
  LoopOptions options_;
  const std::atomic<bool>& stop_;
  WorkOrderAutomation automation_;
  FarmBackups* backups_ = nullptr;
  std::unique_ptr<FarmDirectory> directory_;
  std::map<std::string, Schedule> schedule_;

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::int64_t seen_generation_ = -1;
  std::int64_t seen_farm_stamp_ = -1;
};

}  // namespace farmctl::service
