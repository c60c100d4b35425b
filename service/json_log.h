#pragma once
// The service's structured log: one JSON object per line (to stderr in
// farmctl serve), so that a log shipper can index it without parsing prose.
// Every line has "time", "level" and "event"; the rest are the ids the event
// concerns ("farm", "work_order", "action", "op", "device", ...).
//
//   {"time":"2026-11-22T10:23:22.123Z","level":"info","event":"work_order.closed","work_order":17,"farm":"acme"}
#include <mutex>
#include <ostream>
#include <string_view>

#include <nlohmann/json.hpp>

namespace farmctl::service {

class JsonLog {
 public:
  // Lines go to `out`, whole lines at a time from any thread.
  explicit JsonLog(std::ostream& out) : out_(out) {}
  void info(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
    write("info", event, std::move(fields));
  }
  void warn(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
    write("warn", event, std::move(fields));
  }
  void error(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
    write("error", event, std::move(fields));
  }
  void write(std::string_view level, std::string_view event, nlohmann::json fields);

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

}  // namespace farmctl::service
