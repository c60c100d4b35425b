// Backups under `farmctl serve` and on the command line ([backup]): the real
// binary, its clock a file the test rewrites (FARMCTL_CLOCK_FILE), so
// schedules move without sleeping; the service stopped across scheduled
// times takes one copy at start-up, not one per missed slot.
#include <catch2/catch.hpp>

#include "tests/service_fixture.h"

namespace farmctl::testing {
namespace {

std::string backed_up_farm(const std::string& name, const std::string& policy) {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="{}">
  <tier id="db" name="db"><role>db</role><init-servers>1</init-servers></tier>
  <server-role id="db" name="db">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="iscsi" drivesize="1GB">
      <attribute name="backup-policy" value="{}"/>
    </disk>
  </server-role>
</farm>
)",
                     name, policy);
}

// The service's clock: written beside and renamed over, so that the service
// never reads it half-written.
void set_clock(ServiceWorld& w, const std::string& time) {
  w.write("clock.new", time + "\n");
  fs::rename(w.dir() / "clock.new", w.dir() / "clock");
}

std::vector<std::string> taken_times(ServiceWorld& w) {
  runtime::Database db(w.db());
  auto s = db.prepare("SELECT taken_at FROM backups ORDER BY taken_at, id");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

}  // namespace

TEST_CASE("farmctl serve takes copies on schedule and one missed copy at start-up", "[backup][service]") {
  ServiceWorld w;
  w.put_farm("bk.fml", backed_up_farm("bk", "level=0:nightly;retain=7"));
  std::string clock = w.write("clock", "2026-11-23T12:00:00Z\n");
  std::map<std::string, std::string> env{{"FARMCTL_CLOCK_FILE", clock}};
  w.start_serve({}, env);
  // Converged, then the first copy at once.
  REQUIRE(w.wait_until([&] { return taken_times(w).size() == 1; }));
  CHECK(taken_times(w) == std::vector<std::string>{"2026-11-23T12:00:00Z"});
  set_clock(w, "2026-11-24T00:00:00Z");
  REQUIRE(w.wait_until([&] { return taken_times(w).size() == 2; }));
  REQUIRE(w.serve().stop() == 0);

  // Down for three midnights.
  set_clock(w, "2026-11-27T09:00:00Z");
  w.start_serve({}, env);
  REQUIRE(w.wait_until([&] { return taken_times(w).size() == 3; }));
  set_clock(w, "2026-11-28T00:00:00Z");
  REQUIRE(w.wait_until([&] { return taken_times(w).size() == 4; }));
  CHECK(taken_times(w) == std::vector<std::string>{"2026-11-23T12:00:00Z", "2026-11-24T00:00:00Z",
                                                   "2026-11-27T09:00:00Z", "2026-11-28T00:00:00Z"});
  std::string log = w.log_text();
  CHECK(log.find(R"("event":"backup.taken")") != std::string::npos);
  REQUIRE(w.serve().stop() == 0);

  // The operator's side: list, back up now, restore.
  CliResult list = w.cli({"backup", "list", "bk"});
  INFO(list.out << list.err);
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("db-0/t0") != std::string::npos);
  CHECK(list.out.find("2026-11-27T09:00:00Z") != std::string::npos);
  CliResult now = w.cli({"backup", "now", "bk", "db-0/t0"}, env);
  INFO(now.out << now.err);
  REQUIRE(now.exit_code == 0);
  CHECK(now.out.find("copy 5 of db-0/t0 taken at 2026-11-28T00:00:00Z") != std::string::npos);
  CliResult restore = w.cli({"restore", "bk", "db-0/t0", "--from", "2", "--auto-approve"}, env);
  INFO(restore.out << restore.err);
  REQUIRE(restore.exit_code == 0);
  CHECK(restore.out.find("disk db-0/t0 of farm bk restored from copy 2") != std::string::npos);
  CliResult check = w.cli({"inventory", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("take-snapshot and restore-disk work orders: carried out, billed, counted in the quota", "[backup][service]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin", "10GB");
  w.put_farm("bk.fml", backed_up_farm("bk", "level=0:nightly;retain=7"), "acme");
  std::string clock = w.write("clock", "2026-11-23T12:00:00Z\n");
  w.start_serve({}, {{"FARMCTL_CLOCK_FILE", clock}});
  Api a = w.api(acme);
  REQUIRE(w.wait_until([&] { return taken_times(w).size() == 1; }));  // the policy's first copy
  auto settle = [&](std::int64_t id) {
    Json last;
    w.wait_until([&] {
      last = a.get(fmt::format("/v1/work-orders/{}", id)).json;
      return last.is_object() && (last["state"] == "closed" || last["state"] == "failed");
    });
    return last;
  };
  auto submit = [&](Json body) {
    HttpResult r = a.post("/v1/work-orders", body);
    INFO(r.body);
    REQUIRE(r.status == 201);
    return r.json["id"].get<std::int64_t>();
  };
  set_clock(w, "2026-11-23T13:00:00Z");
  std::int64_t snap = submit({{"type", "take-snapshot"}, {"parameters", {{"farm", "bk"}, {"disk", "db-0/t0"}}}});
  Json done = settle(snap);
  INFO(done.dump(2) << w.log_text());
  REQUIRE(done["state"] == "closed");
  CHECK(done["quantity"] == 1024);
  CHECK(done["unit"] == "MB");
  Json copies = a.get("/v1/farms/bk/backups").json["backups"];
  REQUIRE(copies.size() == 2);
  CHECK(copies[1]["taken_at"] == "2026-11-23T13:00:00Z");
  CHECK(copies[1]["manual"] == true);
  // The farm's 1 GB disk and its two 1 GB copies.
  CHECK(a.get("/v1/whoami").json["storage_used_mb"] == 3072);

  std::int64_t restore = submit(
      {{"type", "restore-disk"}, {"parameters", {{"farm", "bk"}, {"disk", "db-0/t0"}, {"copy", copies[0]["copy"]}}}});
  Json restored = settle(restore);
  INFO(restored.dump(2));
  REQUIRE(restored["state"] == "closed");
  CHECK(restored["unit"] == "restore");
  std::int64_t to_new = submit({{"type", "restore-disk"},
                                {"parameters",
                                 {{"farm", "bk"}, {"disk", "db-0/t0"}, {"copy", copies[0]["copy"]}, {"into", "new-volume"}}}});
  REQUIRE(settle(to_new)["state"] == "closed");
  CHECK(w.count("SELECT COUNT(*) FROM restored_volumes") == 1);
  CHECK(w.count("SELECT COUNT(*) FROM bindings b JOIN restored_volumes r ON r.volume_id = b.volume_id "
                "WHERE b.target = 1 AND b.mapped = 1") == 1);
  HttpResult bad_into = a.post("/v1/work-orders", {{"type", "restore-disk"},
                                                   {"parameters", {{"farm", "bk"}, {"disk", "db-0/t0"}, {"copy", 1},
                                                                   {"into", "elsewhere"}}}});
  CHECK(bad_into.status == 400);
  CHECK(bad_into.body.find("'elsewhere' is neither in-place nor new-volume") != std::string::npos);
  std::int64_t missing = submit({{"type", "restore-disk"}, {"parameters", {{"farm", "bk"}, {"disk", "db-0/t0"}, {"copy", 99}}}});
  Json failed = settle(missing);
  REQUIRE(failed["state"] == "failed");
  CHECK(failed["reason"].get<std::string>().find("farm bk has no copy 99") != std::string::npos);
  HttpResult too_big = a.post("/v1/work-orders", {{"type", "take-snapshot"}, {"parameters", {{"farm", "bk"}, {"disk", "db-0/t0"}}}});
  CHECK(too_big.status == 201);  // 4 GB of 10 GB: fits
  Json events = a.get("/v1/accounts/me/billable-events").json["billable_events"];
  std::set<std::string> billed;
  for (const Json& e : events) billed.insert(e["type"].get<std::string>() + " " + std::to_string(e["quantity"].get<std::int64_t>()));
  CHECK(billed.count("take-snapshot 1024") == 1);
  CHECK(billed.count("restore-disk 1") == 1);
  // The schedule's own copy is billed too, to the farm's owner, once.
  CHECK(billed.count("backup-copy 1024") == 1);
  for (const Json& e : events)
    if (e["type"] == "backup-copy") {
      CHECK(e["work_order"].is_null());
      CHECK(e["backup_copy"] == copies[0]["copy"]);
    }
  HttpResult csv = a.get("/v1/accounts/me/billable-events.csv");
  CHECK(csv.body.find(",acme,1,,backup-copy,1024,MB,") != std::string::npos);
  REQUIRE(w.serve().stop() == 0);
}

TEST_CASE("backup commands refuse bad input with a clear message and change nothing", "[backup]") {
  ServiceWorld w;
  w.put_farm("bk.fml", backed_up_farm("bk", "nightly"));
  CliResult apply = w.cli({"apply", "--auto-approve", w.write("bk2.fml", backed_up_farm("bk", "nightly"))});
  INFO(apply.out << apply.err);
  REQUIRE(apply.exit_code == 0);
  std::int64_t generation = w.count("SELECT value FROM generation");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases{
      {{"backup", "list", "nope"}, "no farm nope in the inventory"},
      {{"backup", "list", "bk", "--volume", "db-0/t7"}, "farm bk has no disk db-0/t7"},
      {{"backup", "now", "bk", "db-0/t7"}, "farm bk has no disk db-0/t7; nothing was changed"},
      {{"restore", "bk", "db-0/t0", "--from", "42", "--auto-approve"}, "farm bk has no copy 42"},
      {{"restore", "bk", "db-0/t0", "--from", "42"}, "farm bk has no copy 42"},
  };
  for (const Case& c : cases) {
    CliResult r = w.cli(c.args);
    INFO(fmt::format("{}", fmt::join(c.args, " ")) << "\n" << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  CHECK(w.count("SELECT COUNT(*) FROM backups") == 0);
  CHECK(w.count("SELECT value FROM generation") == generation);
  // Without --auto-approve and no terminal, a real copy is not restored either.
  REQUIRE(w.cli({"backup", "now", "bk", "db-0/t0"}).exit_code == 0);
  CliResult ask = w.cli({"restore", "bk", "db-0/t0", "--from", "1"});
  CHECK(ask.exit_code == 1);
  CHECK(ask.err.find("pass --auto-approve") != std::string::npos);
  CliResult wrong_disk = w.cli({"restore", "bk", "db-0/t1", "--from", "1", "--auto-approve"});
  CHECK(wrong_disk.exit_code == 1);
  CHECK(wrong_disk.err.find("copy 1 is of disk db-0/t0, not db-0/t1") != std::string::npos);
}

}  // namespace farmctl::testing

namespace farmctl::testing {

TEST_CASE("a copy or a restore cut short by a crash is finished by the next farmctl run", "[backup]") {
  ServiceWorld w;
  std::string file = w.write("bk.fml", backed_up_farm("bk", "nightly"));
  REQUIRE(w.cli({"apply", "--auto-approve", file}).exit_code == 0);

  // Killed right after the array made the copy, before the journal knew.
  CliResult copy = w.cli({"backup", "now", "bk", "db-0/t0"}, {{"FARMCTL_SIM_FAULTS", "snap#1=crash-after"}});
  INFO(copy.out << copy.err);
  REQUIRE(copy.exit_code == 137);
  CHECK(w.count("SELECT COUNT(*) FROM backups") == 0);
  CliResult plan = w.cli({"plan", file});  // any command under the lock finishes the journal first
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("No changes.") != std::string::npos);
  CHECK(w.count("SELECT COUNT(*) FROM backups") == 1);

  // Killed after the disk's mapping was withdrawn, before the restore ran.
  CliResult cut = w.cli({"restore", "bk", "db-0/t0", "--from", "1", "--auto-approve"},
                        {{"FARMCTL_SIM_FAULTS", "restore#1=crash"}});
  INFO(cut.out << cut.err);
  REQUIRE(cut.exit_code == 137);
  CHECK(w.count("SELECT COUNT(*) FROM bindings WHERE mapped = 1") == 0);
  CliResult again = w.cli({"restore", "bk", "db-0/t0", "--from", "1", "--auto-approve"});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(w.count("SELECT COUNT(*) FROM bindings WHERE mapped = 1") == 1);
  CliResult check = w.cli({"inventory", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(w.count("SELECT COUNT(*) FROM backups") == 1);
}

}  // namespace farmctl::testing

namespace farmctl::testing {

TEST_CASE("farmctl apply of a farm file without the policy frees its copies", "[backup]") {
  ServiceWorld w;
  std::string with = w.write("with.fml", backed_up_farm("bk", "nightly;retain=3"));
  REQUIRE(w.cli({"apply", "--auto-approve", with}).exit_code == 0);
  REQUIRE(w.cli({"backup", "now", "bk", "db-0/t0"}).exit_code == 0);
  REQUIRE(w.cli({"backup", "now", "bk", "db-0/t0"}).exit_code == 0);
  CliResult plan = w.cli({"plan", with});
  CHECK(plan.out.find("No changes.") != std::string::npos);  // copies are not drift
  std::string without = w.write("without.fml", R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="bk">
  <tier id="db" name="db"><role>db</role><init-servers>1</init-servers></tier>
  <server-role id="db" name="db">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="iscsi" drivesize="1GB"/>
  </server-role>
</farm>
)");
  CliResult applied = w.cli({"apply", "--auto-approve", without});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  CHECK(applied.out.find("backup copy 1 of db-0/t0") != std::string::npos);
  CHECK(applied.out.find("backup copy 2 of db-0/t0") != std::string::npos);
  CHECK(w.count("SELECT COUNT(*) FROM backups") == 0);
  CHECK(w.cli({"inventory", "check"}).exit_code == 0);
}

}  // namespace farmctl::testing
