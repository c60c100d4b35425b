#pragma once
// The inventory: farmctl's record of the storage estate (devices, ports,
// pools, disk units, hosts, farms, placements, bindings, zones, journal) in
// one SQLite database. This header is the only way the rest of farmctl reads
// or writes it; every write happens inside a transaction the caller opens
// with write() and bumps the generation, so a saved plan can tell it is stale.
//
// Schema and its meaning: inventory_schema.cpp, docs/design/inventory.md.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/driver.h"
#include "runtime/sqlite.h"

namespace farmctl::runtime {

using RowId = std::int64_t;

// Disk unit states (ARCHITECTURE.md). Members of a meta-volume are 'Member'.
enum class VolumeState { Free, Allocated, Configured, Bound, Mapped, Unmapped, Unbound, Unconfigured, Member };
std::string_view to_string(VolumeState s);
VolumeState volume_state_from(std::string_view s);

struct PortRow {
  RowId id = 0;
  RowId device_id = 0;
  std::string name;
  std::optional<std::string> wwn;
  std::optional<std::string> iqn;
  std::string fabric;
};

struct PoolRow {
  RowId id = 0;
  RowId device_id = 0;
  std::string name;
  std::uint64_t size_mb = 0;
  std::uint64_t used_mb = 0;  // sum of its slices
  std::string cls;
  std::optional<std::string> raid;
};

struct DeviceRow {
  RowId id = 0;
  DeviceConfig config;
  std::string model;
  std::string serial;
  std::vector<std::string> protocols;
  std::string san;
};

struct InitiatorRow {
  RowId id = 0;
  std::optional<std::string> wwn;
  std::optional<std::string> iqn;
  std::optional<RowId> fabric_id;
};

struct HostRow {
  RowId id = 0;
  std::string name;
  std::string hw;
  std::optional<RowId> gateway_id;
  std::vector<InitiatorRow> initiators;
};

struct ImageRow {
  std::string name;
  std::uint64_t size_mb = 0;
  std::optional<RowId> device_id;
};

// NPIV: the virtual WWPNs a fabric lets farmctl hand out (the wiring map's
// <npiv-range>), first..last inclusive, in WWN text form.
struct NpivRangeRow {
  RowId fabric_id = 0;
  std::string first;
  std::string last;
};

// Everything about the hardware, small enough to hold in memory whole.
struct Topology {
  std::vector<DeviceRow> devices;  // by name
  std::vector<PortRow> ports;
  std::vector<PoolRow> pools;
  std::vector<HostRow> hosts;  // by name
  std::vector<ImageRow> images;
  std::vector<NpivRangeRow> npiv_ranges;  // by fabric, then first

  const DeviceRow* device(RowId id) const;
  const DeviceRow* device_named(std::string_view name) const;
  const HostRow* host(RowId id) const;
  const HostRow* host_named(std::string_view name) const;
  const PortRow* port(RowId id) const;
  const PoolRow* pool(RowId id) const;
  const ImageRow* image(std::string_view name) const;
};

// Now, as the inventory writes times: UTC, "2026-11-22T10:23:22Z".
std::string now_utc();

struct VolumeRow {
  RowId id = 0;
  RowId device_id = 0;
  std::string device_volume;
  std::uint64_t size_mb = 0;
  std::string cls = "std";
  std::optional<std::string> raid;
  std::string origin = "precarved";  // or "slice"
  std::optional<RowId> pool_id;
  std::optional<RowId> parent_id;
  int member_order = 0;
  bool bcv = false;
  std::optional<RowId> farm_id;
  std::optional<std::string> plan_volume;
  VolumeState state = VolumeState::Free;
  std::optional<std::string> image;
  std::optional<std::string> dirty_farm;
};

struct BindingRow {
  RowId id = 0;
  RowId farm_id = 0;
  RowId volume_id = 0;
  RowId host_id = 0;
  std::string server;
  int target = 0;
  int lun = 0;
  std::string protocol;
  std::string initiator;
  RowId port_id = 0;
  std::optional<RowId> gateway_id;
  bool bound = false;
  bool mapped = false;
};

struct ZoneRow {
  RowId id = 0;
  RowId farm_id = 0;
  RowId fabric_id = 0;
  std::string initiator;
  std::string port_wwn;
};

// A virtual FC port (NPIV) a farm owns for one server on one fabric, from
// the server's first plan until it leaves the farm; host_id is the host
// that carries it (logged in), none while it is nowhere.
struct VirtualPortRow {
  std::string wwpn;
  RowId fabric_id = 0;
  RowId farm_id = 0;
  std::string server;
  std::optional<RowId> host_id;
};

struct PlacementRow {
  RowId farm_id = 0;
  std::string server;
  RowId host_id = 0;
};

struct FarmRow {
  RowId id = 0;
  std::string name;
  int revision = 0;
  std::optional<std::string> plan_json;
  std::optional<std::string> volumes_applied;  // what plan_json says of each volume (reconcile/applied_volumes.h)
};

// What the inventory holds for one farm.
struct FarmRecord {
  FarmRow farm;  // without plan_json and volumes_applied (megabytes for a large farm): see the FarmRow given
  std::vector<VolumeRow> volumes;  // heads, singles and meta members
  std::vector<BindingRow> bindings;
  std::vector<ZoneRow> zones;
  std::vector<PlacementRow> placements;
  std::vector<VirtualPortRow> virtual_ports;
};

class InventoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Inventory {
 public:
  // Opens (creating and migrating as needed). Throws InventoryError with a
  // clear message for a file that is not a database or is from a newer farmctl.
  explicit Inventory(const std::string& path);
  ~Inventory();
  const std::string& path() const { return db_.path(); }
  Database& database() { return db_; }

  // ---- reads ------------------------------------------------------------------
  Topology topology();
  std::int64_t generation();
  std::optional<FarmRow> farm(std::string_view name);
  // The same row as a plan needs it: without the stored Plan IR's text (an
  // empty string stands for it: reading 11 MB of overflow pages was a
  // tenth of a no-op plan), unless the row keeps no per-volume entries
  // (applied before schema v6), which only the IR then has.
  std::optional<FarmRow> farm_for_plan(std::string_view name);
  std::vector<FarmRow> farms();
  FarmRecord farm_record(const FarmRow& farm);
  // The device volume ids of a farm's disk units and meta members, by device
  // name: all a plan for the farm needs to see of the devices' volumes
  // (DriverSet::discover_all). Empty for a farm the inventory does not know.
  std::map<std::string, VolumeScope> farm_volume_scope(std::string_view farm);
  std::vector<RowId> placed_host_ids();
  // The free pre-carved volumes of one array and class, as the allocator
  // reads them: by size, each size in the order of the volumes' ids on the
  // device, a few at a time (a large estate has a million; a plan takes a
  // few thousand). Each is one seek in the index volumes_free.
  //   The smallest size of at least `size_mb` (or the largest below it)
  //   that the array has a free volume of; nothing when none.
  std::optional<std::uint64_t> free_volume_size_from(RowId device_id, std::string_view cls, std::uint64_t size_mb);
  std::optional<std::uint64_t> free_volume_size_below(RowId device_id, std::string_view cls, std::uint64_t size_mb);
  //   Whether any free volume of exactly this size has this RAID level
  //   (a scan of the size's entries in the index: asked once per size).
  bool has_free_volume_with_raid(RowId device_id, std::string_view cls, std::uint64_t size_mb, std::string_view raid);
  //   Up to `limit` of the free volumes of exactly this size, whole, those
  //   whose device id comes after `after` ("" for the first).
  std::vector<VolumeRow> free_volumes_of_size(RowId device_id, std::string_view cls, std::uint64_t size_mb,
                                              std::string_view after, std::size_t limit);
  std::vector<VolumeRow> all_volumes();
  std::vector<BindingRow> all_bindings();
  std::vector<ZoneRow> all_zones();
  std::vector<PlacementRow> all_placements();
  std::vector<VirtualPortRow> all_virtual_ports();
  std::optional<VolumeRow> volume(RowId id);
  std::optional<VolumeRow> volume_by_device_id(RowId device_id, std::string_view device_volume);
  std::optional<RowId> device_id(std::string_view name);
  // The id of a device's volume, from the (device_id, device_volume) index
  // alone: for the recorder, which needs no more of the row to record an
  // export or a copy.
  std::optional<RowId> volume_id(RowId device_id, std::string_view device_volume);
  std::vector<BindingRow> bindings_of_volume(RowId volume_id);
  // What the recorder asks after each export action, answered from an index
  // without reading the rows: a global disk shared by 10,000 servers has
  // 10,000 bindings, and reading them all per action made an apply quadratic.
  struct ExportSummary {
    bool any = false;          // the unit has a binding
    bool any_mapped = false;
    bool any_unmapped = false;
  };
  ExportSummary export_summary(RowId volume_id);
  std::optional<BindingRow> binding_of(RowId volume_id, RowId host_id);
  std::vector<VolumeRow> members_of(RowId head_id);
  // Array LUNs already given to an initiator through a port (any farm).
  std::vector<int> luns_in_use(RowId port_id, std::string_view initiator);

  // ---- writes (inside write()) -----------------------------------------------
  // Runs `fn` in one IMMEDIATE transaction and bumps the generation.
  template <class Fn>
  auto write(Fn&& fn) {
    Transaction tx(db_);
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      bump_generation();
      tx.commit();
    } else {
      auto result = fn();
      bump_generation();
      tx.commit();
      return result;
    }
  }

  // As write(), for work that may turn out to change nothing: `fn` returns
  // whether it changed anything, and only then is the generation bumped.
  template <class Fn>
  bool write_if_changed(Fn&& fn) {
    Transaction tx(db_);
    bool changed = fn();
    if (changed) bump_generation();
    tx.commit();
    return changed;
  }

  RowId ensure_farm(std::string_view name);
  void set_farm_plan(RowId farm_id, const std::string& plan_json, const std::string& volumes_applied);
  void delete_farm(RowId farm_id);

  void place(RowId farm_id, std::string_view server, RowId host_id);
  void unplace(RowId farm_id, std::string_view server);

  RowId insert_slice(const VolumeRow& v);  // a volume carved from a pool
  void delete_volume(RowId volume_id);
  void update_volume(const VolumeRow& v);  // every mutable column by id

  // Narrow writes of a unit the recorder knows only by id; false when there
  // is no such row. The state and updated_at, and the columns named:
  // (bind) dirty_farm; (copy) image and dirty_farm; (map) nothing else.
  // They name no indexed column: SQLite rewrites the entry of every index a
  // SET names, changed or not (five indexes on volumes, five more pages per
  // commit).
  bool set_volume_state(RowId id, VolumeState state);
  bool set_volume_state(RowId id, VolumeState state, std::string_view dirty_farm);
  bool set_volume_state(RowId id, VolumeState state, std::string_view image, std::string_view dirty_farm);
  // allocate: the unit becomes the farm's, as `plan_volume` if given (else it
  // keeps its own), in `state`; a NULL member_order becomes 0, as
  // update_volume of the row read back writes it. False when there is no such row.
  bool claim_volume(RowId id, RowId farm_id, const std::optional<std::string>& plan_volume, VolumeState state);

  // By (volume, host). A binding that differs only in bound and mapped (a
  // map after its bind) has just those two columns written, for the same
  // reason as set_volume_state's.
  void upsert_binding(const BindingRow& b);
  // New bindings (or replacing those of the same volume and host), in one
  // statement per up to 64 rows: a statement's start and finish cost more
  // than its row. At most one row per (volume, host).
  void insert_bindings(const std::vector<BindingRow>& rows);
  // Whether the unit has an export not yet mapped other than `host_id`'s:
  // what decides a unit's state after a map to that host (Bound or Mapped).
  bool has_unmapped_export_besides(RowId volume_id, RowId host_id);
  void delete_binding(RowId binding_id);
  // Every export of the unit through one array masking (hosts behind a gateway share it).
  void delete_bindings_through(RowId volume_id, std::string_view initiator);

  RowId insert_zone(const ZoneRow& z);
  void delete_zone(RowId zone_id);

  void upsert_virtual_port(const VirtualPortRow& v);  // by wwpn
  void delete_virtual_port(std::string_view wwpn);

  // Journal (docs/design/journal.md).
  void journal_outcome(RowId entry, std::string_view status, std::string_view message);
  // The intents and outcomes of one commit, in a few statements (up to 64
  // rows each) rather than one per action: each statement's start and end
  // (and, before schema v8, its CHECK's IN list, built as a temporary b-tree
  // on every run) cost more than the row.
  struct Intent {
    int action_id = 0;
    std::string_view op, device;
    std::string action_json;
  };
  // The new entries' ids, in the order of `intents`.
  std::vector<RowId> journal_intents(std::string_view run_id, std::string_view farm,
                                     const std::vector<Intent>& intents);
  struct Outcome {
    RowId entry = 0;
    std::string_view status, message;
  };
  void journal_outcomes(const std::vector<Outcome>& outcomes);
  struct JournalEntry {
    RowId id = 0;
    std::string run_id, farm, op, device, action_json, status, message;
    int action_id = 0;
  };
  std::vector<JournalEntry> open_journal_entries();

 private:
  void bump_generation();
  Statement& cached(std::string_view sql);
  Database db_;
  struct Statements;
  std::unique_ptr<Statements> stmts_;
};

// The inventory path: --db, else $FARMCTL_DB, else ./farm.db.
std::string resolve_inventory_path(const std::string& flag);

}  // namespace farmctl::runtime
