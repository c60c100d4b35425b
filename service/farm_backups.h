#pragma once
// The backup policies of converged farms, run by the reconcile loop after
// each successful reconcile of a farm (docs/backups.md): under the inventory
// lock, the copies due now by the farm's applied policies are taken and
// those beyond retention freed. The first pass after a start takes a copy
// missed while the service was down -- once, however many slots it missed.
// An interface, so that loop tests with a fake reconciler need no devices.
#include <atomic>
#include <chrono>
#include <string>

#include <functional>

#include "reconciler/backup_engine.h"
#include "reconciler/clock.h"
#include "runtime/inventory.h"
#include "service/json_log.h"
#include "service/metrics.h"
#include "service/work_orders.h"

namespace farmctl::service {

class FarmBackups {
 public:
  virtual ~FarmBackups() = default;
  // Never throws: failures are logged (backup.failed) and tried again next pass.
  virtual void run(const std::string& farm) = 0;
  // A take-snapshot or restore-disk order: "" when done, else why not.
  virtual std::string carry_out(const WorkOrder& order) = 0;
};

class InventoryBackups : public FarmBackups {
 public:
  InventoryBackups(runtime::Inventory& inventory, JsonLog& log, Metrics& metrics, const reconcile::Clock& clock,
                   const std::atomic<bool>& stop, std::chrono::milliseconds lock_timeout, int parallelism)
      : inventory_(inventory), log_(log), metrics_(metrics), clock_(clock), stop_(stop), lock_timeout_(lock_timeout),
        parallelism_(parallelism) {}
  void run(const std::string& farm) override;
  std::string carry_out(const WorkOrder& order) override;

 private:
  std::string with_engine(const std::string& farm,
                          const std::function<void(reconcile::BackupEngine&, const runtime::FarmRow&)>& fn);
  void log_report(const std::string& farm, const reconcile::BackupReport& report);
  void bill(const std::string& farm, const reconcile::BackupReport& report);

  runtime::Inventory& inventory_;
  JsonLog& log_;
  Metrics& metrics_;
  const reconcile::Clock& clock_;
  const std::atomic<bool>& stop_;
  std::chrono::milliseconds lock_timeout_;
  int parallelism_;
};

}  // namespace farmctl::service
