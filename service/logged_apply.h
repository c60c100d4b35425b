#pragma once
// Every action of an apply becomes a JSON log line and a metric (the
// service's reconciles and backup runs alike).
#include <string>

#include "reconciler/apply.h"
#include "service/json_log.h"
#include "service/metrics.h"

namespace farmctl::service {

class LoggedApply : public reconcile::ApplyEvents {
 public:
  LoggedApply(std::string farm, JsonLog& log, Metrics& metrics) : farm_(std::move(farm)), log_(log), metrics_(metrics) {}
  void started(const reconcile::Action& a) override;
  void finished(const reconcile::Action& a, const runtime::ActionOutcome& o, int attempts) override;
  void skipped(const reconcile::Action& a, int because_of) override;
  void rolling_back(int compensations) override;

 private:
  std::string farm_;
  JsonLog& log_;
  Metrics& metrics_;
};

}  // namespace farmctl::service
