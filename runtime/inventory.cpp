#include "runtime/inventory.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/inventory_schema.h"
#include "runtime/phase_timer.h"

namespace farmctl::runtime {
namespace {

constexpr std::array<std::string_view, 9> kStateNames{"Free",    "Allocated", "Configured",   "Bound", "Mapped",
                                                      "Unmapped", "Unbound",  "Unconfigured", "Member"};

}  // namespace

std::string now_utc() {
  // Formatted once per second per thread: an apply writes a time with every
  // row, tens of thousands a second.
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached_text;
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  if (t != cached_second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    cached_text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = t;
  }
  return cached_text;
}

namespace {

DeviceKind kind_from(std::string_view s) {
  if (s == "gateway") return DeviceKind::gateway;
  if (s == "fabric") return DeviceKind::fabric;
  return DeviceKind::array;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

constexpr std::string_view kVolumeColumns =
    "id, device_id, device_volume, size_mb, class, raid, origin, pool_id, parent_id, member_order, bcv, farm_id, "
    "plan_volume, state, image, dirty_farm";

VolumeRow read_volume(const Statement& s) {
  VolumeRow v;
  v.id = s.int64(0);
  v.device_id = s.int64(1);
  v.device_volume = s.text(2);
  v.size_mb = static_cast<std::uint64_t>(s.int64(3));
  v.cls = s.text(4);
  v.raid = s.optional_text(5);
  v.origin = s.text(6);
  v.pool_id = s.optional_int64(7);
  v.parent_id = s.optional_int64(8);
  v.member_order = s.is_null(9) ? 0 : s.int32(9);
  v.bcv = s.int64(10) != 0;
  v.farm_id = s.optional_int64(11);
  v.plan_volume = s.optional_text(12);
  v.state = volume_state_from(s.text_view(13));
  v.image = s.optional_text(14);
  v.dirty_farm = s.optional_text(15);
  return v;
}

constexpr std::string_view kBindingColumns =
    "id, farm_id, volume_id, host_id, server, target, lun, protocol, initiator, port_id, gateway_id, bound, mapped";

BindingRow read_binding(const Statement& s) {
  BindingRow b;
  b.id = s.int64(0);
  b.farm_id = s.int64(1);
  b.volume_id = s.int64(2);
  b.host_id = s.int64(3);
  b.server = s.text(4);
  b.target = s.int32(5);
  b.lun = s.int32(6);
  b.protocol = s.text(7);
  b.initiator = s.text(8);
  b.port_id = s.int64(9);
  b.gateway_id = s.optional_int64(10);
  b.bound = s.int64(11) != 0;
  b.mapped = s.int64(12) != 0;
  return b;
}

template <class Row, class Reader>
std::vector<Row> read_all(Statement& s, Reader reader) {
  std::vector<Row> out;
  while (s.step()) out.push_back(reader(s));
  s.reset();
  return out;
}

}  // namespace

std::string_view to_string(VolumeState s) { return kStateNames[static_cast<std::size_t>(s)]; }

VolumeState volume_state_from(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) return static_cast<VolumeState>(i);
  throw InventoryError("unknown volume state '" + std::string(s) + "' in the inventory");
}

// ---- Topology lookups --------------------------------------------------------

const DeviceRow* Topology::device(RowId id) const {
  for (const DeviceRow& d : devices)
    if (d.id == id) return &d;
  return nullptr;
}
const DeviceRow* Topology::device_named(std::string_view name) const {
  for (const DeviceRow& d : devices)
    if (d.config.name == name) return &d;
  return nullptr;
}
const HostRow* Topology::host(RowId id) const {
  auto it = std::lower_bound(hosts.begin(), hosts.end(), id, [](const HostRow& h, RowId v) { return h.id < v; });
  return it != hosts.end() && it->id == id ? &*it : nullptr;
}
const HostRow* Topology::host_named(std::string_view name) const {
  for (const HostRow& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}
const PortRow* Topology::port(RowId id) const {
  for (const PortRow& p : ports)
    if (p.id == id) return &p;
  return nullptr;
}
const PoolRow* Topology::pool(RowId id) const {
  for (const PoolRow& p : pools)
    if (p.id == id) return &p;
  return nullptr;
}
const ImageRow* Topology::image(std::string_view name) const {
  for (const ImageRow& i : images)
    if (i.name == name) return &i;
  return nullptr;
}

namespace {

// What a farm's disks were applied as (farm_volumes_applied, schema v7), as
// the last column of a farms row.
constexpr std::string_view kVolumesApplied =
    "(SELECT entries FROM farm_volumes_applied a WHERE a.farm_id = farms.id)";

// A farms row as the SELECTs of farm(), farm_for_plan() and farms() list
// its columns: id, name, revision, the Plan IR, the applied entries.
FarmRow read_farm(const Statement& s) {
  return FarmRow{s.int64(0), s.text(1), s.int32(2), s.optional_text(3), s.optional_text(4)};
}

std::optional<FarmRow> first_farm(Statement& s) {
  std::optional<FarmRow> out;
  if (s.step()) out = read_farm(s);
  s.reset();
  return out;
}

}  // namespace

// ---- Inventory ------------------------------------------------------------------

namespace {

// Intents: ?1 run id, ?2 farm, ?3 time; three per row from ?4.
constexpr int kIntentParams = 3;
std::string intents_sql(std::size_t rows) {
  std::string sql = "INSERT INTO journal (run_id, farm, action_id, op, device, status, started_at) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    int p = 4 + static_cast<int>(i) * kIntentParams;
    sql += fmt::format("{}(?1, ?2, ?{}, ?{}, ?{}, 'intent', ?3)", i > 0 ? ", " : "", p, p + 1, p + 2);
  }
  return sql;
}

// The intents' actions: entry and JSON per row from ?1.
constexpr int kActionParams = 2;
std::string actions_sql(std::size_t rows) {
  std::string sql = "INSERT INTO journal_actions (entry_id, action_json) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    int p = 1 + static_cast<int>(i) * kActionParams;
    sql += fmt::format("{}(?{}, ?{})", i > 0 ? ", " : "", p, p + 1);
  }
  return sql;
}

// Outcomes: ?1 time; entry, status and message per row from ?2. A CASE on
// the id picks each row's values: an UPDATE ... FROM (VALUES ...) cost more
// per row (it copies the list into a temporary table, then the changes into
// another) than the CASE's comparisons.
constexpr int kOutcomeParams = 3;
std::string outcomes_sql(std::size_t rows) {
  std::string status, message, ids;
  for (std::size_t i = 0; i < rows; ++i) {
    int p = 2 + static_cast<int>(i) * kOutcomeParams;
    status += fmt::format(" WHEN ?{} THEN ?{}", p, p + 1);
    message += fmt::format(" WHEN ?{} THEN ?{}", p, p + 2);
    ids += fmt::format("{}?{}", i > 0 ? ", " : "", p);
  }
  return fmt::format(
      "UPDATE journal SET status = CASE id{} END, message = CASE id{} END, finished_at = ?1 WHERE id IN ({})", status,
      message, ids);
}

// Bindings: 12 columns per row, as bind_binding binds them.
constexpr int kBindingParams = 12;
constexpr std::string_view kBindingUpsert =
    " ON CONFLICT (volume_id, host_id) DO UPDATE SET farm_id=excluded.farm_id, server=excluded.server, "
    "target=excluded.target, lun=excluded.lun, protocol=excluded.protocol, initiator=excluded.initiator, "
    "port_id=excluded.port_id, gateway_id=excluded.gateway_id, bound=excluded.bound, mapped=excluded.mapped";
std::string bindings_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO bindings (farm_id, volume_id, host_id, server, target, lun, protocol, initiator, port_id, "
      "gateway_id, bound, mapped) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    sql += i > 0 ? ", (" : "(";
    for (int k = 0; k < kBindingParams; ++k)
      sql += fmt::format("{}?{}", k > 0 ? ", " : "", 1 + static_cast<int>(i) * kBindingParams + k);
    sql += ")";
  }
  return sql + std::string(kBindingUpsert);
}

}  // namespace

// Prepared once per Inventory: the hot reads and writes of plan and apply.
struct Inventory::Statements {
  explicit Statements(Database& db)
      : generation(db.prepare("SELECT value FROM generation")),
        bump(db.prepare("UPDATE generation SET value = value + 1")),
        farm_by_name(db.prepare("SELECT id, name, revision, plan_json, " + std::string(kVolumesApplied) +
                                " FROM farms WHERE name = ?")),
        update_volume(db.prepare(
            "UPDATE volumes SET size_mb=?2, parent_id=?3, member_order=?4, farm_id=?5, plan_volume=?6, state=?7, "
            "image=?8, dirty_farm=?9, updated_at=?10 WHERE id=?1")),
        insert_slice(db.prepare(
            "INSERT INTO volumes (device_id, device_volume, size_mb, class, raid, origin, pool_id, parent_id, "
            "member_order, farm_id, plan_volume, state, image, dirty_farm, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'slice', ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
        set_binding_flags(db.prepare(
            "UPDATE bindings SET bound=?11, mapped=?12 WHERE volume_id=?2 AND host_id=?3 AND farm_id=?1 AND "
            "server=?4 AND target=?5 AND lun=?6 AND protocol=?7 AND initiator=?8 AND port_id=?9 AND "
            "gateway_id IS ?10")),
        set_state_image_dirty(
            db.prepare("UPDATE volumes SET state=?2, image=?3, dirty_farm=?4, updated_at=?5 WHERE id=?1")),
        journal_outcome(db.prepare("UPDATE journal SET status=?2, message=?3, finished_at=?4 WHERE id=?1")),
        volume_id(db.prepare("SELECT id FROM volumes WHERE device_id = ? AND device_volume = ?")),
        set_state(db.prepare("UPDATE volumes SET state=?2, updated_at=?3 WHERE id=?1")),
        set_state_dirty(db.prepare("UPDATE volumes SET state=?2, dirty_farm=?3, updated_at=?4 WHERE id=?1")),
        claim_volume(db.prepare(
            "UPDATE volumes SET farm_id=?2, plan_volume=COALESCE(?3, plan_volume), state=?4, updated_at=?5, "
            "member_order=IFNULL(member_order, 0) WHERE id=?1")),
        unmapped_besides(db.prepare(
            "SELECT EXISTS (SELECT 1 FROM bindings WHERE volume_id = ?1 AND mapped = 0 AND host_id <> ?2)")),
        intents(db, intents_sql),
        actions(db, actions_sql),
        outcomes(db, outcomes_sql),
        bindings(db, bindings_sql) {}

  Statement generation, bump, farm_by_name, update_volume, insert_slice, set_binding_flags, set_state_image_dirty,
      journal_outcome, volume_id, set_state, set_state_dirty, claim_volume, unmapped_besides;
  MultiRowWrite intents, actions, outcomes, bindings;
};

Inventory::Inventory(const std::string& path) try : db_(path) {
  migrate(db_);
  stmts_ = std::make_unique<Statements>(db_);
} catch (const SqliteError& e) {
  throw InventoryError(fmt::format("cannot use the inventory {}: {}", path, e.what()));
} catch (const SchemaError& e) {
  throw InventoryError(e.what());
}

Inventory::~Inventory() = default;

// Statements prepared once per Inventory and reused: the apply records every
// action through a few of them, tens of thousands of times.
Statement& Inventory::cached(std::string_view sql) { return db_.cached(sql); }

void Inventory::bump_generation() { stmts_->bump.run(); }

std::int64_t Inventory::generation() {
  Statement& s = stmts_->generation;
  s.step();
  std::int64_t g = s.int64(0);
  s.reset();
  return g;
}

Topology Inventory::topology() {
  Topology t;
  auto devices = db_.prepare(
      "SELECT id, name, kind, driver, model, serial, protocols, san, attributes FROM devices ORDER BY name");
  while (devices.step()) {
    DeviceRow d;
    d.id = devices.int64(0);
    d.config.name = devices.text(1);
    d.config.kind = kind_from(devices.text_view(2));
    d.config.driver = devices.text(3);
    d.model = devices.text(4);
    d.serial = devices.text(5);
    d.protocols = split_words(devices.text_view(6));
    d.san = devices.text(7);
    // A named object: range-for over parse(...).items() would read a destroyed temporary.
    auto attributes = nlohmann::json::parse(devices.text_view(8));
    for (auto& [k, v] : attributes.items()) d.config.attributes[k] = v.get<std::string>();
    t.devices.push_back(std::move(d));
  }
  auto ports = db_.prepare("SELECT id, device_id, name, wwn, iqn, fabric FROM ports ORDER BY device_id, name");
  while (ports.step())
    t.ports.push_back({ports.int64(0), ports.int64(1), ports.text(2), ports.optional_text(3), ports.optional_text(4),
                       ports.text(5)});
  auto pools = db_.prepare(
      "SELECT p.id, p.device_id, p.name, p.size_mb, p.class, p.raid, "
      "(SELECT COALESCE(SUM(size_mb), 0) FROM volumes v WHERE v.pool_id = p.id) "
      "FROM pools p ORDER BY p.device_id, p.name");
  while (pools.step())
    t.pools.push_back({pools.int64(0), pools.int64(1), pools.text(2), static_cast<std::uint64_t>(pools.int64(3)),
                       static_cast<std::uint64_t>(pools.int64(6)), pools.text(4), pools.optional_text(5)});
  auto hosts = db_.prepare("SELECT id, name, hw, gateway_id FROM hosts ORDER BY id");
  while (hosts.step()) t.hosts.push_back({hosts.int64(0), hosts.text(1), hosts.text(2), hosts.optional_int64(3), {}});
  auto initiators = db_.prepare("SELECT id, host_id, wwn, iqn, fabric_id FROM initiators ORDER BY host_id, id");
  while (initiators.step()) {
    HostRow* h = const_cast<HostRow*>(t.host(initiators.int64(1)));
    if (h != nullptr)
      h->initiators.push_back({initiators.int64(0), initiators.optional_text(2), initiators.optional_text(3),
                               initiators.optional_int64(4)});
  }
  auto images = db_.prepare("SELECT name, size_mb, device_id FROM images ORDER BY name");
  while (images.step())
    t.images.push_back({images.text(0), static_cast<std::uint64_t>(images.int64(1)), images.optional_int64(2)});
  auto ranges = db_.prepare("SELECT fabric_id, first, last FROM npiv_ranges ORDER BY fabric_id, first");
  while (ranges.step()) t.npiv_ranges.push_back({ranges.int64(0), ranges.text(1), ranges.text(2)});
  return t;
}

std::optional<FarmRow> Inventory::farm(std::string_view name) {
  Statement& s = stmts_->farm_by_name;
  s.bind(1, name);
  return first_farm(s);
}

std::optional<FarmRow> Inventory::farm_for_plan(std::string_view name) {
  // The IR's text only when the row keeps no applied entries.
  static const std::string sql = fmt::format(
      "SELECT id, name, revision, CASE WHEN plan_json IS NULL OR {0} IS NULL THEN plan_json ELSE '' END, {0} "
      "FROM farms WHERE name = ?",
      kVolumesApplied);
  Statement& s = cached(sql);
  s.bind(1, name);
  return first_farm(s);
}

std::vector<FarmRow> Inventory::farms() {
  auto s = db_.prepare(fmt::format("SELECT id, name, revision, plan_json, {} FROM farms ORDER BY name", kVolumesApplied));
  return read_all<FarmRow>(s, read_farm);
}

FarmRecord Inventory::farm_record(const FarmRow& farm) {
  PhaseTimer timer("inventory: farm record");
  FarmRecord r;
  r.farm = FarmRow{farm.id, farm.name, farm.revision, std::nullopt, std::nullopt};
  auto volumes = db_.prepare(fmt::format("SELECT {} FROM volumes WHERE farm_id = ? ORDER BY id", kVolumeColumns));
  volumes.bind(1, farm.id);
  r.volumes = read_all<VolumeRow>(volumes, read_volume);
  auto bindings = db_.prepare(fmt::format("SELECT {} FROM bindings WHERE farm_id = ? ORDER BY id", kBindingColumns));
  bindings.bind(1, farm.id);
  r.bindings = read_all<BindingRow>(bindings, read_binding);
  auto zones = db_.prepare("SELECT id, farm_id, fabric_id, initiator, port_wwn FROM zones WHERE farm_id = ? ORDER BY id");
  zones.bind(1, farm.id);
  r.zones = read_all<ZoneRow>(zones, [](const Statement& s) {
    return ZoneRow{s.int64(0), s.int64(1), s.int64(2), s.text(3), s.text(4)};
  });
  auto placements = db_.prepare("SELECT farm_id, server, host_id FROM placements WHERE farm_id = ? ORDER BY server");
  placements.bind(1, farm.id);
  r.placements = read_all<PlacementRow>(placements, [](const Statement& s) {
    return PlacementRow{s.int64(0), s.text(1), s.int64(2)};
  });
  auto vports = db_.prepare(
      "SELECT wwpn, fabric_id, farm_id, server, host_id FROM virtual_ports WHERE farm_id = ? ORDER BY wwpn");
  vports.bind(1, farm.id);
  r.virtual_ports = read_all<VirtualPortRow>(vports, [](const Statement& s) {
    return VirtualPortRow{s.text(0), s.int64(1), s.int64(2), s.text(3), s.optional_int64(4)};
  });
  return r;
}

std::map<std::string, VolumeScope> Inventory::farm_volume_scope(std::string_view farm) {
  PhaseTimer timer("inventory: discovery scope");
  auto s = db_.prepare(
      "SELECT d.name, v.device_volume FROM volumes v JOIN devices d ON d.id = v.device_id "
      "WHERE v.farm_id = (SELECT id FROM farms WHERE name = ?)");
  s.bind_all(farm);
  std::map<std::string, VolumeScope> out;
  while (s.step()) out[s.text(0)].insert(s.text(1));
  return out;
}

std::vector<RowId> Inventory::placed_host_ids() {
  auto s = db_.prepare("SELECT host_id FROM placements ORDER BY host_id");
  return read_all<RowId>(s, [](const Statement& r) { return r.int64(0); });
}

// The terms of the partial index volumes_free, which every query of free
// volumes for the allocator must repeat for SQLite to use it.
constexpr std::string_view kFreePrecarved =
    "state = 'Free' AND origin = 'precarved' AND bcv = 0 AND device_id = ? AND class = ?";

namespace {

// The size in the first row of a statement of free volume sizes, if any.
std::optional<std::uint64_t> first_size(Statement& s, RowId device_id, std::string_view cls, std::uint64_t size_mb) {
  s.bind_all(device_id, cls, size_mb);
  std::optional<std::uint64_t> size;
  if (s.step()) size = static_cast<std::uint64_t>(s.int64(0));
  s.reset();
  return size;
}

}  // namespace

std::optional<std::uint64_t> Inventory::free_volume_size_from(RowId device_id, std::string_view cls,
                                                              std::uint64_t size_mb) {
  static const std::string sql =
      fmt::format("SELECT size_mb FROM volumes WHERE {} AND size_mb >= ? ORDER BY size_mb LIMIT 1", kFreePrecarved);
  return first_size(cached(sql), device_id, cls, size_mb);
}

std::optional<std::uint64_t> Inventory::free_volume_size_below(RowId device_id, std::string_view cls,
                                                               std::uint64_t size_mb) {
  static const std::string sql = fmt::format(
      "SELECT size_mb FROM volumes WHERE {} AND size_mb < ? ORDER BY size_mb DESC LIMIT 1", kFreePrecarved);
  return first_size(cached(sql), device_id, cls, size_mb);
}

bool Inventory::has_free_volume_with_raid(RowId device_id, std::string_view cls, std::uint64_t size_mb,
                                          std::string_view raid) {
  static const std::string sql =
      fmt::format("SELECT 1 FROM volumes WHERE {} AND size_mb = ? AND raid = ? LIMIT 1", kFreePrecarved);
  Statement& s = cached(sql);
  s.bind_all(device_id, cls, size_mb, raid);
  bool found = s.step();
  s.reset();
  return found;
}

std::vector<VolumeRow> Inventory::free_volumes_of_size(RowId device_id, std::string_view cls, std::uint64_t size_mb,
                                                       std::string_view after, std::size_t limit) {
  static const std::string sql =
      fmt::format("SELECT {} FROM volumes WHERE {} AND size_mb = ? AND device_volume > ? ORDER BY device_volume "
                  "LIMIT ?",
                  kVolumeColumns, kFreePrecarved);
  Statement& s = cached(sql);
  s.bind_all(device_id, cls, size_mb, after, static_cast<std::int64_t>(limit));
  return read_all<VolumeRow>(s, read_volume);
}

std::vector<VolumeRow> Inventory::all_volumes() {
  auto s = db_.prepare(fmt::format("SELECT {} FROM volumes ORDER BY id", kVolumeColumns));
  return read_all<VolumeRow>(s, read_volume);
}

std::vector<BindingRow> Inventory::all_bindings() {
  auto s = db_.prepare(fmt::format("SELECT {} FROM bindings ORDER BY id", kBindingColumns));
  return read_all<BindingRow>(s, read_binding);
}

std::vector<ZoneRow> Inventory::all_zones() {
  auto s = db_.prepare("SELECT id, farm_id, fabric_id, initiator, port_wwn FROM zones ORDER BY id");
  return read_all<ZoneRow>(s, [](const Statement& r) {
    return ZoneRow{r.int64(0), r.int64(1), r.int64(2), r.text(3), r.text(4)};
  });
}

std::vector<PlacementRow> Inventory::all_placements() {
  auto s = db_.prepare("SELECT farm_id, server, host_id FROM placements ORDER BY farm_id, server");
  return read_all<PlacementRow>(s, [](const Statement& r) { return PlacementRow{r.int64(0), r.text(1), r.int64(2)}; });
}

std::vector<VirtualPortRow> Inventory::all_virtual_ports() {
  auto s = db_.prepare("SELECT wwpn, fabric_id, farm_id, server, host_id FROM virtual_ports ORDER BY wwpn");
  return read_all<VirtualPortRow>(s, [](const Statement& r) {
    return VirtualPortRow{r.text(0), r.int64(1), r.int64(2), r.text(3), r.optional_int64(4)};
  });
}

std::optional<VolumeRow> Inventory::volume(RowId id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM volumes WHERE id = ?", kVolumeColumns);
  Statement& s = cached(sql);
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  VolumeRow v = read_volume(s);
  s.reset();
  return v;
}

std::optional<VolumeRow> Inventory::volume_by_device_id(RowId device_id, std::string_view device_volume) {
  static const std::string sql =
      fmt::format("SELECT {} FROM volumes WHERE device_id = ? AND device_volume = ?", kVolumeColumns);
  Statement& s = cached(sql);
  s.bind_all(device_id, device_volume);
  if (!s.step()) return std::nullopt;
  VolumeRow v = read_volume(s);
  s.reset();
  return v;
}

std::optional<RowId> Inventory::volume_id(RowId device_id, std::string_view device_volume) {
  Statement& s = stmts_->volume_id;
  s.bind(1, device_id).bind_static(2, device_volume);
  std::optional<RowId> id;
  if (s.step()) id = s.int64(0);
  s.reset();
  return id;
}

std::optional<RowId> Inventory::device_id(std::string_view name) {
  Statement& s = cached("SELECT id FROM devices WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  RowId id = s.int64(0);
  s.reset();
  return id;
}

std::vector<BindingRow> Inventory::bindings_of_volume(RowId volume_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM bindings WHERE volume_id = ? ORDER BY id", kBindingColumns);
  Statement& s = cached(sql);
  s.bind(1, volume_id);
  return read_all<BindingRow>(s, read_binding);
}

Inventory::ExportSummary Inventory::export_summary(RowId volume_id) {
  // Two probes of bindings_by_volume_mapped; a binding is mapped or not, so
  // "any" is one or the other.
  Statement& s = cached(
      "SELECT EXISTS (SELECT 1 FROM bindings WHERE volume_id = ?1 AND mapped = 1), "
      "EXISTS (SELECT 1 FROM bindings WHERE volume_id = ?1 AND mapped = 0)");
  s.bind(1, volume_id);
  s.step();
  bool mapped = s.int64(0) != 0, unmapped = s.int64(1) != 0;
  ExportSummary out{mapped || unmapped, mapped, unmapped};
  s.reset();
  return out;
}

std::optional<BindingRow> Inventory::binding_of(RowId volume_id, RowId host_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM bindings WHERE volume_id = ? AND host_id = ?", kBindingColumns);
  Statement& s = cached(sql);
  s.bind_all(volume_id, host_id);
  if (!s.step()) return std::nullopt;
  BindingRow b = read_binding(s);
  s.reset();
  return b;
}

void Inventory::delete_bindings_through(RowId volume_id, std::string_view initiator) {
  cached("DELETE FROM bindings WHERE volume_id = ? AND initiator = ?").bind_all(volume_id, initiator).run();
}

std::vector<VolumeRow> Inventory::members_of(RowId head_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM volumes WHERE parent_id = ? ORDER BY member_order", kVolumeColumns);
  Statement& s = cached(sql);
  s.bind(1, head_id);
  return read_all<VolumeRow>(s, read_volume);
}

std::vector<int> Inventory::luns_in_use(RowId port_id, std::string_view initiator) {
  Statement& s = cached("SELECT DISTINCT lun FROM bindings WHERE port_id = ? AND initiator = ? ORDER BY lun");
  s.bind_all(port_id, initiator);
  return read_all<int>(s, [](const Statement& r) { return r.int32(0); });
}

RowId Inventory::ensure_farm(std::string_view name) {
  if (auto f = farm(name)) return f->id;
  auto s = db_.prepare("INSERT INTO farms (name, created_at, updated_at) VALUES (?, ?, ?)");
  std::string now = now_utc();
  s.bind_all(name, now, now);
  s.run();
  return db_.last_insert_rowid();
}

void Inventory::set_farm_plan(RowId farm_id, const std::string& plan_json, const std::string& volumes_applied) {
  auto s = db_.prepare(
      "UPDATE farms SET plan_json = ?2, revision = revision + 1, updated_at = ?3 WHERE id = ?1");
  s.bind_all(farm_id, plan_json, now_utc());
  s.run();
  db_.prepare(
         "INSERT INTO farm_volumes_applied (farm_id, entries) VALUES (?1, ?2) "
         "ON CONFLICT (farm_id) DO UPDATE SET entries = excluded.entries")
      .bind_all(farm_id, volumes_applied)
      .run();
}

void Inventory::delete_farm(RowId farm_id) {
  db_.prepare("DELETE FROM farm_volumes_applied WHERE farm_id = ?").bind_all(farm_id).run();
  auto s = db_.prepare("DELETE FROM farms WHERE id = ?");
  s.bind(1, farm_id);
  s.run();
}

void Inventory::place(RowId farm_id, std::string_view server, RowId host_id) {
  Statement& s = cached(
      "INSERT INTO placements (farm_id, server, host_id, since) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (farm_id, server) DO UPDATE SET host_id = excluded.host_id, since = excluded.since");
  s.bind_all(farm_id, server, host_id, now_utc());
  s.run();
}

void Inventory::unplace(RowId farm_id, std::string_view server) {
  Statement& s = cached("DELETE FROM placements WHERE farm_id = ? AND server = ?");
  s.bind_all(farm_id, server);
  s.run();
}

RowId Inventory::insert_slice(const VolumeRow& v) {
  Statement& s = stmts_->insert_slice;
  s.bind_all(v.device_id, v.device_volume, v.size_mb, v.cls, v.raid, v.pool_id, v.parent_id, v.member_order,
             v.farm_id, v.plan_volume, to_string(v.state), v.image, v.dirty_farm, now_utc());
  s.run();
  return db_.last_insert_rowid();
}

void Inventory::delete_volume(RowId volume_id) {
  Statement& s = cached("DELETE FROM volumes WHERE id = ?");
  s.bind(1, volume_id);
  s.run();
}

void Inventory::update_volume(const VolumeRow& v) {
  Statement& s = stmts_->update_volume;
  s.bind_all(v.id, v.size_mb, v.parent_id, v.member_order, v.farm_id, v.plan_volume, to_string(v.state), v.image,
             v.dirty_farm, now_utc());
  s.run();
}

bool Inventory::set_volume_state(RowId id, VolumeState state) {
  Statement& s = stmts_->set_state;
  s.bind(1, id).bind_static(2, to_string(state)).bind(3, now_utc());
  s.run();
  return db_.changes() > 0;
}

bool Inventory::set_volume_state(RowId id, VolumeState state, std::string_view dirty_farm) {
  Statement& s = stmts_->set_state_dirty;
  s.bind(1, id).bind_static(2, to_string(state)).bind_static(3, dirty_farm).bind(4, now_utc());
  s.run();
  return db_.changes() > 0;
}

bool Inventory::set_volume_state(RowId id, VolumeState state, std::string_view image, std::string_view dirty_farm) {
  Statement& s = stmts_->set_state_image_dirty;
  s.bind(1, id).bind_static(2, to_string(state)).bind_static(3, image).bind_static(4, dirty_farm).bind(5, now_utc());
  s.run();
  return db_.changes() > 0;
}

bool Inventory::claim_volume(RowId id, RowId farm_id, const std::optional<std::string>& plan_volume,
                             VolumeState state) {
  Statement& s = stmts_->claim_volume;
  s.bind(1, id).bind(2, farm_id).bind_static(3, plan_volume).bind_static(4, to_string(state)).bind(5, now_utc());
  s.run();
  return db_.changes() > 0;
}

namespace {

// The columns of bindings in the order of the INSERT's and the flag UPDATE's
// parameters, from ?first + 1.
void bind_binding(Statement& s, const BindingRow& b, int first = 0) {
  const int p = first;
  s.bind(p + 1, b.farm_id).bind(p + 2, b.volume_id).bind(p + 3, b.host_id).bind_static(p + 4, b.server);
  s.bind(p + 5, b.target).bind(p + 6, b.lun).bind_static(p + 7, b.protocol).bind_static(p + 8, b.initiator);
  s.bind(p + 9, b.port_id).bind(p + 10, b.gateway_id);
  s.bind(p + 11, static_cast<int>(b.bound)).bind(p + 12, static_cast<int>(b.mapped));
}

}  // namespace

void Inventory::upsert_binding(const BindingRow& b) {
  Statement& flags = stmts_->set_binding_flags;
  bind_binding(flags, b);
  flags.run();
  if (db_.changes() > 0) return;
  insert_bindings({b});
}

void Inventory::insert_bindings(const std::vector<BindingRow>& rows) {
  stmts_->bindings.run(rows.size(), [&](Statement& s, std::size_t first, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) bind_binding(s, rows[first + i], static_cast<int>(i) * kBindingParams);
  });
}

bool Inventory::has_unmapped_export_besides(RowId volume_id, RowId host_id) {
  Statement& s = stmts_->unmapped_besides;
  s.bind(1, volume_id).bind(2, host_id);
  s.step();
  bool any = s.int64(0) != 0;
  s.reset();
  return any;
}

void Inventory::delete_binding(RowId binding_id) {
  Statement& s = cached("DELETE FROM bindings WHERE id = ?");
  s.bind(1, binding_id);
  s.run();
}

RowId Inventory::insert_zone(const ZoneRow& z) {
  Statement& s = cached(
      "INSERT INTO zones (farm_id, fabric_id, initiator, port_wwn) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (fabric_id, initiator, port_wwn) DO UPDATE SET farm_id = excluded.farm_id RETURNING id");
  s.bind_all(z.farm_id, z.fabric_id, z.initiator, z.port_wwn);
  s.step();
  RowId id = s.int64(0);
  s.reset();
  return id;
}

void Inventory::delete_zone(RowId zone_id) {
  Statement& s = cached("DELETE FROM zones WHERE id = ?");
  s.bind(1, zone_id);
  s.run();
}

void Inventory::upsert_virtual_port(const VirtualPortRow& v) {
  Statement& s = cached(
      "INSERT INTO virtual_ports (wwpn, fabric_id, farm_id, server, host_id) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (wwpn) DO UPDATE SET fabric_id = excluded.fabric_id, farm_id = excluded.farm_id, "
      "server = excluded.server, host_id = excluded.host_id");
  s.bind_all(v.wwpn, v.fabric_id, v.farm_id, v.server, v.host_id);
  s.run();
}

void Inventory::delete_virtual_port(std::string_view wwpn) {
  Statement& s = cached("DELETE FROM virtual_ports WHERE wwpn = ?");
  s.bind(1, wwpn);
  s.run();
}

void Inventory::journal_outcome(RowId entry, std::string_view status, std::string_view message) {
  Statement& s = stmts_->journal_outcome;
  s.bind_all(entry, status, message, now_utc());
  s.run();
}

std::vector<RowId> Inventory::journal_intents(std::string_view run_id, std::string_view farm,
                                              const std::vector<Intent>& intents) {
  const std::string now = now_utc();
  stmts_->intents.run(intents.size(), [&](Statement& s, std::size_t first, std::size_t count) {
    s.bind_static(1, run_id).bind_static(2, farm).bind_static(3, now);
    for (std::size_t i = 0; i < count; ++i) {
      const Intent& in = intents[first + i];
      int p = 4 + static_cast<int>(i) * kIntentParams;
      s.bind(p, in.action_id).bind_static(p + 1, in.op).bind_static(p + 2, in.device);
    }
  });
  // Rows inserted one after another by one connection in a write
  // transaction take consecutive ids (each new rowid is the largest so far
  // plus one), in the order of the statements and of their VALUES.
  std::vector<RowId> ids;
  ids.reserve(intents.size());
  const RowId last = db_.last_insert_rowid();
  for (std::size_t i = 0; i < intents.size(); ++i) ids.push_back(last - static_cast<RowId>(intents.size() - 1 - i));
  stmts_->actions.run(intents.size(), [&](Statement& s, std::size_t first, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      int p = 1 + static_cast<int>(i) * kActionParams;
      s.bind(p, ids[first + i]).bind_static(p + 1, intents[first + i].action_json);
    }
  });
  return ids;
}

void Inventory::journal_outcomes(const std::vector<Outcome>& outcomes) {
  const std::string now = now_utc();
  stmts_->outcomes.run(outcomes.size(), [&](Statement& s, std::size_t first, std::size_t count) {
    s.bind_static(1, now);
    for (std::size_t i = 0; i < count; ++i) {
      const Outcome& o = outcomes[first + i];
      int p = 2 + static_cast<int>(i) * kOutcomeParams;
      s.bind(p, o.entry).bind_static(p + 1, o.status).bind_static(p + 2, o.message);
    }
  });
}

std::vector<Inventory::JournalEntry> Inventory::open_journal_entries() {
  auto s = db_.prepare(
      "SELECT id, run_id, farm, op, device, action_json, status, message, action_id FROM journal "
      "JOIN journal_actions ON entry_id = id WHERE status = 'intent' ORDER BY id");
  return read_all<JournalEntry>(s, [](const Statement& r) {
    return JournalEntry{r.int64(0), r.text(1), r.text(2), r.text(3), r.text(4),
                        r.text(5),  r.text(6), r.text(7), r.int32(8)};
  });
}

std::string resolve_inventory_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("FARMCTL_DB"); env != nullptr && *env != '\0') return env;
  return "farm.db";
}

}  // namespace farmctl::runtime
