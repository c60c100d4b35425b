#pragma once
// A cron(5 fields) backup schedule: which minutes of UTC time it names. The
// compiler has checked the fields' syntax and ranges (compiler/values.cpp);
// this reads them as cron(8) does: '*', lists, ranges, '/step', weekday 0
// and 7 both Sunday, and when both day-of-month and weekday are restricted a
// day matches if either does.
#include <bitset>
#include <optional>
#include <string_view>

#include "reconciler/clock.h"

namespace farmctl::reconcile {

class CronSchedule {
 public:
  // nullopt for fields the compiler would have refused.
  static std::optional<CronSchedule> parse(std::string_view fields);
  // The first minute it names strictly after `t`; nullopt if none within
  // five years (cron(0 0 31 2 *): February 31st never comes).
  std::optional<TimePoint> next_after(TimePoint t) const;

 private:
  bool day_matches(std::chrono::sys_days day) const;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1-31
  std::bitset<13> months_;  // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace farmctl::reconcile
