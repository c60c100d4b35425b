// CronSchedule: see cron_schedule.h.
#include "reconciler/cron_schedule.h"

#include <charconv>
#include <string>
#include <vector>

namespace farmctl::reconcile {
namespace {

using namespace std::chrono;

std::vector<std::string_view> split(std::string_view s, char by) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == by) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

std::optional<int> number(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One field into the set of values it names, within [lo, hi].
template <std::size_t N>
bool read_field(std::string_view field, int lo, int hi, std::bitset<N>& out) {
  for (std::string_view item : split(field, ',')) {
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto s = number(item.substr(slash + 1));
      if (!s || *s <= 0) return false;
      step = *s;
      item = item.substr(0, slash);
    }
    int first = lo, last = hi;
    if (item != "*") {
      auto dash = item.find('-');
      auto a = number(item.substr(0, dash));
      if (!a) return false;
      first = last = *a;
      if (dash != std::string_view::npos) {
        auto b = number(item.substr(dash + 1));
        if (!b) return false;
        last = *b;
      } else if (step != 1) {
        last = hi;  // "5/15": from 5 on, every 15
      }
    }
    if (first < lo || last > hi || first > last) return false;
    for (int v = first; v <= last; v += step) out.set(static_cast<std::size_t>(v));
  }
  return true;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view fields) {
  auto parts = split(fields, ' ');
  if (parts.size() != 5) return std::nullopt;
  CronSchedule c;
  std::bitset<8> weekdays;
  if (!read_field(parts[0], 0, 59, c.minutes_) || !read_field(parts[1], 0, 23, c.hours_) ||
      !read_field(parts[2], 1, 31, c.days_) || !read_field(parts[3], 1, 12, c.months_) ||
      !read_field(parts[4], 0, 7, weekdays))
    return std::nullopt;
  for (std::size_t d = 0; d < 7; ++d) c.weekdays_[d] = weekdays[d];
  if (weekdays[7]) c.weekdays_.set(0);
  c.days_restricted_ = parts[2].front() != '*';
  c.weekdays_restricted_ = parts[4].front() != '*';
  return c;
}

bool CronSchedule::day_matches(sys_days day) const {
  year_month_day ymd(day);
  if (!months_[static_cast<unsigned>(ymd.month())]) return false;
  bool dom = days_[static_cast<unsigned>(ymd.day())];
  bool dow = weekdays_[weekday(day).c_encoding()];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

std::optional<TimePoint> CronSchedule::next_after(TimePoint t) const {
  TimePoint start = floor<minutes>(t) + minutes(1);
  sys_days day = floor<days>(start);
  for (int i = 0; i < 5 * 366; ++i, day += days(1)) {
    if (!day_matches(day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[static_cast<std::size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_[static_cast<std::size_t>(m)]) continue;
        TimePoint candidate = day + hours(h) + minutes(m);
        if (candidate >= start) return candidate;
      }
    }
  }
  return std::nullopt;
}

}  // namespace farmctl::reconcile
