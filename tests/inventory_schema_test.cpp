// The inventory's schema version 8: CHECK constraints without IN lists (a
// temporary b-tree per statement in SQLite), accepting exactly what they did;
// and version 9: each journal entry's action in a table of its own.
#include "runtime/inventory_schema.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/inventory.h"
#include "tests/schema_downgrade.h"
#include "tests/temp_dir.h"

namespace farmctl::runtime {
namespace {

std::string table_sql(Database& db, const std::string& table) {
  auto s = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind_all(table);
  REQUIRE(s.step());
  return s.text(0);
}

bool refused(Database& db, const std::string& sql) {
  try {
    db.exec(sql);
    return false;
  } catch (const SqliteError& e) {
    return std::string(e.what()).find("CHECK constraint failed") != std::string::npos;
  }
}

const std::string kJournalRow =
    "INSERT INTO journal (run_id, farm, action_id, op, device, status, started_at) "
    "VALUES ('r', 'web', 1, 'bind', 'sym1', '{}', '2026-11-22T00:00:00Z')";

std::string journal_row(const std::string& status) {
  std::string sql = kJournalRow;
  return sql.replace(sql.find("'{}', '2026"), 4, "'" + status + "'");
}

// Every constraint of the tables the apply writes, checked by value.
void require_checks_hold(Database& db) {
  CHECK(refused(db, journal_row("bogus")));
  CHECK_FALSE(refused(db, journal_row("intent")));
  CHECK_FALSE(refused(db, journal_row("compensated")));
  CHECK(refused(db, "UPDATE volumes SET state = 'Lost' WHERE id = (SELECT MIN(id) FROM volumes)"));
  CHECK(refused(db, "UPDATE devices SET kind = 'toaster'"));
}

// Undoes version 9: the actions back in the journal, as a column.
void back_to_version_8(Database& db) {
  db.exec(testing::kUndoSchema9);
  db.exec("PRAGMA user_version = 8");
}

}  // namespace

TEST_CASE("a new inventory's CHECK constraints list no values with IN, and still refuse what is not listed",
          "[inventory]") {
  testing::TempDir dir{"farmctl-schema"};
  Inventory inv((dir.path() / "farm.db").string());
  Database& db = inv.database();
  for (const char* table : {"volumes", "bindings", "journal", "devices"})
    CHECK(table_sql(db, table).find(" IN (") == std::string::npos);
  CHECK(table_sql(db, "journal").find("status = 'intent' OR status = 'done'") != std::string::npos);
  db.exec(
      "INSERT INTO devices (id, name, kind, driver) VALUES (1, 'sym1', 'array', 'sim');"
      "INSERT INTO volumes (device_id, device_volume, size_mb, origin, updated_at) "
      "VALUES (1, '0A1', 100, 'precarved', '2026-11-22T00:00:00Z')");
  require_checks_hold(db);
}

TEST_CASE("an inventory of version 7 gets the same constraints without IN lists, its rows untouched",
          "[inventory]") {
  testing::TempDir dir{"farmctl-schema"};
  const std::string path = (dir.path() / "farm.db").string();
  std::string old_journal;
  {
    Inventory inv(path);
    Database& db = inv.database();
    db.exec(
        "INSERT INTO devices (id, name, kind, driver) VALUES (1, 'sym1', 'array', 'sim');"
        "INSERT INTO volumes (device_id, device_volume, size_mb, origin, updated_at) "
        "VALUES (1, '0A1', 100, 'precarved', '2026-11-22T00:00:00Z')");
    // Back to version 7: the journal's actions in the journal (version 9),
    old_journal = table_sql(db, "journal");
    back_to_version_8(db);
    // and the text version 7 had, as SQLite's own procedure would.
    std::string in_list = table_sql(db, "journal");
    in_list.replace(in_list.find("status = 'intent'"),
                    std::string("status = 'intent' OR status = 'done' OR status = 'failed' OR status = 'compensated'")
                        .size(),
                    "status IN ('intent', 'done', 'failed', 'compensated')");
    auto version = db.prepare("PRAGMA schema_version");
    REQUIRE(version.step());
    auto schema_version = version.int64(0);
    version.reset();
    db.exec("PRAGMA writable_schema = ON");
    db.prepare("UPDATE sqlite_master SET sql = ? WHERE name = 'journal'").bind_all(in_list).run();
    db.exec("PRAGMA schema_version = " + std::to_string(schema_version + 1) +
            "; PRAGMA writable_schema = OFF; PRAGMA user_version = 7");
  }
  {
    Database raw(path);
    CHECK(table_sql(raw, "journal").find("status IN (") != std::string::npos);
  }
  Inventory upgraded(path);
  Database& db = upgraded.database();
  auto version = db.prepare("PRAGMA user_version");
  REQUIRE(version.step());
  CHECK(version.int64(0) == latest_schema_version());
  CHECK(table_sql(db, "journal") == old_journal);
  auto rows = db.prepare("SELECT COUNT(*) FROM volumes");
  REQUIRE(rows.step());
  CHECK(rows.int64(0) == 1);
  rows.reset();
  require_checks_hold(db);
  check_schema(db);
}

TEST_CASE("an inventory of version 8 gets each journal entry's action moved to journal_actions, unchanged",
          "[inventory]") {
  testing::TempDir dir{"farmctl-schema"};
  const std::string path = (dir.path() / "farm.db").string();
  {
    Inventory inv(path);
    Database& db = inv.database();
    back_to_version_8(db);
    db.exec(
        "INSERT INTO journal (run_id, farm, action_id, op, device, action_json, status, started_at) VALUES "
        "('r', 'web', 1, 'bind', 'sym1', '{\"id\":1}', 'done', '2026-11-22T00:00:00Z'), "
        "('r', 'web', 2, 'map', 'sym1', '{\"id\":2}', 'intent', '2026-11-22T00:00:01Z')");
  }
  Inventory upgraded(path);
  Database& db = upgraded.database();
  auto version = db.prepare("PRAGMA user_version");
  REQUIRE(version.step());
  CHECK(version.int64(0) == latest_schema_version());
  CHECK(table_sql(db, "journal").find("action_json") == std::string::npos);
  auto actions = db.prepare("SELECT entry_id, action_json FROM journal_actions ORDER BY entry_id");
  REQUIRE(actions.step());
  CHECK(actions.text(1) == "{\"id\":1}");
  REQUIRE(actions.step());
  CHECK(actions.text(1) == "{\"id\":2}");
  CHECK_FALSE(actions.step());
  actions.reset();
  std::vector<Inventory::JournalEntry> open = upgraded.open_journal_entries();
  REQUIRE(open.size() == 1);
  CHECK(open[0].action_id == 2);
  CHECK(open[0].action_json == "{\"id\":2}");
  check_schema(db);
}

}  // namespace farmctl::runtime
