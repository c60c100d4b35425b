#pragma once
// The scenario tests' world (header-only, shared by the reconciler's
// *_test.cpp files): a temporary directory holding an inventory imported from
// a wiring map and its simulated devices (latency 0, no faults), and the steps
// a farmctl session takes — compile, discover, plan, apply, destroy.
//
//   Scenario s;                         // kScenarioWiring imported, invariants hold
//   s.converge(fml);                    // plan, apply, then the same file plans "No changes."
//   auto reasons = s.refused(bigger);   // PlanRefused; the snapshot is unchanged
//   s.destroy("web");                   // torn down; the farm is gone
//
// After every step the invariants (check_invariants against the devices,
// plus "a Free disk holds no farm's data" read from the sim store) hold:
// import and apply check them; plan proves it changed nothing (snapshot
// before == after), so they hold after it when they held before. Tests that
// tamper with the devices call plan and apply, which check again.
//
// Everything that can fail REQUIREs, so a scenario stops at its first broken
// step with the step's plan, failures or violations in the message.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/compiler.h"
#include "reconciler/apply.h"
#include "reconciler/invariants.h"
#include "reconciler/plan_render.h"
#include "reconciler/planner.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"
#include "runtime/sim_driver.h"
#include "runtime/sim_faults.h"
#include "runtime/sqlite.h"
#include "runtime/wiring_import.h"
#include "tests/temp_dir.h"

namespace farmctl::testing {

namespace fs = std::filesystem;

// The estate most scenarios run on: two arrays on one fabric, a gateway for
// scsi hosts, hosts of two hardware classes.
//   sym1: 6 x 8631 MB and 4 x 4 GB std, 2 x 4 GB raid-1 "raid"; pool p0 20 GB raid 0+1
//   sym2: 3 x 16 GB performance; pool fast 100 GB performance raid 5; pool bulk 60 GB std
//   h01-h04 cpu-sun4u-x4 behind gw1 (scsi); x01, x02 cpu-x86-64 fc + iscsi; x03 iscsi only
inline constexpr std::string_view kScenarioWiring = R"(<?xml version="1.0"?>
<wiring-map>
  <array name="sym1" driver="sim" model="Symmetrix" serial="1" protocols="fc iscsi">
    <port id="FA-3A" wwn="50:06:04:8a:cc:c8:3b:00" san="fabric-a" type="front-end"/>
    <port id="SE-4B" iqn="iqn.2001-07.com.example:sym1.4b" type="front-end"/>
    <volume id="0A1" size="8631" type="std"/>
    <volume id="0A2" size="8631" type="std"/>
    <volume id="0A3" size="8631" type="std"/>
    <volume id="0A4" size="8631" type="std"/>
    <volume id="0A5" size="8631" type="std"/>
    <volume id="0A6" size="8631" type="std"/>
    <volume id="0B1" size="4GB" type="std"/>
    <volume id="0B2" size="4GB" type="std"/>
    <volume id="0B3" size="4GB" type="std"/>
    <volume id="0B4" size="4GB" type="std"/>
    <volume id="0C1" size="4GB" type="raid" raid="1"/>
    <volume id="0C2" size="4GB" type="raid" raid="1"/>
    <pool name="p0" size="20GB" raid="0+1"/>
  </array>
  <array name="sym2" driver="sim" model="Symmetrix" serial="2" protocols="fc iscsi">
    <port id="FA-1A" wwn="50:06:04:8a:cc:c8:4c:00" san="fabric-a" type="front-end"/>
    <port id="SE-2B" iqn="iqn.2001-07.com.example:sym2.2b" type="front-end"/>
    <volume id="1A1" size="16GB" type="performance"/>
    <volume id="1A2" size="16GB" type="performance"/>
    <volume id="1A3" size="16GB" type="performance"/>
    <pool name="fast" size="100GB" type="performance" raid="5"/>
    <pool name="bulk" size="60GB"/>
  </array>
  <image name="solaris" size="6GB" array="sym1"/>
  <image name="debian" size="2GB" array="sym2"/>
  <image name="centos" size="3GB" array="sym1"/>
  <gateway name="gw1" driver="sim" model="Pathlight" san="fabric-a"/>
  <fabric name="fabric-a" driver="sim"/>
  <host name="h01" hw="cpu-sun4u-x4" gateway="gw1"/>
  <host name="h02" hw="cpu-sun4u-x4" gateway="gw1"/>
  <host name="h03" hw="cpu-sun4u-x4" gateway="gw1"/>
  <host name="h04" hw="cpu-sun4u-x4" gateway="gw1"/>
  <host name="x01" hw="cpu-x86-64">
    <initiator wwn="10:00:00:00:c9:2b:aa:01" fabric="fabric-a"/>
    <initiator iqn="iqn.2026-11.org.example:x01"/>
  </host>
  <host name="x02" hw="cpu-x86-64">
    <initiator wwn="10:00:00:00:c9:2b:aa:02" fabric="fabric-a"/>
    <initiator iqn="iqn.2026-11.org.example:x02"/>
  </host>
  <host name="x03" hw="cpu-x86-64">
    <initiator iqn="iqn.2026-11.org.example:x03"/>
  </host>
</wiring-map>
)";

// Sets (or, with nullptr, unsets) an environment variable for its lifetime.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const char* value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value != nullptr) setenv(name_.c_str(), value, 1);
    else unsetenv(name_.c_str());
  }
  ~ScopedEnv() {
    if (old_) setenv(name_.c_str(), old_->c_str(), 1);
    else unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// ---- text dumps: equality of the inventory and of the devices ---------------

inline std::string opt(const std::optional<std::string>& v) { return v ? *v : "-"; }
inline std::string opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }

inline std::string dump(const runtime::VolumeRow& v) {
  return fmt::format("volume #{} dev#{}:{} {}MB {} raid={} {} pool={} parent={} order={} farm={} plan={} {} image={} "
                     "dirty={}",
                     v.id, v.device_id, v.device_volume, v.size_mb, v.cls, opt(v.raid), v.origin, opt(v.pool_id),
                     opt(v.parent_id), v.member_order, opt(v.farm_id), opt(v.plan_volume),
                     runtime::to_string(v.state), opt(v.image), opt(v.dirty_farm));
}

inline std::string dump(const runtime::BindingRow& b) {
  return fmt::format("binding #{} farm#{} vol#{} host#{} {} t{} lun{} {} {} port#{} gw={} bound={} mapped={}", b.id,
                     b.farm_id, b.volume_id, b.host_id, b.server, b.target, b.lun, b.protocol, b.initiator, b.port_id,
                     opt(b.gateway_id), b.bound, b.mapped);
}

inline std::string dump(const runtime::DeviceState& s) {
  std::string out;
  for (const auto& p : s.pools) out += fmt::format("  pool {} {}MB {}\n", p.name, p.size_mb, p.raid);
  for (const auto& v : s.volumes)
    out += fmt::format("  volume {} {}MB pool={} members=[{}] member={}\n", v.id, v.size_mb, v.pool,
                       fmt::join(v.members, ","), v.member_of_meta);
  for (const auto& m : s.maskings)
    out += fmt::format("  mask {} -> {} via {} lun {}\n", m.volume, m.initiator, m.port, m.lun);
  for (const auto& m : s.mappings)
    out += fmt::format("  map {}:{} -> {} t{} lun {}\n", m.array, m.volume, m.host, m.target, m.lun);
  for (const auto& z : s.zones) out += fmt::format("  zone {} / {}\n", z.initiator, z.port);
  return out;
}

// Everything the inventory and the devices hold, as text: two snapshots are
// equal exactly when a step changed nothing.
struct Snapshot {
  std::int64_t generation = 0;
  std::string inventory;
  std::string devices;
  bool operator==(const Snapshot&) const = default;
};

}  // namespace farmctl::testing

// Catch prints maps of strings (placements) when a comparison fails.
namespace Catch {
template <>
struct StringMaker<std::map<std::string, std::string>> {
  static std::string convert(const std::map<std::string, std::string>& m) {
    std::string out;
    for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k + " -> " + v;
    return "{" + out + "}";
  }
};
}  // namespace Catch

namespace farmctl::testing {

inline std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  return os << "generation " << s.generation << "\n" << s.inventory << s.devices;
}

// "device:volume image=.. owner=.." for every sim volume holding data.
inline std::vector<std::string> sim_volume_data(const std::string& inventory_path) {
  runtime::Database store(runtime::sim_store_path(inventory_path));
  auto s = store.prepare(
      "SELECT device, id, IFNULL(image, ''), IFNULL(data_owner, '') FROM sim_volumes "
      "WHERE IFNULL(image, '') <> '' OR IFNULL(data_owner, '') <> '' ORDER BY 1, 2");
  std::vector<std::string> out;
  while (s.step()) out.push_back(fmt::format("{}:{} image={} owner={}", s.text(0), s.text(1), s.text(2), s.text(3)));
  return out;
}

inline Snapshot take_snapshot(runtime::Inventory& inventory, const std::string& inventory_path) {
  Snapshot s;
  s.generation = inventory.generation();
  for (const auto& v : inventory.all_volumes()) s.inventory += dump(v) + "\n";
  for (const auto& b : inventory.all_bindings()) s.inventory += dump(b) + "\n";
  for (const auto& z : inventory.all_zones())
    s.inventory += fmt::format("zone #{} farm#{} fabric#{} {} / {}\n", z.id, z.farm_id, z.fabric_id, z.initiator,
                               z.port_wwn);
  for (const auto& p : inventory.all_placements())
    s.inventory += fmt::format("placement farm#{} {} host#{}\n", p.farm_id, p.server, p.host_id);
  for (const auto& f : inventory.farms())
    s.inventory += fmt::format("farm #{} {} revision {} plan {}\n", f.id, f.name, f.revision,
                               f.plan_json ? f.plan_json->size() : 0);
  runtime::DriverSet drivers(inventory.topology(), {inventory_path});
  for (const auto& [name, state] : drivers.discover_all()) s.devices += "device " + name + "\n" + dump(state);
  for (const auto& row : sim_volume_data(inventory_path)) s.devices += row + "\n";
  return s;
}

// One test's estate. The constructor imports `wiring` (REQUIRE: it imports).
class Scenario {
 public:
  explicit Scenario(std::string_view wiring = kScenarioWiring)
      : latency_("FARMCTL_SIM_LATENCY", "*=0"), faults_("FARMCTL_SIM_FAULTS", nullptr) {
    runtime::reset_sim_fault_counts();
    db_ = (dir_.path() / "farm.db").string();
    inventory_ = std::make_unique<runtime::Inventory>(db_);
    runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(std::string(wiring), "wiring.xml");
    INFO(parsed.rendered_diagnostics());
    REQUIRE(parsed.map);
    runtime::ImportReport report = runtime::import_wiring_map(*inventory_, *parsed.map, {db_});
    INFO(fmt::format("{}", fmt::join(report.refusals, "\n")));
    REQUIRE(report.ok());
    check();
  }

  // `farmctl inventory import` of a changed wiring map (REQUIRE: it imports).
  void reimport(std::string_view wiring) {
    runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(std::string(wiring), "wiring.xml");
    INFO(parsed.rendered_diagnostics());
    REQUIRE(parsed.map);
    runtime::ImportReport report = runtime::import_wiring_map(*inventory_, *parsed.map, {db_});
    INFO(fmt::format("{}", fmt::join(report.refusals, "\n")));
    REQUIRE(report.ok());
  }

  runtime::Inventory& inventory() { return *inventory_; }
  const std::string& db() const { return db_; }
  const fs::path& dir() const { return dir_.path(); }

  static plan::Plan compile(std::string_view fml) {
    fml::CompileResult result = fml::compile_source(std::string(fml), "farm.fml");
    INFO(result.rendered_diagnostics());
    REQUIRE(result.plan);
    return std::move(*result.plan);
  }

  reconcile::Discovery discover() {
    runtime::DriverSet drivers(inventory_->topology(), {db_});
    return drivers.discover_all();
  }

  // check_invariants against the devices, plus what only the sim can tell:
  // a disk the inventory calls Free holds no farm's data on the device.
  std::vector<std::string> violations() {
    reconcile::Discovery devices = discover();
    std::vector<std::string> out = reconcile::check_invariants(*inventory_, &devices);
    std::set<std::string> free;
    for (const auto& v : inventory_->all_volumes())
      if (v.state == runtime::VolumeState::Free) free.insert(device_name(v.device_id) + ":" + v.device_volume);
    runtime::Database store(runtime::sim_store_path(db_));
    auto s = store.prepare("SELECT device, id, data_owner FROM sim_volumes WHERE IFNULL(data_owner, '') <> ''");
    while (s.step())
      if (free.count(s.text(0) + ":" + s.text(1)))
        out.push_back(fmt::format("volume {}:{} is Free in the inventory but holds farm {}'s data on the device",
                                  s.text(0), s.text(1), s.text(2)));
    return out;
  }

  // The invariants hold, against the devices too.
  void check() {
    std::vector<std::string> found = violations();
    INFO(fmt::format("invariant violations:\n  {}", fmt::join(found, "\n  ")));
    REQUIRE(found.empty());
  }

  // A plan, as `farmctl plan` makes it (a discovery scoped to the farm's
  // volumes first). The planner only reads: the snapshot is the same after
  // it. And the scope changes nothing: a whole discovery plans the same.
  reconcile::ReconcilePlan plan(const plan::Plan& ir, reconcile::PlanOptions options = {}) {
    Snapshot before = snapshot();
    runtime::Topology topology = inventory_->topology();
    runtime::DriverSet drivers(topology, {db_});
    auto scope = inventory_->farm_volume_scope(ir.farm);
    reconcile::Discovery discovery = drivers.discover_all(&scope);
    reconcile::ReconcilePlan out = reconcile::make_plan(ir, *inventory_, topology, discovery, options);
    reconcile::ReconcilePlan whole = reconcile::make_plan(ir, *inventory_, topology, discover(), options);
    REQUIRE(reconcile::render_plan_text(out, false) == reconcile::render_plan_text(whole, false));
    REQUIRE(snapshot() == before);
    return out;
  }
  reconcile::ReconcilePlan plan(std::string_view fml, reconcile::PlanOptions options = {}) {
    return plan(compile(fml), options);
  }

  // The plan of tearing `farm` down, as `farmctl destroy` makes it.
  reconcile::ReconcilePlan destroy_plan(const std::string& farm) {
    plan::Plan empty;
    empty.farm = farm;
    empty.fml_version = "1.2";
    return plan(empty, {true, true});
  }

  // Applies through fresh drivers (as another farmctl run would), retrying
  // transient failures without waiting; the invariants hold afterwards,
  // whatever the outcome.
  reconcile::ApplyResult apply(const reconcile::ReconcilePlan& plan) {
    runtime::DriverSet drivers(inventory_->topology(), {db_});
    reconcile::ApplyOptions options;
    options.first_backoff_ms = 0;
    attempts_.clear();
    reconcile::ApplyResult result = reconcile::apply_plan(plan, *inventory_, drivers, events_, options);
    INFO("after applying:\n" << reconcile::render_plan_text(plan, false) << "failures:\n  "
                              << fmt::format("{}", fmt::join(result.failures, "\n  ")));
    check();
    return result;
  }

  // plan -> apply (REQUIRE ok) -> the same file plans "No changes.".
  // Returns the plan that was applied.
  reconcile::ReconcilePlan converge(std::string_view fml, reconcile::PlanOptions options = {}) {
    plan::Plan ir = compile(fml);
    reconcile::ReconcilePlan p = plan(ir, options);
    apply_ok(p);
    reconcile::ReconcilePlan again = plan(ir, options);
    INFO("re-plan after apply:\n" << reconcile::render_plan_text(again, false));
    REQUIRE(again.empty());
    return p;
  }

  void apply_ok(const reconcile::ReconcilePlan& p) {
    reconcile::ApplyResult result = apply(p);
    INFO("plan:\n" << reconcile::render_plan_text(p, false) << "failures:\n  "
                    << fmt::format("{}", fmt::join(result.failures, "\n  ")));
    REQUIRE(result.ok());
  }

  // destroy -> apply (REQUIRE ok) -> the farm is gone.
  reconcile::ReconcilePlan destroy(const std::string& farm) {
    reconcile::ReconcilePlan p = destroy_plan(farm);
    apply_ok(p);
    REQUIRE_FALSE(inventory_->farm(farm));
    REQUIRE(destroy_plan(farm).empty());
    return p;
  }

  // The plan is refused; returns the reasons. Nothing changed.
  std::vector<std::string> refused(std::string_view fml, reconcile::PlanOptions options = {}) {
    Snapshot before = snapshot();
    plan::Plan ir = compile(fml);
    std::vector<std::string> reasons;
    try {
      reconcile::ReconcilePlan p = plan(ir, options);
      FAIL("the plan was not refused:\n" << reconcile::render_plan_text(p, false));
    } catch (const reconcile::PlanRefused& refused) {
      reasons = refused.reasons();
    }
    REQUIRE_FALSE(reasons.empty());
    REQUIRE(snapshot() == before);
    check();
    return reasons;
  }

  Snapshot snapshot() { return take_snapshot(*inventory_, db_); }

  std::vector<std::string> sim_data() { return sim_volume_data(db_); }

  std::vector<runtime::SimLogEntry> sim_log() { return runtime::read_sim_log(db_); }
  void tamper(std::string_view sql) { runtime::sim_tamper(db_, sql); }

  runtime::FarmRecord record(const std::string& farm) {
    auto f = inventory_->farm(farm);
    REQUIRE(f);
    return inventory_->farm_record(*f);
  }

  // The inventory's unit realising plan volume `id` of `farm` (its head).
  runtime::VolumeRow unit(const std::string& farm, const std::string& id) {
    for (const auto& v : record(farm).volumes)
      if (v.plan_volume == id) return v;
    FAIL("farm " << farm << " has no volume " << id);
    return {};
  }

  std::string device_name(runtime::RowId id) {
    runtime::Topology topology = inventory_->topology();
    const runtime::DeviceRow* d = topology.device(id);
    return d != nullptr ? d->config.name : "?";
  }
  std::string host_name(runtime::RowId id) {
    runtime::Topology topology = inventory_->topology();
    const runtime::HostRow* h = topology.host(id);
    return h != nullptr ? h->name : "?";
  }

  // server -> host name, for one farm.
  std::map<std::string, std::string> placements(const std::string& farm) {
    std::map<std::string, std::string> out;
    for (const auto& p : record(farm).placements) out[p.server] = host_name(p.host_id);
    return out;
  }

  // How many runs each action took in the last apply, by action id.
  const std::map<int, int>& attempts() const { return attempts_; }

 private:
  class Events : public reconcile::ApplyEvents {
   public:
    explicit Events(std::map<int, int>& attempts) : attempts_(attempts) {}
    void finished(const reconcile::Action& a, const runtime::ActionOutcome&, int attempts) override {
      attempts_[a.id] = attempts;
    }

   private:
    std::map<int, int>& attempts_;
  };

  TempDir dir_{"farmctl-scenario"};
  ScopedEnv latency_;
  ScopedEnv faults_;
  std::string db_;
  std::unique_ptr<runtime::Inventory> inventory_;
  std::map<int, int> attempts_;
  Events events_{attempts_};
};

// ---- plan inspection ------------------------------------------------------------

inline std::vector<const reconcile::Action*> actions_of(const reconcile::ReconcilePlan& p, runtime::Op op) {
  std::vector<const reconcile::Action*> out;
  for (const auto& a : p.actions)
    if (a.op == op) out.push_back(&a);
  return out;
}

inline int count_ops(const reconcile::ReconcilePlan& p, runtime::Op op) {
  return static_cast<int>(actions_of(p, op).size());
}

// "op device volume" per action, in plan order: for exact comparisons.
inline std::vector<std::string> op_lines(const reconcile::ReconcilePlan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions)
    out.push_back(fmt::format("{} {} {}", runtime::to_string(a.op), a.device, a.device_action.volume));
  return out;
}

inline bool has_change(const reconcile::ReconcilePlan& p, reconcile::ChangeKind kind, std::string_view subject_prefix) {
  for (const auto& c : p.changes)
    if (c.kind == kind && c.subject.rfind(subject_prefix, 0) == 0) return true;
  return false;
}

}  // namespace farmctl::testing
