#pragma once
// Reconciling one farm: what `farmctl apply` does, without asking — under
// the inventory's writer lock, finish what an interrupted apply left in the
// journal, discover the devices, plan, apply. An interface, so that the
// reconcile loop can be driven by a fake in tests that need no devices.
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/planner.h"
#include "runtime/inventory.h"
#include "service/farm_source.h"
#include "service/json_log.h"
#include "service/metrics.h"

namespace farmctl::service {

// Servers to move in a reconcile (migrate-server work orders): server -> host.
using ServerMoves = std::map<std::string, std::string>;

struct ReconcileOutcome {
  enum class Result { success, failure, interrupted };
  Result result = Result::success;
  std::string reason;   // when not success: InvalidFarm, PlanRefused, DeviceUnreachable, ApplyFailed, InventoryLocked, Interrupted, Error
  std::string message;  // the details, for the operator
  int actions_run = 0;  // 0 when the devices matched the farm already
};

class FarmReconciler {
 public:
  virtual ~FarmReconciler() = default;
  // Makes the devices match `farm`, moving the servers of `moves` to their
  // new hosts (make before break); never throws (a failure is an outcome).
  virtual ReconcileOutcome reconcile(const FarmSource& farm, const ServerMoves& moves) = 0;
  // The planner's refusals for `farm` (and `moves`) against the inventory as
  // it is now, without changing anything; empty when it can be applied.
  virtual std::vector<std::string> refusals(const FarmSource& farm, const ServerMoves& moves) = 0;
  // Discovery may be reused between dry runs until this is called.
  virtual void forget_discovery() {}
};

struct ReconcilerOptions {
  std::chrono::milliseconds lock_timeout{2000};  // a hand-run apply may hold the lock for a while
  int parallelism = 8;
};

// The real one: the inventory and its devices, through their drivers.
class InventoryReconciler : public FarmReconciler {
 public:
  InventoryReconciler(runtime::Inventory& inventory, JsonLog& log, Metrics& metrics, const std::atomic<bool>& stop,
                      ReconcilerOptions options)
      : inventory_(inventory), log_(log), metrics_(metrics), stop_(stop), options_(options) {}
  ReconcileOutcome reconcile(const FarmSource& farm, const ServerMoves& moves) override;
  std::vector<std::string> refusals(const FarmSource& farm, const ServerMoves& moves) override;
  void forget_discovery() override { discovery_.reset(); }

 private:
  void recover_journal();
  runtime::Inventory& inventory_;
  JsonLog& log_;
  Metrics& metrics_;
  const std::atomic<bool>& stop_;
  ReconcilerOptions options_;
  std::optional<reconcile::Discovery> discovery_;  // for dry runs only
};

}  // namespace farmctl::service
