// Wiring-map import: compares the map with the inventory's hardware tables,
// refuses what would pull hardware from under a farm, then writes the
// difference in one transaction.
#include "runtime/wiring_import.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/inventory_schema.h"
#include "runtime/phase_timer.h"

namespace farmctl::runtime {
namespace {

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : std::string(sep)) + w;
  return out;
}

std::string attributes_json(const std::map<std::string, std::string>& attributes) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : attributes) j[k] = v;
  return j.dump();
}

class Importer {
 public:
  // `map_known`: told the whole map once the feed has closed with one, before
  // anything but devices is written; what it returns refuses the import.
  using MapKnown = std::function<std::vector<std::string>(const WiringMap&)>;
  explicit Importer(Inventory& inventory) : inv_(inventory), db_(inventory.database()) {}

  ImportReport run(DeviceFeed& feed, std::size_t expected_volumes, const MapKnown& map_known) {
    PhaseTimer timer("import: inventory transaction");
    inv_.write_if_changed([&] {
      sync_devices(feed, expected_volumes, map_known);
      PhaseTimer hosts("import: images and hosts");
      sync_images();
      sync_hosts();
      if (!report_.ok()) throw Refused();
      return report_.added + report_.changed + report_.removed > 0;
    });
    return report_;
  }

  struct Refused {};
  struct NoMap {};  // the feed closed without a map: it had errors
  ImportReport& report() { return report_; }

 private:
  // Names of the farms that use what `where` selects from volumes.
  std::string farms_using(std::string_view volume_condition, RowId id) {
    auto s = db_.prepare(fmt::format(
        "SELECT DISTINCT f.name FROM volumes v JOIN farms f ON f.id = v.farm_id WHERE {} ORDER BY f.name",
        volume_condition));
    s.bind(1, id);
    std::vector<std::string> names;
    while (s.step()) names.push_back(s.text(0));
    return join(names, ", ");
  }

  void refuse(std::string message) { report_.refusals.push_back(std::move(message)); }

  // ---- devices and what hangs off them ---------------------------------------

  // Devices as the feed hands them over (the rest of the map is still being
  // read); once it closes with the map, NPIV ranges and the devices the map
  // no longer declares.
  void sync_devices(DeviceFeed& feed, std::size_t expected_volumes, const MapKnown& map_known) {
    std::map<std::string, RowId> existing;
    auto all = db_.prepare("SELECT id, name FROM devices");
    while (all.step()) existing[all.text(1)] = all.int64(0);
    bool bulk = bulk_load(expected_volumes);
    if (bulk) drop_free_volumes_index(db_);
    // The drivers start as soon as the whole map is known (at once when it
    // was known before the import started).
    auto know_map = [&] {
      if (std::vector<std::string> refusals = map_known(*map_); !refusals.empty()) {
        report_.refusals = std::move(refusals);
        throw Refused();
      }
    };
    std::size_t done = 0;
    for (const WiredDevice* d = feed.next(); d != nullptr; d = feed.next(), ++done) {
      if (map_ == nullptr && (map_ = feed.map()) != nullptr) know_map();
      sync_device(*d, existing);
    }
    if (map_ == nullptr) {
      if ((map_ = feed.map()) == nullptr) throw NoMap();
      know_map();
    }
    for (; done < map_->devices.size(); ++done) sync_device(map_->devices[done], existing);
    // The ranges' refusals come first, as when ranges were synced before devices;
    // they still go before any device does, so that a fabric that goes takes its ranges.
    std::vector<std::string> device_refusals = std::exchange(report_.refusals, {});
    sync_npiv_ranges();
    report_.refusals.insert(report_.refusals.end(), device_refusals.begin(), device_refusals.end());
    std::set<std::string> declared;
    for (const WiredDevice& d : map_->devices) declared.insert(d.name);
    for (const auto& [name, id] : existing)
      if (!declared.count(name)) remove_device(name, id);
    if (bulk) {
      PhaseTimer timer("import: free-volume index");
      create_free_volumes_index(db_);
    }
    insert_npiv_ranges();
  }

  void sync_device(const WiredDevice& d, const std::map<std::string, RowId>& existing) {
    RowId id = upsert_device(d, existing);
    sync_ports(id, d);
    sync_pools(id, d);
    sync_volumes(id, d);
  }

  // A fabric's NPIV ranges as the map declares them. A range may go only
  // when no virtual port a farm owns lies in it (and in no range kept).
  // Runs before the devices the map no longer declares are removed, so
  // that a fabric that goes takes its ranges.
  void sync_npiv_ranges() {
    std::set<std::tuple<std::string, std::string, std::string>> declared;  // fabric, first, last
    for (const WiredDevice& d : map_->devices)
      for (const WiredNpivRange& r : d.npiv_ranges) declared.insert({d.name, r.first, r.last});
    auto covered = [&](const std::string& fabric, const std::string& wwpn) {
      for (const auto& [f, first, last] : declared)
        if (f == fabric && wwn_value(first) <= wwn_value(wwpn) && wwn_value(wwpn) <= wwn_value(last)) return true;
      return false;
    };
    auto owned = db_.prepare(
        "SELECT v.wwpn, d.name, f.name FROM virtual_ports v JOIN devices d ON d.id = v.fabric_id "
        "JOIN farms f ON f.id = v.farm_id ORDER BY v.wwpn");
    while (owned.step())
      if (!covered(owned.text(1), owned.text(0)))
        refuse(fmt::format("virtual port {} on fabric {} is owned by farm {}; keep the npiv-range that holds it "
                           "until the farm releases it",
                           owned.text(0), owned.text(1), owned.text(2)));
    std::set<std::tuple<std::string, std::string, std::string>> existing;
    auto rows = db_.prepare(
        "SELECT d.name, r.first, r.last FROM npiv_ranges r JOIN devices d ON d.id = r.fabric_id");
    while (rows.step()) existing.insert({rows.text(0), rows.text(1), rows.text(2)});
    for (const auto& [fabric, first, last] : existing) {
      if (declared.count({fabric, first, last})) continue;
      auto del = db_.prepare(
          "DELETE FROM npiv_ranges WHERE fabric_id = (SELECT id FROM devices WHERE name = ?) AND first = ?");
      del.bind_all(fabric, first);
      del.run();
      ++report_.removed;
    }
    added_ranges_.clear();
    for (const auto& key : declared)
      if (!existing.count(key)) added_ranges_.push_back(key);
  }

  // Inserted once sync_devices has given a new fabric its row.
  void insert_npiv_ranges() {
    for (const auto& [fabric, first, last] : added_ranges_) {
      auto ins = db_.prepare(
          "INSERT INTO npiv_ranges (fabric_id, first, last) VALUES ((SELECT id FROM devices WHERE name = ?), ?, ?) "
          "ON CONFLICT (fabric_id, first) DO UPDATE SET last = excluded.last");
      ins.bind_all(fabric, first, last);
      ins.run();
      ++report_.added;
    }
  }

  // Mostly new volumes, and many: a first import of a large estate.
  bool bulk_load(std::size_t wired) {
    constexpr std::size_t kBulk = 100000;
    if (wired < kBulk) return false;
    auto count = db_.prepare("SELECT count(*) FROM volumes");
    count.step();
    return static_cast<std::size_t>(count.int64(0)) < wired / 2;
  }

  RowId upsert_device(const WiredDevice& d, const std::map<std::string, RowId>& existing) {
    auto it = existing.find(d.name);
    std::string protocols = join(d.protocols, " ");
    std::string attrs = attributes_json(d.attributes);
    if (it == existing.end()) {
      auto s = db_.prepare(
          "INSERT INTO devices (name, kind, driver, model, serial, protocols, san, attributes) VALUES (?,?,?,?,?,?,?,?)");
      s.bind_all(d.name, d.kind, d.driver, d.model, d.serial, protocols, d.san, attrs);
      s.run();
      ++report_.added;
      return db_.last_insert_rowid();
    }
    auto s = db_.prepare(
        "UPDATE devices SET kind=?2, driver=?3, model=?4, serial=?5, protocols=?6, san=?7, attributes=?8 WHERE id=?1 "
        "AND (kind, driver, model, serial, protocols, san, attributes) IS NOT (?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind_all(it->second, d.kind, d.driver, d.model, d.serial, protocols, d.san, attrs);
    s.run();
    if (db_.changes() > 0) ++report_.changed;
    return it->second;
  }

  void remove_device(const std::string& name, RowId id) {
    std::string farms = farms_using("v.device_id = ?", id);
    auto other_use = db_.prepare(
        "SELECT (SELECT COUNT(*) FROM bindings WHERE gateway_id = ?1) + (SELECT COUNT(*) FROM zones WHERE fabric_id = "
        "?1) + (SELECT COUNT(*) FROM hosts WHERE gateway_id = ?1)");
    other_use.bind(1, id);
    other_use.step();
    bool used_otherwise = other_use.int64(0) > 0;
    other_use.reset();
    if (!farms.empty() || used_otherwise) {
      refuse(fmt::format("device '{}' is not in the map but is in use{}: keep it until they release it", name,
                         farms.empty() ? std::string() : " by farms " + farms));
      return;
    }
    for (std::string_view sql : {"DELETE FROM volumes WHERE device_id = ?", "DELETE FROM devices WHERE id = ?",
                                 "UPDATE images SET device_id = NULL WHERE device_id = ?"}) {
      auto s = db_.prepare(sql);
      s.bind(1, id);
      s.run();
    }
    ++report_.removed;
  }

  void sync_ports(RowId device_id, const WiredDevice& d) {
    std::map<std::string, RowId> existing;
    auto all = db_.prepare("SELECT id, name FROM ports WHERE device_id = ?");
    all.bind(1, device_id);
    while (all.step()) existing[all.text(1)] = all.int64(0);
    std::set<std::string> declared;
    for (const WiredPort& p : d.ports) {
      declared.insert(p.id);
      if (existing.count(p.id)) {
        auto s = db_.prepare(
            "UPDATE ports SET wwn=?2, iqn=?3, fabric=?4, type=?5 WHERE id=?1 AND (wwn, iqn, fabric, type) IS NOT "
            "(?2, ?3, ?4, ?5)");
        s.bind_all(existing[p.id], p.wwn, p.iqn, p.san, p.type);
        s.run();
        if (db_.changes() > 0) ++report_.changed;
      } else {
        auto s = db_.prepare("INSERT INTO ports (device_id, name, wwn, iqn, fabric, type) VALUES (?,?,?,?,?,?)");
        s.bind_all(device_id, p.id, p.wwn, p.iqn, p.san, p.type);
        s.run();
        ++report_.added;
      }
    }
    for (const auto& [name, id] : existing) {
      if (declared.count(name)) continue;
      auto used = db_.prepare("SELECT COUNT(*) FROM bindings WHERE port_id = ?");
      used.bind(1, id);
      used.step();
      bool in_use = used.int64(0) > 0;
      used.reset();
      if (in_use) {
        refuse(fmt::format("port '{}' of array '{}' is not in the map but volumes are bound through it", name, d.name));
        continue;
      }
      auto s = db_.prepare("DELETE FROM ports WHERE id = ?");
      s.bind(1, id);
      s.run();
      ++report_.removed;
    }
  }

  void sync_pools(RowId device_id, const WiredDevice& d) {
    std::map<std::string, RowId> existing;
    auto all = db_.prepare("SELECT id, name FROM pools WHERE device_id = ?");
    all.bind(1, device_id);
    while (all.step()) existing[all.text(1)] = all.int64(0);
    std::set<std::string> declared;
    for (const WiredPool& p : d.pools) {
      declared.insert(p.name);
      if (existing.count(p.name)) {
        RowId id = existing[p.name];
        auto used = db_.prepare("SELECT COALESCE(SUM(size_mb), 0) FROM volumes WHERE pool_id = ?");
        used.bind(1, id);
        used.step();
        auto used_mb = static_cast<std::uint64_t>(used.int64(0));
        used.reset();
        if (p.size_mb < used_mb) {
          refuse(fmt::format("pool '{}' of array '{}' would shrink to {} MB but {} MB of it are in use", p.name,
                             d.name, p.size_mb, used_mb));
          continue;
        }
        auto s = db_.prepare(
            "UPDATE pools SET size_mb=?2, class=?3, raid=?4 WHERE id=?1 AND (size_mb, class, raid) IS NOT (?2, ?3, ?4)");
        s.bind_all(id, p.size_mb, p.cls, p.raid);
        s.run();
        if (db_.changes() > 0) ++report_.changed;
      } else {
        auto s = db_.prepare("INSERT INTO pools (device_id, name, size_mb, class, raid) VALUES (?,?,?,?,?)");
        s.bind_all(device_id, p.name, p.size_mb, p.cls, p.raid);
        s.run();
        ++report_.added;
      }
    }
    for (const auto& [name, id] : existing) {
      if (declared.count(name)) continue;
      std::string farms = farms_using("v.pool_id = ?", id);
      auto slices = db_.prepare("SELECT COUNT(*) FROM volumes WHERE pool_id = ?");
      slices.bind(1, id);
      slices.step();
      bool has_slices = slices.int64(0) > 0;
      slices.reset();
      if (has_slices) {
        refuse(fmt::format("pool '{}' of array '{}' is not in the map but still holds volumes{}", name, d.name,
                           farms.empty() ? std::string() : " of farms " + farms));
        continue;
      }
      auto s = db_.prepare("DELETE FROM pools WHERE id = ?");
      s.bind(1, id);
      s.run();
      ++report_.removed;
    }
  }

  void sync_volumes(RowId device_id, const WiredDevice& d) {
    struct Existing {
      RowId id;
      std::uint64_t size_mb;
      std::string cls;
      std::optional<std::string> raid;
      bool bcv;
      bool in_use;
    };
    std::map<std::string, Existing> existing;
    auto all = db_.prepare(
        "SELECT id, device_volume, size_mb, class, raid, bcv, farm_id IS NOT NULL OR parent_id IS NOT NULL "
        "FROM volumes WHERE device_id = ? AND origin = 'precarved'");
    all.bind(1, device_id);
    while (all.step())
      existing[all.text(1)] = {all.int64(0), static_cast<std::uint64_t>(all.int64(2)), all.text(3),
                               all.optional_text(4), all.int64(5) != 0, all.int64(6) != 0};
    // In the order of the (device, id) index, so that each row goes in at its end.
    std::vector<const WiredVolume*> in_order;
    in_order.reserve(d.volumes.size());
    if (d.volumes_by_id.size() == d.volumes.size()) {  // sorted by the parse
      for (std::uint32_t i : d.volumes_by_id) in_order.push_back(&d.volumes[i]);
    } else {
      for (const WiredVolume& v : d.volumes) in_order.push_back(&v);
      std::sort(in_order.begin(), in_order.end(),
                [](const WiredVolume* a, const WiredVolume* b) { return a->id < b->id; });
    }
    std::vector<const WiredVolume*> fresh;
    fresh.reserve(existing.empty() ? in_order.size() : 0);
    for (const WiredVolume* wired : in_order) {
      const WiredVolume& v = *wired;
      auto it = existing.empty() ? existing.end() : existing.find(v.id);
      if (it == existing.end()) {
        fresh.push_back(wired);
        continue;
      }
      const Existing& e = it->second;
      if (e.size_mb == v.size_mb && e.cls == v.cls && e.raid == v.raid && e.bcv == v.bcv) continue;
      if (e.in_use) {
        refuse(fmt::format("volume '{}' of array '{}' is in use{}: its size, type or raid cannot change", v.id, d.name,
                           farms_suffix(e.id)));
        continue;
      }
      auto s = db_.prepare("UPDATE volumes SET size_mb=?2, class=?3, raid=?4, bcv=?5 WHERE id=?1");
      s.bind_all(e.id, v.size_mb, v.cls, v.raid, static_cast<int>(v.bcv));
      s.run();
      ++report_.changed;
    }
    // The map's strings outlive the insert, so SQLite need not copy them.
    std::string now = now_utc();
    {
      UncheckedInserts unchecked(db_, fresh);
      BatchInsert insert(db_,
                         "INSERT INTO volumes (device_id, device_volume, size_mb, class, raid, origin, bcv, state, "
                         "updated_at) VALUES ",
                         "(?, ?, ?, ?, ?, 'precarved', ?, 'Free', ?)", 7, fresh.size());
      for (const WiredVolume* v : fresh) {
        insert.bind(1, device_id).bind_static(2, v->id).bind(3, v->size_mb).bind_static(4, v->cls);
        insert.bind_static(5, v->raid).bind(6, static_cast<int>(v->bcv)).bind_static(7, now);
        insert.end_row();
      }
    }
    report_.added += static_cast<int>(fresh.size());
    // in_order is sorted by id: whether the map still declares a volume is a
    // binary search, not a set of a million names built for the purpose.
    auto declared = [&](const std::string& name) {
      auto at = std::lower_bound(in_order.begin(), in_order.end(), name,
                                 [](const WiredVolume* v, const std::string& n) { return v->id < n; });
      return at != in_order.end() && (*at)->id == name;
    };
    for (const auto& [name, e] : existing) {
      if (declared(name)) continue;
      if (e.in_use) {
        refuse(fmt::format("volume '{}' of array '{}' is not in the map but is in use{}", name, d.name,
                           farms_suffix(e.id)));
        continue;
      }
      auto s = db_.prepare("DELETE FROM volumes WHERE id = ?");
      s.bind(1, e.id);
      s.run();
      ++report_.removed;
    }
  }

  // The volumes table's CHECKs are size_mb > 0, and origin and state each
  // one of a list: written as IN lists (schema versions before 8), SQLite
  // rebuilt the list's lookup table for every row it checked, 15 % of the
  // inventory's part of a large import; version 8 writes them as ORs. These
  // rows are 'precarved' and 'Free' by construction, so when every size is
  // above zero they go in without the CHECKs (SQLite leaves them out of
  // statements prepared while the pragma is on, and re-prepares every
  // statement when it is turned off: so it stays on until the rows are in).
  // A size of zero keeps them, so that SQLite refuses the row as before.
  class UncheckedInserts {
   public:
    UncheckedInserts(Database& db, const std::vector<const WiredVolume*>& fresh)
        : db_(db), on_(!fresh.empty() && std::all_of(fresh.begin(), fresh.end(),
                                                      [](const WiredVolume* v) { return v->size_mb > 0; })) {
      if (on_) db_.exec("PRAGMA ignore_check_constraints = ON");
    }
    ~UncheckedInserts() {
      try {
        if (on_) db_.exec("PRAGMA ignore_check_constraints = OFF");
      } catch (const SqliteError&) {  // the connection is failing; the transaction will not commit
      }
    }
    UncheckedInserts(const UncheckedInserts&) = delete;
    UncheckedInserts& operator=(const UncheckedInserts&) = delete;

   private:
    Database& db_;
    bool on_;
  };

  std::string farms_suffix(RowId volume_id) {
    std::string farms = farms_using("v.id = ? OR v.id = (SELECT parent_id FROM volumes WHERE id = ?1)", volume_id);
    return farms.empty() ? std::string() : " by farms " + farms;
  }

  // ---- images and hosts -------------------------------------------------------

  void sync_images() {
    std::set<std::string> declared;
    for (const WiredImage& i : map_->images) {
      declared.insert(i.name);
      auto s = db_.prepare(
          "INSERT INTO images (name, size_mb, device_id) VALUES (?1, ?2, (SELECT id FROM devices WHERE name = ?3)) "
          "ON CONFLICT (name) DO UPDATE SET size_mb = excluded.size_mb, device_id = excluded.device_id "
          "WHERE (size_mb, device_id) IS NOT (excluded.size_mb, excluded.device_id)");
      s.bind_all(i.name, i.size_mb, i.array);
      s.run();
      if (db_.changes() > 0) ++report_.changed;
    }
    auto all = db_.prepare("SELECT name FROM images");
    std::vector<std::string> stale;
    while (all.step())
      if (!declared.count(all.text(0))) stale.push_back(all.text(0));
    for (const std::string& name : stale) {
      auto s = db_.prepare("DELETE FROM images WHERE name = ?");
      s.bind(1, name);
      s.run();
      ++report_.removed;
    }
  }

  void sync_hosts() {
    std::map<std::string, RowId> existing;
    auto all = db_.prepare("SELECT id, name FROM hosts");
    while (all.step()) existing[all.text(1)] = all.int64(0);
    std::set<std::string> declared;
    for (const WiredHost& h : map_->hosts) {
      declared.insert(h.name);
      RowId id = upsert_host(h, existing);
      sync_initiators(id, h, !existing.count(h.name));
    }
    for (const auto& [name, id] : existing) {
      if (declared.count(name)) continue;
      auto placed = db_.prepare(
          "SELECT f.name, p.server FROM placements p JOIN farms f ON f.id = p.farm_id WHERE p.host_id = ?");
      placed.bind(1, id);
      if (placed.step()) {
        refuse(fmt::format("host '{}' is not in the map but runs server {} of farm {}", name, placed.text(1),
                           placed.text(0)));
        continue;
      }
      auto s = db_.prepare("DELETE FROM hosts WHERE id = ?");
      s.bind(1, id);
      s.run();
      ++report_.removed;
    }
  }

  RowId upsert_host(const WiredHost& h, const std::map<std::string, RowId>& existing) {
    auto it = existing.find(h.name);
    std::optional<std::string> gateway = h.gateway.empty() ? std::nullopt : std::optional(h.gateway);
    if (it == existing.end()) {
      auto& s = db_.cached(
          "INSERT INTO hosts (name, hw, gateway_id) VALUES (?1, ?2, (SELECT id FROM devices WHERE name = ?3))");
      s.bind_all(h.name, h.hw, gateway);
      s.run();
      ++report_.added;
      return db_.last_insert_rowid();
    }
    auto& s = db_.cached(
        "UPDATE hosts SET hw=?2, gateway_id=(SELECT id FROM devices WHERE name = ?3) WHERE id=?1 AND "
        "(hw, gateway_id) IS NOT (?2, (SELECT id FROM devices WHERE name = ?3))");
    s.bind_all(it->second, h.hw, gateway);
    s.run();
    if (db_.changes() > 0) ++report_.changed;
    return it->second;
  }

  // `new_host`: the host's row was just made, so it has no initiators yet.
  // Their table has no index by host: asking anyway read all of it once per
  // host, quadratic in a first import of 10,000 hosts.
  void sync_initiators(RowId host_id, const WiredHost& h, bool new_host) {
    std::set<std::string> existing;
    if (!new_host) {
      auto& all = db_.cached("SELECT COALESCE(wwn, iqn) FROM initiators WHERE host_id = ?");
      all.bind(1, host_id);
      while (all.step()) existing.insert(all.text(0));
    }
    std::set<std::string> declared;
    for (const WiredInitiator& i : h.initiators) {
      std::string key = i.wwn.value_or(i.iqn.value_or(""));
      declared.insert(key);
      std::optional<std::string> fabric = i.fabric.empty() ? std::nullopt : std::optional(i.fabric);
      auto& s = db_.cached(
          "INSERT INTO initiators (host_id, wwn, iqn, fabric_id) VALUES (?1, ?2, ?3, (SELECT id FROM devices WHERE "
          "name = ?4)) ON CONFLICT DO UPDATE SET host_id = excluded.host_id, fabric_id = excluded.fabric_id "
          "WHERE (host_id, fabric_id) IS NOT (excluded.host_id, excluded.fabric_id)");
      s.bind_all(host_id, i.wwn, i.iqn, fabric);
      s.run();
      if (db_.changes() > 0) existing.count(key) ? ++report_.changed : ++report_.added;
    }
    for (const std::string& key : existing) {
      if (declared.count(key)) continue;
      auto& s = db_.cached("DELETE FROM initiators WHERE host_id = ? AND COALESCE(wwn, iqn) = ?");
      s.bind_all(host_id, key);
      s.run();
      ++report_.removed;
    }
  }

  Inventory& inv_;
  Database& db_;
  const WiringMap* map_ = nullptr;  // once the feed has closed
  ImportReport report_;
  std::vector<std::tuple<std::string, std::string, std::string>> added_ranges_;  // fabric, first, last
};

DeviceConfig device_config(const WiredDevice& d) {
  DeviceConfig config{d.name, d.kind == "gateway" ? DeviceKind::gateway
                              : d.kind == "fabric" ? DeviceKind::fabric
                                                   : DeviceKind::array,
                      d.driver, d.attributes};
  for (const WiredPort& p : d.ports) config.ports.push_back({p.id, p.wwn.value_or(""), p.iqn.value_or("")});
  return config;
}

DeviceState declared_state(const WiredDevice& d) {
  DeviceState s;
  s.device = d.name;
  for (const WiredPool& p : d.pools) s.pools.push_back({p.name, p.size_mb, p.raid.value_or("")});
  s.volumes.reserve(d.volumes.size());
  // In the order of their ids, as the parse sorted them: the sim stores them
  // in that order and need not sort a million names again.
  auto add = [&](const WiredVolume& v) { s.volumes.push_back({v.id, v.size_mb, "", {}, false, ""}); };
  if (d.volumes_by_id.size() == d.volumes.size())
    for (std::uint32_t i : d.volumes_by_id) add(d.volumes[i]);
  else
    for (const WiredVolume& v : d.volumes) add(v);
  return s;
}

// Each driver declares its devices on a thread of its own while the
// inventory transaction runs (the sim's million volumes were a tenth of the
// import after it), and keeps them uncommitted until the import's outcome is
// known: a refused import leaves the devices as they were.
class Declaring {
 public:
  explicit Declaring(const DriverContext& context) : context_(context), imported_(outcome_.get_future().share()) {}

  // Makes the map's drivers and starts them; what could not be made refuses the import.
  std::vector<std::string> start(const WiringMap& map) {
    std::vector<std::string> refusals;
    for (const WiredDevice& d : map.devices) {
      if (drivers_.count(d.driver)) continue;
      try {
        drivers_[d.driver] = make_driver(d.driver, context_);
      } catch (const DeviceError& e) {
        refusals.push_back(fmt::format("device '{}': {}", d.name, e.what()));
      }
    }
    if (!refusals.empty()) return refusals;
    for (auto& [family, driver] : drivers_) {
      std::vector<const WiredDevice*> wired;
      std::vector<DeviceConfig> configs;
      for (const WiredDevice& d : map.devices)
        if (d.driver == family) {
          wired.push_back(&d);
          configs.push_back(device_config(d));
        }
      declaring_.push_back(std::async(std::launch::async, [&driver, imported = imported_, wired = std::move(wired),
                                                           configs = std::move(configs)] {
        PhaseTimer timer("import: drivers declare, until the outcome");
        driver->declare_all(
            configs, [&](std::size_t i) { return declared_state(*wired[i]); }, [&] { return imported.get(); });
      }));
    }
    return refusals;
  }

  // Tells the drivers whether the inventory took the map, and waits for them.
  void settle(bool ok) {
    if (settled_) return;
    settled_ = true;
    outcome_.set_value(ok);
    for (auto& d : declaring_) d.wait();
  }
  void rethrow() {
    for (auto& d : declaring_) d.get();  // a driver's failure, after the inventory took the map (as before)
  }
  ~Declaring() { settle(false); }

 private:
  const DriverContext& context_;
  std::map<std::string, std::unique_ptr<Driver>> drivers_;
  std::promise<bool> outcome_;
  std::shared_future<bool> imported_;
  std::vector<std::future<void>> declaring_;
  bool settled_ = false;
};

}  // namespace

void DeviceFeed::add(const WiredDevice& device) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(&device);
  }
  changed_.notify_one();
}

void DeviceFeed::close(const WiringMap* map) {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    map_ = map;
  }
  changed_.notify_one();
}

const WiredDevice* DeviceFeed::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return closed_ || !waiting_.empty(); });
  if (waiting_.empty()) return nullptr;
  const WiredDevice* d = waiting_.front();
  waiting_.pop_front();
  return d;
}

const WiringMap* DeviceFeed::map() {
  std::lock_guard lock(mutex_);
  return map_;
}

ImportReport import_wiring_map(Inventory& inventory, DeviceFeed& feed, const DriverContext& context,
                               std::size_t expected_volumes) {
  Declaring declaring(context);
  Importer importer(inventory);
  ImportReport report;
  try {
    report = importer.run(feed, expected_volumes, [&](const WiringMap& map) { return declaring.start(map); });
  } catch (const Importer::Refused&) {
    declaring.settle(false);
    return importer.report();
  } catch (const Importer::NoMap&) {
    declaring.settle(false);
    report.refusals.push_back("the wiring map has errors");
    return report;
  } catch (...) {
    declaring.settle(false);
    throw;
  }
  declaring.settle(true);
  declaring.rethrow();
  return report;
}

ImportReport import_wiring_map(Inventory& inventory, const WiringMap& map, const DriverContext& context) {
  DeviceFeed feed;
  std::size_t volumes = 0;
  for (const WiredDevice& d : map.devices) {
    feed.add(d);
    volumes += d.volumes.size();
  }
  feed.close(&map);
  return import_wiring_map(inventory, feed, context, volumes);
}

}  // namespace farmctl::runtime
