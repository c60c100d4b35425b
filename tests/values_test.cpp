// Tables of FML attribute values (FML.md, "Values"): those that must parse,
// with the typed result, and those that must be refused, with the whole
// message and the offset of the caret.
#include "compiler/values.h"
#include "compiler/recent_values.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace farmctl::fml {
namespace {

struct Refused {
  const char* text;
  const char* message;
  std::size_t offset;
};

// What a parse result was, for the failure report of a table row.
template <class T>
std::string describe(const Parsed<T>& result) {
  if (result) return "parsed";
  return "error at " + std::to_string(result.error().offset) + ": " + result.error().message;
}

template <class Parser>
void check_refused(Parser parse, const Refused& row) {
  INFO("input: '" << row.text << "'");
  const auto result = parse(row.text);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == row.message);
  CHECK(result.error().offset == row.offset);
}

std::string drivetype_name(const DriveType& type) {
  return std::visit([](auto value) { return std::string(to_string(value)); }, type);
}

// ---------------------------------------------------------------------------
// size

TEST_CASE("size: valid spellings give whole MB", "[values]") {
  struct Row {
    const char* text;
    std::uint64_t mb;
  };
  const Row rows[] = {
      {"8631", 8631},
      {"512MB", 512},
      {"512mb", 512},
      {"512MiB", 512},
      {"20GB", 20480},
      {"20gb", 20480},
      {"2GiB", 2048},
      {"1.5GB", 1536},
      {"0.5GB", 512},
      {"1.5TB", 1572864},
      {"1tb", 1048576},
      {"1TiB", 1048576},
      {"1.50000GB", 1536},
      {"007", 7},
      {" 512MB ", 512},    // surrounding whitespace is ignored
      {"\t20GB\n", 20480},
      {"0.00000095367431640625TB", 1},        // 2^-20 TB, exactly 1 MB
      {"0.99999904632568359375TB", 1048575},  // 20 fraction digits, still exact
      {"18446744073709551615", UINT64_MAX},
      {"17592186044415TB", 18446744073708503040u},
  };
  for (const Row& row : rows) {
    INFO("input: '" << row.text << "'");
    const auto result = parse_size_mb(row.text);
    INFO(describe(result));
    REQUIRE(result.ok());
    CHECK(*result == row.mb);
  }
}

TEST_CASE("size: invalid spellings are refused", "[values]") {
  const Refused rows[] = {
      {"0", "bad size '0': size must be greater than 0", 0},
      {"0MB", "bad size '0MB': size must be greater than 0", 0},
      {"0.0GB", "bad size '0.0GB': size must be greater than 0", 0},
      {"-5", "bad size '-5': size must be greater than 0", 0},
      {" -5GB", "bad size ' -5GB': size must be greater than 0", 1},
      {"12XB", "bad size '12XB': unknown unit 'XB' (use MB, GB, TB, MiB, GiB or TiB)", 2},
      {"5Mb", "bad size '5Mb': unknown unit 'Mb' (use MB, GB, TB, MiB, GiB or TiB)", 1},
      {"5gib", "bad size '5gib': unknown unit 'gib' (use MB, GB, TB, MiB, GiB or TiB)", 1},
      {"5KB", "bad size '5KB': unknown unit 'KB' (use MB, GB, TB, MiB, GiB or TiB)", 1},
      {"1.2345MB", "bad size '1.2345MB': not a whole number of MB", 0},
      {"0.5", "bad size '0.5': not a whole number of MB", 0},
      {"1.3GB", "bad size '1.3GB': not a whole number of MB (1.3GB is 1331.2 MB)", 0},
      {"0.001GiB", "bad size '0.001GiB': not a whole number of MB (0.001GiB is 1.024 MB)", 0},
      {"", "bad size '': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {"  ", "bad size '  ': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {"GB", "bad size 'GB': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {".5GB", "bad size '.5GB': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {"+5", "bad size '+5': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {"-", "bad size '-': expected a number of MB with an optional unit, e.g. 8631, 512MB or 1.5TB", 0},
      {"5 GB", "bad size '5 GB': no space allowed between the number and the unit (write '5GB')", 1},
      {"1.5 TB", "bad size '1.5 TB': no space allowed between the number and the unit (write '1.5TB')", 3},
      {"1.", "bad size '1.': expected digits after '.'", 2},
      {"1.GB", "bad size '1.GB': expected digits after '.'", 2},
      {"5GB5", "bad size '5GB5': unexpected '5' after the unit", 3},
      {"1,5GB",
       "bad size '1,5GB': unexpected ',5GB' after the number (expected a unit: MB, GB, TB, MiB, GiB or TiB)", 1},
      {"1.2.3",
       "bad size '1.2.3': unexpected '.3' after the number (expected a unit: MB, GB, TB, MiB, GiB or TiB)", 3},
      {"99999999999999999999TB",
       "bad size '99999999999999999999TB': too large (at most 18446744073709551615 MB)", 0},
      {"17592186044416TB", "bad size '17592186044416TB': too large (at most 18446744073709551615 MB)", 0},
      {"18446744073709551616", "bad size '18446744073709551616': too large (at most 18446744073709551615 MB)", 0},
  };
  for (const Refused& row : rows) check_refused(parse_size_mb, row);
}

// ---------------------------------------------------------------------------
// target

TEST_CASE("target: 0 to 255", "[values]") {
  struct Row {
    const char* text;
    int target;
  };
  const Row rows[] = {{"0", 0}, {"1", 1}, {"255", 255}, {"007", 7}, {" 3 ", 3}};
  for (const Row& row : rows) {
    INFO("input: '" << row.text << "'");
    const auto result = parse_target(row.text);
    INFO(describe(result));
    REQUIRE(result.ok());
    CHECK(*result == row.target);
  }
}

TEST_CASE("target: anything else is refused", "[values]") {
  const Refused rows[] = {
      {"256", "bad target '256': must be an integer from 0 to 255", 0},
      {"-1", "bad target '-1': must be an integer from 0 to 255", 0},
      {"x", "bad target 'x': must be an integer from 0 to 255", 0},
      {"1.0", "bad target '1.0': must be an integer from 0 to 255", 1},
      {"12a", "bad target '12a': must be an integer from 0 to 255", 2},
      {"", "bad target '': must be an integer from 0 to 255", 0},
      {"1 2", "bad target '1 2': must be an integer from 0 to 255", 1},
      {"99999999999999999999", "bad target '99999999999999999999': must be an integer from 0 to 255", 0},
  };
  for (const Refused& row : rows) check_refused(parse_target, row);
}

// ---------------------------------------------------------------------------
// drivetype

TEST_CASE("drivetype: access paths and quality classes, any case", "[values]") {
  struct Row {
    const char* text;
    DriveType type;
  };
  const Row rows[] = {
      {"scsi", AccessPath::scsi},
      {"SCSI", AccessPath::scsi},
      {"fc", AccessPath::fc},
      {"FC", AccessPath::fc},
      {"iscsi", AccessPath::iscsi},
      {"iScsi", AccessPath::iscsi},
      {"std", QualityClass::std_},
      {"raid", QualityClass::raid},
      {"RAID", QualityClass::raid},
      {"performance", QualityClass::performance},
      {"Performance", QualityClass::performance},
      {"spindle", QualityClass::spindle},
      {"bandwidth", QualityClass::bandwidth},
      {"other", QualityClass::other},
      {" scsi ", AccessPath::scsi},
  };
  for (const Row& row : rows) {
    INFO("input: '" << row.text << "'");
    const auto result = parse_drivetype(row.text);
    INFO(describe(result));
    REQUIRE(result.ok());
    CHECK(drivetype_name(*result) == drivetype_name(row.type));
    CHECK(result->index() == row.type.index());
  }
}

TEST_CASE("drivetype: unknown names are refused", "[values]") {
  const Refused rows[] = {
      {"ssd",
       "bad drivetype 'ssd': must be an access path (scsi, fc or iscsi) or a quality class "
       "(std, raid, performance, spindle, bandwidth or other)",
       0},
      {"",
       "bad drivetype '': must be an access path (scsi, fc or iscsi) or a quality class "
       "(std, raid, performance, spindle, bandwidth or other)",
       0},
      {"scsix",
       "bad drivetype 'scsix': must be an access path (scsi, fc or iscsi) or a quality class "
       "(std, raid, performance, spindle, bandwidth or other)",
       0},
      {" raid5",
       "bad drivetype ' raid5': must be an access path (scsi, fc or iscsi) or a quality class "
       "(std, raid, performance, spindle, bandwidth or other)",
       1},
  };
  for (const Refused& row : rows) check_refused(parse_drivetype, row);
}

// ---------------------------------------------------------------------------
// raid-level

TEST_CASE("raid-level: the seven spellings", "[values]") {
  struct Row {
    const char* text;
    RaidLevel level;
    const char* canonical;
  };
  const Row rows[] = {
      {"0", RaidLevel::r0, "0"},    {"1", RaidLevel::r1, "1"},       {"5", RaidLevel::r5, "5"},
      {"6", RaidLevel::r6, "6"},    {"10", RaidLevel::r10, "10"},    {"0+1", RaidLevel::r01, "0+1"},
      {"1+0", RaidLevel::r10, "10"}, {" 5 ", RaidLevel::r5, "5"},
  };
  for (const Row& row : rows) {
    INFO("input: '" << row.text << "'");
    const auto result = parse_raid_level(row.text);
    INFO(describe(result));
    REQUIRE(result.ok());
    CHECK(*result == row.level);
    CHECK(to_string(*result) == row.canonical);
  }
}

TEST_CASE("raid-level: anything else is refused", "[values]") {
  const Refused rows[] = {
      {"2", "bad raid-level '2': must be one of 0, 1, 5, 6, 10, 0+1 or 1+0", 0},
      {"01", "bad raid-level '01': must be one of 0, 1, 5, 6, 10, 0+1 or 1+0", 0},
      {"raid5", "bad raid-level 'raid5': must be one of 0, 1, 5, 6, 10, 0+1 or 1+0", 0},
      {"0 + 1", "bad raid-level '0 + 1': must be one of 0, 1, 5, 6, 10, 0+1 or 1+0", 0},
      {"", "bad raid-level '': must be one of 0, 1, 5, 6, 10, 0+1 or 1+0", 0},
  };
  for (const Refused& row : rows) check_refused(parse_raid_level, row);
}

// ---------------------------------------------------------------------------
// backup-policy

TEST_CASE("backup-policy: valid policies, shown canonically", "[values]") {
  struct Row {
    const char* text;
    int level;
    const char* schedule;  // to_string of the schedule
    int retain;
  };
  const Row rows[] = {
      {"nightly", 0, "nightly", 7},
      {"hourly", 0, "hourly", 7},
      {"daily", 0, "daily", 7},
      {"weekly", 0, "weekly", 7},
      {"monthly", 0, "monthly", 7},
      {"level=0:nightly", 0, "nightly", 7},
      {"level=1:hourly", 1, "hourly", 7},
      {"level=9:weekly", 9, "weekly", 7},
      {"level=0:nightly;retain=7", 0, "nightly", 7},
      {"nightly;retain=1", 0, "nightly", 1},
      {"every 6h;retain=28", 0, "every 6h", 28},
      {"every 15m", 0, "every 15m", 7},
      {"every15m", 0, "every 15m", 7},
      {"every  015m", 0, "every 15m", 7},
      {"every 30s", 0, "every 30s", 7},
      {"every 2d", 0, "every 2d", 7},
      {"cron(0 2 * * 1-5)", 0, "cron(0 2 * * 1-5)", 7},
      {"cron( 0  2\t* * * )", 0, "cron(0 2 * * *)", 7},
      {"cron (0 2 * * *)", 0, "cron(0 2 * * *)", 7},
      {"cron(*/15 0-23/2 1,15 1-12 0-7)", 0, "cron(*/15 0-23/2 1,15 1-12 0-7)", 7},
      {"cron(59 23 31 12 7)", 0, "cron(59 23 31 12 7)", 7},
      {"level=2:cron(0 3 * * 0);retain=4", 2, "cron(0 3 * * 0)", 4},
      {"level = 2 : weekly ; retain = 3", 2, "weekly", 3},
      {" nightly ", 0, "nightly", 7},
  };
  for (const Row& row : rows) {
    INFO("input: '" << row.text << "'");
    const auto result = parse_backup_policy(row.text);
    INFO(describe(result));
    REQUIRE(result.ok());
    CHECK(result->level == row.level);
    CHECK(to_string(result->schedule) == row.schedule);
    CHECK(result->retain == row.retain);
  }
}

TEST_CASE("backup-policy: schedules parse into their parts", "[values]") {
  const auto every = parse_backup_policy("every 15m");
  REQUIRE(every.ok());
  CHECK(every->schedule.kind == Schedule::Kind::every);
  CHECK(every->schedule.every_count == 15);
  CHECK(every->schedule.every_unit == 'm');

  const auto cron = parse_backup_policy("cron(0  2 * * 1-5)");
  REQUIRE(cron.ok());
  CHECK(cron->schedule.kind == Schedule::Kind::cron);
  CHECK(cron->schedule.cron == "0 2 * * 1-5");

  const auto nightly = parse_backup_policy("level=1:nightly;retain=3");
  REQUIRE(nightly.ok());
  CHECK(*nightly == BackupPolicy{1, Schedule{}, 3});
}

constexpr const char* kSchedules =
    "hourly, nightly, daily, weekly, monthly, every <n><s|m|h|d> or cron(<5 fields>)";

TEST_CASE("backup-policy: invalid policies are refused", "[values]") {
  const std::string unknown = std::string("(use ") + kSchedules + ")";
  const std::string expected = std::string("expected a schedule (") + kSchedules + ")";
  const std::string hint = "(options are separated by ';', as in nightly;retain=7)";
  struct Row {
    std::string text;
    std::string message;
    std::size_t offset;
  };
  const Row rows[] = {
      // level
      {"level=10:nightly", "bad backup-policy 'level=10:nightly': level must be 0-9 (0 = full, 1-9 = incremental)", 6},
      {"level=x:nightly", "bad backup-policy 'level=x:nightly': level must be 0-9 (0 = full, 1-9 = incremental)", 6},
      {"level0:nightly", "bad backup-policy 'level0:nightly': expected '=' after 'level' (e.g. level=0:nightly)", 5},
      {"level=0nightly",
       "bad backup-policy 'level=0nightly': expected ':' and a schedule after 'level=0' (e.g. level=0:nightly)", 7},
      {"level=0:", "bad backup-policy 'level=0:': " + expected, 8},
      // schedule
      {"", "bad backup-policy '': " + expected, 0},
      {"level=0:sometimes", "bad backup-policy 'level=0:sometimes': unknown schedule 'sometimes' " + unknown, 8},
      {"Nightly", "bad backup-policy 'Nightly': unknown schedule 'Nightly' " + unknown, 0},
      {"everyday", "bad backup-policy 'everyday': unknown schedule 'everyday' " + unknown, 0},
      {"cronx", "bad backup-policy 'cronx': unknown schedule 'cronx' " + unknown, 0},
      {"nightly retain=3",
       "bad backup-policy 'nightly retain=3': unexpected 'retain=3' after 'nightly' " + hint, 8},
      // every
      {"every", "bad backup-policy 'every': expected a count after 'every' (e.g. every 15m)", 5},
      {"every 0m", "bad backup-policy 'every 0m': the count after 'every' must be greater than 0", 6},
      {"every 15", "bad backup-policy 'every 15': expected a unit after 'every 15' (s, m, h or d)", 8},
      {"every 15 m",
       "bad backup-policy 'every 15 m': no space allowed between the count and the unit (write 'every 15m')", 8},
      {"every 15min", "bad backup-policy 'every 15min': unknown unit 'min' (use s, m, h or d)", 8},
      {"every 6H", "bad backup-policy 'every 6H': unknown unit 'H' (use s, m, h or d)", 7},
      {"every 99999999999m",
       "bad backup-policy 'every 99999999999m': count 99999999999 is too large (at most 4294967295)", 6},
      // cron
      {"cron(61 * * * *)", "bad backup-policy 'cron(61 * * * *)': minute 61 out of range 0-59", 5},
      {"cron(* 24 * * *)", "bad backup-policy 'cron(* 24 * * *)': hour 24 out of range 0-23", 7},
      {"cron(* * 0 * *)", "bad backup-policy 'cron(* * 0 * *)': day 0 out of range 1-31", 9},
      {"cron(* * 32 * *)", "bad backup-policy 'cron(* * 32 * *)': day 32 out of range 1-31", 9},
      {"cron(* * * 13 *)", "bad backup-policy 'cron(* * * 13 *)': month 13 out of range 1-12", 11},
      {"cron(* * * 0 *)", "bad backup-policy 'cron(* * * 0 *)': month 0 out of range 1-12", 11},
      {"cron(* * * * 8)", "bad backup-policy 'cron(* * * * 8)': weekday 8 out of range 0-7", 13},
      {"cron(0,60 * * * *)", "bad backup-policy 'cron(0,60 * * * *)': minute 60 out of range 0-59", 7},
      {"cron(0-60 * * * *)", "bad backup-policy 'cron(0-60 * * * *)': minute 60 out of range 0-59", 7},
      {"cron(99999999999999999999 * * * *)",
       "bad backup-policy 'cron(99999999999999999999 * * * *)': minute 99999999999999999999 out of range 0-59", 5},
      {"cron(*/0 * * * *)", "bad backup-policy 'cron(*/0 * * * *)': minute step 0 out of range 1-59", 7},
      {"cron(* */24 * * *)", "bad backup-policy 'cron(* */24 * * *)': hour step 24 out of range 1-23", 9},
      {"cron(*/ * * * *)", "bad backup-policy 'cron(*/ * * * *)': expected a number after '/' in the minute field",
       7},
      {"cron(5-1 * * * *)", "bad backup-policy 'cron(5-1 * * * *)': minute range 5-1 goes backwards", 5},
      {"cron(5/10 * * * *)",
       "bad backup-policy 'cron(5/10 * * * *)': a step needs '*' or a range before it in the minute field "
       "(e.g. */15 or 0-30/15)",
       6},
      {"cron(a * * * *)", "bad backup-policy 'cron(a * * * *)': expected a number or '*' in the minute field", 5},
      {"cron(1, * * * *)", "bad backup-policy 'cron(1, * * * *)': expected a number or '*' in the minute field", 7},
      {"cron(1- * * * *)", "bad backup-policy 'cron(1- * * * *)': expected a number after '-' in the minute field",
       7},
      {"cron(* * * * *x)", "bad backup-policy 'cron(* * * * *x)': unexpected 'x' in the weekday field", 14},
      {"cron(0 2 * *)",
       "bad backup-policy 'cron(0 2 * *)': cron takes 5 fields (minute hour day month weekday), got 4", 12},
      {"cron()", "bad backup-policy 'cron()': cron takes 5 fields (minute hour day month weekday), got 0", 5},
      {"cron(0 2 * * * *)",
       "bad backup-policy 'cron(0 2 * * * *)': cron takes 5 fields (minute hour day month weekday), got more", 15},
      {"cron(0 2 * * *", "bad backup-policy 'cron(0 2 * * *': missing ')' to close 'cron('", 14},
      {"cron(0 2 * * *;retain=3", "bad backup-policy 'cron(0 2 * * *;retain=3': missing ')' to close 'cron('", 14},
      {"cron 0", "bad backup-policy 'cron 0': expected '(' after 'cron' (e.g. cron(0 2 * * *))", 5},
      {"cron(0 2 * * *) x", "bad backup-policy 'cron(0 2 * * *) x': unexpected 'x' after 'cron(0 2 * * *)' " + hint,
       16},
      // options
      {"nightly;retain=0",
       "bad backup-policy 'nightly;retain=0': retain must be at least 1 (it is the number of copies kept)", 15},
      {"nightly;keep=3", "bad backup-policy 'nightly;keep=3': unknown option 'keep' (the only option is retain=K)",
       8},
      {"nightly;level=1",
       "bad backup-policy 'nightly;level=1': unknown option 'level' (the only option is retain=K)", 8},
      {"nightly;", "bad backup-policy 'nightly;': expected an option after ';' (retain=K)", 8},
      {"nightly;retain=3;retain=4",
       "bad backup-policy 'nightly;retain=3;retain=4': retain is given more than once", 17},
      {"nightly;retain", "bad backup-policy 'nightly;retain': expected '=' after 'retain' (e.g. retain=7)", 14},
      {"nightly;retain=x",
       "bad backup-policy 'nightly;retain=x': expected the number of copies to keep after 'retain='", 15},
      {"nightly;retain=7x", "bad backup-policy 'nightly;retain=7x': unexpected 'x' after 'retain=7' " + hint, 16},
      {"nightly;retain=99999999999",
       "bad backup-policy 'nightly;retain=99999999999': retain 99999999999 is too large (at most 2147483647)", 15},
  };
  for (const Row& row : rows) {
    check_refused(parse_backup_policy, Refused{row.text.c_str(), row.message.c_str(), row.offset});
  }
}

// ---------------------------------------------------------------------------
// canonical spellings

TEST_CASE("to_string: canonical spellings", "[values]") {
  CHECK(to_string(AccessPath::scsi) == "scsi");
  CHECK(to_string(AccessPath::fc) == "fc");
  CHECK(to_string(AccessPath::iscsi) == "iscsi");
  CHECK(to_string(QualityClass::std_) == "std");
  CHECK(to_string(QualityClass::raid) == "raid");
  CHECK(to_string(QualityClass::performance) == "performance");
  CHECK(to_string(QualityClass::spindle) == "spindle");
  CHECK(to_string(QualityClass::bandwidth) == "bandwidth");
  CHECK(to_string(QualityClass::other) == "other");
  CHECK(to_string(RaidLevel::r10) == "10");
  CHECK(to_string(RaidLevel::r01) == "0+1");

  Schedule every;
  every.kind = Schedule::Kind::every;
  every.every_count = 15;
  every.every_unit = 'm';
  CHECK(to_string(every) == "every 15m");
  Schedule cron;
  cron.kind = Schedule::Kind::cron;
  cron.cron = "0 2 * * *";
  CHECK(to_string(cron) == "cron(0 2 * * *)");
  CHECK(to_string(Schedule{}) == "nightly");
}

TEST_CASE("to_string: canonical schedules parse back to themselves", "[values]") {
  const char* const schedules[] = {"hourly", "nightly", "daily", "weekly", "monthly", "every 15m", "cron(0 2 * * 1-5)"};
  for (const char* text : schedules) {
    INFO("schedule: " << text);
    const auto result = parse_backup_policy(text);
    REQUIRE(result.ok());
    CHECK(to_string(result->schedule) == text);
  }
}

TEST_CASE("recent values: a text parsed again gives what it gave, and an error every time", "[values]") {
  int calls = 0;
  auto counted = [&](std::string_view text) {
    ++calls;
    return parse_size_mb(text);
  };
  RecentValues<std::uint64_t, 2> recent;
  CHECK(*recent.parse("8GB", counted) == 8192);
  CHECK(*recent.parse("8GB", counted) == 8192);
  CHECK(calls == 1);
  // Bad texts are not kept: each one is parsed and gives its error.
  CHECK_FALSE(recent.parse("12XB", counted));
  CHECK_FALSE(recent.parse("12XB", counted));
  CHECK(calls == 3);
  // Two are kept: a third pushes out the oldest.
  CHECK(*recent.parse("20GB", counted) == 20480);
  CHECK(*recent.parse("1TB", counted) == 1048576);
  CHECK(*recent.parse("20GB", counted) == 20480);
  CHECK(calls == 5);
  CHECK(*recent.parse("8GB", counted) == 8192);
  CHECK(calls == 6);
}

}  // namespace
}  // namespace farmctl::fml
