#pragma once
// The value micro-syntax of FML attributes (FML.md, "Values"): sizes, SCSI
// targets, drive types, RAID levels and backup policies, parsed into typed
// values. The Boost.Spirit X3 grammars live privately in values.cpp so the
// heavy templates compile once; nothing else in farmctl includes Spirit.
//
// Every parser takes the whole attribute text and either returns a value or a
// ValueError whose message is complete enough to print after
// "FILE:LINE:COL: error: " and whose offset says where inside the text the
// problem starts (for the caret).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace farmctl::fml {

struct ValueError {
  std::string message;  // e.g. "bad size '12XB': unknown unit 'XB' (use MB, GB, TB, MiB, GiB or TiB)"
  std::size_t offset = 0;  // byte offset into the parsed text
};

template <class T>
class Parsed {
 public:
  Parsed(T value) : v_(std::move(value)) {}
  Parsed(ValueError error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  const ValueError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ValueError> v_;
};

// size: a number with an optional unit; no unit means MB. MB/GB/TB and
// MiB/GiB/TiB are all binary (1 MB = 2^20 bytes). Decimals allowed; the
// result must be a whole number of MB and > 0. Units are case-sensitive as
// written in FML.md, except that lower-case "mb"/"gb"/"tb" are accepted too.
Parsed<std::uint64_t> parse_size_mb(std::string_view text);

// target: SCSI target number, 0..255.
Parsed<int> parse_target(std::string_view text);

enum class AccessPath { scsi, fc, iscsi };
enum class QualityClass { std_, raid, performance, spindle, bandwidth, other };
// drivetype: an access path or a quality class, case-insensitive.
using DriveType = std::variant<AccessPath, QualityClass>;
Parsed<DriveType> parse_drivetype(std::string_view text);

// raid-level: 0, 1, 5, 6, 10, 0+1, 1+0 (1+0 is RAID 10).
enum class RaidLevel { r0, r1, r5, r6, r10, r01 };
Parsed<RaidLevel> parse_raid_level(std::string_view text);

struct Schedule {
  enum class Kind { hourly, nightly, daily, weekly, monthly, every, cron };
  Kind kind = Kind::nightly;
  unsigned every_count = 0;  // kind == every: the N of "every N<unit>", > 0
  char every_unit = 0;       // kind == every: 's', 'm', 'h' or 'd'
  std::string cron;          // kind == cron: the five fields, single-spaced
  bool operator==(const Schedule&) const = default;
};

struct BackupPolicy {
  int level = 0;   // 0 = full, 1..9 incremental
  Schedule schedule;
  int retain = 7;  // copies kept, >= 1
  bool operator==(const BackupPolicy&) const = default;
};
// backup-policy: [level=N:]SCHEDULE[;retain=K]. Cron fields are checked for
// their ranges (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7;
// '*', lists, ranges and '/step' allowed).
Parsed<BackupPolicy> parse_backup_policy(std::string_view text);

// Canonical spellings, used in the Plan IR and in messages.
std::string_view to_string(AccessPath);
std::string_view to_string(QualityClass);
std::string_view to_string(RaidLevel);  // "0","1","5","6","10","0+1"
std::string to_string(const Schedule&);  // "nightly", "every 15m", "cron(0 2 * * *)"

}  // namespace farmctl::fml
