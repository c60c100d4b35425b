#pragma once
// The service's metrics, rendered in the Prometheus text format (0.0.4) for
// GET /metrics:
//   farmctl_reconciles_total{result}                 counter  success | failure | interrupted
//   farmctl_reconcile_duration_seconds               histogram
//   farmctl_actions_total{op,outcome}                counter  ok | transient_failure | permanent_failure
//   farmctl_work_orders{state}                       gauge    new | open | closed | failed
//   farmctl_farms{status}                            gauge    Ready | Reconciling | Failed
//   farmctl_http_requests_total{code}                counter
// Counters live in this process (they restart from zero with it); the gauges
// are read from the inventory when scraped. Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace farmctl::service {

class Metrics {
 public:
  void reconcile_finished(std::string_view result, double seconds);
  void action_finished(std::string_view op, std::string_view outcome);
  void http_request(int status);
  std::string render(const std::map<std::string, std::int64_t>& orders_by_state,
                     const std::map<std::string, std::int64_t>& farms_by_status) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> reconciles_;
  std::vector<std::uint64_t> duration_buckets_ = std::vector<std::uint64_t>(kBounds.size(), 0);
  double duration_sum_ = 0;
  std::uint64_t duration_count_ = 0;
  std::map<std::pair<std::string, std::string>, std::uint64_t> actions_;
  std::map<int, std::uint64_t> http_;
  static inline const std::vector<double> kBounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
};

}  // namespace farmctl::service
