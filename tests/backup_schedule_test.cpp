// Backup schedules and retention as pure functions ([backup]): slots of every
// schedule kind, "due" across missed slots, cron matching, retention at its
// boundary, the policies read back from an applied Plan IR.
#include <catch2/catch.hpp>

#include "reconciler/backup_retention.h"
#include "reconciler/backup_schedule.h"
#include "reconciler/clock.h"
#include "reconciler/cron_schedule.h"

namespace farmctl::reconcile {
namespace {

TimePoint at(std::string_view text) {
  auto t = parse_utc(text);
  REQUIRE(t);
  return *t;
}

fml::Schedule schedule(std::string_view text) {
  auto parsed = fml::parse_backup_policy(text);
  REQUIRE(parsed);
  return parsed->schedule;
}

std::string next(std::string_view policy, std::string_view after) {
  auto slot = next_slot_after(schedule(policy), at(after));
  return slot ? format_utc(*slot) : "never";
}

}  // namespace

TEST_CASE("UTC text round-trips and refuses anything else", "[backup]") {
  CHECK(format_utc(at("2026-11-22T13:05:09Z")) == "2026-11-22T13:05:09Z");
  CHECK_FALSE(parse_utc("2026-11-22 13:05:09"));
  CHECK_FALSE(parse_utc("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_utc("2026-11-22T24:00:00Z"));
}

TEST_CASE("each schedule's next slot is strictly after the time given", "[backup]") {
  // 2026-11-22 is a Sunday.
  CHECK(next("hourly", "2026-11-22T13:05:00Z") == "2026-11-22T14:00:00Z");
  CHECK(next("hourly", "2026-11-22T13:00:00Z") == "2026-11-22T14:00:00Z");
  CHECK(next("nightly", "2026-11-22T13:05:00Z") == "2026-11-23T00:00:00Z");
  CHECK(next("nightly", "2026-11-22T00:00:00Z") == "2026-11-23T00:00:00Z");
  CHECK(next("daily", "2026-11-22T23:59:59Z") == "2026-11-23T00:00:00Z");
  CHECK(next("weekly", "2026-11-22T00:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(next("weekly", "2026-11-21T23:00:00Z") == "2026-11-22T00:00:00Z");
  CHECK(next("weekly", "2026-11-25T08:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(next("monthly", "2026-11-22T13:05:00Z") == "2026-12-01T00:00:00Z");
  CHECK(next("monthly", "2026-12-01T00:00:00Z") == "2027-01-01T00:00:00Z");
  CHECK(next("every 15m", "2026-11-22T13:05:00Z") == "2026-11-22T13:20:00Z");
  CHECK(next("every 2d", "2026-11-22T13:05:00Z") == "2026-11-24T13:05:00Z");
  CHECK(next("every 30s", "2026-11-22T13:05:00Z") == "2026-11-22T13:05:30Z");
  CHECK(next("cron(0 2 * * *)", "2026-11-22T13:05:00Z") == "2026-11-23T02:00:00Z");
  CHECK(next("cron(0 2 * * *)", "2026-11-22T01:59:59Z") == "2026-11-22T02:00:00Z");
  CHECK(next("cron(*/20 9-17 * * 1-5)", "2026-11-22T13:05:00Z") == "2026-11-23T09:00:00Z");  // Sunday: Monday 9:00
  CHECK(next("cron(*/20 9-17 * * 1-5)", "2026-11-23T09:00:00Z") == "2026-11-23T09:20:00Z");
  CHECK(next("cron(30 4 1,15 * *)", "2026-11-22T13:05:00Z") == "2026-12-01T04:30:00Z");
  CHECK(next("cron(0 0 * * 7)", "2026-11-22T00:00:00Z") == "2026-11-29T00:00:00Z");  // 7 is Sunday too
  CHECK(next("cron(0 0 13 * 5)", "2026-11-01T00:00:00Z") == "2026-11-06T00:00:00Z");  // day OR weekday
  CHECK(next("cron(0 0 29 2 *)", "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z");
  CHECK(next("cron(0 0 31 2 *)", "2026-03-01T00:00:00Z") == "never");
}

TEST_CASE("a copy is due once a slot has come since the newest copy, however many passed", "[backup]") {
  fml::Schedule nightly = schedule("nightly");
  CHECK(copy_due(nightly, std::nullopt, at("2026-11-22T13:00:00Z")));  // no copy yet: now
  CHECK_FALSE(copy_due(nightly, at("2026-11-22T00:00:00Z"), at("2026-11-22T23:59:59Z")));
  CHECK(copy_due(nightly, at("2026-11-22T00:00:00Z"), at("2026-11-23T00:00:00Z")));
  // Down for three nights: one copy catches up, and after it nothing is due.
  CHECK(copy_due(nightly, at("2026-11-22T00:00:05Z"), at("2026-11-25T10:00:00Z")));
  CHECK_FALSE(copy_due(nightly, at("2026-11-25T10:00:00Z"), at("2026-11-25T23:59:59Z")));
  fml::Schedule every = schedule("every 6h");
  CHECK_FALSE(copy_due(every, at("2026-11-22T00:00:00Z"), at("2026-11-22T05:59:59Z")));
  CHECK(copy_due(every, at("2026-11-22T00:00:00Z"), at("2026-11-22T06:00:00Z")));
}

TEST_CASE("cron fields outside what the compiler allows are refused", "[backup]") {
  CHECK(CronSchedule::parse("0 2 * * *"));
  CHECK_FALSE(CronSchedule::parse("0 2 * *"));
  CHECK_FALSE(CronSchedule::parse("60 2 * * *"));
  CHECK_FALSE(CronSchedule::parse("0 2 * * 8"));
  CHECK_FALSE(CronSchedule::parse("*/0 * * * *"));
}

namespace {

runtime::BackupRow copy(runtime::RowId id, std::string source, int level, std::string taken_at) {
  runtime::BackupRow r;
  r.id = id;
  r.source = std::move(source);
  r.level = level;
  r.taken_at = std::move(taken_at);
  return r;
}

std::vector<runtime::RowId> ids(const std::vector<runtime::BackupRow>& rows) {
  std::vector<runtime::RowId> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

fml::BackupPolicy policy(std::string_view text) {
  auto parsed = fml::parse_backup_policy(text);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("retention keeps exactly `retain` copies per disk and level, the newest", "[backup]") {
  FarmPolicies policies{{"db-0/t0", {policy("level=0:nightly;retain=3"), policy("level=1:hourly;retain=2")}}};
  std::vector<runtime::BackupRow> copies{copy(1, "db-0/t0", 0, "2026-11-20T00:00:00Z"),
                                         copy(2, "db-0/t0", 0, "2026-11-21T00:00:00Z"),
                                         copy(3, "db-0/t0", 0, "2026-11-22T00:00:00Z")};
  CHECK(copies_beyond_retention(copies, policies).empty());  // at the boundary: all kept
  copies.push_back(copy(4, "db-0/t0", 0, "2026-11-23T00:00:00Z"));
  CHECK(ids(copies_beyond_retention(copies, policies)) == std::vector<runtime::RowId>{1});  // one over: the oldest
  copies.push_back(copy(5, "db-0/t0", 1, "2026-11-23T01:00:00Z"));
  copies.push_back(copy(6, "db-0/t0", 1, "2026-11-23T02:00:00Z"));
  copies.push_back(copy(7, "db-0/t0", 1, "2026-11-23T03:00:00Z"));
  CHECK(ids(copies_beyond_retention(copies, policies)) == std::vector<runtime::RowId>{1, 5});
}

TEST_CASE("copies of a removed policy are kept only as far as the disk's remaining policies keep copies", "[backup]") {
  std::vector<runtime::BackupRow> copies{copy(1, "db-0/t0", 1, "2026-11-20T01:00:00Z"),
                                         copy(2, "db-0/t0", 1, "2026-11-20T02:00:00Z"),
                                         copy(3, "db-0/t0", 1, "2026-11-20T03:00:00Z"),
                                         copy(4, "db-0/t0", 0, "2026-11-20T00:00:00Z"),
                                         copy(5, "web-0/t0", 0, "2026-11-20T00:00:00Z")};
  FarmPolicies only_nightly{{"db-0/t0", {policy("level=0:nightly;retain=2")}}};
  CHECK(ids(copies_beyond_retention(copies, only_nightly)) == std::vector<runtime::RowId>{5, 1});
  CHECK(ids(copies_beyond_retention(copies, {})) == std::vector<runtime::RowId>{4, 5, 1, 2, 3});
}

TEST_CASE("the applied Plan IR gives each disk its policies back", "[backup]") {
  std::string plan_json = R"json({"volumes": [
    {"id": "db-0/t0", "backup": [{"level": 0, "schedule": "nightly", "retain": 7},
                                 {"level": 1, "schedule": "cron(0 */4 * * *)", "retain": 12}]},
    {"id": "db-0/t1", "backup": []}]})json";
  FarmPolicies p = applied_policies(plan_json);
  REQUIRE(p.size() == 1);
  REQUIRE(p["db-0/t0"].size() == 2);
  CHECK(p["db-0/t0"][0] == policy("level=0:nightly;retain=7"));
  CHECK(p["db-0/t0"][1] == policy("level=1:cron(0 */4 * * *);retain=12"));
  CHECK(applied_policies("not json").empty());
}

}  // namespace farmctl::reconcile
