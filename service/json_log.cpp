#include "service/json_log.h"

#include "service/timestamps.h"

namespace farmctl::service {

void JsonLog::write(std::string_view level, std::string_view event, nlohmann::json fields) {
  // time, level and event first: the order a reader scans a line in.
  nlohmann::ordered_json line;
  line["time"] = now_text();
  line["level"] = level;
  line["event"] = event;
  if (fields.is_object())
    for (auto& [key, value] : fields.items()) line[key] = value;
  // Replace invalid UTF-8 (a device message, a farm name) instead of throwing.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  out_ << text << '\n';
  out_.flush();
}

}  // namespace farmctl::service
