// Backup slots: see backup_schedule.h.
#include "reconciler/backup_schedule.h"

#include "reconciler/cron_schedule.h"

namespace farmctl::reconcile {

using namespace std::chrono;
using Kind = fml::Schedule::Kind;

namespace {

seconds every_interval(const fml::Schedule& s) {
  seconds unit = s.every_unit == 'd' ? seconds(days(1))
                 : s.every_unit == 'h' ? seconds(hours(1))
                 : s.every_unit == 'm' ? seconds(minutes(1))
                                       : seconds(1);
  return unit * static_cast<long>(s.every_count);
}

}  // namespace

std::optional<TimePoint> next_slot_after(const fml::Schedule& s, TimePoint t) {
  sys_days day = floor<days>(t);
  switch (s.kind) {
    case Kind::hourly: return floor<hours>(t) + hours(1);
    case Kind::nightly:
    case Kind::daily: return day + days(1);
    case Kind::weekly: {
      unsigned ahead = (7 - weekday(day).c_encoding()) % 7;
      return day + days(ahead == 0 ? 7 : ahead);
    }
    case Kind::monthly: {
      year_month_day ymd(day);
      year_month next = ymd.year() / ymd.month() + months(1);
      return sys_days(next / 1);
    }
    case Kind::every: return t + std::max(every_interval(s), seconds(1));
    case Kind::cron: {
      auto cron = CronSchedule::parse(s.cron);
      if (!cron) return std::nullopt;
      return cron->next_after(t);
    }
  }
  return std::nullopt;
}

bool copy_due(const fml::Schedule& schedule, std::optional<TimePoint> newest_copy, TimePoint now) {
  if (!newest_copy) return true;
  auto slot = next_slot_after(schedule, *newest_copy);
  return slot && *slot <= now;
}

}  // namespace farmctl::reconcile
