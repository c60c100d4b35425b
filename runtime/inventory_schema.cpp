// The inventory's schema and its migrations. The schema is versioned in
// PRAGMA user_version; each migration runs in its own transaction and is
// never edited once released — a change is a new migration at the end.
// docs/design/inventory.md explains the tables and the choices behind them.
#include "runtime/inventory_schema.h"

#include <array>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace farmctl::runtime {
namespace {

// Version 1: the tables of the original control database (disks/volumes with
// parent meta-volume and order, BCV, farm, state, image; ports; LUN
// bindings) plus devices, pools, hosts, initiators, farms, placements and
// the action journal.
constexpr std::string_view kVersion1 = R"SQL(
CREATE TABLE devices (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('array', 'gateway', 'fabric')),
  driver      TEXT NOT NULL,
  model       TEXT NOT NULL DEFAULT '',
  serial      TEXT NOT NULL DEFAULT '',
  protocols   TEXT NOT NULL DEFAULT '',   -- arrays: space-separated fc, iscsi, scsi
  san         TEXT NOT NULL DEFAULT '',   -- gateways: the fabric they sit on
  attributes  TEXT NOT NULL DEFAULT '{}'  -- driver-specific settings, JSON
);

CREATE TABLE ports (
  id        INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  wwn       TEXT,
  iqn       TEXT,
  fabric    TEXT NOT NULL DEFAULT '',
  type      TEXT NOT NULL DEFAULT 'front-end',
  UNIQUE (device_id, name)
);

CREATE TABLE pools (
  id        INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  name      TEXT NOT NULL,
  size_mb   INTEGER NOT NULL CHECK (size_mb > 0),
  class     TEXT NOT NULL DEFAULT 'std',
  raid      TEXT,
  UNIQUE (device_id, name)
);

CREATE TABLE images (
  name      TEXT PRIMARY KEY,
  size_mb   INTEGER NOT NULL,
  device_id INTEGER REFERENCES devices(id) ON DELETE SET NULL
);

CREATE TABLE farms (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  revision    INTEGER NOT NULL DEFAULT 0,
  plan_json   TEXT,                 -- the Plan IR last applied
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

-- Disk units. A pre-carved volume comes from the wiring map; a slice is
-- carved from a pool by allocate; a meta-volume is a head volume (which
-- keeps its id) with members pointing at it through parent_id.
CREATE TABLE volumes (
  id            INTEGER PRIMARY KEY,
  device_id     INTEGER NOT NULL REFERENCES devices(id),
  device_volume TEXT NOT NULL,
  size_mb       INTEGER NOT NULL CHECK (size_mb > 0),
  class         TEXT NOT NULL DEFAULT 'std',
  raid          TEXT,
  origin        TEXT NOT NULL CHECK (origin IN ('precarved', 'slice')),
  pool_id       INTEGER REFERENCES pools(id),
  parent_id     INTEGER REFERENCES volumes(id),
  member_order  INTEGER,
  bcv           INTEGER NOT NULL DEFAULT 0,
  farm_id       INTEGER REFERENCES farms(id),
  plan_volume   TEXT,
  state         TEXT NOT NULL DEFAULT 'Free' CHECK (state IN
                ('Free', 'Allocated', 'Configured', 'Bound', 'Mapped',
                 'Unmapped', 'Unbound', 'Unconfigured', 'Member')),
  image         TEXT,
  dirty_farm    TEXT,                 -- whose data it may hold until scrubbed
  updated_at    TEXT NOT NULL,
  UNIQUE (device_id, device_volume)
);
CREATE UNIQUE INDEX volumes_by_plan ON volumes (farm_id, plan_volume) WHERE plan_volume IS NOT NULL;
CREATE INDEX volumes_free ON volumes (device_id, class, size_mb) WHERE state = 'Free';
CREATE INDEX volumes_by_farm ON volumes (farm_id) WHERE farm_id IS NOT NULL;
CREATE INDEX volumes_by_parent ON volumes (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE hosts (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  hw         TEXT NOT NULL,
  gateway_id INTEGER REFERENCES devices(id)
);
CREATE INDEX hosts_by_hw ON hosts (hw);

CREATE TABLE initiators (
  id        INTEGER PRIMARY KEY,
  host_id   INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  wwn       TEXT UNIQUE,
  iqn       TEXT UNIQUE,
  fabric_id INTEGER REFERENCES devices(id),
  CHECK ((wwn IS NULL) <> (iqn IS NULL))
);

-- Which host runs which farm server. A host is placed at most once.
CREATE TABLE placements (
  farm_id INTEGER NOT NULL REFERENCES farms(id),
  server  TEXT NOT NULL,
  host_id INTEGER NOT NULL UNIQUE REFERENCES hosts(id),
  since   TEXT NOT NULL,
  PRIMARY KEY (farm_id, server)
);

-- A volume exported to a host: masked on the array (bound) and presented at
-- the host's target (mapped), through a gateway (scsi) or an array port
-- (fc, iscsi). lun is what the array presents; target is the farm file's.
CREATE TABLE bindings (
  id         INTEGER PRIMARY KEY,
  farm_id    INTEGER NOT NULL REFERENCES farms(id),
  volume_id  INTEGER NOT NULL REFERENCES volumes(id),
  host_id    INTEGER NOT NULL REFERENCES hosts(id),
  server     TEXT NOT NULL,
  target     INTEGER NOT NULL,
  lun        INTEGER NOT NULL,
  protocol   TEXT NOT NULL CHECK (protocol IN ('scsi', 'fc', 'iscsi')),
  initiator  TEXT NOT NULL,
  port_id    INTEGER NOT NULL REFERENCES ports(id),
  gateway_id INTEGER REFERENCES devices(id),
  bound      INTEGER NOT NULL DEFAULT 0,
  mapped     INTEGER NOT NULL DEFAULT 0,
  UNIQUE (volume_id, host_id)
);
CREATE INDEX bindings_by_farm ON bindings (farm_id);
CREATE INDEX bindings_by_port ON bindings (port_id, initiator, lun);

-- Fabric zones: an initiator zoned with an array port, for a farm.
CREATE TABLE zones (
  id        INTEGER PRIMARY KEY,
  farm_id   INTEGER NOT NULL REFERENCES farms(id),
  fabric_id INTEGER NOT NULL REFERENCES devices(id),
  initiator TEXT NOT NULL,
  port_wwn  TEXT NOT NULL,
  UNIQUE (fabric_id, initiator, port_wwn)
);

-- Every device action farmctl runs: the intent is committed before the
-- action starts, the outcome after it ends (docs/design/journal.md).
CREATE TABLE journal (
  id          INTEGER PRIMARY KEY,
  run_id      TEXT NOT NULL,
  farm        TEXT NOT NULL,
  action_id   INTEGER NOT NULL,
  op          TEXT NOT NULL,
  device      TEXT NOT NULL,
  action_json TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('intent', 'done', 'failed', 'compensated')),
  message     TEXT NOT NULL DEFAULT '',
  started_at  TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX journal_open ON journal (status) WHERE status = 'intent';

-- Bumped by every write: a saved plan records it and is refused as stale
-- when the inventory has moved on.
CREATE TABLE generation (value INTEGER NOT NULL);
INSERT INTO generation VALUES (0);
)SQL";

// Version 2: the service (farmctl serve, docs/service.md): accounts with their
// token hashes, farms the service keeps converged with every revision of
// their source, their status, work orders and the billable events closing
// them. None of it is hardware, so writing it does not bump the generation.
constexpr std::string_view kVersion2 = R"SQL(
CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  level       TEXT NOT NULL CHECK (level IN ('viewer', 'server-admin', 'customer-admin', 'provider-admin')),
  quota_mb    INTEGER CHECK (quota_mb IS NULL OR quota_mb >= 0),  -- NULL: no quota
  token_salt  TEXT NOT NULL,   -- hex; the token itself is never stored
  token_hash  TEXT NOT NULL,   -- hex BLAKE2b-256 of salt || token secret
  created_at  TEXT NOT NULL
);

-- Farms the service reconciles; their source is the newest row of
-- farm_revisions. origin says where the revisions come from (a --farms file
-- keeps its path there).
CREATE TABLE stored_farms (
  name        TEXT PRIMARY KEY,
  owner_id    INTEGER REFERENCES accounts(id),
  revision    INTEGER NOT NULL,
  origin      TEXT NOT NULL DEFAULT '',
  updated_at  TEXT NOT NULL
);

CREATE TABLE farm_revisions (
  farm          TEXT NOT NULL REFERENCES stored_farms(name) ON DELETE CASCADE,
  revision      INTEGER NOT NULL,
  fml           TEXT NOT NULL,
  origin        TEXT NOT NULL,      -- 'cli', 'api:ACCOUNT', 'dir:PATH', 'work-order:ID'
  work_order_id INTEGER,            -- the order whose edit made this revision
  created_at    TEXT NOT NULL,
  PRIMARY KEY (farm, revision)
);
-- A work order edits its farm once: never two revisions for one order.
CREATE UNIQUE INDEX farm_revisions_by_order ON farm_revisions (work_order_id) WHERE work_order_id IS NOT NULL;

-- What the reconcile loop last found, one row per stored farm.
CREATE TABLE farm_status (
  farm               TEXT PRIMARY KEY REFERENCES stored_farms(name) ON DELETE CASCADE,
  status             TEXT NOT NULL CHECK (status IN ('Ready', 'Reconciling', 'Failed')),
  reason             TEXT NOT NULL DEFAULT '',
  message            TEXT NOT NULL DEFAULT '',
  observed_revision  INTEGER NOT NULL DEFAULT 0,   -- the revision last applied in full
  failures           INTEGER NOT NULL DEFAULT 0,   -- consecutive failed reconciles
  next_attempt_at    TEXT,
  last_transition_at TEXT NOT NULL
);

-- new -> open -> closed | failed (failed -> open/new on retry, -> closed by
-- hand). farm_revision is set in the same transaction that moves an order to
-- open and stores its edit, which is what makes carrying it out idempotent.
CREATE TABLE work_orders (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),   -- the customer billed
  submitted_by  INTEGER NOT NULL REFERENCES accounts(id),
  type          TEXT NOT NULL,
  parameters    TEXT NOT NULL,       -- JSON object, as validated
  description   TEXT NOT NULL DEFAULT '',
  farm          TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('new', 'open', 'closed', 'failed')),
  farm_revision INTEGER,
  quantity      INTEGER NOT NULL DEFAULT 0,
  unit          TEXT NOT NULL DEFAULT '',
  attempts      INTEGER NOT NULL DEFAULT 0,
  reason        TEXT NOT NULL DEFAULT '',
  comment       TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL,
  opened_at     TEXT,
  finished_at   TEXT,
  updated_at    TEXT NOT NULL
);
CREATE INDEX work_orders_by_state ON work_orders (state, id);
CREATE INDEX work_orders_by_account ON work_orders (account_id, id);

-- One per closed order, never two: UNIQUE (work_order_id).
CREATE TABLE billable_events (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  work_order_id INTEGER NOT NULL UNIQUE REFERENCES work_orders(id),
  type          TEXT NOT NULL,
  quantity      INTEGER NOT NULL,
  unit          TEXT NOT NULL,
  comment       TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL
);
CREATE INDEX billable_events_by_account ON billable_events (account_id, id);
)SQL";

// Version 3: what a pool holds is summed for every plan (Inventory::topology);
// without an index that read every volume of the estate once per pool. The
// recorder asks whether a unit's exports are all mapped after each export
// action (Inventory::export_summary), by index. The
// allocator reads the free pre-carved volumes by size, then id, from the
// index alone (it covers the query: no sort, no visit to the table).
constexpr std::string_view kVersion3 = R"SQL(
CREATE INDEX volumes_by_pool ON volumes (pool_id, size_mb) WHERE pool_id IS NOT NULL;
CREATE INDEX bindings_by_volume_mapped ON bindings (volume_id, mapped);
DROP INDEX volumes_free;
CREATE INDEX volumes_free ON volumes (device_id, class, size_mb, device_volume, raid)
  WHERE state = 'Free' AND origin = 'precarved' AND bcv = 0;
)SQL";

// Version 4: backup copies (docs/backups.md). A copy is a volume row of the
// farm (so pool usage, scrubbing and the allocator see it as storage like
// any other) plus this row, which says what it is a copy of, under which
// policy and when it was taken. The planner leaves volumes with a row here
// to the backup engine; deleting the volume row (a freed slice) deletes it.
constexpr std::string_view kVersion4 = R"SQL(
CREATE TABLE backups (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: "restore --from 5" must mean one copy
  farm_id    INTEGER NOT NULL REFERENCES farms(id) ON DELETE CASCADE,
  volume_id  INTEGER NOT NULL UNIQUE REFERENCES volumes(id) ON DELETE CASCADE,
  source     TEXT NOT NULL,      -- the Plan IR id of the disk copied ('web-0/t0')
  level      INTEGER NOT NULL CHECK (level BETWEEN 0 AND 9),
  schedule   TEXT NOT NULL,      -- the policy's schedule, canonical ('nightly', 'every 15m')
  taken_at   TEXT NOT NULL,      -- UTC, 'YYYY-MM-DDTHH:MM:SSZ': sorts as it reads
  size_mb    INTEGER NOT NULL CHECK (size_mb > 0),
  manual     INTEGER NOT NULL DEFAULT 0   -- farmctl backup now, not the schedule
);
CREATE INDEX backups_by_source ON backups (farm_id, source, level, taken_at);

-- A copy restored into a new volume (farmctl restore --to-new): a volume of
-- the farm, exported to the source disk's servers at a target the farm file
-- leaves free, until it is released. The planner leaves it alone, refuses a
-- farm file that would put a disk on its target, and tears it down with the
-- farm.
CREATE TABLE restored_volumes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  farm_id     INTEGER NOT NULL REFERENCES farms(id) ON DELETE CASCADE,
  volume_id   INTEGER NOT NULL UNIQUE REFERENCES volumes(id) ON DELETE CASCADE,
  source      TEXT NOT NULL,      -- the disk the copy was of
  copy_taken_at TEXT NOT NULL,    -- when that copy was taken
  restored_at TEXT NOT NULL
);

-- A scheduled copy is billed though no work order asked for it: a billable
-- event now belongs to an order or to a copy (the copy's id, not a
-- reference: the bill outlives the copy). SQLite cannot relax NOT NULL in
-- place, so the table is rebuilt with its rows.
CREATE TABLE billable_events_v4 (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  work_order_id INTEGER UNIQUE REFERENCES work_orders(id),
  backup_id     INTEGER UNIQUE,
  type          TEXT NOT NULL,
  quantity      INTEGER NOT NULL,
  unit          TEXT NOT NULL,
  comment       TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL,
  CHECK ((work_order_id IS NULL) <> (backup_id IS NULL))
);
INSERT INTO billable_events_v4 (id, account_id, work_order_id, type, quantity, unit, comment, created_at)
  SELECT id, account_id, work_order_id, type, quantity, unit, comment, created_at FROM billable_events;
DROP TABLE billable_events;
ALTER TABLE billable_events_v4 RENAME TO billable_events;
CREATE INDEX billable_events_by_account ON billable_events (account_id, id);
)SQL";

// Version 5: NPIV (docs/design/npiv.md). A fabric's ranges of virtual WWPNs
// (wiring map), and the virtual ports farms own: one per (farm, server,
// fabric), carried by host_id (NULL: logged in nowhere).
constexpr std::string_view kVersion5 = R"SQL(
CREATE TABLE npiv_ranges (
  fabric_id INTEGER NOT NULL REFERENCES devices(id),
  first     TEXT NOT NULL,
  last      TEXT NOT NULL,
  PRIMARY KEY (fabric_id, first)
);
CREATE TABLE virtual_ports (
  wwpn      TEXT PRIMARY KEY,
  fabric_id INTEGER NOT NULL REFERENCES devices(id),
  farm_id   INTEGER NOT NULL REFERENCES farms(id) ON DELETE CASCADE,
  server    TEXT NOT NULL,
  host_id   INTEGER REFERENCES hosts(id),
  UNIQUE (farm_id, server, fabric_id)
);
)SQL";

// Version 6: what the last applied farm file said of each volume (its size
// and backup policies), next to the Plan IR it was read from, so that a plan
// of a changed file does not parse the whole stored IR
// (reconciler/applied_volumes.h). NULL for farms applied before: the planner
// then reads the IR.
constexpr std::string_view kVersion6 = R"SQL(
ALTER TABLE farms ADD COLUMN volumes_applied TEXT;
)SQL";

// Version 7: those entries move to a table of their own. Stored after the
// Plan IR in the farms row, reading them walked the IR's whole chain of
// overflow pages (11 MB at 10,000 servers, 45 ms of a 0.5 s no-op plan).
// farms.volumes_applied stays, NULL (SQLite keeps columns).
constexpr std::string_view kVersion7 = R"SQL(
CREATE TABLE farm_volumes_applied (
  farm_id INTEGER PRIMARY KEY REFERENCES farms(id) ON DELETE CASCADE,
  entries TEXT NOT NULL
);
INSERT INTO farm_volumes_applied (farm_id, entries)
  SELECT id, volumes_applied FROM farms WHERE volumes_applied IS NOT NULL;
UPDATE farms SET volumes_applied = NULL;
)SQL";

// `column IN ('a', 'b', ...)` as `(column = 'a' OR column = 'b' ...)`.
std::string without_in_lists(const std::string& table_sql) {
  static const std::regex check(R"(CHECK \((\w+) IN\s*\(([^)]*)\)\))");
  static const std::regex item(R"('[^']*')");
  std::string out;
  auto last = table_sql.cbegin();
  for (std::sregex_iterator m(table_sql.begin(), table_sql.end(), check), end; m != end; ++m) {
    out.append(last, (*m)[0].first);
    std::string column = (*m)[1], list = (*m)[2], ors;
    for (std::sregex_iterator i(list.begin(), list.end(), item); i != std::sregex_iterator(); ++i)
      ors += (ors.empty() ? "" : " OR ") + column + " = " + i->str();
    out += "CHECK (" + ors + ")";
    last = (*m)[0].second;
  }
  out.append(last, table_sql.cend());
  return out;
}

// Version 8: the same CHECK constraints, written without IN lists. SQLite
// checks `x IN ('a', 'b', ...)` by building a temporary b-tree of the list
// each time a statement runs, so every write of volumes.state,
// journal.status or bindings.protocol paid for one: about a fifth of the
// journal thread's instructions in an apply (callgrind). An OR of equalities
// accepts exactly the same values. Only the schema's text changes (SQLite's
// documented procedure for constraint changes that leave the stored rows
// alone: writable_schema and a new schema_version), not one row.
void rewrite_in_list_checks(Database& db) {
  std::vector<std::pair<std::string, std::string>> tables;
  auto rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%CHECK%IN%'");
  while (rows.step()) tables.emplace_back(rows.text(0), rows.text(1));
  rows.reset();
  auto version = db.prepare("PRAGMA schema_version");
  version.step();
  std::int64_t schema_version = version.int64(0);
  version.reset();
  db.exec("PRAGMA writable_schema = ON");
  for (const auto& [name, sql] : tables) {
    std::string rewritten = without_in_lists(sql);
    if (rewritten == sql) continue;
    db.prepare("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?").bind_all(rewritten, name).run();
  }
  db.exec("PRAGMA schema_version = " + std::to_string(schema_version + 1));
  db.exec("PRAGMA writable_schema = OFF");
}

// Version 9: each journal entry's action in a table of its own, written
// once. An entry's row is written at its intent and again at its outcome,
// and with the action's JSON in it (about 600 bytes; a few rows to a page)
// each page of the journal went to the WAL two or three times. Apart, the
// apply of bench/gen's 89,773 actions wrote 90,178 WAL pages instead of
// 118,974 (strace). The rows left are small; the actions are appended and
// never touched again.
constexpr std::string_view kVersion9 = R"SQL(
CREATE TABLE journal_actions (
  entry_id    INTEGER PRIMARY KEY REFERENCES journal(id),
  action_json TEXT NOT NULL
);
INSERT INTO journal_actions (entry_id, action_json) SELECT id, action_json FROM journal;
ALTER TABLE journal DROP COLUMN action_json;
)SQL";

template <const std::string_view& kSql>
void run_sql(Database& db) {
  db.exec(kSql);
}

// Step v takes an inventory from version v to v + 1: SQL, or code where SQL
// cannot say it (version 8).
using Migration = void (*)(Database&);
constexpr std::array<Migration, 9> kMigrations{
    run_sql<kVersion1>, run_sql<kVersion2>, run_sql<kVersion3>, run_sql<kVersion4>, run_sql<kVersion5>,
    run_sql<kVersion6>, run_sql<kVersion7>, rewrite_in_list_checks, run_sql<kVersion9>};

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

void migrate(Database& db) {
  auto version_stmt = db.prepare("PRAGMA user_version");
  version_stmt.step();
  int version = version_stmt.int32(0);
  version_stmt.reset();
  if (version > latest_schema_version())
    throw SchemaError("the inventory " + db.path() + " has schema version " + std::to_string(version) +
                      ", newer than this farmctl knows (" + std::to_string(latest_schema_version()) +
                      "): use a newer farmctl");
  for (int v = version; v < latest_schema_version(); ++v) {
    Transaction tx(db);
    kMigrations[static_cast<std::size_t>(v)](db);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
}

void drop_free_volumes_index(Database& db) { db.exec("DROP INDEX IF EXISTS volumes_free"); }

// As version 3 made it.
void create_free_volumes_index(Database& db) {
  db.exec(
      "CREATE INDEX IF NOT EXISTS volumes_free ON volumes (device_id, class, size_mb, device_volume, raid) "
      "WHERE state = 'Free' AND origin = 'precarved' AND bcv = 0");
}

void check_schema(Database& db) {
  auto check = db.prepare("PRAGMA quick_check");
  check.step();
  std::string result = check.text(0);
  check.reset();
  if (result != "ok") throw SchemaError("the inventory " + db.path() + " is corrupt: " + result);
}

}  // namespace farmctl::runtime
