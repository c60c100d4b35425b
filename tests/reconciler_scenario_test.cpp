// Scenario tests of the reconciler against the sim driver (issue 3): each
// scenario drives a farm through its life — create, re-plan, scale, grow,
// share, replace, drift, faults, destroy — and after every step the
// inventory's invariants hold against the devices (scenario_fixture.h).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>
#include <set>

#include "reconciler/applied_volumes.h"
#include "tests/scenario_fixture.h"
#include "tests/schema_downgrade.h"

namespace farmctl::testing {
namespace {

using reconcile::ChangeKind;
using reconcile::ReconcilePlan;
using runtime::Op;
using runtime::VolumeState;

// A farm of scsi servers behind gw1: a boot disk with an image at target 0,
// a raid 0+1 /home (a pool slice on sym1's p0), and a global disk shared at
// target 1.
struct WebFarm {
  std::string name = "web";
  int servers = 2;
  std::string boot = "8631";
  std::string image = "solaris";
  std::string home = "512MB";
  bool shared = true;
  std::string extra_global;  // a second global disk, shared at target 2

  std::string fml() const {
    std::string globals, shares;
    if (shared) {
      globals += R"(<global-disk global-name="shared" drivesize="8631"/>)";
      shares += R"(<shared-disk global-name="shared" target="1"/>)";
    }
    if (!extra_global.empty()) {
      globals += fmt::format(R"(<global-disk global-name="{}" drivesize="4GB"/>)", extra_global);
      shares += fmt::format(R"(<shared-disk global-name="{}" target="2"/>)", extra_global);
    }
    return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="{}">
  <farm-global-disks>{}</farm-global-disks>
  <tier id="t1" name="web">
    <role>web</role>
    <init-servers>{}</init-servers>
  </tier>
  <server-role id="web" name="web">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivetype="scsi" drivesize="{}"><diskimage type="system">{}</diskimage></disk>
    <disk target="3" drivename="/home" drivesize="{}"><attribute name="raid-level" value="0+1"/></disk>
    {}
  </server-role>
</farm>
)",
                       name, globals, servers, boot, image, home, shares);
  }
};

std::string web(int servers) {
  WebFarm f;
  f.servers = servers;
  return f.fml();
}

// db-cluster-like: two fc database servers sharing a performance raid-5
// disk, and an iscsi reporting server.
struct DbFarm {
  int databases = 2;
  bool shared = true;
  bool reporting = true;

  std::string fml() const {
    return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="db">
  <farm-global-disks>
    <global-disk global-name="data" drivesize="40GB" drivetype="performance">
      <attribute name="raid-level" value="5"/>
    </global-disk>
  </farm-global-disks>
  <tier id="db" name="db"><role>database</role><init-servers>{}</init-servers></tier>
  {}
  <server-role id="database" name="database">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="fc" drivesize="8GB"><diskimage type="system">debian</diskimage></disk>
    {}
  </server-role>
  <server-role id="reporting" name="reporting">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="iscsi" drivesize="4GB"><diskimage type="system">debian</diskimage></disk>
  </server-role>
</farm>
)",
                       databases,
                       reporting ? R"(<tier id="rep" name="report"><role>reporting</role>)"
                                   R"(<init-servers>1</init-servers></tier>)"
                                 : "",
                       shared ? R"(<shared-disk global-name="data" target="1" drivetype="fc"/>)" : "");
  }
};

// Where the sim log holds the first action matching op/device/volume (and,
// if given, host): its position, or -1.
long log_position(const std::vector<runtime::SimLogEntry>& log, Op op, std::string_view device,
                  std::string_view volume, std::string_view host = {}) {
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& a = log[i].action;
    if (a.op == op && a.device == device && a.volume == volume && (host.empty() || a.host == host) &&
        log[i].outcome.ok())
      return static_cast<long>(i);
  }
  return -1;
}

std::set<std::string> masked_initiators(const reconcile::Discovery& d, const std::string& array,
                                        const std::string& volume) {
  std::set<std::string> out;
  for (const auto& m : d.at(array).maskings)
    if (m.volume == volume) out.insert(m.initiator);
  return out;
}

std::set<std::string> mapped_hosts(const reconcile::Discovery& d, const std::string& device,
                                   const std::string& volume) {
  std::set<std::string> out;
  for (const auto& m : d.at(device).mappings)
    if (m.volume == volume) out.insert(m.host);
  return out;
}

// ---- a farm's life --------------------------------------------------------------

TEST_CASE("create a farm, then re-plan shows no changes", "[scenario]") {
  Scenario s;
  ReconcilePlan p = s.converge(web(2));
  CHECK(p.placements.size() == 2);
  auto summary = p.summary();
  CHECK(summary.destroy == 0);
  CHECK(summary.update == 0);

  auto placed = s.placements("web");
  CHECK(placed == std::map<std::string, std::string>{{"web-0", "h01"}, {"web-1", "h02"}});

  // Boot disks hold the image; the /home slices come from the raid 0+1 pool.
  for (std::string server : {"web-0", "web-1"}) {
    auto boot = s.unit("web", server + "/t0");
    CHECK(boot.state == VolumeState::Mapped);
    CHECK(boot.image == "solaris");
    CHECK(boot.dirty_farm == "web");
    auto home = s.unit("web", server + "/t3");
    CHECK(home.origin == "slice");
    CHECK(home.raid == "0+1");
    CHECK(home.state == VolumeState::Mapped);
  }
  // The global disk: one array masking to the gateway, a mapping per host.
  auto shared = s.unit("web", "global/shared");
  auto devices = s.discover();
  CHECK(masked_initiators(devices, "sym1", shared.device_volume) == std::set<std::string>{"gateway:gw1"});
  CHECK(mapped_hosts(devices, "gw1", shared.device_volume) == std::set<std::string>{"h01", "h02"});

  // Behind the gateway each volume has its own array LUN; the hosts see the targets.
  std::set<int> luns;
  auto record = s.record("web");
  for (const auto& b : record.bindings) {
    CHECK(b.protocol == "scsi");
    CHECK(b.bound);
    CHECK(b.mapped);
    if (b.volume_id != shared.id) CHECK(luns.insert(b.lun).second);
  }
  for (const auto& m : devices.at("gw1").mappings)
    if (m.volume == shared.device_volume) CHECK(m.target == 1);

  // Applying the same file again does nothing at all.
  auto log_size = s.sim_log().size();
  auto before = s.snapshot();
  ReconcilePlan again = s.plan(web(2));
  CHECK(again.empty());
  s.apply_ok(again);
  CHECK(s.sim_log().size() == log_size);
  CHECK(s.snapshot().devices == before.devices);
}

TEST_CASE("scale a tier up, then down: the highest-numbered servers go", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  auto web0_boot = s.unit("web", "web-0/t0");

  ReconcilePlan up = s.converge(web(4));
  REQUIRE(up.placements.size() == 2);
  CHECK(s.placements("web") ==
        std::map<std::string, std::string>{{"web-0", "h01"}, {"web-1", "h02"}, {"web-2", "h03"}, {"web-3", "h04"}});
  // Scaling up touches nothing that exists.
  CHECK(count_ops(up, Op::unmap) + count_ops(up, Op::unbind) + count_ops(up, Op::deallocate) == 0);
  auto shared = s.unit("web", "global/shared");
  CHECK(mapped_hosts(s.discover(), "gw1", shared.device_volume) ==
        std::set<std::string>{"h01", "h02", "h03", "h04"});

  ReconcilePlan down = s.converge(web(1));
  CHECK(down.placements.empty());
  std::vector<std::string> released = down.released_servers;
  std::sort(released.begin(), released.end());
  CHECK(released == std::vector<std::string>{"web-1", "web-2", "web-3"});
  for (const auto& a : down.actions) {
    INFO(a.detail);
    CHECK(a.server != "web-0");
    CHECK(a.volume.rfind("web-0/", 0) != 0);
  }
  CHECK(s.placements("web") == std::map<std::string, std::string>{{"web-0", "h01"}});
  CHECK(s.unit("web", "web-0/t0").id == web0_boot.id);
  // The released hosts see nothing any more; h01 still sees the shared disk.
  auto devices = s.discover();
  CHECK(mapped_hosts(devices, "gw1", shared.device_volume) == std::set<std::string>{"h01"});
  for (const auto& m : devices.at("gw1").mappings) CHECK(m.host == "h01");
  // Every volume that left was scrubbed before it was freed.
  auto log = s.sim_log();
  for (const auto& a : down.actions) {
    if (a.op != Op::deallocate) continue;
    long scrub = log_position(log, Op::scrub, a.device, a.device_action.volume);
    long freed = log_position(log, Op::deallocate, a.device, a.device_action.volume);
    INFO(a.detail);
    CHECK(scrub >= 0);
    CHECK(scrub < freed);
  }

  // Up again: the freed hosts are placed anew, in name order.
  s.converge(web(2));
  CHECK(s.placements("web") == std::map<std::string, std::string>{{"web-0", "h01"}, {"web-1", "h02"}});
}

TEST_CASE("grow a disk: a pool slice grows in place, a pre-carved volume becomes a meta", "[scenario]") {
  Scenario s;
  s.converge(web(1));
  auto home = s.unit("web", "web-0/t3");
  auto boot = s.unit("web", "web-0/t0");
  REQUIRE(home.origin == "slice");
  REQUIRE(boot.origin == "precarved");

  SECTION("a pool slice") {
    WebFarm f;
    f.servers = 1;
    f.home = "2GB";
    ReconcilePlan p = s.converge(f.fml());
    CHECK(op_lines(p) == std::vector<std::string>{"grow sym1 " + home.device_volume});
    CHECK(has_change(p, ChangeKind::update, "volume web-0/t3"));
    auto grown = s.unit("web", "web-0/t3");
    CHECK(grown.id == home.id);
    CHECK(grown.size_mb == 2048);
    CHECK(grown.state == VolumeState::Mapped);
    auto devices = s.discover();
    for (const auto& v : devices.at("sym1").volumes)
      if (v.id == home.device_volume) CHECK(v.size_mb == 2048);
  }

  SECTION("a pre-carved volume, bound and mapped, grows into a head-style meta") {
    WebFarm f;
    f.servers = 1;
    f.boot = "12GB";  // 8631 MB + 3657 MB: the smallest free std volume that covers it is a 4 GB one
    ReconcilePlan p = s.converge(f.fml());
    auto metas = actions_of(p, Op::meta);
    REQUIRE(metas.size() == 1);
    const auto& members = metas.front()->device_action.members;
    REQUIRE(members.size() == 2);
    CHECK(members[0] == boot.device_volume);
    CHECK(metas.front()->device_action.volume == boot.device_volume);
    CHECK(members[1] == "0B1");
    CHECK(count_ops(p, Op::unbind) == 0);  // grows while the host keeps it

    auto head = s.unit("web", "web-0/t0");
    CHECK(head.id == boot.id);
    CHECK(head.state == VolumeState::Mapped);
    auto parts = s.inventory().members_of(head.id);
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].device_volume == "0B1");
    CHECK(parts[0].state == VolumeState::Member);
    CHECK(parts[0].farm_id == head.farm_id);
    auto devices = s.discover();
    for (const auto& v : devices.at("sym1").volumes)
      if (v.id == boot.device_volume) {
        CHECK(v.members == std::vector<std::string>{boot.device_volume, "0B1"});
        CHECK(v.size_mb == 8631 + 4096);
      }

    // Down it goes again: the meta is broken and both pieces are free and clean.
    s.destroy("web");
    for (const auto& v : s.inventory().all_volumes()) CHECK(v.state == VolumeState::Free);
    CHECK(s.sim_data().empty());
  }

  SECTION("a disk cannot shrink without --allow-replace") {
    WebFarm f;
    f.servers = 1;
    f.home = "256MB";
    auto reasons = s.refused(f.fml());
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] ==
          "volume web-0/t3 would be replaced (size 512 MB -> 256 MB (a disk cannot shrink)), destroying its data: "
          "run again with --allow-replace to accept");
  }

  SECTION("a slice that cannot grow in its pool is refused, nothing changed") {
    WebFarm f;
    f.servers = 1;
    f.home = "21GB";
    auto reasons = s.refused(f.fml());
    REQUIRE(reasons.size() == 1);
    CHECK_THAT(reasons[0], Catch::StartsWith("volume web-0/t3 cannot grow by 20992 MB: its pool has"));
  }
}

// What the last applied file said of each disk (size, backup policies) is
// kept apart from its Plan IR (farm_volumes_applied); a farm applied by a
// farmctl from before that column has none, and the planner reads the IR.
TEST_CASE("a disk cannot shrink, whether the sizes applied are kept apart from the IR or read from it",
          "[scenario]") {
  Scenario s;
  WebFarm f;
  f.servers = 1;
  s.converge(f.fml());
  auto farm = s.inventory().farm("web");
  REQUIRE(farm);
  REQUIRE(farm->volumes_applied);
  auto applied = reconcile::read_applied_volumes(*farm->volumes_applied);
  CHECK(applied == reconcile::applied_volumes_of_plan_json(*farm->plan_json));
  CHECK(applied.at("web-0/t3").size_mb == 512);

  f.home = "256MB";
  std::string refusal =
      "volume web-0/t3 would be replaced (size 512 MB -> 256 MB (a disk cannot shrink)), destroying its data: "
      "run again with --allow-replace to accept";
  SECTION("kept apart") { CHECK(s.refused(f.fml()) == std::vector<std::string>{refusal}); }
  SECTION("read from the IR") {
    s.inventory().database().exec("DELETE FROM farm_volumes_applied");
    CHECK(s.refused(f.fml()) == std::vector<std::string>{refusal});
  }
}

// An inventory of schema 6 kept the entries in farms.volumes_applied, after
// the IR; opening it moves them to their own table, and plans read them there.
TEST_CASE("the entries of schema 6 move to their own table when the inventory is opened", "[scenario]") {
  Scenario s;
  WebFarm f;
  f.servers = 1;
  s.converge(f.fml());
  auto before = s.inventory().farm("web");
  REQUIRE(before);
  REQUIRE(before->volumes_applied);
  s.inventory().database().exec(kUndoSchema9);
  s.inventory().database().exec(R"SQL(
    UPDATE farms SET volumes_applied = (SELECT entries FROM farm_volumes_applied WHERE farm_id = farms.id);
    DROP TABLE farm_volumes_applied;
    PRAGMA user_version = 6;
  )SQL");
  runtime::Inventory upgraded(s.db());
  auto after = upgraded.farm("web");
  REQUIRE(after);
  CHECK(after->volumes_applied == before->volumes_applied);
  CHECK(upgraded.farm_for_plan("web")->volumes_applied == before->volumes_applied);
  CHECK(upgraded.farm_for_plan("web")->plan_json == std::optional<std::string>(""));  // not read: not needed
  auto left = upgraded.database().prepare("SELECT COUNT(*) FROM farms WHERE volumes_applied IS NOT NULL");
  REQUIRE(left.step());
  CHECK(left.int64(0) == 0);
}

// The planner takes what was applied from farm_volumes_applied when it is
// there, not from the IR: a policy recorded there (and nowhere else) shows up
// as the policy the file changes.
TEST_CASE("what was applied of each disk is read from the entries kept apart from the IR", "[scenario]") {
  Scenario s;
  WebFarm f;
  f.servers = 1;
  s.converge(f.fml());
  s.inventory().database().exec(
      R"(UPDATE farm_volumes_applied SET entries = replace(entries, '["web-0/t3",512,"none"]',
                                                           '["web-0/t3",512,"level 0 nightly retain 3"]'))");
  f.servers = 2;
  auto plan = s.plan(f.fml());
  CHECK(std::count_if(plan.changes.begin(), plan.changes.end(), [](const reconcile::Change& c) {
          return c.subject == "volume web-0/t3" && c.reason == "backup policies level 0 nightly retain 3 -> none";
        }) == 1);
}

TEST_CASE("add and remove a shared disk", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  WebFarm f;
  f.extra_global = "scratch";
  ReconcilePlan add = s.converge(f.fml());
  CHECK(count_ops(add, Op::allocate) == 1);
  CHECK(count_ops(add, Op::bind) == 1);  // one masking to the gateway
  CHECK(count_ops(add, Op::map) == 2);   // shown to both hosts
  CHECK(count_ops(add, Op::unmap) + count_ops(add, Op::deallocate) == 0);
  auto scratch = s.unit("web", "global/scratch");
  CHECK(scratch.size_mb == 4096);
  CHECK(mapped_hosts(s.discover(), "gw1", scratch.device_volume) == std::set<std::string>{"h01", "h02"});
  for (const auto& b : s.inventory().bindings_of_volume(scratch.id)) CHECK(b.target == 2);

  ReconcilePlan remove = s.converge(web(2));
  CHECK(has_change(remove, ChangeKind::destroy, "volume global/scratch"));
  CHECK(count_ops(remove, Op::unmap) == 2);
  CHECK(count_ops(remove, Op::unbind) == 1);
  CHECK(count_ops(remove, Op::scrub) == 1);
  CHECK(count_ops(remove, Op::deallocate) == 1);
  for (const auto& a : remove.actions) CHECK(a.volume == "global/scratch");
  auto freed = s.inventory().volume(scratch.id);
  REQUIRE(freed);
  CHECK(freed->state == VolumeState::Free);
  CHECK_FALSE(freed->dirty_farm);
}

TEST_CASE("a global disk shared into two roles", "[scenario]") {
  Scenario s;
  const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="two-roles">
  <farm-global-disks><global-disk global-name="content" drivesize="4GB"/></farm-global-disks>
  <tier id="a" name="front"><role>front</role><init-servers>2</init-servers></tier>
  <tier id="b" name="back"><role>back</role><init-servers>1</init-servers></tier>
  <server-role id="front" name="front">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivesize="4GB"/>
    <shared-disk global-name="content" target="1"/>
  </server-role>
  <server-role id="back" name="back">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivesize="4GB"/>
    <shared-disk global-name="content" target="5"/>
  </server-role>
</farm>
)";
  s.converge(fml);
  auto content = s.unit("two-roles", "global/content");
  std::map<std::string, int> targets;
  for (const auto& b : s.inventory().bindings_of_volume(content.id)) targets[b.server] = b.target;
  CHECK(targets == std::map<std::string, int>{{"front-0", 1}, {"front-1", 1}, {"back-0", 5}});
  auto devices = s.discover();
  CHECK(masked_initiators(devices, "sym1", content.device_volume) == std::set<std::string>{"gateway:gw1"});
  CHECK(mapped_hosts(devices, "gw1", content.device_volume) == std::set<std::string>{"h01", "h02", "h03"});
  s.destroy("two-roles");
}

TEST_CASE("two farms side by side are isolated", "[scenario]") {
  Scenario s;
  WebFarm a;
  a.name = "alpha";
  WebFarm b;
  b.name = "beta";
  s.converge(a.fml());
  auto alpha_before = s.record("alpha");
  ReconcilePlan pb = s.converge(b.fml());
  // Beta's plan touches only beta's units and only idle hosts.
  std::set<std::string> alpha_volumes;
  for (const auto& v : alpha_before.volumes) alpha_volumes.insert(s.device_name(v.device_id) + ":" + v.device_volume);
  for (const auto& act : pb.actions) {
    if (act.op == Op::zone) continue;
    INFO(act.detail);
    CHECK_FALSE(alpha_volumes.count(act.device_action.array.empty() ? act.device + ":" + act.device_action.volume
                                                                     : act.device_action.array + ":" +
                                                                           act.device_action.volume));
  }
  CHECK(s.placements("beta") == std::map<std::string, std::string>{{"web-0", "h03"}, {"web-1", "h04"}});
  // Alpha's record is untouched.
  auto alpha_after = s.record("alpha");
  REQUIRE(alpha_after.volumes.size() == alpha_before.volumes.size());
  for (std::size_t i = 0; i < alpha_after.volumes.size(); ++i)
    CHECK(dump(alpha_after.volumes[i]) == dump(alpha_before.volumes[i]));
  REQUIRE(alpha_after.bindings.size() == alpha_before.bindings.size());
  for (std::size_t i = 0; i < alpha_after.bindings.size(); ++i)
    CHECK(dump(alpha_after.bindings[i]) == dump(alpha_before.bindings[i]));
  // Both farms go through the same gateway and array port: their LUNs differ.
  std::map<int, std::set<runtime::RowId>> volumes_by_lun;
  for (const auto& bnd : s.inventory().all_bindings()) volumes_by_lun[bnd.lun].insert(bnd.volume_id);
  for (const auto& [lun, volumes] : volumes_by_lun) {
    INFO("lun " << lun);
    CHECK(volumes.size() == 1);
  }
  // Neither farm's plan sees the other.
  CHECK(s.plan(a.fml()).empty());
  CHECK(s.plan(b.fml()).empty());

  // Taking alpha down leaves beta exactly as it was.
  auto beta_before = s.record("beta");
  ReconcilePlan gone = s.destroy("alpha");
  for (const auto& act : gone.actions) CHECK(act.device_action.farm == "alpha");
  auto beta_after = s.record("beta");
  REQUIRE(beta_after.volumes.size() == beta_before.volumes.size());
  for (std::size_t i = 0; i < beta_after.volumes.size(); ++i)
    CHECK(dump(beta_after.volumes[i]) == dump(beta_before.volumes[i]));
  CHECK(s.plan(b.fml()).empty());
}

TEST_CASE("capacity and host exhaustion are refused with nothing changed", "[scenario]") {
  Scenario s;
  s.converge(web(3));
  auto before = s.snapshot();

  SECTION("too little capacity") {
    const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="big">
  <tier id="a" name="big"><role>r</role></tier>
  <server-role id="r" name="r">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="iscsi" drivesize="900GB"/>
  </server-role>
</farm>
)";
    auto reasons = s.refused(fml);
    REQUIRE(reasons.size() == 1);
    CHECK_THAT(reasons[0], Catch::StartsWith("no storage for volume big-0/t0 (921600 MB std): sym1: "));
    CHECK_THAT(reasons[0], Catch::Contains("largest pool room"));
    CHECK_THAT(reasons[0], Catch::Contains("sym2: "));
  }

  SECTION("no fitting host") {
    auto reasons = s.refused(web(5));
    INFO(fmt::format("{}", fmt::join(reasons, "\n")));
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] == "no host for server web-4: all 4 hosts of hardware class 'cpu-sun4u-x4' are in use");
  }

  SECTION("no host speaks the protocol") {
    const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="fc3">
  <tier id="a" name="n"><role>r</role><init-servers>3</init-servers></tier>
  <server-role id="r" name="r">
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="fc" drivesize="1GB"/>
  </server-role>
</farm>
)";
    auto reasons = s.refused(fml);
    INFO(fmt::format("{}", fmt::join(reasons, "\n")));
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] == "no host for server n-2: none of the 1 idle hosts of hardware class 'cpu-x86-64' speaks fc");
  }

  SECTION("an unknown hardware class and an unknown image, both named") {
    const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="odd">
  <tier id="a" name="odd"><role>r</role></tier>
  <server-role id="r" name="r">
    <hw>cpu-mips</hw>
    <disk target="0" drivesize="8GB"><diskimage type="system">plan9</diskimage></disk>
  </server-role>
</farm>
)";
    auto reasons = s.refused(fml);
    REQUIRE(reasons.size() == 2);
    CHECK(reasons[0] == "no host for server odd-0: the wiring map has no host of hardware class 'cpu-mips'");
    CHECK(reasons[1] ==
          "volume odd-0/t0 wants image 'plan9', which the wiring map does not declare (known: centos, debian, "
          "solaris)");
  }

  SECTION("an image larger than its disk") {
    WebFarm f;
    f.name = "small";
    f.servers = 1;
    f.boot = "4GB";
    auto reasons = s.refused(f.fml());
    REQUIRE(reasons.size() == 1);
    CHECK(reasons[0] == "image 'solaris' (6144 MB) does not fit volume web-0/t0 (4096 MB)");
  }
  CHECK(s.snapshot() == before);
}

// ---- storage shapes -----------------------------------------------------------------

TEST_CASE("meta-volume allocation when no single volume fits and there is no pool", "[scenario]") {
  Scenario s(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="arr" driver="sim" protocols="iscsi">
    <port id="P1" iqn="iqn.2001-07.com.example:arr.p1"/>
    <volume id="V1" size="4GB"/>
    <volume id="V2" size="4GB"/>
    <volume id="V3" size="4GB"/>
    <volume id="V4" size="2GB"/>
  </array>
  <image name="tiny" size="1GB"/>
  <host name="n1" hw="x"><initiator iqn="iqn.2026-11.org.example:n1"/></host>
</wiring-map>
)");
  const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="m">
  <tier id="a" name="m"><role>r</role></tier>
  <server-role id="r" name="r">
    <hw>x</hw>
    <disk target="0" drivetype="iscsi" drivesize="10GB"><diskimage type="system">tiny</diskimage></disk>
  </server-role>
</farm>
)";
  ReconcilePlan p = s.converge(fml);
  auto metas = actions_of(p, Op::meta);
  REQUIRE(metas.size() == 1);
  // Fewest members that cover 10 GB (the largest below what remains, then the smallest
  // that covers the rest): 4 + 4 + 2; a head-style meta named after its first member.
  CHECK(metas[0]->device_action.members == std::vector<std::string>{"V3", "V2", "V4"});
  CHECK(metas[0]->device_action.volume == "V3");
  // The image is copied onto the finished meta, and only then is it bound.
  auto copies = actions_of(p, Op::copy);
  auto binds = actions_of(p, Op::bind);
  REQUIRE(copies.size() == 1);
  REQUIRE(binds.size() == 1);
  CHECK(copies[0]->depends_on == std::vector<int>{metas[0]->id});
  CHECK(binds[0]->depends_on == std::vector<int>{copies[0]->id});
  auto head = s.unit("m", "m-0/t0");
  CHECK(head.device_volume == "V3");
  CHECK(head.state == VolumeState::Mapped);
  auto members = s.inventory().members_of(head.id);
  REQUIRE(members.size() == 2);
  CHECK(members[0].device_volume == "V2");
  CHECK(members[1].device_volume == "V4");
  for (const auto& m : members) CHECK(m.state == VolumeState::Member);
  // iscsi: the array's LUN is the target.
  for (const auto& b : s.inventory().bindings_of_volume(head.id)) CHECK(b.lun == 0);

  // Destroy: unmap, unbind, scrub, break, deallocate every piece.
  ReconcilePlan d = s.destroy("m");
  CHECK(op_lines(d) == std::vector<std::string>{"unmap arr V3", "unbind arr V3", "scrub arr V3", "break arr V3",
                                                 "deallocate arr V3", "deallocate arr V2", "deallocate arr V4"});
  for (const auto& v : s.inventory().all_volumes()) CHECK(v.state == VolumeState::Free);
  CHECK(s.sim_data().empty());
}

TEST_CASE("replacing a disk with --allow-replace scrubs the old one first", "[scenario]") {
  Scenario s;
  s.converge(web(1));
  auto old = s.unit("web", "web-0/t0");
  WebFarm f;
  f.servers = 1;
  f.image = "centos";

  auto before = s.snapshot();
  auto reasons = s.refused(f.fml());
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] ==
        "volume web-0/t0 would be replaced (image solaris -> centos), destroying its data: run again with "
        "--allow-replace to accept");
  CHECK(s.snapshot() == before);

  auto log_start = s.sim_log().size();
  ReconcilePlan p = s.converge(f.fml(), {true, false});
  CHECK(has_change(p, ChangeKind::replace, "volume web-0/t0"));
  auto fresh = s.unit("web", "web-0/t0");
  CHECK(fresh.id != old.id);
  CHECK(fresh.image == "centos");
  auto freed = s.inventory().volume(old.id);
  REQUIRE(freed);
  CHECK(freed->state == VolumeState::Free);
  CHECK_FALSE(freed->dirty_farm);
  CHECK_FALSE(freed->image);

  auto all = s.sim_log();
  std::vector<runtime::SimLogEntry> log(all.begin() + static_cast<long>(log_start), all.end());
  long unmap = log_position(log, Op::unmap, "gw1", old.device_volume, "h01");
  long unbind = log_position(log, Op::unbind, "sym1", old.device_volume);
  long scrub = log_position(log, Op::scrub, "sym1", old.device_volume);
  long dealloc = log_position(log, Op::deallocate, "sym1", old.device_volume);
  long bind = log_position(log, Op::bind, "sym1", fresh.device_volume);
  long map = log_position(log, Op::map, "gw1", fresh.device_volume, "h01");
  CHECK(unmap >= 0);
  CHECK(unmap < unbind);
  CHECK(unbind < scrub);
  CHECK(scrub < dealloc);
  CHECK(dealloc < bind);
  CHECK(bind < map);
  // The host's target 0 shows the new disk.
  auto devices = s.discover();
  for (const auto& m : devices.at("gw1").mappings)
    if (m.host == "h01" && m.target == 0) CHECK(m.volume == fresh.device_volume);
}

TEST_CASE("an image asked for a disk that holds data already is a replacement", "[scenario]") {
  Scenario s;
  const char* plain = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="i">
  <tier id="t" name="i"><role>r</role></tier>
  <server-role id="r" name="r"><hw>cpu-sun4u-x4</hw><disk target="0" drivesize="8631"/></server-role>
</farm>
)";
  s.converge(plain);
  std::string imaged = plain;
  imaged.replace(imaged.find(R"(drivesize="8631"/>)"), 18,
                 R"(drivesize="8631"><diskimage type="system">solaris</diskimage></disk>)");
  auto reasons = s.refused(imaged);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] ==
        "volume i-0/t0 would be replaced (image none -> solaris), destroying its data: run again with "
        "--allow-replace to accept");
  ReconcilePlan p = s.converge(imaged, {true, false});
  CHECK(has_change(p, ChangeKind::replace, "volume i-0/t0"));
  CHECK(s.unit("i", "i-0/t0").image == "solaris");
}

// ---- protocols ----------------------------------------------------------------------------

TEST_CASE("fc exports are zoned, and a zone goes with the last export through it", "[scenario]") {
  Scenario s;
  DbFarm farm;
  ReconcilePlan p = s.converge(farm.fml());
  CHECK(s.placements("db") ==
        std::map<std::string, std::string>{{"db-0", "x01"}, {"db-1", "x02"}, {"report-0", "x03"}});
  auto data = s.unit("db", "global/data");
  CHECK(s.device_name(data.device_id) == "sym2");
  CHECK(data.origin == "slice");
  CHECK(data.raid == "5");
  auto boot = s.unit("db", "db-0/t0");
  CHECK(s.device_name(boot.device_id) == "sym1");

  // fc and iscsi: the array's LUN is the farm file's target.
  auto record = s.record("db");
  for (const auto& b : record.bindings) {
    INFO(dump(b));
    CHECK(b.lun == b.target);
    CHECK(b.protocol == (b.server == "report-0" ? "iscsi" : "fc"));
  }
  const std::string x01 = "10:00:00:00:c9:2b:aa:01", x02 = "10:00:00:00:c9:2b:aa:02";
  const std::string sym1_fa = "50:06:04:8a:cc:c8:3b:00", sym2_fa = "50:06:04:8a:cc:c8:4c:00";
  auto zones = [&] {
    std::set<std::pair<std::string, std::string>> out;
    auto devices = s.discover();
    for (const auto& z : devices.at("fabric-a").zones) out.insert({z.initiator, z.port});
    return out;
  };
  CHECK(zones() == std::set<std::pair<std::string, std::string>>{
                       {x01, sym1_fa}, {x01, sym2_fa}, {x02, sym1_fa}, {x02, sym2_fa}});
  CHECK(s.inventory().all_zones().size() == 4);
  CHECK(count_ops(p, Op::zone) == 4);
  // A bind over fc waits for its zone.
  for (const auto* bind : actions_of(p, Op::bind)) {
    if (bind->device_action.initiator.rfind("iqn.", 0) == 0) continue;
    bool zoned_first = std::any_of(bind->depends_on.begin(), bind->depends_on.end(),
                                   [&](int id) { return p.actions[static_cast<std::size_t>(id - 1)].op == Op::zone; });
    CHECK(zoned_first);
  }

  // db-0 stops sharing the data disk: its zone with sym2 goes, the one with sym1 stays.
  farm.shared = false;
  ReconcilePlan unshare = s.converge(farm.fml());
  CHECK(count_ops(unshare, Op::unzone) == 2);
  CHECK(zones() == std::set<std::pair<std::string, std::string>>{{x01, sym1_fa}, {x02, sym1_fa}});
  // An unzone waits for the unbinds through that pair.
  for (const auto* unzone : actions_of(unshare, Op::unzone)) CHECK_FALSE(unzone->depends_on.empty());

  farm.databases = 1;
  s.converge(farm.fml());
  CHECK(zones() == std::set<std::pair<std::string, std::string>>{{x01, sym1_fa}});

  s.destroy("db");
  CHECK(zones().empty());
  CHECK(s.inventory().all_zones().empty());
}

TEST_CASE("hosts behind one gateway share a global disk: when one leaves, the other keeps it", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  auto shared = s.unit("web", "global/shared");
  ReconcilePlan p = s.converge(web(1));
  // The gateway's masking of the global disk stays: web-0 still uses it.
  for (const auto* unbind : actions_of(p, Op::unbind)) CHECK(unbind->device_action.volume != shared.device_volume);
  auto devices = s.discover();
  CHECK(masked_initiators(devices, "sym1", shared.device_volume) == std::set<std::string>{"gateway:gw1"});
  CHECK(mapped_hosts(devices, "gw1", shared.device_volume) == std::set<std::string>{"h01"});
  auto bindings = s.inventory().bindings_of_volume(shared.id);
  REQUIRE(bindings.size() == 1);
  CHECK(bindings[0].server == "web-0");
  CHECK(bindings[0].bound);
  CHECK(bindings[0].mapped);
  CHECK(s.unit("web", "global/shared").state == VolumeState::Mapped);
}

TEST_CASE("an export moves to another target", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  auto shared = s.unit("web", "global/shared");
  int lun = s.inventory().bindings_of_volume(shared.id).at(0).lun;
  std::string moved = web(2);
  moved.replace(moved.find(R"(global-name="shared" target="1")"), 31, R"(global-name="shared" target="4")");
  ReconcilePlan p = s.converge(moved);
  CHECK(count_ops(p, Op::unmap) == 2);
  CHECK(count_ops(p, Op::map) == 2);
  CHECK(count_ops(p, Op::unbind) == count_ops(p, Op::bind));  // the gateway's masking stays, or is made again
  auto devices = s.discover();
  CHECK(masked_initiators(devices, "sym1", shared.device_volume) == std::set<std::string>{"gateway:gw1"});
  for (const auto& m : devices.at("gw1").mappings)
    if (m.volume == shared.device_volume) CHECK(m.target == 4);
  for (const auto& b : s.inventory().bindings_of_volume(shared.id)) {
    CHECK(b.target == 4);
    CHECK(b.lun == lun);
  }
}

TEST_CASE("an fc export that moves to another target is masked again at its new LUN", "[scenario]") {
  Scenario s;
  DbFarm farm;
  s.converge(farm.fml());
  auto data = s.unit("db", "global/data");
  std::string moved = farm.fml();
  moved.replace(moved.find(R"(global-name="data" target="1")"), 29, R"(global-name="data" target="3")");
  ReconcilePlan p = s.converge(moved);
  CHECK(count_ops(p, Op::unbind) == 2);
  CHECK(count_ops(p, Op::bind) == 2);
  CHECK(count_ops(p, Op::zone) + count_ops(p, Op::unzone) == 0);  // the zones stay
  auto devices = s.discover();
  for (const auto& m : devices.at("sym2").maskings)
    if (m.volume == data.device_volume) CHECK(m.lun == 3);
  for (const auto& m : devices.at("sym2").mappings)
    if (m.volume == data.device_volume) CHECK(m.target == 3);
}

TEST_CASE("storage a destroyed farm gave back serves the next farm", "[scenario]") {
  Scenario s;
  WebFarm a;
  a.name = "alpha";
  a.servers = 4;
  s.converge(a.fml());
  std::set<std::string> alpha_volumes;
  for (const auto& v : s.record("alpha").volumes) alpha_volumes.insert(v.device_volume);
  s.destroy("alpha");
  WebFarm b;
  b.name = "beta";
  b.servers = 4;
  b.image = "centos";
  s.converge(b.fml());
  std::set<std::string> beta_volumes;
  for (const auto& v : s.record("beta").volumes) beta_volumes.insert(v.device_volume);
  std::vector<std::string> reused;
  std::set_intersection(alpha_volumes.begin(), alpha_volumes.end(), beta_volumes.begin(), beta_volumes.end(),
                        std::back_inserter(reused));
  CHECK(reused.size() >= 5);  // the pre-carved ones: scrubbed, so the sim lets beta bind them
  for (const auto& row : s.sim_data()) CHECK_THAT(row, !Catch::Contains("owner=alpha"));
}

// ---- drift ---------------------------------------------------------------------------------

TEST_CASE("drift made behind farmctl's back is shown and repaired", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  auto boot = s.unit("web", "web-0/t0");
  auto shared = s.unit("web", "global/shared");
  auto home = s.unit("web", "web-1/t3");

  SECTION("a masking removed on the array") {
    s.tamper(fmt::format("DELETE FROM sim_maskings WHERE device='sym1' AND volume='{}'", boot.device_volume));
    CHECK_FALSE(s.violations().empty());
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"bind sym1 " + boot.device_volume});
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].reason == "drift: masking missing on sym1");
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
    CHECK(masked_initiators(s.discover(), "sym1", boot.device_volume) == std::set<std::string>{"gateway:gw1"});
  }

  SECTION("the gateway's masking of a shared disk removed") {
    s.tamper(fmt::format("DELETE FROM sim_maskings WHERE device='sym1' AND volume='{}'", shared.device_volume));
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"bind sym1 " + shared.device_volume});
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
  }

  SECTION("a mapping removed on the gateway") {
    s.tamper(fmt::format("DELETE FROM sim_mappings WHERE device='gw1' AND volume='{}' AND host='h02'",
                         shared.device_volume));
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"map gw1 " + shared.device_volume});
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
  }

  SECTION("a mapping moved to another target on the gateway") {
    s.tamper(fmt::format("UPDATE sim_mappings SET target = 7 WHERE device='gw1' AND volume='{}' AND host='h01'",
                         boot.device_volume));
    auto found = s.violations();
    REQUIRE(found.size() == 1);
    CHECK(found[0] == fmt::format("the inventory has sym1:{} mapped to host h01 at target 0, LUN {}, but gw1 shows "
                                  "it at target 7, LUN {}",
                                  boot.device_volume, s.inventory().bindings_of_volume(boot.id).at(0).lun,
                                  s.inventory().bindings_of_volume(boot.id).at(0).lun));
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"unmap gw1 " + boot.device_volume, "map gw1 " + boot.device_volume});
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
  }

  SECTION("the farm's volume masked to a foreign initiator") {
    s.tamper(fmt::format("INSERT INTO sim_maskings(device, volume, initiator, port, lun) "
                         "VALUES ('sym1', '{}', 'iqn.2026-11.org.example:intruder', 'SE-4B', 7)",
                         boot.device_volume));
    CHECK_FALSE(s.violations().empty());
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"unbind sym1 " + boot.device_volume});
    REQUIRE(p.changes.size() == 1);
    CHECK_THAT(p.changes[0].reason, Catch::Contains("iqn.2026-11.org.example:intruder"));
    s.apply_ok(p);
    CHECK(masked_initiators(s.discover(), "sym1", boot.device_volume) == std::set<std::string>{"gateway:gw1"});
    CHECK(s.plan(web(2)).empty());
  }

  SECTION("the farm's volume shown to a foreign host by the gateway") {
    s.tamper(fmt::format("INSERT INTO sim_mappings(device, host, array, volume, target, lun) "
                         "VALUES ('gw1', 'h04', 'sym1', '{}', 9, 9)",
                         boot.device_volume));
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"unmap gw1 " + boot.device_volume});
    s.apply_ok(p);
    CHECK(mapped_hosts(s.discover(), "gw1", boot.device_volume) == std::set<std::string>{"h01"});
    CHECK(s.plan(web(2)).empty());
  }

  SECTION("a slice deleted on the array is made again") {
    s.tamper(fmt::format("DELETE FROM sim_mappings WHERE volume='{0}'; DELETE FROM sim_maskings WHERE volume='{0}'; "
                         "DELETE FROM sim_volumes WHERE device='sym1' AND id='{0}'",
                         home.device_volume));
    CHECK_FALSE(s.violations().empty());
    ReconcilePlan p = s.plan(web(2));
    CHECK(op_lines(p) == std::vector<std::string>{"allocate sym1 " + home.device_volume,
                                                   "bind sym1 " + home.device_volume,
                                                   "map gw1 " + home.device_volume});
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
    auto again = s.unit("web", "web-1/t3");
    CHECK(again.id == home.id);
    CHECK(again.state == VolumeState::Mapped);
  }

  SECTION("a slice deleted on the array while the gateway still shows it") {
    s.tamper(fmt::format("DELETE FROM sim_maskings WHERE volume='{0}'; "
                         "DELETE FROM sim_volumes WHERE device='sym1' AND id='{0}'",
                         home.device_volume));
    ReconcilePlan p = s.plan(web(2));
    s.apply_ok(p);
    CHECK(s.plan(web(2)).empty());
  }

}

TEST_CASE("a meta-volume that lost a member on the array is made whole again", "[scenario]") {
  Scenario s;
  WebFarm f;
  f.servers = 1;
  s.converge(f.fml());
  f.boot = "12GB";
  s.converge(f.fml());
  auto boot = s.unit("web", "web-0/t0");
  s.tamper("UPDATE sim_volumes SET meta_parent = NULL, member_order = NULL WHERE device = 'sym1' AND id = '0B1'");
  auto found = s.violations();
  REQUIRE(found.size() == 1);
  CHECK(found[0] == fmt::format("meta-volume sym1:{0} has members {0}+0B1 in the inventory, but {0} on the array",
                                boot.device_volume));
  ReconcilePlan p = s.plan(f.fml());
  REQUIRE(op_lines(p) == std::vector<std::string>{"meta sym1 " + boot.device_volume});
  CHECK(p.actions[0].device_action.members == std::vector<std::string>{boot.device_volume, "0B1"});
  CHECK_THAT(p.changes.at(0).reason, Catch::Contains("lost members"));
  s.apply_ok(p);
  CHECK(s.plan(f.fml()).empty());
}

TEST_CASE("an fc masking moved to another LUN on the array is put back", "[scenario]") {
  Scenario s;
  DbFarm farm;
  s.converge(farm.fml());
  auto boot = s.unit("db", "db-0/t0");
  s.tamper(fmt::format("UPDATE sim_maskings SET lun = 9 WHERE device = 'sym1' AND volume = '{}'", boot.device_volume));
  auto found = s.violations();
  REQUIRE(found.size() == 1);
  CHECK(found[0] == fmt::format("the inventory has sym1:{} bound to 10:00:00:00:c9:2b:aa:01 at LUN 0, but the array "
                                "masks it at LUN 9",
                                boot.device_volume));
  ReconcilePlan p = s.plan(farm.fml());
  CHECK(op_lines(p) ==
        std::vector<std::string>{"unbind sym1 " + boot.device_volume, "bind sym1 " + boot.device_volume});
  s.apply_ok(p);
  CHECK(s.plan(farm.fml()).empty());
}

TEST_CASE("a LUN someone took on the array by hand is not handed out", "[scenario]") {
  Scenario s;
  // A free volume masked to the gateway at LUN 0 behind farmctl's back.
  s.tamper("INSERT INTO sim_maskings(device, volume, initiator, port, lun) "
           "VALUES ('sym1', '0B4', 'gateway:gw1', 'FA-3A', 0)");
  ReconcilePlan p = s.plan(web(1));
  for (const auto* bind : actions_of(p, Op::bind)) CHECK(bind->device_action.lun != 0);
  reconcile::ApplyResult r = s.apply(p);
  INFO(fmt::format("{}", fmt::join(r.failures, "\n")));
  CHECK(r.ok());
}

TEST_CASE("a zone removed on the fabric is made again", "[scenario]") {
  Scenario s;
  DbFarm farm;
  s.converge(farm.fml());
  s.tamper("DELETE FROM sim_zones WHERE initiator='10:00:00:00:c9:2b:aa:02'");
  CHECK_FALSE(s.violations().empty());
  ReconcilePlan p = s.plan(farm.fml());
  CHECK(count_ops(p, Op::zone) == 2);
  CHECK(p.actions.size() == 2);
  s.apply_ok(p);
  CHECK(s.plan(farm.fml()).empty());
}

TEST_CASE("plan --json is pretty-printed JSON, as a JSON library prints it", "[scenario]") {
  Scenario s;
  DbFarm farm;
  ReconcilePlan p = s.plan(farm.fml());
  std::string text = reconcile::render_plan_json(p);
  auto parsed = nlohmann::ordered_json::parse(text);
  CHECK(parsed.dump(2) + "\n" == text);
  CHECK(parsed["actions"].size() == p.actions.size());
  CHECK(parsed["placements"].size() == p.placements.size());
  CHECK(parsed["summary"]["create"] == p.summary().create);
}

TEST_CASE("the journal records each action as one-line JSON, as a JSON library prints it, and reads it back", "[scenario]") {
  Scenario s;
  DbFarm farm;
  ReconcilePlan p = s.plan(farm.fml());
  REQUIRE_FALSE(p.actions.empty());
  for (const reconcile::Action& a : p.actions) {
    std::string text = reconcile::action_to_json(a);
    CHECK(nlohmann::ordered_json::parse(text).dump() == text);
    CHECK(reconcile::action_to_json(reconcile::action_from_json(text)) == text);
  }
}

// A host's initiator renamed in the wiring map (an HBA replaced, an iSCSI
// initiator renamed): the masking moves to the new name, the host keeps its
// disks where they are — no unmap, no map.
std::string renamed(std::string wiring, const std::string& from, const std::string& to) {
  auto at = wiring.find(from);
  REQUIRE(at != std::string::npos);
  return wiring.replace(at, from.size(), to);
}

TEST_CASE("a renamed iscsi initiator moves only the masking", "[scenario]") {
  Scenario s;
  DbFarm farm;
  s.converge(farm.fml());
  s.reimport(renamed(std::string(kScenarioWiring), "iqn.2026-11.org.example:x03", "iqn.2026-11.org.example:x03-new"));
  ReconcilePlan p = s.plan(farm.fml());
  INFO(reconcile::render_plan_text(p, false));
  CHECK(count_ops(p, Op::bind) == 1);
  CHECK(count_ops(p, Op::unbind) == 1);
  CHECK(p.actions.size() == 2);
  std::size_t logged = s.sim_log().size();
  s.apply_ok(p);
  auto log = s.sim_log();
  for (std::size_t i = logged; i < log.size(); ++i) {
    CHECK(log[i].action.op != Op::unmap);
    CHECK(log[i].action.op != Op::map);
  }
  CHECK(s.plan(farm.fml()).empty());
  auto devices = s.discover();
  std::set<std::string> initiators;
  for (const auto& m : devices.at("sym1").maskings) initiators.insert(m.initiator);
  for (const auto& m : devices.at("sym2").maskings) initiators.insert(m.initiator);
  CHECK(initiators.count("iqn.2026-11.org.example:x03-new") == 1);
  CHECK(initiators.count("iqn.2026-11.org.example:x03") == 0);
}

TEST_CASE("a replaced fc HBA is zoned and masked under its new name, the old zone goes", "[scenario]") {
  Scenario s;
  DbFarm farm;
  s.converge(farm.fml());
  s.reimport(renamed(std::string(kScenarioWiring), "10:00:00:00:c9:2b:aa:01", "10:00:00:00:c9:2b:aa:11"));
  ReconcilePlan p = s.plan(farm.fml());
  INFO(reconcile::render_plan_text(p, false));
  CHECK(count_ops(p, Op::zone) >= 1);
  CHECK(count_ops(p, Op::unzone) == count_ops(p, Op::zone));
  CHECK(count_ops(p, Op::bind) == count_ops(p, Op::unbind));
  CHECK(count_ops(p, Op::bind) >= 2);  // its own disk and the shared one
  CHECK(count_ops(p, Op::map) + count_ops(p, Op::unmap) == 0);
  s.apply_ok(p);
  CHECK(s.plan(farm.fml()).empty());
  auto devices = s.discover();
  for (const auto& [name, state] : devices) {
    for (const auto& m : state.maskings) CHECK(m.initiator != "10:00:00:00:c9:2b:aa:01");
    for (const auto& z : state.zones) CHECK(z.initiator != "10:00:00:00:c9:2b:aa:01");
  }
}

// ---- faults -----------------------------------------------------------------------------------

TEST_CASE("transient device faults are retried and the apply succeeds", "[scenario]") {
  Scenario s;
  ScopedEnv faults("FARMCTL_SIM_FAULTS", "bind#1=transient,map#2-3=transient,allocate@sym1#1=transient");
  runtime::reset_sim_fault_counts();
  ReconcilePlan p = s.plan(web(2));
  reconcile::ApplyResult r = s.apply(p);
  INFO(fmt::format("{}", fmt::join(r.failures, "\n")));
  REQUIRE(r.ok());
  // map#2 and map#3 may hit two actions or one action twice, depending on how
  // the parallel executor interleaves; the extra attempts are four either way.
  int extra_attempts = 0;
  for (const auto& [id, attempts] : s.attempts()) extra_attempts += attempts - 1;
  CHECK(extra_attempts == 4);
  int transient = 0;
  for (const auto& e : s.sim_log()) transient += e.outcome.status == runtime::ActionOutcome::Status::transient_failure;
  CHECK(transient == 4);
  CHECK(s.plan(web(2)).empty());
}

// "op device volume host initiator"; a slice's name without the inventory
// generation it was planned at (a slice never carved is named anew).
std::string action_key(Op op, const runtime::DeviceAction& a) {
  std::string volume = std::regex_replace(a.volume, std::regex("^(f[0-9a-f]{8})-[0-9]+$"), "$1-*");
  return fmt::format("{} {} {} {} {}", runtime::to_string(op), a.device, volume, a.host, a.initiator);
}

// The plan's actions whose effect is not on the devices after an apply: they
// never ran, failed, or were undone later (a rollback runs the compensation).
std::set<std::string> not_in_effect(const ReconcilePlan& p, const std::vector<runtime::SimLogEntry>& log) {
  std::set<std::string> out;
  for (const auto& a : p.actions) {
    auto undo = runtime::compensation_of(a.op);
    bool in_effect = false;
    for (const auto& e : log) {
      const auto& d = e.action;
      if (!e.outcome.ok() || d.device != a.device || d.volume != a.device_action.volume ||
          d.host != a.device_action.host || d.initiator != a.device_action.initiator)
        continue;
      if (d.op == a.op) in_effect = true;
      else if (undo && d.op == *undo) in_effect = false;
    }
    if (!in_effect) out.insert(action_key(a.op, a.device_action));
  }
  return out;
}

TEST_CASE("a permanent fault leaves a consistent inventory, and the next plan is the rest of the work", "[scenario]") {
  const char* fault = GENERATE("bind#2=permanent", "map#3=permanent", "copy#2=permanent", "allocate#3=permanent");
  INFO(fault);
  Scenario s;
  ReconcilePlan p = s.plan(web(2));
  std::set<std::string> undone;
  {
    ScopedEnv faults("FARMCTL_SIM_FAULTS", fault);
    runtime::reset_sim_fault_counts();
    reconcile::ApplyResult r = s.apply(p);  // the invariants hold (apply() checks)
    REQUIRE_FALSE(r.ok());
    CHECK(r.failed == 1);
    REQUIRE(r.failures.size() == 1);
    CHECK_THAT(r.failures[0], Catch::Contains("injected permanent fault"));
    undone = not_in_effect(p, s.sim_log());
    CHECK(undone.size() >= static_cast<std::size_t>(r.failed + r.skipped));
  }
  ReconcilePlan rest = s.plan(web(2));
  std::set<std::string> planned;
  for (const auto& a : rest.actions) planned.insert(action_key(a.op, a.device_action));
  INFO("the rest:\n" << reconcile::render_plan_text(rest, false));
  CHECK(planned == undone);
  CHECK(rest.placements.empty());
  s.apply_ok(rest);
  CHECK(s.plan(web(2)).empty());
}

TEST_CASE("a permanent fault while building a meta-volume: the next apply converges", "[scenario]") {
  const char* fault = GENERATE("meta#1=permanent", "copy#1=permanent", "bind#1=permanent", "map#1=permanent");
  INFO(fault);
  Scenario s(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="arr" driver="sim" protocols="iscsi">
    <port id="P1" iqn="iqn.2001-07.com.example:arr.p1"/>
    <volume id="V1" size="4GB"/><volume id="V2" size="4GB"/><volume id="V3" size="4GB"/>
    <volume id="V4" size="4GB"/><volume id="V5" size="4GB"/><volume id="V6" size="4GB"/>
  </array>
  <image name="tiny" size="1GB"/>
  <host name="n1" hw="x"><initiator iqn="iqn.2026-11.org.example:n1"/></host>
</wiring-map>
)");
  auto initial = s.snapshot();
  const char* fml = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="m">
  <tier id="a" name="m"><role>r</role></tier>
  <server-role id="r" name="r">
    <hw>x</hw>
    <disk target="0" drivetype="iscsi" drivesize="8GB"><diskimage type="system">tiny</diskimage></disk>
  </server-role>
</farm>
)";
  ReconcilePlan p = s.plan(fml);
  REQUIRE(count_ops(p, Op::meta) == 1);
  {
    ScopedEnv faults("FARMCTL_SIM_FAULTS", fault);
    runtime::reset_sim_fault_counts();
    reconcile::ApplyResult r = s.apply(p);  // the invariants hold (apply() checks)
    REQUIRE_FALSE(r.ok());
  }
  // Nothing is exposed after the failure.
  auto devices = s.discover();
  CHECK(devices.at("arr").maskings.empty());
  CHECK(devices.at("arr").mappings.empty());
  ReconcilePlan rest = s.plan(fml);
  INFO("the rest:\n" << reconcile::render_plan_text(rest, false));
  s.apply_ok(rest);
  CHECK(s.plan(fml).empty());
  auto head = s.unit("m", "m-0/t0");
  CHECK(head.state == VolumeState::Mapped);
  CHECK(s.inventory().members_of(head.id).size() == 1);
  s.destroy("m");
  auto after = s.snapshot();
  CHECK(after.inventory == initial.inventory);
  CHECK(after.devices == initial.devices);
}

TEST_CASE("a permanent fault in a teardown leaves the rest for the next plan", "[scenario]") {
  Scenario s;
  s.converge(web(2));
  ReconcilePlan down = s.plan(web(1));
  {
    ScopedEnv faults("FARMCTL_SIM_FAULTS", "scrub#1=permanent");
    runtime::reset_sim_fault_counts();
    reconcile::ApplyResult r = s.apply(down);
    REQUIRE_FALSE(r.ok());
  }
  ReconcilePlan rest = s.plan(web(1));
  CHECK_FALSE(rest.empty());
  CHECK(count_ops(rest, Op::scrub) >= 1);
  CHECK(count_ops(rest, Op::bind) + count_ops(rest, Op::map) + count_ops(rest, Op::allocate) == 0);
  s.apply_ok(rest);
  CHECK(s.plan(web(1)).empty());
  CHECK(s.placements("web") == std::map<std::string, std::string>{{"web-0", "h01"}});
}

// ---- the end ----------------------------------------------------------------------------------

TEST_CASE("destroy returns everything", "[scenario]") {
  Scenario s;
  auto initial = s.snapshot();
  DbFarm db;
  s.converge(db.fml());
  WebFarm f;
  f.servers = 3;
  s.converge(f.fml());
  f.boot = "12GB";  // the boot disks grow into metas
  s.converge(f.fml());
  s.destroy("db");
  s.destroy("web");

  auto after = s.snapshot();
  CHECK(after.inventory == initial.inventory);
  CHECK(after.devices == initial.devices);
  CHECK(s.inventory().farms().empty());
  auto topology = s.inventory().topology();
  for (const auto& pool : topology.pools) CHECK(pool.used_mb == 0);
  // Every disk a farm wrote to was scrubbed before it was freed.
  auto log = s.sim_log();
  std::set<std::string> written;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& a = log[i].action;
    if (!log[i].outcome.ok()) continue;
    std::string key = a.device + ":" + a.volume;
    if (a.op == Op::bind || a.op == Op::copy) written.insert(key);
    if (a.op == Op::scrub) written.erase(key);
    if (a.op == Op::deallocate) {
      INFO(key);
      CHECK_FALSE(written.count(key));
    }
  }
}

}  // namespace
}  // namespace farmctl::testing
