// Clocks and UTC text: see clock.h.
#include "reconciler/clock.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <fmt/format.h>

namespace farmctl::reconcile {

using namespace std::chrono;

TimePoint SystemClock::now() const { return floor<seconds>(system_clock::now()); }

TimePoint FileClock::now() const {
  std::ifstream in(path_);
  std::string text;
  if (in && std::getline(in, text))
    if (auto t = parse_utc(text)) last_ = *t;
  return last_ ? *last_ : SystemClock().now();
}

std::unique_ptr<Clock> clock_from_environment() {
  const char* file = std::getenv("FARMCTL_CLOCK_FILE");
  if (file != nullptr && *file != '\0') return std::make_unique<FileClock>(file);
  return std::make_unique<SystemClock>();
}

std::string format_utc(TimePoint t) {
  auto day = floor<days>(t);
  year_month_day ymd(day);
  hh_mm_ss time(t - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

std::optional<TimePoint> parse_utc(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &h, &mi, &s, &tail) != 7 || tail != 'Z' ||
      copy.size() != 20)
    return std::nullopt;
  year_month_day ymd{year(y), month(mo), day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
}

}  // namespace farmctl::reconcile
