#pragma once
// Time, for backup schedules: an interface so that tests drive schedules with
// a fake clock instead of sleeping. Times are whole seconds, UTC: schedules
// ("nightly", cron) are read in UTC (docs/backups.md).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::reconcile {

using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock : public Clock {
 public:
  TimePoint now() const override;
};

// Tells the time it is set to; moves only when told.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  TimePoint now_;
};

// Reads the time from a file ("2026-11-22T00:00:00Z") at every call: how a
// test moves the clock of a `farmctl serve` it runs as a child process.
// A file that cannot be read (or is caught half-written) gives the time last
// read from it; the system time only when it was never read.
class FileClock : public Clock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  TimePoint now() const override;

 private:
  std::string path_;
  mutable std::optional<TimePoint> last_;
};

// FileClock when FARMCTL_CLOCK_FILE is set, else SystemClock.
std::unique_ptr<Clock> clock_from_environment();

// "2026-11-22T00:00:00Z", and back (nullopt for anything else).
std::string format_utc(TimePoint t);
std::optional<TimePoint> parse_utc(std::string_view text);

}  // namespace farmctl::reconcile
