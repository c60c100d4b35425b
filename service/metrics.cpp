#include "service/metrics.h"

#include <fmt/format.h>

namespace farmctl::service {
namespace {

// Label values escaped as the text format wants (backslash, quote, newline).
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::reconcile_finished(std::string_view result, double seconds) {
  std::lock_guard lock(mutex_);
  ++reconciles_[std::string(result)];
  for (std::size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++duration_buckets_[i];
  duration_sum_ += seconds;
  ++duration_count_;
}

void Metrics::action_finished(std::string_view op, std::string_view outcome) {
  std::lock_guard lock(mutex_);
  ++actions_[{std::string(op), std::string(outcome)}];
}

void Metrics::http_request(int status) {
  std::lock_guard lock(mutex_);
  ++http_[status];
}

std::string Metrics::render(const std::map<std::string, std::int64_t>& orders_by_state,
                            const std::map<std::string, std::int64_t>& farms_by_status) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP farmctl_reconciles_total Farm reconciles finished, by result.\n";
  out += "# TYPE farmctl_reconciles_total counter\n";
  for (const char* result : {"success", "failure", "interrupted"}) {
    auto it = reconciles_.find(result);
    out += fmt::format("farmctl_reconciles_total{{result=\"{}\"}} {}\n", result, it == reconciles_.end() ? 0 : it->second);
  }
  out += "# HELP farmctl_reconcile_duration_seconds How long a farm's reconcile took (plan and apply).\n";
  out += "# TYPE farmctl_reconcile_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kBounds.size(); ++i)
    out += fmt::format("farmctl_reconcile_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBounds[i], duration_buckets_[i]);
  out += fmt::format("farmctl_reconcile_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", duration_count_);
  out += fmt::format("farmctl_reconcile_duration_seconds_sum {}\n", duration_sum_);
  out += fmt::format("farmctl_reconcile_duration_seconds_count {}\n", duration_count_);
  out += "# HELP farmctl_actions_total Device actions run, by operation and outcome.\n";
  out += "# TYPE farmctl_actions_total counter\n";
  for (const auto& [key, n] : actions_)
    out += fmt::format("farmctl_actions_total{{op=\"{}\",outcome=\"{}\"}} {}\n", label(key.first), label(key.second), n);
  out += "# HELP farmctl_work_orders Work orders in the inventory, by state.\n";
  out += "# TYPE farmctl_work_orders gauge\n";
  for (const auto& [state, n] : orders_by_state)
    out += fmt::format("farmctl_work_orders{{state=\"{}\"}} {}\n", label(state), n);
  out += "# HELP farmctl_farms Stored farms, by status.\n";
  out += "# TYPE farmctl_farms gauge\n";
  for (const auto& [status, n] : farms_by_status)
    out += fmt::format("farmctl_farms{{status=\"{}\"}} {}\n", label(status), n);
  out += "# HELP farmctl_http_requests_total API requests answered, by status code.\n";
  out += "# TYPE farmctl_http_requests_total counter\n";
  for (const auto& [code, n] : http_) out += fmt::format("farmctl_http_requests_total{{code=\"{}\"}} {}\n", code, n);
  return out;
}

}  // namespace farmctl::service
