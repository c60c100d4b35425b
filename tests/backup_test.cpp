// Backup policies that run ([backup], issue 9), against the sim driver: a
// fake clock drives the schedules (nothing sleeps), copies are taken, kept to
// their retention, restored in place, and freed when the policy or the farm
// goes. The sim's `image` column stands for a disk's contents: a test writes
// "data" by setting it (as a host would), and reads it back after a restore.
// After every step the inventory's invariants hold against the devices.
#include <catch2/catch.hpp>

#include "reconciler/backup_engine.h"
#include "runtime/inventory_schema.h"
#include "tests/scenario_fixture.h"
#include "tests/schema_downgrade.h"

namespace farmctl::testing {
namespace {

using reconcile::BackupEngine;
using reconcile::FakeClock;
using reconcile::format_utc;
using reconcile::parse_utc;
using reconcile::TimePoint;
using runtime::Op;

std::string farm_fml(std::string_view policies, std::string_view extra_disks = "") {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="bk">
  <tier id="t1" name="db"><role>db</role><init-servers>1</init-servers></tier>
  <server-role id="db" name="db">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivesize="2GB">{}</disk>
    <disk target="1" drivesize="1GB"/>
    {}
  </server-role>
</farm>
)",
                     policies, extra_disks);
}

std::string policy(std::string_view value) {
  return fmt::format(R"(<attribute name="backup-policy" value="{}"/>)", value);
}

TimePoint at(std::string_view text) {
  auto t = parse_utc(text);
  REQUIRE(t);
  return *t;
}

// The engine as `farmctl backup` and the service run it: fresh drivers over
// the scenario's inventory, a fake clock.
class Backups {
 public:
  Backups(Scenario& s, TimePoint start) : s_(s), clock_(start) {}
  FakeClock& clock() { return clock_; }

  reconcile::BackupReport run() {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.run_schedules(f); });
  }
  reconcile::BackupReport now(const std::string& disk) {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.take_now(f, disk); });
  }
  reconcile::BackupReport restore(runtime::RowId copy) {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.restore(f, copy); });
  }
  reconcile::BackupReport restore_to_new(runtime::RowId copy) {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.restore_to_new(f, copy); });
  }
  reconcile::BackupReport release(runtime::RowId restored) {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.release(f, restored); });
  }
  reconcile::BackupReport retention() {
    return with_engine([&](BackupEngine& e, const runtime::FarmRow& f) { return e.enforce_retention(f); });
  }
  std::vector<runtime::BackupRow> copies(const std::string& farm = "bk") {
    auto f = s_.inventory().farm(farm);
    if (!f) return {};
    return runtime::BackupStore(s_.inventory()).of_farm(f->id);
  }

 private:
  template <class Fn>
  reconcile::BackupReport with_engine(Fn fn) {
    runtime::Topology topology = s_.inventory().topology();
    runtime::DriverSet drivers(topology, {s_.db()});
    reconcile::ApplyEvents events;
    BackupEngine engine(s_.inventory(), drivers, clock_, events);
    auto farm = s_.inventory().farm("bk");
    REQUIRE(farm);
    reconcile::BackupReport report = fn(engine, *farm);
    s_.check();
    return report;
  }

  Scenario& s_;
  FakeClock clock_;
};

// What a disk holds, in the sim: the image column stands for its data.
std::string contents(Scenario& s, const runtime::VolumeRow& v) {
  runtime::Database store(runtime::sim_store_path(s.db()));
  auto q = store.prepare("SELECT IFNULL(image, '') FROM sim_volumes WHERE device = ? AND id = ?");
  q.bind_all(s.device_name(v.device_id), v.device_volume);
  REQUIRE(q.step());
  return q.text(0);
}

// A host writes to the disk.
void write(Scenario& s, const runtime::VolumeRow& v, std::string_view data) {
  s.tamper(fmt::format("UPDATE sim_volumes SET image = '{}' WHERE device = '{}' AND id = '{}'", data,
                       s.device_name(v.device_id), v.device_volume));
}

}  // namespace

TEST_CASE("level=0:nightly retain=7: after a simulated week, seven restorable copies", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("level=0:nightly;retain=7")));
  runtime::VolumeRow disk = s.unit("bk", "db-0/t0");
  Backups b(s, at("2026-11-23T12:00:00Z"));
  std::map<std::string, std::string> written;  // taken_at -> what the disk held then

  // The first copy comes at once: a disk is protected from the start.
  write(s, disk, "data-start");
  auto first = b.run();
  REQUIRE(first.ok());
  REQUIRE(first.taken.size() == 1);
  written[first.taken[0].taken_at] = "data-start";

  // Every hour for a week the service looks; a copy comes at each midnight.
  for (int hour = 1; hour <= 7 * 24; ++hour) {
    b.clock().advance(std::chrono::hours(1));
    write(s, disk, fmt::format("data-{}", hour));
    auto report = b.run();
    REQUIRE(report.ok());
    for (const auto& c : report.taken) written[c.taken_at] = fmt::format("data-{}", hour);
    bool midnight = format_utc(b.clock().now()).substr(11) == "00:00:00Z";
    CHECK(report.taken.size() == (midnight ? 1u : 0u));
  }
  auto copies = b.copies();
  REQUIRE(copies.size() == 7);  // eight taken, the oldest freed
  for (std::size_t i = 0; i < copies.size(); ++i) {
    CHECK(copies[i].taken_at == format_utc(at("2026-11-24T00:00:00Z") + std::chrono::days(i)));
    CHECK(copies[i].level == 0);
    CHECK(copies[i].schedule == "nightly");
    CHECK(copies[i].source == "db-0/t0");
  }
  // The copy taken first is freed: scrubbed, then gone from the array.
  auto log = s.sim_log();
  CHECK(std::count_if(log.begin(), log.end(), [](const auto& e) { return e.action.op == Op::snap; }) == 8);
  CHECK(std::count_if(log.begin(), log.end(), [](const auto& e) { return e.action.op == Op::scrub; }) == 1);
  // Each of the seven brings back what the disk held when it was taken.
  for (const auto& c : copies) {
    REQUIRE(b.restore(c.id).ok());
    CHECK(contents(s, disk) == written[c.taken_at]);
  }
  // The farm itself is as its file says: copies are not drift.
  CHECK(s.plan(farm_fml(policy("level=0:nightly;retain=7"))).empty());
}

TEST_CASE("a restore in place withdraws the mapping, restores, and gives the mapping back", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("nightly;retain=3")));
  runtime::VolumeRow disk = s.unit("bk", "db-0/t0");
  Backups b(s, at("2026-11-23T12:00:00Z"));
  write(s, disk, "monday");
  REQUIRE(b.run().taken.size() == 1);
  write(s, disk, "tuesday");
  auto copy = b.copies().front();
  std::size_t log_before = s.sim_log().size();

  REQUIRE(b.restore(copy.id).ok());
  CHECK(contents(s, disk) == "monday");
  auto log = s.sim_log();
  std::vector<std::string> ops;
  for (std::size_t i = log_before; i < log.size(); ++i)
    ops.push_back(fmt::format("{} {}", runtime::to_string(log[i].action.op), log[i].action.device));
  std::string array = s.device_name(disk.device_id);
  CHECK(ops == std::vector<std::string>{"unmap gw1", "restore " + array, "map gw1"});
  auto bindings = s.inventory().bindings_of_volume(disk.id);
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].mapped);
  CHECK(s.unit("bk", "db-0/t0").state == runtime::VolumeState::Mapped);
  CHECK(b.copies().size() == 1);  // the copy stays: it can be restored again
}

TEST_CASE("a failed restore gives the mapping back and leaves the disk as it was", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("nightly")));
  runtime::VolumeRow disk = s.unit("bk", "db-0/t0");
  Backups b(s, at("2026-11-23T12:00:00Z"));
  write(s, disk, "monday");
  REQUIRE(b.run().taken.size() == 1);
  write(s, disk, "tuesday");
  ScopedEnv faults("FARMCTL_SIM_FAULTS", "restore=permanent");
  runtime::reset_sim_fault_counts();
  auto report = b.restore(b.copies().front().id);
  CHECK_FALSE(report.ok());
  CHECK(contents(s, disk) == "tuesday");
  auto bindings = s.inventory().bindings_of_volume(disk.id);
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].mapped);
}

TEST_CASE("a restore into a new volume leaves the disk alone and exports the copy at a free target", "[backup]") {
  Scenario s;
  std::string fml = farm_fml(policy("nightly"));
  s.converge(fml);
  runtime::VolumeRow disk = s.unit("bk", "db-0/t0");
  Backups b(s, at("2026-11-23T12:00:00Z"));
  write(s, disk, "monday");
  REQUIRE(b.run().taken.size() == 1);
  write(s, disk, "tuesday");
  auto copy = b.copies().front();

  auto report = b.restore_to_new(copy.id);
  REQUIRE(report.ok());
  REQUIRE(report.restored.size() == 1);
  auto fresh = s.inventory().volume(report.restored[0].volume_id);
  REQUIRE(fresh);
  CHECK(contents(s, *fresh) == "monday");
  CHECK(contents(s, disk) == "tuesday");  // non-destructive
  auto exports = s.inventory().bindings_of_volume(fresh->id);
  REQUIRE(exports.size() == 1);
  CHECK(exports[0].server == "db-0");
  CHECK(exports[0].target == 2);  // t0 and t1 are the farm's
  CHECK(exports[0].mapped);
  CHECK(fresh->state == runtime::VolumeState::Mapped);
  // The farm file knows nothing of it, and the planner leaves it be...
  CHECK(s.plan(fml).empty());
  // ...but will not put a disk on its target until it is released.
  std::string wants_t2 = farm_fml(policy("nightly"), R"(<disk target="2" drivesize="1GB"/>)");
  auto reasons = s.refused(wants_t2);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == "volume db-0/t2 wants target 2 of server db-0, where a restored volume is exported: release it "
                      "first (farmctl backup release bk ...)");
  reconcile::PlanOptions move;
  move.move_to = {{"db-0", s.placements("bk").at("db-0") == "h01" ? "h02" : "h01"}};
  auto moving = s.refused(fml, move);
  CHECK(std::any_of(moving.begin(), moving.end(), [](const std::string& r) {
    return r.find("server db-0 has a restored volume exported at target 2") != std::string::npos;
  }));
  CHECK_THROWS_WITH(b.release(99), Catch::Contains("farm bk has no restored volume 99"));
  REQUIRE(b.release(report.restored[0].id).ok());
  CHECK_FALSE(s.inventory().volume(fresh->id));
  CHECK(runtime::BackupStore(s.inventory()).restored_of_farm(s.inventory().farm("bk")->id).empty());
  s.converge(wants_t2);

  // One more, then the farm goes: the restored volume goes with it, scrubbed.
  auto second = b.restore_to_new(copy.id);
  REQUIRE(second.restored.size() == 1);
  CHECK(s.inventory().bindings_of_volume(second.restored[0].volume_id).front().target == 3);
  s.destroy("bk");
  runtime::Database store(runtime::sim_store_path(s.db()));
  auto q = store.prepare("SELECT COUNT(*) FROM sim_volumes WHERE data_owner = 'bk' OR image = 'monday'");
  REQUIRE(q.step());
  CHECK(q.int64(0) == 0);
}

TEST_CASE("the service down across scheduled times takes one copy at start-up, not one per missed slot", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("nightly;retain=7")));
  Backups b(s, at("2026-11-23T12:00:00Z"));
  REQUIRE(b.run().taken.size() == 1);
  b.clock().set(at("2026-11-26T09:30:00Z"));  // three midnights missed
  auto start = b.run();
  REQUIRE(start.taken.size() == 1);
  CHECK(start.taken[0].taken_at == "2026-11-26T09:30:00Z");
  CHECK(b.run().taken.empty());
  b.clock().set(at("2026-11-26T23:59:59Z"));
  CHECK(b.run().taken.empty());
  b.clock().set(at("2026-11-27T00:00:00Z"));
  CHECK(b.run().taken.size() == 1);
  CHECK(b.copies().size() == 3);
}

TEST_CASE("backup now joins the lowest-level policy's copies and ages out with them", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("level=0:nightly;retain=2") + policy("level=1:hourly;retain=2")));
  Backups b(s, at("2026-11-23T12:30:00Z"));
  REQUIRE(b.run().taken.size() == 2);  // one per policy
  b.clock().advance(std::chrono::minutes(5));
  auto now = b.now("db-0/t0");
  REQUIRE(now.taken.size() == 1);
  CHECK(now.taken[0].level == 0);
  CHECK(now.taken[0].manual);
  b.clock().advance(std::chrono::minutes(5));
  auto third = b.now("db-0/t0");
  REQUIRE(third.freed.size() == 1);  // retain=2 at level 0: the scheduled one goes
  CHECK_FALSE(third.freed[0].manual);
  CHECK_THROWS_WITH(b.now("db-0/t1"), Catch::Contains("disk db-0/t1 of farm bk has no backup-policy"));
  CHECK_THROWS_WITH(b.now("db-0/t9"), Catch::Contains("farm bk has no disk db-0/t9"));
  CHECK_THROWS_WITH(b.restore(999), Catch::Contains("farm bk has no copy 999"));
}

TEST_CASE("removing a policy frees its copies once the farm without it is applied", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("level=0:nightly;retain=2") + policy("level=1:hourly;retain=5")));
  Backups b(s, at("2026-11-23T12:30:00Z"));
  b.run();
  for (int i = 0; i < 3; ++i) {
    b.clock().advance(std::chrono::hours(1));
    b.run();
  }
  CHECK(b.copies().size() == 5);  // 1 nightly, 4 hourly
  // Until the new file is applied the old policies hold.
  CHECK(b.retention().freed.empty());
  s.converge(farm_fml(policy("level=0:nightly;retain=2")));
  auto freed = b.retention().freed;
  // The hourly copies are kept as far as the remaining nightly policy keeps
  // copies: the newest two of the four; the nightly's own copy stays.
  REQUIRE(freed.size() == 2);
  CHECK(freed[0].level == 1);
  CHECK(freed[0].taken_at == "2026-11-23T12:30:00Z");
  CHECK(freed[1].taken_at == "2026-11-23T13:30:00Z");
  CHECK(b.copies().size() == 3);
  s.converge(farm_fml(""));  // no policy left: no copy is kept
  CHECK(b.retention().freed.size() == 3);
  CHECK(b.copies().empty());
}

TEST_CASE("a policy added to a built farm is a change to apply, with no device action", "[backup]") {
  Scenario s;
  s.converge(farm_fml(""));
  Backups b(s, at("2026-11-23T12:00:00Z"));
  CHECK(b.run().taken.empty());
  auto plan = s.plan(farm_fml(policy("nightly;retain=5")));
  CHECK(plan.actions.empty());
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].subject == "volume db-0/t0");
  CHECK(plan.changes[0].reason == "backup policies none -> level 0 nightly retain 5");
  s.converge(farm_fml(policy("nightly;retain=5")));
  CHECK(b.run().taken.size() == 1);
}

TEST_CASE("destroying a farm scrubs and frees its copies too", "[backup]") {
  Scenario s;
  s.converge(farm_fml(policy("nightly")));
  runtime::VolumeRow disk = s.unit("bk", "db-0/t0");
  Backups b(s, at("2026-11-23T12:00:00Z"));
  write(s, disk, "secret");
  REQUIRE(b.run().taken.size() == 1);
  auto plan = s.destroy_plan("bk");
  bool copy_listed = std::any_of(plan.changes.begin(), plan.changes.end(), [](const auto& c) {
    return c.reason == "a backup copy: it goes with its farm";
  });
  CHECK(copy_listed);
  s.destroy("bk");
  CHECK(runtime::BackupStore(s.inventory()).all().empty());
  runtime::Database store(runtime::sim_store_path(s.db()));
  auto q = store.prepare("SELECT COUNT(*) FROM sim_volumes WHERE data_owner = 'bk' OR image = 'secret'");
  REQUIRE(q.step());
  CHECK(q.int64(0) == 0);
}

}  // namespace farmctl::testing

namespace farmctl::testing {

TEST_CASE("an inventory of schema 2 upgrades to the latest with its bills kept", "[backup]") {
  TempDir dir("farmctl-v2");
  std::string path = (dir.path() / "farm.db").string();
  { runtime::Inventory fresh(path); }
  {
    // Back to what farmctl with the service, before backups, left.
    runtime::Database db(path);
    db.exec(kUndoSchema9);
    db.exec(R"SQL(
      DROP INDEX volumes_by_pool; DROP INDEX bindings_by_volume_mapped; DROP INDEX volumes_free;
      CREATE INDEX volumes_free ON volumes (device_id, class, size_mb) WHERE state = 'Free';
      DROP TABLE farm_volumes_applied; ALTER TABLE farms DROP COLUMN volumes_applied;
      DROP TABLE virtual_ports; DROP TABLE npiv_ranges;
      DROP TABLE backups; DROP TABLE restored_volumes; DROP TABLE billable_events;
      CREATE TABLE billable_events (
        id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
        work_order_id INTEGER NOT NULL UNIQUE REFERENCES work_orders(id), type TEXT NOT NULL,
        quantity INTEGER NOT NULL, unit TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
      CREATE INDEX billable_events_by_account ON billable_events (account_id, id);
      INSERT INTO accounts (id, name, level, token_salt, token_hash, created_at)
        VALUES (1, 'acme', 'viewer', '', '', '2026-11-01T00:00:00Z');
      INSERT INTO work_orders (id, account_id, submitted_by, type, parameters, farm, state, created_at, updated_at)
        VALUES (7, 1, 1, 'grow-disk', '{}', 'web', 'closed', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z');
      INSERT INTO billable_events (account_id, work_order_id, type, quantity, unit, created_at)
        VALUES (1, 7, 'grow-disk', 1024, 'MB', '2026-11-01T00:00:00Z');
      PRAGMA user_version = 2;
    )SQL");
  }
  runtime::Inventory upgraded(path);
  runtime::Database& db = upgraded.database();
  auto version = db.prepare("PRAGMA user_version");
  REQUIRE(version.step());
  CHECK(version.int64(0) == runtime::latest_schema_version());
  auto kept = db.prepare("SELECT work_order_id, backup_id IS NULL, quantity FROM billable_events");
  REQUIRE(kept.step());
  CHECK(kept.int64(0) == 7);
  CHECK(kept.int64(1) == 1);
  CHECK(kept.int64(2) == 1024);
  // A bill is an order's or a copy's, never neither.
  CHECK_THROWS(db.exec("INSERT INTO billable_events (account_id, type, quantity, unit, created_at) "
                       "VALUES (1, 'backup-copy', 1, 'MB', 'now')"));
  db.exec("INSERT INTO billable_events (account_id, backup_id, type, quantity, unit, created_at) "
          "VALUES (1, 3, 'backup-copy', 1, 'MB', 'now')");
  CHECK(runtime::BackupStore(upgraded).all().empty());
}

}  // namespace farmctl::testing
