#pragma once
// The driver interface: the one way farmctl touches a storage device. A driver
// serves a device family (sim, tgt) and every device of that family in the
// wiring map: disk arrays, SAN gateways, fibre-channel fabrics.
//
// Every operation is one DeviceAction, fully described by value, so that it
// can be journalled before it runs and asked about after a crash. Every
// operation is idempotent: running an action whose effect is already there
// succeeds and changes nothing (allocate of an existing id, bind of an
// existing masking, scrub of a clean volume, deallocate of a missing one...).
// See docs/drivers.md and docs/design/driver-interface.md.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace farmctl::runtime {

enum class Op {
  allocate,    // array: create volume `volume` of size_mb (from `pool`, or claim a pre-carved one)
  meta,        // array: make meta-volume `volume` concatenating `members` (or add members: grow a meta)
  grow,        // array: extend volume `volume` to size_mb (a pool slice grows in place)
  copy,        // array: write master image `image` onto `volume`
  bind,        // array: mask `volume` to `initiator` through `port` at `lun`
  map,         // gateway (scsi) or array (fc/iscsi): present `volume` of `array` to `host` at `target`/`lun`
  zone,        // fabric: zone `initiator` with array port `port`
  unmap,
  unbind,      // also closes the initiator's open sessions to that volume's target
  unzone,
  scrub,       // array: overwrite `volume` with zeros
  break_meta,  // array: dissolve meta-volume `volume` back into its members
  deallocate,  // array: return `volume` to free storage (a pool slice ceases to exist)
  // Backups (docs/backups.md). Both run on the array holding both volumes.
  snap,     // array: point-in-time copy of `source` into backup volume `volume`, carved from `pool`
            // (size_mb) when it does not exist yet; `level` > 0 may share unchanged blocks
  restore,  // array: `volume` becomes a copy of backup `source`; refused while `volume` is mapped
  vport,       // fabric: NPIV, place virtual port `initiator` on host `host` (empty `host`: log it out)
};

std::string_view to_string(Op op);         // "allocate", ..., "break", "deallocate"
std::optional<Op> op_from_string(std::string_view name);
// The action that undoes `op` (allocate<->deallocate, meta<->break, bind<->unbind,
// map<->unmap, zone<->unzone, copy->scrub); grow has none (a grow is never undone).
// vport is its own inverse (the port placed back where it was: rollback.cpp).
std::optional<Op> compensation_of(Op op);

struct DeviceAction {
  Op op = Op::allocate;
  std::string device;  // the array, gateway or fabric this runs on
  std::string volume;  // device-side volume id
  std::string pool;
  std::uint64_t size_mb = 0;
  std::vector<std::string> members;  // meta: member volume ids, in order
  std::string image;
  std::string initiator;  // WWN or IQN
  std::string port;       // array front-end port id (bind), or its WWN (zone)
  std::string host;       // map at a gateway: the host's name
  std::string array;      // map at a gateway: the array holding `volume`
  int lun = -1;
  int target = -1;
  std::string farm;  // the farm on whose behalf this runs (logged; lets the sim check exposure)
  std::string source;  // snap: the volume copied; restore: the backup copied back
  int level = 0;       // snap: the policy's level (0 a full copy)
};

struct ActionOutcome {
  enum class Status { ok, transient_failure, permanent_failure };
  Status status = Status::ok;
  std::string message;  // the device's words, for the operator
  bool ok() const { return status == Status::ok; }
  static ActionOutcome success() { return {}; }
  static ActionOutcome transient(std::string m) { return {Status::transient_failure, std::move(m)}; }
  static ActionOutcome permanent(std::string m) { return {Status::permanent_failure, std::move(m)}; }
};

// ---- discovery: what a device really holds, in the inventory's terms --------
//
// In the terms of the original storage delivery service's adapters: a
// DeviceState is one storage system (`system`) with its pools, its storage
// nodes (`volumes`), its target ports and the initiator ports it knows, and
// its assignments (`maskings`: LUN masking); bind/unbind assign and unassign
// storage. A storage node's vendor-neutral name, VENDOR__MODEL__SERIAL__DEVICEID,
// comes from the family's translation file (storage_node_id.h).

// The storage system as it names itself (empty for gateways and fabrics).
struct StorageSystem {
  std::string vendor;
  std::string model;
  std::string serial;
};

// A port through which the device presents storage.
struct DeviceTargetPort {
  std::string id;
  std::string wwn;  // fibre channel
  std::string iqn;  // iSCSI: the port's name (tgt: the prefix of its targets' names)
};

struct DeviceVolume {
  std::string id;
  std::uint64_t size_mb = 0;
  std::string pool;                  // empty: pre-carved
  std::vector<std::string> members;  // non-empty: a meta-volume
  bool member_of_meta = false;
  std::string serial = {};  // the unit serial number hosts read (tgt: the LUNs' SCSI SN); empty: none reported
};

struct DeviceMasking {  // array side
  std::string volume;
  std::string initiator;
  std::string port;
  int lun = -1;
};

struct DeviceMapping {  // gateway or array side
  std::string host;
  std::string array;
  std::string volume;
  int target = -1;
  int lun = -1;
};

struct DeviceZone {  // fabric side
  std::string initiator;
  std::string port;
};

struct DevicePool {
  std::string name;
  std::uint64_t size_mb = 0;
  std::string raid;
};

struct DeviceState {
  std::string device;
  StorageSystem system;
  std::vector<DeviceTargetPort> target_ports;
  std::vector<std::string> initiator_ports;  // initiators it masks to, admits or zones (sorted, once each)
  std::vector<DevicePool> pools;
  std::vector<DeviceVolume> volumes;
  std::vector<DeviceMasking> maskings;
  std::vector<DeviceMapping> mappings;
  std::vector<DeviceZone> zones;
};

// ---- configuration ----------------------------------------------------------

enum class DeviceKind { array, gateway, fabric };
std::string_view to_string(DeviceKind kind);

// A port of a device as the wiring map declares it (a driver may name things
// after it: tgt's target names start with its iSCSI port's IQN).
struct DevicePort {
  std::string id;
  std::string wwn;  // empty for an iSCSI port
  std::string iqn;  // empty for a fibre-channel port
};

// One device of the wiring map, as the inventory records it.
struct DeviceConfig {
  std::string name;
  DeviceKind kind = DeviceKind::array;
  std::string driver;                             // "sim", "tgt"
  std::map<std::string, std::string> attributes;  // driver-specific (portal, dir, latency...)
  std::vector<DevicePort> ports = {};             // by id; filled by DriverSet and the wiring import
};

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Device volume ids a discovery must report. A plan asks only for its farm's
// volumes, so that it costs what the farm costs, not what the estate holds
// (an array of a million pre-carved volumes lists them all otherwise).
using VolumeScope = std::unordered_set<std::string>;

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string_view family() const = 0;
  // The state of one device in one request. Throws DeviceError when the
  // device cannot be reached. With `only`, the volumes reported may be
  // limited to those named (a driver may report more); pools, maskings,
  // mappings and zones are always reported whole.
  virtual DeviceState discover(const DeviceConfig& device, const VolumeScope* only = nullptr) = 0;
  // Runs one action. What the device acknowledges is durable when this
  // returns (recovery, and any caller that records the outcome at once).
  virtual ActionOutcome run(const DeviceConfig& device, const DeviceAction& action) = 0;
  // Runs one action like run(), but the device may acknowledge it before
  // its record of it is durable (a write-back cache): it is durable once
  // the next sync() returns. The executor runs actions so and syncs before
  // it journals any of their outcomes, so that a crash in between leaves
  // only open intents, which recovery runs again (docs/design/journal.md).
  // By default the same as run().
  virtual ActionOutcome run_unsynced(const DeviceConfig& device, const DeviceAction& action) {
    return run(device, action);
  }
  // Makes durable every outcome run_unsynced returned so far. Throws
  // DeviceError when it cannot; those actions may then be lost, as in a
  // crash of the device, and the caller must not record them as done.
  virtual void sync() {}
  // Called when the wiring map declares a device with these pools and
  // pre-carved volumes. A real driver may check them against the device; the
  // sim creates the device from them (it has no other way to learn them).
  // Idempotent: declaring the same device again changes nothing it holds.
  virtual void declare(const DeviceConfig& device, const DeviceState& declared) {}
  // Declares every device of `devices` (`declared(i)` is what devices[i]
  // holds) so that it takes effect only if `go_ahead()`, which blocks until
  // the caller knows, returns true. The import runs this on a thread of its
  // own while its inventory transaction runs, so that a refused import
  // leaves the devices as they were. By default: waits for go_ahead(), then
  // calls declare for each device. The sim does the work first, in one
  // transaction it commits only on go_ahead().
  virtual void declare_all(const std::vector<DeviceConfig>& devices,
                           const std::function<DeviceState(std::size_t)>& declared,
                           const std::function<bool()>& go_ahead);
  // How many actions may run on one device at once.
  virtual int concurrency_limit(const DeviceConfig& device) const { return 4; }
};

// Where drivers keep what they need beside the inventory (the sim's device store).
struct DriverContext {
  std::string inventory_path;  // the inventory database file
  // Every host initiator of the wiring map (WWN or IQN) -> its host's name.
  // Filled by DriverSet. A driver that presents storage per host needs it
  // for actions that name only the initiator (tgt: bind, unbind).
  std::map<std::string, std::string> initiator_hosts = {};
};

// What every family reports alike, added to a driver's discovery (DriverSet
// does): an array's target ports as the wiring map declares them, when the
// driver names none, and the initiator ports its maskings and zones name.
void complete_discovery(const DeviceConfig& device, DeviceState& state);

// Creates the driver for a family; throws DeviceError for an unknown family.
std::unique_ptr<Driver> make_driver(std::string_view family, const DriverContext& context);

}  // namespace farmctl::runtime
