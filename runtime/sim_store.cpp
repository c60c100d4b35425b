// The sim store: schema, declaration, discovery, transactions and the log.
// What each operation does to the devices is in sim_operations.cpp. The
// external interface is the SimStore class.
#include "runtime/sim_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "compiler/json_writer.h"
#include "runtime/sim_operations.h"

namespace farmctl::runtime {
namespace {

constexpr int kSchemaVersion = 4;

// What the operations look up per action; without these, an estate of a
// million volumes turns every allocate from a pool and every exposure check
// into a full scan. Created on every open (IF NOT EXISTS), so older stores
// get them too; so is sim_vports (NPIV: which host carries a virtual port),
// which came after schema version 1.
constexpr std::string_view kIndexes = R"SQL(
CREATE INDEX IF NOT EXISTS sim_volumes_by_pool ON sim_volumes(device, pool) WHERE pool <> '';
CREATE INDEX IF NOT EXISTS sim_volumes_by_meta ON sim_volumes(device, meta_parent) WHERE meta_parent IS NOT NULL;
CREATE INDEX IF NOT EXISTS sim_maskings_by_lun ON sim_maskings(device, initiator, port, lun);
CREATE INDEX IF NOT EXISTS sim_mappings_by_volume ON sim_mappings(array, volume);
CREATE INDEX IF NOT EXISTS sim_mappings_by_target ON sim_mappings(device, host, target, lun);
CREATE TABLE IF NOT EXISTS sim_vports(
  fabric TEXT NOT NULL,
  wwpn TEXT NOT NULL,
  host TEXT NOT NULL,
  PRIMARY KEY (fabric, wwpn));
)SQL";

// Version 2: what each pool's slices take, kept by triggers on sim_volumes
// (so that every write, tampering by tests included, keeps it right). Each
// allocate from a pool asks how much is free; summing the pool's slices for
// that made an apply of 30,000 slices quadratic.
constexpr const char* kPoolUsage = R"sql(
CREATE TABLE sim_pool_usage(
  device TEXT NOT NULL,
  pool TEXT NOT NULL,
  used_mb INTEGER NOT NULL,
  PRIMARY KEY (device, pool)) WITHOUT ROWID;
INSERT INTO sim_pool_usage(device, pool, used_mb)
  SELECT device, pool, SUM(size_mb) FROM sim_volumes WHERE pool <> '' GROUP BY device, pool;
)sql";
// The triggers that keep sim_pool_usage right. Version 4 makes them: it makes
// sim_volumes anew, and the triggers of an older store go with the old table.
constexpr const char* kPoolUsageTriggers = R"sql(
CREATE TRIGGER sim_pool_usage_insert AFTER INSERT ON sim_volumes WHEN NEW.pool <> '' BEGIN
  INSERT INTO sim_pool_usage(device, pool, used_mb) VALUES (NEW.device, NEW.pool, NEW.size_mb)
    ON CONFLICT (device, pool) DO UPDATE SET used_mb = used_mb + NEW.size_mb;
END;
CREATE TRIGGER sim_pool_usage_delete AFTER DELETE ON sim_volumes WHEN OLD.pool <> '' BEGIN
  UPDATE sim_pool_usage SET used_mb = used_mb - OLD.size_mb WHERE device = OLD.device AND pool = OLD.pool;
END;
CREATE TRIGGER sim_pool_usage_update AFTER UPDATE OF device, pool, size_mb ON sim_volumes BEGIN
  UPDATE sim_pool_usage SET used_mb = used_mb - OLD.size_mb
    WHERE OLD.pool <> '' AND device = OLD.device AND pool = OLD.pool;
  INSERT INTO sim_pool_usage(device, pool, used_mb) SELECT NEW.device, NEW.pool, NEW.size_mb WHERE NEW.pool <> ''
    ON CONFLICT (device, pool) DO UPDATE SET used_mb = used_mb + NEW.size_mb;
END;
)sql";

// Version 3: pre-carved volumes no operation has touched yet, one narrow row
// each in a table of their own (docs/design/sim-store.md). Declaring an
// estate of a million volumes wrote a million sim_volumes rows, each with its
// rowid, its key index and the pool-usage trigger: a quarter of the import.
// The first operation to look a volume up moves it to sim_volumes
// (sim_operations.cpp), so the operations see sim_volumes alone; discovery
// reads both. No foreign key to sim_devices: devices are never deleted, and
// the check per row was part of the cost. Stores of version 2 keep their
// pre-carved rows in sim_volumes, which stays right.
constexpr const char* kIdleVolumes = R"sql(
CREATE TABLE sim_idle_volumes(
  device TEXT NOT NULL,
  id TEXT NOT NULL,
  size_mb INTEGER NOT NULL,
  PRIMARY KEY (device, id)) WITHOUT ROWID;
)sql";

// The three tables discovery reads in key order, as their columns and keys.
// Versions 1 to 3 had them as rowid tables; version 4 makes them WITHOUT ROWID,
// each a B-tree clustered on its key (docs/design/sim-store.md): with a
// rowid table each row a discovery read cost a seek in the key index and
// another in the table. Pool slices have pool != ''; pre-carved volumes and
// metas have pool ''. A meta (is_meta=1) has no size of its own: it is the
// sum of its members, which point at it with meta_parent and member_order.
// data_owner is the farm whose data a volume holds (set by copy, bind and
// map; cleared by scrub).
struct ClusteredTable {
  const char* name;
  const char* definition;
};
constexpr ClusteredTable kClusteredTables[] = {
    {"sim_volumes", R"sql((
  device TEXT NOT NULL REFERENCES sim_devices(name),
  id TEXT NOT NULL,
  size_mb INTEGER NOT NULL DEFAULT 0,
  pool TEXT NOT NULL DEFAULT '',
  is_meta INTEGER NOT NULL DEFAULT 0,
  meta_parent TEXT,
  member_order INTEGER,
  image TEXT,
  data_owner TEXT,
  PRIMARY KEY (device, id)))sql"},
    {"sim_maskings", R"sql((
  device TEXT NOT NULL REFERENCES sim_devices(name),
  volume TEXT NOT NULL,
  initiator TEXT NOT NULL,
  port TEXT NOT NULL,
  lun INTEGER NOT NULL,
  PRIMARY KEY (device, volume, initiator, port)))sql"},
    {"sim_mappings", R"sql((
  device TEXT NOT NULL REFERENCES sim_devices(name),
  host TEXT NOT NULL,
  array TEXT NOT NULL,
  volume TEXT NOT NULL,
  target INTEGER NOT NULL,
  lun INTEGER NOT NULL,
  PRIMARY KEY (device, host, array, volume)))sql"},
};

// A new store makes the three tables as version 4 has them.
std::string create_clustered_tables() {
  std::string sql;
  for (const ClusteredTable& t : kClusteredTables)
    sql += fmt::format("CREATE TABLE {}{} WITHOUT ROWID;\n", t.name, t.definition);
  return sql;
}

// Version 4, for a store of version 1 to 3: each table's rows copied into
// its clustered form. The triggers of version 2 go with the old sim_volumes
// (made again by the caller), its indexes too (made again by kIndexes).
std::string cluster_tables() {
  std::string sql;
  for (const ClusteredTable& t : kClusteredTables)
    sql += fmt::format(
        "CREATE TABLE {0}_v4{1} WITHOUT ROWID;\nINSERT INTO {0}_v4 SELECT * FROM {0};\nDROP TABLE {0};\n"
        "ALTER TABLE {0}_v4 RENAME TO {0};\n",
        t.name, t.definition);
  return sql;
}

// The rest of version 1.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sim_devices(
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('array', 'gateway', 'fabric')));
CREATE TABLE IF NOT EXISTS sim_pools(
  device TEXT NOT NULL REFERENCES sim_devices(name),
  name TEXT NOT NULL,
  size_mb INTEGER NOT NULL,
  raid TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (device, name));
CREATE TABLE IF NOT EXISTS sim_zones(
  fabric TEXT NOT NULL REFERENCES sim_devices(name),
  initiator TEXT NOT NULL,
  port TEXT NOT NULL,
  PRIMARY KEY (fabric, initiator, port));
CREATE TABLE IF NOT EXISTS sim_log(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  started_us INTEGER NOT NULL,
  finished_us INTEGER NOT NULL,
  device TEXT NOT NULL,
  op TEXT NOT NULL,
  farm TEXT NOT NULL,
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL);
)sql";

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view status_name(ActionOutcome::Status status) {
  switch (status) {
    case ActionOutcome::Status::ok: return "ok";
    case ActionOutcome::Status::transient_failure: return "transient";
    case ActionOutcome::Status::permanent_failure: return "permanent";
  }
  return "?";
}

ActionOutcome::Status status_from_name(std::string_view name) {
  if (name == "transient") return ActionOutcome::Status::transient_failure;
  if (name == "permanent") return ActionOutcome::Status::permanent_failure;
  return ActionOutcome::Status::ok;
}

// The log's record of an action: the text nlohmann::json's dump() gave
// (keys in sorted order, empty fields left out), streamed, since every
// action writes one.
std::string action_json(const DeviceAction& a) {
  std::string out;
  out.reserve(160);
  json::Writer w(out, json::Writer::Layout::compact);
  auto put = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) w.field(key, value);
  };
  w.begin_object();
  put("array", a.array);
  w.field("device", a.device);
  put("farm", a.farm);
  put("host", a.host);
  put("image", a.image);
  put("initiator", a.initiator);
  if (a.level != 0) w.field("level", a.level);
  if (a.lun != -1) w.field("lun", a.lun);
  if (!a.members.empty()) w.field("members", a.members);
  w.field("op", to_string(a.op));
  put("pool", a.pool);
  put("port", a.port);
  if (a.size_mb != 0) w.field("size_mb", a.size_mb);
  put("source", a.source);
  if (a.target != -1) w.field("target", a.target);
  put("volume", a.volume);
  w.end_object();
  return out;
}

DeviceAction action_from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text);
  DeviceAction a;
  a.op = op_from_string(j.value("op", std::string())).value_or(Op::allocate);
  a.device = j.value("device", std::string());
  a.volume = j.value("volume", std::string());
  a.pool = j.value("pool", std::string());
  a.size_mb = j.value("size_mb", std::uint64_t{0});
  a.members = j.value("members", std::vector<std::string>{});
  a.image = j.value("image", std::string());
  a.initiator = j.value("initiator", std::string());
  a.port = j.value("port", std::string());
  a.host = j.value("host", std::string());
  a.array = j.value("array", std::string());
  a.lun = j.value("lun", -1);
  a.target = j.value("target", -1);
  a.farm = j.value("farm", std::string());
  a.source = j.value("source", std::string());
  a.level = j.value("level", 0);
  return a;
}

}  // namespace

SimStore::SimStore(const std::string& path) : db_(path) {
  db_.exec("PRAGMA synchronous=OFF");
  auto& version = sql("PRAGMA user_version");
  version.step();
  auto found = version.int64(0);
  version.reset();
  if (found > kSchemaVersion)
    throw DeviceError(fmt::format("sim store {} has schema version {}; this farmctl knows {} (delete the file and "
                                  "run farmctl inventory import again)",
                                  path, found, kSchemaVersion));
  if (found < kSchemaVersion) {
    Transaction tx(db_);
    if (found == 0) {
      db_.exec(kSchema);
      db_.exec(create_clustered_tables());
    }
    if (found < 2) db_.exec(kPoolUsage);
    if (found < 3) db_.exec(kIdleVolumes);
    if (found > 0 && found < 4) db_.exec(cluster_tables());
    if (found < 4) db_.exec(kPoolUsageTriggers);
    db_.exec(fmt::format("PRAGMA user_version={}", kSchemaVersion));
    tx.commit();
  }
  db_.exec(kIndexes);
}

SimStore::~SimStore() {
  try {
    sync();
  } catch (const DeviceError&) {
    // rolled back: as if the device had crashed; recovery runs the open intents again
  }
}

Statement& SimStore::sql(std::string_view text) { return db_.cached(text); }

void SimStore::declare(std::string_view device, DeviceKind kind, const DeviceState& declared) {
  sync();
  Transaction tx(db_);
  add_device(device, kind, declared);
  tx.commit();
}

void SimStore::declare_all(const std::vector<DeviceConfig>& devices,
                           const std::function<DeviceState(std::size_t)>& declared,
                           const std::function<bool()>& go_ahead) {
  sync();
  Transaction tx(db_);
  for (std::size_t i = 0; i < devices.size(); ++i) add_device(devices[i].name, devices[i].kind, declared(i));
  if (go_ahead()) tx.commit();
}

void SimStore::add_device(std::string_view device, DeviceKind kind, const DeviceState& declared) {
  auto& existing = sql("SELECT kind FROM sim_devices WHERE name = ?");
  existing.bind_all(device);
  auto stored = existing.step() ? std::optional<std::string>(existing.text(0)) : std::nullopt;
  existing.reset();
  if (stored && *stored != to_string(kind))
    throw DeviceError(fmt::format("sim device {} is declared as a {}, but the sim store {} holds it as a {}", device,
                                  to_string(kind), db_.path(), *stored));
  sql("INSERT OR IGNORE INTO sim_devices(name, kind) VALUES (?, ?)").bind_all(device, to_string(kind)).run();
  for (const auto& p : declared.pools)
    sql("INSERT OR IGNORE INTO sim_pools(device, name, size_mb, raid) VALUES (?, ?, ?, ?)")
        .bind_all(device, p.name, p.size_mb, p.raid)
        .run();
  // In the order of the (device, id) key, so that each row goes in at its end.
  std::vector<const DeviceVolume*> in_order;
  in_order.reserve(declared.volumes.size());
  for (const auto& v : declared.volumes) in_order.push_back(&v);
  auto by_id = [](const DeviceVolume* a, const DeviceVolume* b) { return a->id < b->id; };
  if (!std::is_sorted(in_order.begin(), in_order.end(), by_id))  // the import hands them over sorted
    std::sort(in_order.begin(), in_order.end(), by_id);
  // A plain pre-carved volume waits in sim_idle_volumes until an operation
  // touches it, unless it is in sim_volumes already (touched, or declared
  // by an older farmctl). Strings are bound static: they outlive the insert.
  std::vector<const DeviceVolume*> idle, other;
  for (const DeviceVolume* v : in_order) (v->pool.empty() && v->members.empty() ? idle : other).push_back(v);
  auto& any = sql("SELECT 1 FROM sim_volumes WHERE device = ? LIMIT 1");
  any.bind_all(device);
  bool touched_before = any.step();
  any.reset();
  if (!touched_before) {  // a new device, or one nothing has touched: nothing to check per volume
    BatchInsert insert(db_, "INSERT OR IGNORE INTO sim_idle_volumes(device, id, size_mb) VALUES ", "(?, ?, ?)", 3,
                       idle.size());
    for (const DeviceVolume* v : idle) {
      insert.bind_static(1, device).bind_static(2, v->id).bind(3, v->size_mb);
      insert.end_row();
    }
  } else {
    auto& insert = sql(
        "INSERT OR IGNORE INTO sim_idle_volumes(device, id, size_mb) SELECT ?1, ?2, ?3 "
        "WHERE NOT EXISTS (SELECT 1 FROM sim_volumes WHERE device = ?1 AND id = ?2)");
    for (const DeviceVolume* v : idle) insert.bind_static(1, device).bind_static(2, v->id).bind(3, v->size_mb).run();
  }
  auto& insert = sql("INSERT OR IGNORE INTO sim_volumes(device, id, size_mb, pool, is_meta) VALUES (?, ?, ?, ?, ?)");
  for (const DeviceVolume* v : other)
    insert.bind_all(device, v->id, v->members.empty() ? v->size_mb : 0, v->pool, v->members.empty() ? 0 : 1).run();
  for (const auto& v : declared.volumes)
    for (std::size_t i = 0; i < v.members.size(); ++i)
      sql("UPDATE sim_volumes SET meta_parent = ?, member_order = ? "
          "WHERE device = ? AND id = ? AND meta_parent IS NULL AND is_meta = 0")
          .bind_all(v.id, static_cast<std::int64_t>(i), device, v.members[i])
          .run();
  for (const auto& m : declared.maskings)
    sql("INSERT OR IGNORE INTO sim_maskings(device, volume, initiator, port, lun) VALUES (?, ?, ?, ?, ?)")
        .bind_all(device, m.volume, m.initiator, m.port, m.lun)
        .run();
  for (const auto& m : declared.mappings)
    sql("INSERT OR IGNORE INTO sim_mappings(device, host, array, volume, target, lun) VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(device, m.host, m.array.empty() ? std::string(device) : m.array, m.volume, m.target, m.lun)
        .run();
  for (const auto& z : declared.zones)
    sql("INSERT OR IGNORE INTO sim_zones(fabric, initiator, port) VALUES (?, ?, ?)")
        .bind_all(device, z.initiator, z.port)
        .run();
}

std::optional<DeviceState> SimStore::discover(std::string_view device, const VolumeScope* only) {
  sync();
  // One consistent snapshot of the device, read without the write lock, so
  // that a plan never waits for an apply that holds it (apply_unsynced).
  Transaction tx(db_, Transaction::Kind::read);
  auto& exists = sql("SELECT 1 FROM sim_devices WHERE name = ?");
  exists.bind_all(device);
  bool declared = exists.step();
  exists.reset();
  if (!declared) return std::nullopt;

  DeviceState state;
  state.device = std::string(device);
  auto& pools = sql("SELECT name, size_mb, raid FROM sim_pools WHERE device = ? ORDER BY name");
  pools.bind_all(device);
  while (pools.step())
    state.pools.push_back({pools.text(0), static_cast<std::uint64_t>(pools.int64(1)), pools.text(2)});

  // Metas first get their members (in order) and their size (the members' sum).
  std::vector<std::size_t> metas;
  std::vector<std::size_t> head_style;  // metas whose head is also their first member
  auto read_volume = [&](Statement& row) {
    DeviceVolume v;
    v.id = row.text(0);
    v.size_mb = static_cast<std::uint64_t>(row.int64(1));
    v.pool = row.text(2);
    v.member_of_meta = !row.text_view(4).empty();
    if (row.int64(3) != 0) metas.push_back(state.volumes.size());
    if (row.int64(3) != 0 && v.size_mb > 0) head_style.push_back(state.volumes.size());
    state.volumes.push_back(std::move(v));
  };
  auto add_member = [](DeviceVolume& meta, Statement& row) {
    meta.members.push_back(row.text(1));
    meta.size_mb += static_cast<std::uint64_t>(row.int64(2));
  };
  if (only == nullptr) {
    // A row in both tables (only tampering makes one) counts as touched.
    auto& volumes = sql(
        "SELECT id, size_mb, pool, is_meta, IFNULL(meta_parent, '') FROM sim_volumes WHERE device = ?1 "
        "UNION ALL SELECT id, size_mb, '', 0, '' FROM sim_idle_volumes i WHERE device = ?1 "
        "AND NOT EXISTS (SELECT 1 FROM sim_volumes v WHERE v.device = ?1 AND v.id = i.id) ORDER BY 1");
    volumes.bind_all(device);
    while (volumes.step()) read_volume(volumes);
    // Every member of the device at once, found by its meta's id (the only
    // index by name that discovery needs, so made only here).
    std::map<std::string_view, std::size_t> index;
    for (std::size_t i = 0; i < state.volumes.size(); ++i) index[state.volumes[i].id] = i;
    auto& members = sql(
        "SELECT meta_parent, id, size_mb FROM sim_volumes WHERE device = ? AND meta_parent IS NOT NULL "
        "ORDER BY meta_parent, member_order");
    members.bind_all(device);
    while (members.step()) {
      auto it = index.find(members.text_view(0));
      if (it == index.end()) continue;  // a member of a meta that is gone (tampered store): shown as a member only
      add_member(state.volumes[it->second], members);
    }
  } else {
    auto& idle = sql("SELECT id, size_mb, '', 0, '' FROM sim_idle_volumes WHERE device = ? AND id = ?");
    auto read_idle = [&](std::string_view id) {
      idle.bind_all(device, id);
      if (idle.step()) read_volume(idle);
      idle.reset();
    };
    // The scope is most of what the device has in use (a large farm on its
    // own array): one pass over those in id order, not a lookup per id
    // (docs/performance.md, item 91: 439 M -> 308 M instructions). Counted
    // only as far as the answer needs: a small scope on a large device does
    // not walk the device.
    std::size_t most_in_use = 2 * only->size();
    auto& in_use = sql("SELECT count(*) FROM (SELECT 1 FROM sim_volumes WHERE device = ? LIMIT ?)");
    in_use.bind_all(device, static_cast<std::int64_t>(most_in_use + 1));
    in_use.step();
    bool most = static_cast<std::size_t>(in_use.int64(0)) <= most_in_use;
    in_use.reset();
    auto& all = sql(
        "SELECT id, size_mb, pool, is_meta, IFNULL(meta_parent, '') FROM sim_volumes WHERE device = ? ORDER BY id");
    bool whole = false;  // every volume of the scope found in the pass
    if (most) {
      // Usually every one of them is in use: the rows in scope are then
      // all there is to read, already in order (sorting the scope's ids
      // was 50 M of discovery's 302 M instructions, callgrind).
      state.volumes.reserve(only->size());
      std::string id;
      all.bind_all(device);
      while (all.step()) {
        id.assign(all.text_view(0));
        if (only->count(id)) read_volume(all);
      }
      all.reset();
      whole = state.volumes.size() == only->size();
      if (!whole) {
        state.volumes.clear();
        metas.clear();
        head_style.clear();
      }
    }
    if (!whole) {
      // Some of the scope is idle or gone: in the order of its sorted ids,
      // each read from the pass (or looked up) or from the idle volumes.
      std::vector<std::string_view> ids(only->begin(), only->end());
      std::sort(ids.begin(), ids.end());
      state.volumes.reserve(ids.size());
      if (most) {
        all.bind_all(device);
        bool row = all.step();
        for (std::string_view id : ids) {
          while (row && all.text_view(0) < id) row = all.step();
          if (row && all.text_view(0) == id)
            read_volume(all);
          else
            read_idle(id);
        }
        all.reset();
      } else {
        auto& volume = sql(
            "SELECT id, size_mb, pool, is_meta, IFNULL(meta_parent, '') FROM sim_volumes WHERE device = ? AND id = ?");
        for (std::string_view id : ids) {
          volume.bind_all(device, id);
          if (volume.step())
            read_volume(volume);
          else
            read_idle(id);
          volume.reset();
        }
      }
    }
    auto& members = sql(
        "SELECT meta_parent, id, size_mb FROM sim_volumes WHERE device = ? AND meta_parent = ? ORDER BY member_order");
    for (std::size_t i : metas) {
      members.bind_all(device, state.volumes[i].id);
      while (members.step()) add_member(state.volumes[i], members);
      members.reset();
    }
  }
  for (std::size_t i : head_style) {
    auto& meta = state.volumes[i];
    meta.members.insert(meta.members.begin(), meta.id);
  }

  auto& maskings = sql(
      "SELECT volume, initiator, port, lun FROM sim_maskings WHERE device = ? ORDER BY volume, initiator, port");
  maskings.bind_all(device);
  while (maskings.step())
    state.maskings.push_back({maskings.text(0), maskings.text(1), maskings.text(2), maskings.int32(3)});

  auto& mappings = sql(
      "SELECT host, array, volume, target, lun FROM sim_mappings WHERE device = ? ORDER BY host, array, volume");
  mappings.bind_all(device);
  while (mappings.step())
    state.mappings.push_back(
        {mappings.text(0), mappings.text(1), mappings.text(2), mappings.int32(3), mappings.int32(4)});

  auto& zones = sql("SELECT initiator, port FROM sim_zones WHERE fabric = ? ORDER BY initiator, port");
  zones.bind_all(device);
  while (zones.step()) state.zones.push_back({zones.text(0), zones.text(1)});

  reset_all();
  tx.commit();
  return state;
}

// One request inside the batch's transaction: its device writes and its log
// row stand or fall together (savepoint `action`).
void SimStore::apply_one(Request& request) {
  const DeviceAction& action = *request.action;
  sql("SAVEPOINT action").run();
  try {
    if (*request.injected) {
      request.outcome = **request.injected;
    } else {
      request.outcome = apply_sim_action([this](std::string_view text) -> Statement& { return sql(text); }, action);
      reset_all();
      if (!request.outcome.ok()) sql("ROLLBACK TO action").run();
    }
    sql("INSERT INTO sim_log(started_us, finished_us, device, op, farm, action, status, message) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(request.started_us, now_us(), action.device, to_string(action.op), action.farm,
                  action_json(action), status_name(request.outcome.status), request.outcome.message)
        .run();
  } catch (const SqliteError& e) {
    undo_one();
    request.outcome = ActionOutcome::transient(fmt::format("sim store for {}: {}", action.device, e.what()));
  } catch (const std::exception& e) {  // a bug in an operation: this action fails, the batch goes on
    undo_one();
    request.outcome = ActionOutcome::permanent(e.what());
  }
  sql("RELEASE action").run();
}

void SimStore::apply_batch(const std::vector<Request*>& batch) {
  try {
    sync();
    Transaction tx(db_);
    for (Request* request : batch) apply_one(*request);
    tx.commit();
  } catch (const SqliteError& e) {  // nothing of the batch was stored: every action may be tried again
    reset_all();
    for (Request* request : batch)
      request->outcome =
          ActionOutcome::transient(fmt::format("sim store for {}: {}", request->action->device, e.what()));
  } catch (const std::exception& e) {
    reset_all();
    for (Request* request : batch) request->outcome = ActionOutcome::permanent(e.what());
  }
}

void SimStore::apply_unsynced(Request& request) {
  try {
    if (!unsynced_) unsynced_.emplace(db_);
  } catch (const SqliteError& e) {
    reset_all();
    request.outcome = ActionOutcome::transient(fmt::format("sim store for {}: {}", request.action->device, e.what()));
    return;
  }
  apply_one(request);
}

void SimStore::sync() {
  if (!unsynced_) return;
  try {
    reset_all();
    unsynced_->commit();
    unsynced_.reset();
  } catch (const SqliteError& e) {
    unsynced_.reset();  // its destructor rolls back what did not commit
    throw DeviceError(fmt::format("sim store {}: the actions run since the last sync could not be stored: {}",
                                  db_.path(), e.what()));
  }
}

// Whatever the current request wrote, log row included, is gone.
void SimStore::undo_one() {
  reset_all();
  sql("ROLLBACK TO action").run();
}

void SimStore::reset_all() {
  db_.reset_cached();
}

std::vector<SimLogEntry> SimStore::read_log() {
  sync();
  std::vector<SimLogEntry> entries;
  auto& st = sql("SELECT seq, started_us, finished_us, action, status, message FROM sim_log ORDER BY seq");
  while (st.step()) {
    SimLogEntry e;
    e.seq = st.int64(0);
    e.started_us = st.int64(1);
    e.finished_us = st.int64(2);
    e.action = action_from_json(st.text_view(3));
    e.outcome = {status_from_name(st.text_view(4)), st.text(5)};
    entries.push_back(std::move(e));
  }
  st.reset();
  return entries;
}

}  // namespace farmctl::runtime
