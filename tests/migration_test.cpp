// Moving a farm server to another host across protocols (issue 8,
// docs/migration.md), against the sim: FC -> iSCSI, iSCSI -> FC, a host pair
// sharing no protocol (refused, nothing changed), a failure injected at every
// step of a move (the old host keeps its access), and an exposure checker
// that replays the sim's device log step by step: no volume is ever masked or
// mapped to a host outside the farm (both the old and the new host are the
// farm's during the move), and every disk stays reachable from one of them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "reconciler/connection_info.h"
#include "tests/scenario_fixture.h"

namespace farmctl::testing {
namespace {

using reconcile::ReconcilePlan;
using runtime::Op;

// sym1 offers fc and iscsi; hosts of one class: f01, f02 fc only; i01, i02
// iscsi only; g01, g02 scsi only (behind gw1).
constexpr std::string_view kMigrationWiring = R"(<?xml version="1.0"?>
<wiring-map>
  <array name="sym1" driver="sim" model="Symmetrix" serial="1" protocols="fc iscsi">
    <port id="FA-3A" wwn="50:06:04:8a:cc:c8:3b:00" san="fabric-a" type="front-end"/>
    <port id="SE-4B" iqn="iqn.2001-07.com.example:sym1.4b" type="front-end"/>
    <pool name="p0" size="20GB"/>
  </array>
  <gateway name="gw1" driver="sim" model="Pathlight" san="fabric-a"/>
  <fabric name="fabric-a" driver="sim"/>
  <host name="f01" hw="cpu-x86-64"><initiator wwn="10:00:00:00:c9:2b:aa:01" fabric="fabric-a"/></host>
  <host name="f02" hw="cpu-x86-64"><initiator wwn="10:00:00:00:c9:2b:aa:02" fabric="fabric-a"/></host>
  <host name="g01" hw="cpu-x86-64" gateway="gw1"/>
  <host name="g02" hw="cpu-x86-64" gateway="gw1"/>
  <host name="i01" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:i01"/></host>
  <host name="i02" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:i02"/></host>
  <host name="s01" hw="cpu-sun4u-x4"><initiator iqn="iqn.2026-11.org.example:s01"/></host>
</wiring-map>
)";

// An array offering iscsi only, a host speaking only fc.
constexpr std::string_view kNoSharedWiring = R"(<?xml version="1.0"?>
<wiring-map>
  <array name="isc" driver="sim" model="Tiny" serial="7" protocols="iscsi">
    <port id="P0" iqn="iqn.2001-07.com.example:isc.p0" type="front-end"/>
    <pool name="p0" size="20GB"/>
  </array>
  <fabric name="fabric-a" driver="sim"/>
  <host name="f01" hw="cpu-x86-64"><initiator wwn="10:00:00:00:c9:2b:aa:01" fabric="fabric-a"/></host>
  <host name="i01" hw="cpu-x86-64"><initiator iqn="iqn.2026-11.org.example:i01"/></host>
</wiring-map>
)";

// One server, app-0, with two disks over `protocol`.
std::string app_farm(std::string_view protocol) {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="app">
  <tier id="t" name="app"><role>app</role></tier>
  <server-role id="app" name="app">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="{0}" drivesize="1GB"/>
    <disk target="1" drivetype="{0}" drivesize="2GB"/>
  </server-role>
</farm>
)",
                     protocol);
}

reconcile::PlanOptions move(const std::string& server, const std::string& host) {
  reconcile::PlanOptions o;
  o.move_to[server] = host;
  return o;
}

// ---- the exposure checker ---------------------------------------------------

// The devices' maskings, mappings and zones, rebuilt from the sim log one
// successful action at a time.
struct ExposureModel {
  std::set<std::tuple<std::string, std::string, std::string>> masks;  // array, volume, initiator
  std::set<std::tuple<std::string, std::string, std::string>> maps;   // array, volume, host
  std::set<std::pair<std::string, std::string>> zones;                // initiator, port wwn
  std::map<std::string, std::string> vports;                          // NPIV: virtual WWPN -> the host carrying it

  void apply(const runtime::DeviceAction& a) {
    std::string array = a.array.empty() ? a.device : a.array;
    switch (a.op) {
      case Op::bind: masks.insert({a.device, a.volume, a.initiator}); break;
      case Op::unbind: masks.erase({a.device, a.volume, a.initiator}); break;
      case Op::map: maps.insert({array, a.volume, a.host}); break;
      case Op::unmap: maps.erase({array, a.volume, a.host}); break;
      case Op::zone: zones.insert({a.initiator, a.port}); break;
      case Op::unzone: zones.erase({a.initiator, a.port}); break;
      case Op::vport:
        if (a.host.empty()) vports.erase(a.initiator);
        else vports[a.initiator] = a.host;
        break;
      default: break;
    }
  }
};

// Replays the sim log: fails at the first step after which a volume is masked
// to an initiator, or mapped to a host, not in `allowed_hosts`; from log
// position `move_from` on, every volume in `disks` must stay masked and
// mapped to one allowed host (make before break). Returns the steps checked.
std::size_t check_exposure(Scenario& s, const std::set<std::string>& allowed_hosts, std::size_t move_from,
                           const std::set<std::string>& disks) {
  runtime::Topology topology = s.inventory().topology();
  std::map<std::string, std::string> host_of_initiator;
  for (const auto& h : topology.hosts)
    for (const auto& i : h.initiators) host_of_initiator[i.wwn ? *i.wwn : *i.iqn] = h.name;
  // A gateway's masking: the gateway is the initiator the array sees; its
  // mappings say which hosts behind it see the volume.
  std::map<std::string, std::string> gateway_of_host;
  for (const auto& d : topology.devices)
    if (d.config.kind == runtime::DeviceKind::gateway) host_of_initiator["gateway:" + d.config.name] = d.config.name;
  for (const auto& h : topology.hosts)
    if (h.gateway_id) gateway_of_host[h.name] = "gateway:" + topology.device(*h.gateway_id)->config.name;
  ExposureModel model;
  auto log = s.sim_log();
  // NPIV: a masking to a virtual WWPN is visible to the host carrying it
  // (when one does), as the model has it at that step.
  std::set<std::string> virtual_wwpns;
  for (const auto& entry : log)
    if (entry.action.op == Op::vport) virtual_wwpns.insert(entry.action.initiator);
  auto seen_by = [&](const std::string& initiator) -> std::optional<std::string> {
    if (auto v = model.vports.find(initiator); v != model.vports.end()) return v->second;
    if (virtual_wwpns.count(initiator)) return std::string();  // logged in nowhere: no host sees it
    auto h = host_of_initiator.find(initiator);
    if (h == host_of_initiator.end()) return std::nullopt;
    return h->second;
  };
  for (std::size_t step = 0; step < log.size(); ++step) {
    const auto& entry = log[step];
    if (!entry.outcome.ok()) continue;
    model.apply(entry.action);
    std::string where = fmt::format("after log step {} ({} {} {})", entry.seq, runtime::to_string(entry.action.op),
                                    entry.action.device, entry.action.volume);
    for (const auto& [array, volume, initiator] : model.masks) {
      if (initiator.rfind("gateway:", 0) == 0) continue;  // what the gateway shows is checked by its mappings
      auto host = seen_by(initiator);
      INFO(where << ": " << array << ":" << volume << " masked to " << initiator);
      REQUIRE(host.has_value());
      if (host->empty()) continue;
      REQUIRE(allowed_hosts.count(*host));
    }
    for (const auto& [array, volume, host] : model.maps) {
      INFO(where << ": " << array << ":" << volume << " mapped to " << host);
      REQUIRE(allowed_hosts.count(host));
    }
    if (step < move_from) continue;
    for (const std::string& disk : disks) {
      bool reachable = false;
      for (const auto& [array, volume, host] : model.maps) {
        if (array + ":" + volume != disk) continue;
        for (const auto& [marray, mvolume, initiator] : model.masks)
          if (marray == array && mvolume == volume &&
              (seen_by(initiator).value_or("") == host || gateway_of_host[host] == initiator))
            reachable = true;
      }
      INFO(where << ": " << disk << " is reachable from no host of the farm");
      REQUIRE(reachable);
    }
  }
  return log.size();
}

// "array:volume" of every disk of the farm.
std::set<std::string> disks_of(Scenario& s, const std::string& farm) {
  std::set<std::string> out;
  for (const auto& v : s.record(farm).volumes)
    if (v.plan_volume) out.insert(s.device_name(v.device_id) + ":" + v.device_volume);
  return out;
}

// Every disk of `server` is bound and mapped to `host` (inventory and device).
void require_access(Scenario& s, const std::string& farm, const std::string& host, const std::string& protocol) {
  auto record = s.record(farm);
  auto devices = s.discover();
  int exports = 0;
  for (const auto& b : record.bindings) {
    INFO(dump(b));
    REQUIRE(s.host_name(b.host_id) == host);
    CHECK(b.protocol == protocol);
    CHECK(b.bound);
    CHECK(b.mapped);
    ++exports;
    const runtime::VolumeRow* v = nullptr;
    for (const auto& row : record.volumes)
      if (row.id == b.volume_id) v = &row;
    REQUIRE(v != nullptr);
    const auto& state = devices.at(s.device_name(v->device_id));
    bool masked = std::any_of(state.maskings.begin(), state.maskings.end(), [&](const auto& m) {
      return m.volume == v->device_volume && m.initiator == b.initiator;
    });
    const auto& map_state = b.gateway_id ? devices.at(s.device_name(*b.gateway_id)) : state;  // scsi: on the gateway
    bool mapped = std::any_of(map_state.mappings.begin(), map_state.mappings.end(),
                              [&](const auto& m) { return m.volume == v->device_volume && m.host == host; });
    CHECK(masked);
    CHECK(mapped);
  }
  CHECK(exports == 2);
}

// Every teardown action of the old host waits for every create of the new one.
void require_make_before_break(const ReconcilePlan& p) {
  std::map<int, const reconcile::Action*> by_id;
  for (const auto& a : p.actions) by_id[a.id] = &a;
  std::function<bool(int, int)> after = [&](int later, int earlier) {
    for (int d : by_id.at(later)->depends_on)
      if (d == earlier || after(d, earlier)) return true;
    return false;
  };
  int creates = 0, teardowns = 0;
  for (const auto& t : p.actions) {
    if (t.move != reconcile::Action::Move::teardown) continue;
    ++teardowns;
    for (const auto& c : p.actions)
      if (c.move == reconcile::Action::Move::create) {
        INFO("action " << t.id << " (" << t.detail << ") must wait for " << c.id << " (" << c.detail << ")");
        CHECK(after(t.id, c.id));
      }
  }
  for (const auto& c : p.actions) creates += c.move == reconcile::Action::Move::create;
  CHECK(creates > 0);
  CHECK(teardowns > 0);
}

TEST_CASE("a server moves from an fc host to an iscsi host, make before break", "[migration]") {
  Scenario s(kMigrationWiring);
  std::string fml = app_farm("fc");
  s.converge(fml);
  REQUIRE(s.placements("app") == std::map<std::string, std::string>{{"app-0", "f01"}});
  require_access(s, "app", "f01", "fc");
  std::size_t before = s.sim_log().size();

  ReconcilePlan p = s.plan(fml, move("app-0", "i01"));
  INFO(reconcile::render_plan_text(p, false));
  REQUIRE(p.moves.size() == 1);
  CHECK(p.moves[0].from_host == "f01");
  CHECK(p.moves[0].host == "i01");
  CHECK(count_ops(p, Op::bind) == 2);
  CHECK(count_ops(p, Op::map) == 2);
  CHECK(count_ops(p, Op::unmap) == 2);
  CHECK(count_ops(p, Op::unbind) == 2);
  CHECK(count_ops(p, Op::unzone) == 1);
  CHECK(count_ops(p, Op::zone) == 0);
  require_make_before_break(p);
  for (const auto* b : actions_of(p, Op::bind)) CHECK(b->device_action.initiator == "iqn.2026-11.org.example:i01");

  s.apply_ok(p);
  CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", "i01"}});
  require_access(s, "app", "i01", "iscsi");
  CHECK(s.inventory().all_zones().empty());
  check_exposure(s, {"f01", "i01"}, before, disks_of(s, "app"));
  // Steady: the farm file still says fc; the host speaks iscsi only, the export stays.
  ReconcilePlan again = s.plan(fml);
  INFO(reconcile::render_plan_text(again, false));
  CHECK(again.empty());
}

TEST_CASE("a server moves from an iscsi host to an fc host: zoned first", "[migration]") {
  Scenario s(kMigrationWiring);
  std::string fml = app_farm("iscsi");
  s.converge(fml);
  REQUIRE(s.placements("app") == std::map<std::string, std::string>{{"app-0", "i01"}});
  std::size_t before = s.sim_log().size();

  ReconcilePlan p = s.plan(fml, move("app-0", "f02"));
  INFO(reconcile::render_plan_text(p, false));
  CHECK(count_ops(p, Op::zone) == 1);
  CHECK(count_ops(p, Op::unzone) == 0);
  require_make_before_break(p);
  auto zone = actions_of(p, Op::zone).front();
  for (const auto* b : actions_of(p, Op::bind))
    CHECK(std::find(b->depends_on.begin(), b->depends_on.end(), zone->id) != b->depends_on.end());

  s.apply_ok(p);
  CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", "f02"}});
  require_access(s, "app", "f02", "fc");
  check_exposure(s, {"i01", "f02"}, before, disks_of(s, "app"));
  CHECK(s.plan(fml).empty());
  // and back again, to another iscsi host
  std::size_t second = s.sim_log().size();
  s.apply_ok(s.plan(fml, move("app-0", "i02")));
  require_access(s, "app", "i02", "iscsi");
  CHECK(s.inventory().all_zones().empty());
  check_exposure(s, {"i01", "f02", "i02"}, second, disks_of(s, "app"));
  CHECK(s.plan(fml).empty());
}

// Two scsi servers behind gw1 share the gateway; one leaves it for an fc host.
TEST_CASE("a server behind a gateway moves to an fc host, and its neighbour keeps its disks", "[migration]") {
  Scenario s(kMigrationWiring);
  std::string fml = app_farm("scsi");
  fml.replace(fml.find("<role>app</role>"), 16, "<role>app</role><init-servers>2</init-servers>");
  s.converge(fml);
  REQUIRE(s.placements("app") == std::map<std::string, std::string>{{"app-0", "g01"}, {"app-1", "g02"}});
  std::size_t before = s.sim_log().size();
  ReconcilePlan p = s.plan(fml, move("app-0", "f01"));
  INFO(reconcile::render_plan_text(p, false));
  require_make_before_break(p);
  for (const auto& a : p.actions) CHECK(a.server != "app-1");
  s.apply_ok(p);
  CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", "f01"}, {"app-1", "g02"}});
  int fc = 0, scsi = 0;
  for (const auto& b : s.record("app").bindings) {
    INFO(dump(b));
    CHECK(b.mapped);
    if (b.server == "app-0") {
      CHECK(s.host_name(b.host_id) == "f01");
      fc += b.protocol == "fc";
    } else {
      CHECK(s.host_name(b.host_id) == "g02");
      scsi += b.protocol == "scsi";
    }
  }
  CHECK(fc == 2);
  CHECK(scsi == 2);
  check_exposure(s, {"g01", "g02", "f01"}, before, disks_of(s, "app"));
  CHECK(s.plan(fml).empty());
}

TEST_CASE("a move is refused, before anything changes, when it cannot be made", "[migration]") {
  SECTION("the host and the array share no protocol") {
    Scenario s(kNoSharedWiring);
    std::string fml = app_farm("iscsi");
    s.converge(fml);
    auto reasons = s.refused(fml, move("app-0", "f01"));  // snapshot before == after
    INFO(fmt::format("{}", fmt::join(reasons, "\n")));
    REQUIRE(reasons.size() == 2);
    CHECK(reasons[0] ==
          "cannot move server app-0 to host f01: volume app-0/t0 is on array isc, which offers iscsi; the host speaks "
          "fc; they share no protocol");
    CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", "i01"}});
  }
  SECTION("the host is not idle, of another class, unknown, or the server is unknown") {
    Scenario s(kMigrationWiring);
    std::string fml = app_farm("fc");
    s.converge(fml);
    CHECK(s.refused(fml, move("app-0", "f01"))[0] == "cannot move server app-0: it is on host f01 already");
    CHECK(s.refused(fml, move("app-0", "s01"))[0] ==
          "cannot move server app-0 to host s01: the host is of hardware class 'cpu-sun4u-x4', the server needs "
          "'cpu-x86-64'");
    CHECK(s.refused(fml, move("app-0", "zz9"))[0] == "cannot move server app-0: the wiring map has no host named 'zz9'");
    CHECK(s.refused(fml, move("app-9", "f02"))[0] == "cannot move server app-9: farm app has no such server");
    std::string other = app_farm("fc");
    other.replace(other.find("name=\"app\""), 10, "name=\"oth\"");
    s.converge(other);  // placed on f02
    CHECK(s.refused(fml, move("app-0", "f02"))[0] == "cannot move server app-0 to host f02: the host is not idle");
  }
}

// The old host's disks are bound and mapped (inventory and devices) and the
// server is still placed there.
void require_old_host_intact(Scenario& s, const std::string& host, const std::string& protocol) {
  CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", host}});
  require_access(s, "app", host, protocol);
}

TEST_CASE("a failure at any step of a move leaves the old host's access intact", "[migration]") {
  auto [from, to, protocol, old_protocol] = GENERATE(table<std::string, std::string, std::string, std::string>(
      {{"f01", "i01", "fc", "fc"}, {"i01", "f02", "iscsi", "iscsi"}, {"g01", "f02", "scsi", "scsi"}}));
  std::size_t steps = 0;
  {
    Scenario s(kMigrationWiring);
    s.converge(app_farm(protocol));
    steps = s.plan(app_farm(protocol), move("app-0", to)).actions.size();
  }
  REQUIRE(steps >= 8);
  int restored = 0;  // the old host's access given back after a teardown step ran
  for (std::size_t k = 1; k <= steps; ++k) {
    INFO(from << " -> " << to << ", failing action " << k << " of " << steps);
    Scenario s(kMigrationWiring);
    std::string fml = app_farm(protocol);
    s.converge(fml);
    REQUIRE(s.placements("app").at("app-0") == from);
    std::size_t before = s.sim_log().size();
    ReconcilePlan p = s.plan(fml, move("app-0", to));
    {
      std::string rule = fmt::format("*#{}=permanent", k);
      ScopedEnv faults("FARMCTL_SIM_FAULTS", rule.c_str());
      runtime::reset_sim_fault_counts();
      reconcile::ApplyResult r = s.apply(p);  // the invariants hold (apply() checks)
      INFO(fmt::format("{}\n{}", fmt::join(r.failures, "\n"), fmt::join(r.rolled_back, "\n")));
      REQUIRE_FALSE(r.ok());
      for (const std::string& line : r.rolled_back) {
        CHECK_THAT(line, Catch::EndsWith(": done"));
        restored += line.find("restore") != std::string::npos;
      }
    }
    require_old_host_intact(s, from, old_protocol);
    check_exposure(s, {from, to}, before, disks_of(s, "app"));
    // The move can be asked again and succeeds.
    s.apply_ok(s.plan(fml, move("app-0", to)));
    CHECK(s.placements("app").at("app-0") == to);
    CHECK(s.plan(fml).empty());
  }
  CHECK(restored > 0);
}

// ---- NPIV: a virtual FC port that moves with the server --------------------

constexpr std::string_view kVirtual0 = "c0:50:76:00:00:00:00:00";

// The migration map, with a range of virtual WWPNs on fabric-a.
std::string npiv_wiring() {
  std::string w(kMigrationWiring);
  w.replace(w.find(R"(<fabric name="fabric-a" driver="sim"/>)"), 38,
            R"(<fabric name="fabric-a" driver="sim"><npiv-range first="c0:50:76:00:00:00:00:00" last="c0:50:76:00:00:00:00:0f"/></fabric>)");
  return w;
}

std::string npiv_farm() {
  std::string fml = app_farm("fc");
  fml.replace(fml.find(R"(<server-role id="app" name="app">)"), 33, R"(<server-role id="app" name="app" npiv="true">)");
  return fml;
}

// The fabric's zones and the array's maskings, as the devices show them.
std::string access_control(Scenario& s) {
  auto devices = s.discover();
  std::string out;
  for (const auto& z : devices.at("fabric-a").zones) out += fmt::format("zone {} / {}\n", z.initiator, z.port);
  for (const auto& m : devices.at("sym1").maskings)
    out += fmt::format("mask {} to {} via {} lun {}\n", m.volume, m.initiator, m.port, m.lun);
  return out;
}

std::optional<std::string> vport_host(Scenario& s, const std::string& wwpn) {
  for (const auto& v : s.inventory().all_virtual_ports())
    if (v.wwpn == wwpn) return v.host_id ? s.host_name(*v.host_id) : std::string();
  return std::nullopt;
}

TEST_CASE("an npiv server is zoned and masked through its virtual port, handed out from the fabric's range",
          "[migration][npiv]") {
  Scenario s(npiv_wiring());
  s.converge(npiv_farm());
  REQUIRE(s.placements("app") == std::map<std::string, std::string>{{"app-0", "f01"}});
  require_access(s, "app", "f01", "fc");
  for (const auto& b : s.record("app").bindings) CHECK(b.initiator == kVirtual0);
  CHECK(vport_host(s, std::string(kVirtual0)) == "f01");
  auto devices = s.discover();
  CHECK(devices.at("fabric-a").zones.size() == 1);
  CHECK(devices.at("fabric-a").zones.at(0).initiator == kVirtual0);
  CHECK(devices.at("sym1").maskings.size() == 2);
  for (const auto& m : devices.at("sym1").maskings) CHECK(m.initiator == kVirtual0);
  check_exposure(s, {"f01"}, s.sim_log().size(), {});
  // A second npiv farm gets the next WWPN of the range.
  std::string other = npiv_farm();
  other.replace(other.find("name=\"app\""), 10, "name=\"oth\"");
  s.converge(other);
  for (const auto& b : s.record("oth").bindings) CHECK(b.initiator == "c0:50:76:00:00:00:00:01");
  CHECK(s.plan(npiv_farm()).empty());
  // A server leaves the farm: its port is unmasked and unzoned, then goes back to the range.
  s.destroy("oth");
  CHECK_FALSE(vport_host(s, "c0:50:76:00:00:00:00:01"));
  CHECK(vport_host(s, std::string(kVirtual0)) == "f01");
}

TEST_CASE("an npiv farm on a fabric without a range is refused, naming the fabric", "[migration][npiv]") {
  Scenario s(kMigrationWiring);
  auto reasons = s.refused(npiv_farm());
  REQUIRE(reasons.size() >= 1);
  CHECK(reasons[0] == "server app-0 asks for npiv, but the wiring map gives fabric fabric-a no npiv-range");
}

TEST_CASE("FC to FC with NPIV: the virtual port moves, zoning and masking stay", "[migration][npiv]") {
  Scenario s(npiv_wiring());
  std::string fml = npiv_farm();
  s.converge(fml);
  std::string zones_and_masks = access_control(s);
  std::size_t before = s.sim_log().size();

  ReconcilePlan p = s.plan(fml, move("app-0", "f02"));
  std::string text = reconcile::render_plan_text(p, false);
  INFO(text);
  CHECK(count_ops(p, Op::vport) == 1);
  CHECK(count_ops(p, Op::zone) == 0);
  CHECK(count_ops(p, Op::unzone) == 0);
  CHECK(count_ops(p, Op::bind) == 0);
  CHECK(count_ops(p, Op::unbind) == 0);
  // The array presents the LUNs per host: the new host's map, then the old one's unmap.
  CHECK(count_ops(p, Op::map) == 2);
  CHECK(count_ops(p, Op::unmap) == 2);
  CHECK_THAT(text, Catch::Contains("vport c0:50:76:00:00:00:00:00: moves from host f01 to host f02"));
  require_make_before_break(p);
  const auto* vport = actions_of(p, Op::vport).front();
  CHECK(vport->device_action.host == "f02");
  for (const auto* m : actions_of(p, Op::map))
    CHECK(std::find(vport->depends_on.begin(), vport->depends_on.end(), m->id) != vport->depends_on.end());

  s.apply_ok(p);
  CHECK(s.placements("app") == std::map<std::string, std::string>{{"app-0", "f02"}});
  require_access(s, "app", "f02", "fc");
  CHECK(vport_host(s, std::string(kVirtual0)) == "f02");
  CHECK(access_control(s) == zones_and_masks);
  check_exposure(s, {"f01", "f02"}, before, disks_of(s, "app"));
  CHECK(s.plan(fml).empty());
  // and on to an iscsi host: the ordinary move; the port is logged out, kept by the farm
  std::size_t second = s.sim_log().size();
  ReconcilePlan away = s.plan(fml, move("app-0", "i01"));
  INFO(reconcile::render_plan_text(away, false));
  s.apply_ok(away);
  require_access(s, "app", "i01", "iscsi");
  CHECK(vport_host(s, std::string(kVirtual0)) == "");
  check_exposure(s, {"f01", "f02", "i01"}, second, disks_of(s, "app"));  // the log from the start
  CHECK(s.plan(fml).empty());
  // and back to fc: the farm's port again, logged in at the new host before it is masked
  s.apply_ok(s.plan(fml, move("app-0", "f01")));
  require_access(s, "app", "f01", "fc");
  for (const auto& b : s.record("app").bindings) CHECK(b.initiator == kVirtual0);
  CHECK(vport_host(s, std::string(kVirtual0)) == "f01");
  check_exposure(s, {"f01", "f02", "i01"}, second, disks_of(s, "app"));
  CHECK(s.plan(fml).empty());
}

TEST_CASE("a role that drops npiv: its exports move to the host's HBA, and the port returns to the range",
          "[migration][npiv]") {
  Scenario s(npiv_wiring());
  s.converge(npiv_farm());
  std::size_t before = s.sim_log().size();
  std::string fml = app_farm("fc");
  ReconcilePlan p = s.plan(fml);
  INFO(reconcile::render_plan_text(p, false));
  CHECK(count_ops(p, Op::unmap) == 0);
  CHECK(count_ops(p, Op::map) == 0);
  REQUIRE(count_ops(p, Op::vport) == 1);
  const auto* release = actions_of(p, Op::vport).front();
  for (const auto& a : p.actions)
    if (a.device_action.initiator == kVirtual0 && a.op != Op::vport)
      CHECK(std::find(release->depends_on.begin(), release->depends_on.end(), a.id) != release->depends_on.end());
  s.apply_ok(p);
  require_access(s, "app", "f01", "fc");
  for (const auto& b : s.record("app").bindings) CHECK(b.initiator == "10:00:00:00:c9:2b:aa:01");
  CHECK(s.inventory().all_virtual_ports().empty());
  // Exposure only: the masking moves as for a renamed initiator (unbind and bind do not wait for each other).
  CHECK(check_exposure(s, {"f01"}, s.sim_log().size(), {}) > before);
  CHECK(s.plan(fml).empty());
}

TEST_CASE("a failure at any step of an npiv move leaves the old host's access intact", "[migration][npiv]") {
  std::size_t steps = 0;
  {
    Scenario s(npiv_wiring());
    s.converge(npiv_farm());
    steps = s.plan(npiv_farm(), move("app-0", "f02")).actions.size();
  }
  REQUIRE(steps == 5);
  int restored = 0;
  for (std::size_t k = 1; k <= steps; ++k) {
    INFO("failing action " << k << " of " << steps);
    Scenario s(npiv_wiring());
    std::string fml = npiv_farm();
    s.converge(fml);
    std::string zones_and_masks = access_control(s);
    std::size_t before = s.sim_log().size();
    ReconcilePlan p = s.plan(fml, move("app-0", "f02"));
    {
      std::string rule = fmt::format("*#{}=permanent", k);
      ScopedEnv faults("FARMCTL_SIM_FAULTS", rule.c_str());
      runtime::reset_sim_fault_counts();
      reconcile::ApplyResult r = s.apply(p);  // the invariants hold (apply() checks)
      INFO(fmt::format("{}\n{}", fmt::join(r.failures, "\n"), fmt::join(r.rolled_back, "\n")));
      REQUIRE_FALSE(r.ok());
      for (const std::string& line : r.rolled_back) {
        CHECK_THAT(line, Catch::EndsWith(": done"));
        restored += line.find("restore") != std::string::npos;
      }
    }
    require_old_host_intact(s, "f01", "fc");
    CHECK(vport_host(s, std::string(kVirtual0)) == "f01");
    CHECK(access_control(s) == zones_and_masks);
    CHECK(s.violations().empty());
    check_exposure(s, {"f01", "f02"}, before, disks_of(s, "app"));
    s.apply_ok(s.plan(fml, move("app-0", "f02")));
    CHECK(s.placements("app").at("app-0") == "f02");
    CHECK(vport_host(s, std::string(kVirtual0)) == "f02");
    CHECK(s.plan(fml).empty());
  }
  CHECK(restored > 0);
}

TEST_CASE("connection-info tells a host where its disks are", "[migration]") {
  Scenario s(kMigrationWiring);
  std::string fml = app_farm("fc");
  s.converge(fml);
  std::string why;
  auto fc = reconcile::connection_info(s.inventory(), "app", "app-0", why);
  REQUIRE(fc);
  CHECK(fc->host == "f01");
  REQUIRE(fc->disks.size() == 2);
  CHECK(fc->disks[0].volume == "app-0/t0");
  CHECK(fc->disks[0].protocol == "fc");
  CHECK(fc->disks[0].storage_system == "sym1");
  CHECK(fc->disks[0].model == "Symmetrix");
  CHECK(fc->disks[0].serial == "1");
  CHECK(fc->disks[0].port_wwn == "50:06:04:8a:cc:c8:3b:00");
  CHECK(fc->disks[0].lun == 0);
  CHECK(fc->disks[1].lun == 1);
  CHECK(fc->disks[1].target == 1);
  // translations/sim.ids: FARMCTL, the wiring map's model and serial, the volume id
  std::string volume_id = fc->disks[0].device_volume;
  std::transform(volume_id.begin(), volume_id.end(), volume_id.begin(), [](unsigned char c) { return std::toupper(c); });
  CHECK(fc->disks[0].storage_node == "FARMCTL__SYMMETRIX__1__" + volume_id);
  s.apply_ok(s.plan(fml, move("app-0", "i02")));
  auto iscsi = reconcile::connection_info(s.inventory(), "app", "app-0", why);
  REQUIRE(iscsi);
  CHECK(iscsi->host == "i02");
  REQUIRE(iscsi->disks.size() == 2);
  CHECK(iscsi->disks[0].protocol == "iscsi");
  CHECK(iscsi->disks[0].target_iqn == "iqn.2001-07.com.example:sym1.4b");
  CHECK(iscsi->disks[0].port_wwn.empty());
  CHECK(iscsi->disks[0].initiator == "iqn.2026-11.org.example:i02");
  CHECK_FALSE(reconcile::connection_info(s.inventory(), "app", "app-7", why));
  CHECK(why == "farm app has no server app-7 placed on a host");
}

TEST_CASE("discovery speaks the storage adapters' terms: storage system, target and initiator ports, assignments",
          "[migration][ids]") {
  Scenario s(kMigrationWiring);
  s.converge(app_farm("fc"));
  auto devices = s.discover();
  const runtime::DeviceState& sym1 = devices.at("sym1");
  CHECK(sym1.system.vendor == "FARMCTL");
  CHECK(sym1.system.model == "SIM");
  CHECK(sym1.system.serial == "sym1");
  REQUIRE(sym1.target_ports.size() == 2);
  CHECK(sym1.target_ports[0].id == "FA-3A");
  CHECK(sym1.target_ports[0].wwn == "50:06:04:8a:cc:c8:3b:00");
  CHECK(sym1.target_ports[1].iqn == "iqn.2001-07.com.example:sym1.4b");
  CHECK(sym1.initiator_ports == std::vector<std::string>{"10:00:00:00:c9:2b:aa:01"});
  CHECK(sym1.maskings.size() == 2);  // the assignments
  const runtime::DeviceState& fabric = devices.at("fabric-a");
  CHECK(fabric.system.vendor.empty());
  CHECK(fabric.target_ports.empty());
  CHECK(fabric.initiator_ports == std::vector<std::string>{"10:00:00:00:c9:2b:aa:01"});  // zoned
}

// ---- through the binary ------------------------------------------------------

struct CliRun {
  int status = 0;
  std::string out;
};

CliRun farmctl(const Scenario& s, const std::string& args) {
  std::string out_file = (s.dir() / "cli.out").string();
  std::string cmd = fmt::format(
      "cd '{}' && unset FARMCTL_SIM_FAULTS; FARMCTL_DB='{}' FARMCTL_SIM_LATENCY='*=0' '{}' {} </dev/null >'{}' 2>&1",
      s.dir().string(), s.db(), FARMCTL_BINARY, args, out_file);
  int rc = std::system(cmd.c_str());
  std::ifstream in(out_file);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, text.str()};
}

TEST_CASE("farmctl migrate --plan-only and connection-info --json", "[migration]") {
  Scenario s(kMigrationWiring);
  std::string fml = app_farm("fc");
  { std::ofstream(s.dir() / "app.fml") << fml; }
  CliRun applied = farmctl(s, "apply app.fml --auto-approve");
  INFO(applied.out);
  REQUIRE(applied.status == 0);

  Snapshot before = s.snapshot();
  CliRun planned = farmctl(s, "migrate app.fml app-0 --to i01 --plan-only");
  INFO(planned.out);
  REQUIRE(planned.status == 0);
  CHECK_THAT(planned.out, Catch::Contains("moves from host f01 to host i01"));
  CHECK(s.snapshot() == before);

  CliRun planned_json = farmctl(s, "migrate app.fml app-0 --to i01 --plan-only --json");
  INFO(planned_json.out);
  REQUIRE(planned_json.status == 0);
  auto pj = nlohmann::json::parse(planned_json.out);
  REQUIRE(pj["moves"].size() == 1);
  CHECK(pj["moves"][0]["from_host"] == "f01");
  CHECK(pj["moves"][0]["host"] == "i01");
  CHECK(s.snapshot() == before);

  CliRun refused = farmctl(s, "migrate app.fml app-0 --to s01 --plan-only");
  INFO(refused.out);
  CHECK(refused.status == 1);
  CHECK_THAT(refused.out, Catch::Contains("the host is of hardware class 'cpu-sun4u-x4'"));

  CliRun moved = farmctl(s, "migrate app.fml app-0 --to i01 --auto-approve");
  INFO(moved.out);
  REQUIRE(moved.status == 0);
  s.check();
  CHECK(s.placements("app").at("app-0") == "i01");

  CliRun info = farmctl(s, "connection-info app.fml app-0 --json");
  INFO(info.out);
  REQUIRE(info.status == 0);
  auto j = nlohmann::json::parse(info.out);
  CHECK(j["host"] == "i01");
  REQUIRE(j["disks"].size() == 2);
  CHECK(j["disks"][0]["protocol"] == "iscsi");
  CHECK(j["disks"][0]["target_iqn"] == "iqn.2001-07.com.example:sym1.4b");
  CHECK(j["disks"][0]["storage_system"]["name"] == "sym1");
  CHECK(j["disks"][1]["lun"] == 1);
  CliRun text = farmctl(s, "connection-info app.fml app-0");
  INFO(text.out);
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::StartsWith("server app-0 of farm app on host i01: 2 disks"));
}

TEST_CASE("farmctl refuses a wiring map whose npiv-range holds a host's initiator, and changes nothing",
          "[migration][npiv]") {
  Scenario s(npiv_wiring());
  { std::ofstream(s.dir() / "app.fml") << npiv_farm(); }
  CliRun applied = farmctl(s, "apply app.fml --auto-approve");
  INFO(applied.out);
  REQUIRE(applied.status == 0);
  Snapshot before = s.snapshot();
  std::string bad = npiv_wiring();
  bad.replace(bad.find("c0:50:76:00:00:00:00:0f"), 23, "ff:ff:ff:ff:ff:ff:ff:ff");
  bad.replace(bad.find("c0:50:76:00:00:00:00:00"), 23, "10:00:00:00:00:00:00:00");
  { std::ofstream(s.dir() / "bad.xml") << bad; }
  CliRun refused = farmctl(s, "inventory import bad.xml");
  INFO(refused.out);
  CHECK(refused.status == 1);
  CHECK_THAT(refused.out, Catch::Contains("holds 10:00:00:00:c9:2b:aa:01, the initiator of host f01"));
  CHECK(s.snapshot() == before);
  CliRun plan = farmctl(s, "migrate app.fml app-0 --to f02 --plan-only");
  INFO(plan.out);
  CHECK(plan.status == 0);
  CHECK_THAT(plan.out, Catch::Contains("~ vport c0:50:76:00:00:00:00:00: moves from host f01 to host f02"));
  CHECK(s.snapshot() == before);
}

}  // namespace
}  // namespace farmctl::testing
