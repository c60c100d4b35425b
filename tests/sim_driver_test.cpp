// The sim driver: each operation and its idempotence, the device-side store
// (persistence, refusals that leave it unchanged, drift), the scrub safety
// net, latency, fault injection and the operation log.
#include "runtime/sim_driver.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sim_faults.h"
#include "runtime/sqlite.h"
#include "tests/temp_dir.h"

namespace farmctl::runtime {
namespace {

namespace fs = std::filesystem;
using Status = ActionOutcome::Status;

DeviceConfig array_config(std::string name, std::map<std::string, std::string> attributes = {}) {
  return {std::move(name), DeviceKind::array, "sim", std::move(attributes)};
}
DeviceConfig gateway_config(std::string name) { return {std::move(name), DeviceKind::gateway, "sim", {}}; }
DeviceConfig fabric_config(std::string name) { return {std::move(name), DeviceKind::fabric, "sim", {}}; }

DeviceState sym_declaration() {
  DeviceState s;
  s.pools = {{"p0", 1000, "5"}};
  s.volumes = {{"0A1", 8631, "", {}, false}, {"0A2", 4096, "", {}, false}, {"0A3", 2048, "", {}, false}};
  return s;
}

// One test's world: a temp directory, an inventory path, a driver with no
// latency or faults from the environment, and sym1, sym2, gw1, fabric-a declared.
struct SimWorld {
  testing::TempDir dir{"farmctl-sim"};
  std::string inventory = (dir.path() / "farm.db").string();
  DeviceConfig sym1 = array_config("sym1");
  DeviceConfig sym2 = array_config("sym2");
  DeviceConfig gw1 = gateway_config("gw1");
  DeviceConfig fabric = fabric_config("fabric-a");
  std::unique_ptr<Driver> driver;

  explicit SimWorld(const char* faults = nullptr, const char* latency = nullptr) {
    set_env("FARMCTL_SIM_FAULTS", faults);
    set_env("FARMCTL_SIM_LATENCY", latency);
    reset_sim_fault_counts();
    driver = make_sim_driver({inventory});
    driver->declare(sym1, sym_declaration());
    driver->declare(sym2, sym_declaration());
    driver->declare(gw1, {});
    driver->declare(fabric, {});
  }
  ~SimWorld() {
    unsetenv("FARMCTL_SIM_FAULTS");
    unsetenv("FARMCTL_SIM_LATENCY");
  }
  static void set_env(const char* name, const char* value) {
    if (value != nullptr) setenv(name, value, 1);
    else unsetenv(name);
  }

  const DeviceConfig& config(const std::string& device) const {
    if (device == "sym2") return sym2;
    if (device == "gw1") return gw1;
    if (device == "fabric-a") return fabric;
    return sym1;
  }
  ActionOutcome run(const DeviceAction& a) { return driver->run(config(a.device), a); }
  DeviceState state(const std::string& device = "sym1") { return driver->discover(config(device)); }
};

DeviceAction act(Op op, std::string device, std::string volume = {}) {
  DeviceAction a;
  a.op = op;
  a.device = std::move(device);
  a.volume = std::move(volume);
  a.farm = "web";
  return a;
}
DeviceAction slice(std::string volume, std::uint64_t size_mb, std::string device = "sym1") {
  auto a = act(Op::allocate, std::move(device), std::move(volume));
  a.pool = "p0";
  a.size_mb = size_mb;
  return a;
}
DeviceAction make_meta(std::string volume, std::vector<std::string> members) {
  auto a = act(Op::meta, "sym1", std::move(volume));
  a.members = std::move(members);
  return a;
}
DeviceAction masking(Op op, std::string volume, int lun, std::string farm = "web") {
  auto a = act(op, "sym1", std::move(volume));
  a.initiator = "10:00:00:00:c9:2b:aa:01";
  a.port = "FA-3A";
  a.lun = lun;
  a.farm = std::move(farm);
  return a;
}
DeviceAction copy_image(std::string volume, std::string farm) {
  auto a = act(Op::copy, "sym1", std::move(volume));
  a.image = "solaris";
  a.farm = std::move(farm);
  return a;
}
DeviceAction gateway_map(Op op, std::string volume, int target, int lun, std::string farm = "web") {
  auto a = act(op, "gw1", std::move(volume));
  a.host = "h01";
  a.array = "sym1";
  a.target = target;
  a.lun = lun;
  a.farm = std::move(farm);
  return a;
}
DeviceAction zoning(Op op) {
  auto a = act(op, "fabric-a");
  a.initiator = "10:00:00:00:c9:2b:aa:01";
  a.port = "50:06:04:8a:cc:c8:3b:00";
  return a;
}

const DeviceVolume* find_volume(const DeviceState& s, const std::string& id) {
  for (const auto& v : s.volumes)
    if (v.id == id) return &v;
  return nullptr;
}

// A text dump of a device, so tests can compare whole states.
std::string dump(const DeviceState& s) {
  std::string out = s.device + "\n";
  for (const auto& p : s.pools) out += "pool " + p.name + " " + std::to_string(p.size_mb) + " raid" + p.raid + "\n";
  for (const auto& v : s.volumes) {
    out += "volume " + v.id + " " + std::to_string(v.size_mb) + (v.pool.empty() ? "" : " pool=" + v.pool) +
           (v.member_of_meta ? " member" : "");
    for (const auto& m : v.members) out += " +" + m;
    out += "\n";
  }
  for (const auto& m : s.maskings)
    out += "masking " + m.volume + " " + m.initiator + " " + m.port + " lun" + std::to_string(m.lun) + "\n";
  for (const auto& m : s.mappings)
    out += "mapping " + m.host + " " + m.array + ":" + m.volume + " t" + std::to_string(m.target) + " lun" +
           std::to_string(m.lun) + "\n";
  for (const auto& z : s.zones) out += "zone " + z.initiator + " " + z.port + "\n";
  return out;
}

}  // namespace

TEST_CASE("sim: declare creates devices once, and discover reports them", "[sim]") {
  SimWorld w;
  CHECK(dump(w.state()) ==
        "sym1\n"
        "pool p0 1000 raid5\n"
        "volume 0A1 8631\n"
        "volume 0A2 4096\n"
        "volume 0A3 2048\n");
  REQUIRE(w.run(slice("S1", 100)).ok());
  w.driver->declare(w.sym1, sym_declaration());  // again: changes nothing it holds
  CHECK(find_volume(w.state(), "S1") != nullptr);
  CHECK(dump(w.state("gw1")) == "gw1\n");

  CHECK_THROWS_WITH(w.driver->discover(array_config("sym9")),
                    "sim device sym9 was never declared; run farmctl inventory import");
  CHECK_THROWS_AS(w.driver->declare(gateway_config("sym1"), {}), DeviceError);
  auto outcome = w.run(act(Op::allocate, "sym9", "0A1"));
  CHECK(outcome.status == Status::permanent_failure);
  CHECK(outcome.message == "sim device sym9 was never declared; run farmctl inventory import");
}

TEST_CASE("sim: the store is <inventory>.sim and outlives the driver", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(slice("S1", 100)).ok());
  REQUIRE(w.run(masking(Op::bind, "S1", 0)).ok());
  CHECK(fs::exists(w.inventory + ".sim"));
  CHECK(sim_store_path(w.inventory) == w.inventory + ".sim");
  auto before = dump(w.state());
  w.driver.reset();

  auto second = make_sim_driver({w.inventory});  // the next farmctl process
  CHECK(dump(second->discover(w.sym1)) == before);
  CHECK(second->run(w.sym1, masking(Op::bind, "S1", 0)).ok());
  CHECK(read_sim_log(w.inventory).size() == 3);
}

// A store as schema version 3 left it: the volumes in use, the maskings
// and the mappings in rowid tables, the pool-usage triggers on sim_volumes.
constexpr const char* kBackToVersion3 = R"sql(
CREATE TABLE v3_volumes AS SELECT * FROM sim_volumes;
DROP TABLE sim_volumes;
ALTER TABLE v3_volumes RENAME TO sim_volumes;
CREATE UNIQUE INDEX sim_volumes_key ON sim_volumes(device, id);
CREATE TABLE v3_maskings AS SELECT * FROM sim_maskings;
DROP TABLE sim_maskings;
ALTER TABLE v3_maskings RENAME TO sim_maskings;
CREATE TABLE v3_mappings AS SELECT * FROM sim_mappings;
DROP TABLE sim_mappings;
ALTER TABLE v3_mappings RENAME TO sim_mappings;
CREATE TRIGGER sim_pool_usage_insert AFTER INSERT ON sim_volumes WHEN NEW.pool <> '' BEGIN
  UPDATE sim_pool_usage SET used_mb = used_mb + NEW.size_mb WHERE device = NEW.device AND pool = NEW.pool;
END;
PRAGMA user_version = 3;
)sql";

std::string table_sql(const std::string& inventory, const std::string& table) {
  runtime::Database db(sim_store_path(inventory));
  auto s = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind_all(table);
  return s.step() ? s.text(0) : std::string();
}

TEST_CASE("sim: a store of version 3 keeps every row, clustered on its keys", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(slice("S1", 600)).ok());
  REQUIRE(w.run(make_meta("M1", {"0A1", "0A2"})).ok());
  REQUIRE(w.run(masking(Op::bind, "0A3", 4)).ok());
  REQUIRE(w.run(gateway_map(Op::map, "0A3", 2, 4)).ok());
  REQUIRE(w.run(zoning(Op::zone)).ok());
  std::string before = dump(w.state("sym1")) + dump(w.state("gw1")) + dump(w.state("fabric-a"));
  w.driver.reset();
  sim_tamper(w.inventory, kBackToVersion3);
  CHECK(table_sql(w.inventory, "sim_volumes").find("WITHOUT ROWID") == std::string::npos);

  w.driver = make_sim_driver({w.inventory});  // the next farmctl opens it
  CHECK(dump(w.state("sym1")) + dump(w.state("gw1")) + dump(w.state("fabric-a")) == before);
  for (const char* table : {"sim_volumes", "sim_maskings", "sim_mappings"})
    CHECK(table_sql(w.inventory, table).find("WITHOUT ROWID") != std::string::npos);
  // The pool's usage is still kept: 600 of its 1000 MB are taken, and the
  // triggers count the next slice in (without them the pool would show
  // room left after it).
  CHECK(w.run(slice("S2", 500)).status == Status::permanent_failure);
  CHECK(w.run(slice("S2", 400)).ok());
  CHECK(w.run(slice("S3", 1)).status == Status::permanent_failure);
}

TEST_CASE("sim: allocate claims pre-carved volumes and carves pool slices", "[sim]") {
  SimWorld w;
  SECTION("a pre-carved volume: success, nothing changes") {
    auto before = dump(w.state());
    CHECK(w.run(act(Op::allocate, "sym1", "0A1")).ok());
    CHECK(w.run(act(Op::allocate, "sym1", "0A1")).ok());
    CHECK(dump(w.state()) == before);
    auto big = act(Op::allocate, "sym1", "0A2");
    big.size_mb = 5000;
    CHECK(w.run(big).message == "pre-carved volume 0A2 on sym1 has 4096 MB, 5000 MB asked");
  }
  SECTION("an unknown id with no pool") {
    auto outcome = w.run(act(Op::allocate, "sym1", "0B7"));
    CHECK(outcome.status == Status::permanent_failure);
    CHECK(outcome.message ==
          "sim array sym1 has no pre-carved volume 0B7 (and the allocate names no pool to carve it from)");
  }
  SECTION("a slice, idempotently") {
    CHECK(w.run(slice("S1", 600)).ok());
    CHECK(w.run(slice("S1", 600)).ok());
    auto s = w.state();
    auto* v = find_volume(s, "S1");
    REQUIRE(v != nullptr);
    CHECK(v->size_mb == 600);
    CHECK(v->pool == "p0");
    CHECK(w.run(slice("S1", 700)).message == "volume S1 on sym1 already exists in pool p0 with 600 MB, 700 MB asked");
    CHECK(w.run(slice("0A1", 10)).message ==
          "volume 0A1 on sym1 already exists (pre-carved), not as a slice of pool p0");
    auto nopool = slice("S2", 10);
    nopool.pool = "p9";
    CHECK(w.run(nopool).message == "sim array sym1 has no pool p9");
  }
  SECTION("a full pool refuses and the store stays as it was") {
    REQUIRE(w.run(slice("S1", 600)).ok());
    auto before = dump(w.state());
    auto outcome = w.run(slice("S2", 500));
    CHECK(outcome.status == Status::permanent_failure);
    CHECK(outcome.message == "pool p0 on sym1 has 400 MB free, 500 MB asked");
    CHECK(dump(w.state()) == before);
    CHECK(w.run(slice("S2", 400)).ok());  // exactly what is left
  }
  SECTION("only on an array") {
    CHECK(w.run(act(Op::allocate, "gw1", "0A1")).message == "allocate runs on an array; gw1 is a gateway");
  }
}

TEST_CASE("sim: meta makes, grows and breaks concatenated volumes", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(make_meta("M1", {"0A1", "0A2"})).ok());
  CHECK(w.run(make_meta("M1", {"0A1", "0A2"})).ok());
  auto s = w.state();
  CHECK(dump(s) ==
        "sym1\n"
        "pool p0 1000 raid5\n"
        "volume 0A1 8631 member\n"
        "volume 0A2 4096 member\n"
        "volume 0A3 2048\n"
        "volume M1 12727 +0A1 +0A2\n");

  SECTION("a longer member list grows it") {
    auto grown = w.run(make_meta("M1", {"0A1", "0A2", "0A3"}));
    CHECK(grown.ok());
    CHECK(grown.message == "meta M1 on sym1 grew from 2 to 3 members");
    CHECK(find_volume(w.state(), "M1")->members == std::vector<std::string>{"0A1", "0A2", "0A3"});
  }
  SECTION("another member list is refused") {
    CHECK(w.run(make_meta("M1", {"0A2", "0A1"})).message ==
          "meta M1 on sym1 has members 0A1, 0A2; asked for 0A2, 0A1 (a meta only grows by adding members at its end)");
  }
  SECTION("members must exist, be free and not belong to another meta") {
    CHECK(w.run(make_meta("M2", {"0A2"})).message == "meta M2 on sym1: volume 0A2 is already a member of meta M1");
    CHECK(w.run(make_meta("M2", {"0Z9"})).message == "meta M2 on sym1: sim array sym1 has no volume 0Z9");
    REQUIRE(w.run(masking(Op::bind, "0A3", 4)).ok());
    CHECK(w.run(make_meta("M2", {"0A3"})).message ==
          "meta M2: volume 0A3 on sym1 is still bound to initiator 10:00:00:00:c9:2b:aa:01 through port FA-3A at LUN 4");
    CHECK(find_volume(w.state(), "M2") == nullptr);
  }
  SECTION("break dissolves it; breaking a missing meta succeeds") {
    CHECK(w.run(act(Op::break_meta, "sym1", "M1")).ok());
    CHECK(find_volume(w.state(), "M1") == nullptr);
    CHECK_FALSE(find_volume(w.state(), "0A1")->member_of_meta);
    CHECK(w.run(act(Op::break_meta, "sym1", "M1")).ok());
    CHECK(w.run(act(Op::break_meta, "sym1", "0A1")).message == "volume 0A1 on sym1 is not a meta-volume");
  }
  SECTION("a bound meta cannot be broken; members cannot be bound on their own") {
    REQUIRE(w.run(masking(Op::bind, "M1", 0)).ok());
    CHECK(w.run(act(Op::break_meta, "sym1", "M1")).status == Status::permanent_failure);
    CHECK(w.run(masking(Op::bind, "0A1", 1)).message ==
          "bind: volume 0A1 on sym1 is a member of meta M1; bind the meta instead");
  }
}

TEST_CASE("sim: a scoped discovery reports only the volumes asked for, metas whole", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(make_meta("M1", {"0A1", "0A2"})).ok());
  REQUIRE(w.run(masking(Op::bind, "0A3", 4)).ok());
  VolumeScope only{"M1", "0A1", "0A2", "nowhere"};
  auto scoped = w.driver->discover(w.sym1, &only);
  CHECK(dump(scoped) ==
        "sym1\n"
        "pool p0 1000 raid5\n"
        "volume 0A1 8631 member\n"
        "volume 0A2 4096 member\n"
        "volume M1 12727 +0A1 +0A2\n"
        "masking 0A3 10:00:00:00:c9:2b:aa:01 FA-3A lun4\n");  // maskings, mappings and zones: always whole
  VolumeScope none;
  CHECK(w.driver->discover(w.sym1, &none).volumes.empty());
  auto whole = w.state();
  CHECK(whole.volumes.size() == 4);
  // A scope of most of the device's volumes is read in one pass beside
  // them, a small one volume by volume: the same volumes either way.
  VolumeScope all{"M1", "0A1", "0A2", "0A3"};
  CHECK(dump(w.driver->discover(w.sym1, &all)) == dump(whole));
  VolumeScope one{"0A3"};
  auto just_one = w.driver->discover(w.sym1, &one);
  REQUIRE(just_one.volumes.size() == 1);
  CHECK(just_one.volumes[0].id == "0A3");
}

TEST_CASE("sim: grow extends pool slices only", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(slice("S1", 300)).ok());
  auto grow = [](std::string volume, std::uint64_t size) {
    auto a = act(Op::grow, "sym1", std::move(volume));
    a.size_mb = size;
    return a;
  };
  CHECK(w.run(grow("S1", 500)).ok());
  CHECK(find_volume(w.state(), "S1")->size_mb == 500);
  CHECK(w.run(grow("S1", 500)).ok());
  CHECK(w.run(grow("S1", 400)).message == "volume S1 on sym1 has 500 MB; it cannot shrink to 400 MB");
  CHECK(w.run(grow("S1", 1100)).message == "pool p0 on sym1 has 500 MB free, 600 MB asked (to grow volume S1 to 1100 MB)");
  CHECK(w.run(grow("0A1", 9000)).message == "pre-carved volume 0A1 on sym1 has a fixed size of 8631 MB, 9000 MB asked");
  CHECK(w.run(grow("0A1", 8631)).ok());
  CHECK(w.run(grow("S9", 10)).message == "grow: sim array sym1 has no volume S9");
}

TEST_CASE("sim: bind and unbind mask volumes, idempotently", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(masking(Op::bind, "0A1", 0)).ok());
  CHECK(w.run(masking(Op::bind, "0A1", 0)).ok());
  CHECK(dump(w.state()).find("masking 0A1 10:00:00:00:c9:2b:aa:01 FA-3A lun0\n") != std::string::npos);
  CHECK(w.run(masking(Op::bind, "0A1", 1)).message ==
        "volume 0A1 on sym1 is already masked to 10:00:00:00:c9:2b:aa:01 through FA-3A at LUN 0, not 1");
  CHECK(w.run(masking(Op::bind, "0A2", 0)).message ==
        "LUN 0 of initiator 10:00:00:00:c9:2b:aa:01 through port FA-3A on sym1 is taken by volume 0A1");
  CHECK(w.run(masking(Op::unbind, "0A1", 0)).ok());
  CHECK(w.state().maskings.empty());
  auto again = w.run(masking(Op::unbind, "0A1", 0));
  CHECK(again.ok());
  CHECK(again.message == "volume 0A1 on sym1 was not masked to 10:00:00:00:c9:2b:aa:01 through FA-3A");
  CHECK(w.run(masking(Op::bind, "0A1", -1)).message == "bind on sym1 names no LUN");
}

TEST_CASE("sim: map and unmap on a gateway and on an array", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(gateway_map(Op::map, "0A1", 2, 0)).ok());
  CHECK(w.run(gateway_map(Op::map, "0A1", 2, 0)).ok());
  CHECK(dump(w.state("gw1")) == "gw1\nmapping h01 sym1:0A1 t2 lun0\n");
  CHECK(w.run(gateway_map(Op::map, "0A2", 2, 0)).message ==
        "target 2, LUN 0 of host h01 on gw1 is taken by volume 0A1 of sym1");
  CHECK(w.run(gateway_map(Op::map, "0Z9", 2, 1)).message == "map on gw1: sim array sym1 has no volume 0Z9");
  CHECK(w.run(gateway_map(Op::unmap, "0A1", 2, 0)).ok());
  CHECK(w.run(gateway_map(Op::unmap, "0A1", 2, 0)).ok());
  CHECK(w.state("gw1").mappings.empty());

  auto on_array = act(Op::map, "sym1", "0A2");  // fc/iscsi: the array presents its own volume
  on_array.host = "h02";
  on_array.lun = 3;
  REQUIRE(w.run(on_array).ok());
  CHECK(dump(w.state()).find("mapping h02 sym1:0A2 t-1 lun3\n") != std::string::npos);
  CHECK(w.run(zoning(Op::zone)).ok());  // zone is a fabric's business
  auto wrong = zoning(Op::zone);
  wrong.device = "sym1";
  CHECK(w.run(wrong).message == "zone runs on a fabric; sym1 is an array");
}

TEST_CASE("sim: zone and unzone on a fabric, idempotently", "[sim]") {
  SimWorld w;
  CHECK(w.run(zoning(Op::zone)).ok());
  CHECK(w.run(zoning(Op::zone)).ok());
  CHECK(dump(w.state("fabric-a")) == "fabric-a\nzone 10:00:00:00:c9:2b:aa:01 50:06:04:8a:cc:c8:3b:00\n");
  CHECK(w.run(zoning(Op::unzone)).ok());
  CHECK(w.run(zoning(Op::unzone)).ok());
  CHECK(w.state("fabric-a").zones.empty());
}

TEST_CASE("sim: a volume that held a farm's data is scrubbed before another farm sees it", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(copy_image("0A1", "web")).ok());
  const std::string refusal = "volume 0A1 on sym1 holds farm web's data and was never scrubbed";

  CHECK(w.run(masking(Op::bind, "0A1", 0, "db")).message == refusal);
  CHECK(w.run(gateway_map(Op::map, "0A1", 0, 0, "db")).message == refusal);
  CHECK(w.run(copy_image("0A1", "db")).message == refusal);
  CHECK(w.state().maskings.empty());
  CHECK(w.run(masking(Op::bind, "0A1", 0, "web")).ok());  // its own farm may

  SECTION("deallocate does not erase a pre-carved volume's data") {
    REQUIRE(w.run(masking(Op::unbind, "0A1", 0, "web")).ok());
    REQUIRE(w.run(act(Op::deallocate, "sym1", "0A1")).ok());
    CHECK(w.run(masking(Op::bind, "0A1", 0, "db")).message == refusal);
  }
  SECTION("scrub refuses while bound, then clears the volume for anyone") {
    CHECK(w.run(act(Op::scrub, "sym1", "0A1")).message ==
          "volume 0A1 on sym1 is still bound to initiator 10:00:00:00:c9:2b:aa:01 through port FA-3A at LUN 0; "
          "unbind it before scrubbing");
    REQUIRE(w.run(masking(Op::unbind, "0A1", 0, "web")).ok());
    REQUIRE(w.run(act(Op::scrub, "sym1", "0A1")).ok());
    CHECK(w.run(act(Op::scrub, "sym1", "0A1")).ok());
    CHECK(w.run(masking(Op::bind, "0A1", 0, "db")).ok());
  }
  SECTION("the data stays with the members of a broken meta") {
    REQUIRE(w.run(make_meta("M1", {"0A2", "0A3"})).ok());
    REQUIRE(w.run(copy_image("M1", "web")).ok());
    REQUIRE(w.run(act(Op::break_meta, "sym1", "M1")).ok());
    REQUIRE(w.run(make_meta("M2", {"0A3"})).ok());
    CHECK(w.run(masking(Op::bind, "M2", 5, "db")).message ==
          "volume M2 on sym1 (member 0A3) holds farm web's data and was never scrubbed");
    REQUIRE(w.run(act(Op::scrub, "sym1", "M2")).ok());
    CHECK(w.run(masking(Op::bind, "M2", 5, "db")).ok());
  }
}

TEST_CASE("sim: deallocate refuses volumes still in use and removes slices", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(slice("S1", 100)).ok());
  REQUIRE(w.run(slice("S2", 100)).ok());
  REQUIRE(w.run(masking(Op::bind, "S1", 0)).ok());
  REQUIRE(w.run(gateway_map(Op::map, "0A1", 0, 0)).ok());
  REQUIRE(w.run(make_meta("M1", {"S2"})).ok());

  CHECK(w.run(act(Op::deallocate, "sym1", "S1")).message ==
        "volume S1 on sym1 is still bound to initiator 10:00:00:00:c9:2b:aa:01 through port FA-3A at LUN 0");
  CHECK(w.run(act(Op::deallocate, "sym1", "0A1")).message ==
        "volume 0A1 on sym1 is still mapped to host h01 at gw1 (target 0, LUN 0)");
  CHECK(w.run(act(Op::deallocate, "sym1", "S2")).message == "volume S2 on sym1 is still a member of meta M1");
  CHECK(w.run(act(Op::deallocate, "sym1", "M1")).message ==
        "volume M1 on sym1 is a meta-volume; break it before deallocating");

  REQUIRE(w.run(masking(Op::unbind, "S1", 0)).ok());
  CHECK(w.run(act(Op::deallocate, "sym1", "S1")).ok());
  CHECK(find_volume(w.state(), "S1") == nullptr);
  CHECK(w.run(act(Op::deallocate, "sym1", "S1")).ok());  // missing: nothing to do
  REQUIRE(w.run(gateway_map(Op::unmap, "0A1", 0, 0)).ok());
  CHECK(w.run(act(Op::deallocate, "sym1", "0A1")).ok());
  CHECK(find_volume(w.state(), "0A1") != nullptr);  // pre-carved: stays on the array
}

TEST_CASE("sim: drift made behind farmctl's back shows in discover", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(masking(Op::bind, "0A1", 0)).ok());
  sim_tamper(w.inventory, "DELETE FROM sim_maskings WHERE device = 'sym1' AND volume = '0A1'");
  // 0A3 was never touched: it is still a row of sim_idle_volumes.
  sim_tamper(w.inventory, "DELETE FROM sim_idle_volumes WHERE device = 'sym1' AND id = '0A3'");
  auto s = w.state();
  CHECK(s.maskings.empty());
  CHECK(find_volume(s, "0A3") == nullptr);
  CHECK(read_sim_log(w.inventory).size() == 1);  // tampering is not logged
}

TEST_CASE("sim: the log records every action with its outcome", "[sim]") {
  SimWorld w;
  REQUIRE(w.run(slice("S1", 100)).ok());
  REQUIRE_FALSE(w.run(slice("S2", 5000)).ok());
  REQUIRE(w.run(zoning(Op::zone)).ok());
  auto log = read_sim_log(w.inventory);
  REQUIRE(log.size() == 3);
  CHECK(log[0].seq < log[1].seq);
  CHECK(log[0].action.op == Op::allocate);
  CHECK(log[0].action.device == "sym1");
  CHECK(log[0].action.volume == "S1");
  CHECK(log[0].action.pool == "p0");
  CHECK(log[0].action.size_mb == 100);
  CHECK(log[0].action.farm == "web");
  CHECK(log[0].outcome.status == Status::ok);
  CHECK(log[0].started_us <= log[0].finished_us);
  CHECK(log[1].outcome.status == Status::permanent_failure);
  CHECK(log[1].outcome.message == "pool p0 on sym1 has 900 MB free, 5000 MB asked");
  CHECK(log[2].action.op == Op::zone);
  CHECK(log[2].action.initiator == "10:00:00:00:c9:2b:aa:01");
  CHECK(log[2].action.lun == -1);

  // An action whose device is left empty runs on (and is logged for) the config's device.
  auto blank = act(Op::allocate, "", "0A1");
  CHECK(w.driver->run(w.sym1, blank).ok());
  CHECK(read_sim_log(w.inventory).back().action.device == "sym1");
}

TEST_CASE("sim: faults by ordinal, by range and by device", "[sim]") {
  SECTION("bind#3=permanent: the third bind fails, the device is unchanged, the failure is logged") {
    SimWorld w("bind#3=permanent");
    CHECK(w.run(masking(Op::bind, "0A1", 0)).ok());
    CHECK(w.run(masking(Op::bind, "0A2", 1)).ok());
    auto before = dump(w.state());
    auto third = w.run(masking(Op::bind, "0A3", 2));
    CHECK(third.status == Status::permanent_failure);
    CHECK(third.message == "injected permanent fault: bind 0A3 on sym1 (FARMCTL_SIM_FAULTS rule 'bind#3=permanent')");
    CHECK(dump(w.state()) == before);
    CHECK(w.run(masking(Op::bind, "0A3", 2)).ok());  // the fourth
    auto log = read_sim_log(w.inventory);
    REQUIRE(log.size() == 4);
    CHECK(log[2].outcome.status == Status::permanent_failure);
  }
  SECTION("map#1-2=transient: two failures, then success") {
    SimWorld w("map#1-2=transient");
    CHECK(w.run(gateway_map(Op::map, "0A1", 0, 0)).status == Status::transient_failure);
    CHECK(w.run(gateway_map(Op::map, "0A1", 0, 0)).status == Status::transient_failure);
    CHECK(w.state("gw1").mappings.empty());
    CHECK(w.run(gateway_map(Op::map, "0A1", 0, 0)).ok());
  }
  SECTION("allocate@sym2=permanent: every allocate on sym2, none elsewhere") {
    SimWorld w("allocate@sym2=permanent");
    CHECK(w.run(slice("S1", 10, "sym1")).ok());
    CHECK(w.run(slice("S1", 10, "sym2")).status == Status::permanent_failure);
    CHECK(w.run(slice("S1", 10, "sym2")).status == Status::permanent_failure);
    CHECK(find_volume(w.state("sym2"), "S1") == nullptr);
  }
  SECTION("the first rule that matches wins; '*' counts every op") {
    SimWorld w("*#2=transient, bind#1-=permanent");
    CHECK(w.run(zoning(Op::zone)).ok());                                                   // action 1
    CHECK(w.run(masking(Op::bind, "0A1", 0)).status == Status::transient_failure);         // action 2, bind 1
    CHECK(w.run(masking(Op::bind, "0A1", 0)).status == Status::permanent_failure);         // bind 2
  }
  SECTION("malformed rules are refused when the driver is made") {
    testing::TempDir dir{"farmctl-sim"};
    for (const char* bad : {"bind", "bind#0=permanent", "bond=permanent", "bind#3=explode", "map#2-1=transient",
                            "bind@=permanent"}) {
      INFO(bad);
      setenv("FARMCTL_SIM_FAULTS", bad, 1);
      CHECK_THROWS_AS(make_sim_driver({(dir.path() / "farm.db").string()}), DeviceError);
    }
    setenv("FARMCTL_SIM_FAULTS", "bond=permanent", 1);
    CHECK_THROWS_WITH(make_sim_driver({(dir.path() / "farm.db").string()}),
                      "FARMCTL_SIM_FAULTS: 'bond=permanent': unknown operation 'bond' (one of *, allocate, meta, "
                      "grow, copy, bind, map, zone, unmap, unbind, unzone, scrub, break, deallocate) (expected "
                      "op[@device][#N|#N-M]=permanent|transient|crash|crash-after)");
    unsetenv("FARMCTL_SIM_FAULTS");
  }
}

namespace {

// Runs three allocates in a child process under `faults`; returns the child's exit code.
// A farmctl process that runs three allocates (run_unsynced: and syncs
// after the second, then dies without syncing the third) and exits.
enum class ChildRuns { synced, unsynced };
int run_child(const std::string& inventory, const char* faults, ChildRuns runs = ChildRuns::synced) {
  std::fflush(nullptr);  // the child must not print the parent's buffered output again
  pid_t pid = fork();
  if (pid == 0) {
    setenv("FARMCTL_SIM_FAULTS", faults, 1);
    reset_sim_fault_counts();
    auto driver = make_sim_driver({inventory});
    auto sym1 = array_config("sym1");
    for (const char* id : {"S1", "S2", "S3"}) {
      if (runs == ChildRuns::synced) {
        driver->run(sym1, slice(id, 10));
        continue;
      }
      driver->run_unsynced(sym1, slice(id, 10));
      if (std::string(id) == "S2") driver->sync();
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("sim: crash faults kill the process before or after the action", "[sim]") {
  SimWorld w;
  SECTION("crash: the 3rd action is neither applied nor logged") {
    CHECK(run_child(w.inventory, "*#3=crash") == 137);
    auto s = w.state();
    CHECK(find_volume(s, "S2") != nullptr);
    CHECK(find_volume(s, "S3") == nullptr);
    CHECK(read_sim_log(w.inventory).size() == 2);
  }
  SECTION("crash-after: the 2nd action is applied and logged, then the process dies") {
    CHECK(run_child(w.inventory, "allocate#2=crash-after") == 137);
    auto s = w.state();
    CHECK(find_volume(s, "S2") != nullptr);
    CHECK(find_volume(s, "S3") == nullptr);
    CHECK(read_sim_log(w.inventory).size() == 2);
  }
  SECTION("no fault: all three") {
    CHECK(run_child(w.inventory, "") == 0);
    CHECK(read_sim_log(w.inventory).size() == 3);
  }
}

TEST_CASE("sim: an unsynced action is acknowledged at once and durable from the next sync", "[sim]") {
  SimWorld w;
  auto other = make_sim_driver({w.inventory});  // another process's view of the same store
  REQUIRE(w.driver->run_unsynced(w.sym1, slice("S1", 100)).ok());
  REQUIRE(w.driver->run_unsynced(w.sym1, masking(Op::bind, "S1", 0)).ok());
  CHECK(find_volume(other->discover(w.sym1), "S1") == nullptr);
  SECTION("sync makes it durable") {
    w.driver->sync();
    auto seen = other->discover(w.sym1);
    CHECK(find_volume(seen, "S1") != nullptr);
    CHECK(seen.maskings.size() == 1);
    CHECK(read_sim_log(w.inventory).size() == 2);
  }
  SECTION("a discovery stores what was left unsynced first") {
    CHECK(find_volume(w.state(), "S1") != nullptr);
    CHECK(find_volume(other->discover(w.sym1), "S1") != nullptr);
  }
  SECTION("a synced run stores what was left unsynced first") {
    REQUIRE(w.run(slice("S2", 100)).ok());
    auto seen = other->discover(w.sym1);
    CHECK(find_volume(seen, "S1") != nullptr);
    CHECK(find_volume(seen, "S2") != nullptr);
  }
  SECTION("a refused action stays out, the others stay in") {
    CHECK(w.driver->run_unsynced(w.sym1, slice("S3", 5000)).status == Status::permanent_failure);
    w.driver->sync();
    auto seen = other->discover(w.sym1);
    CHECK(find_volume(seen, "S1") != nullptr);
    CHECK(find_volume(seen, "S3") == nullptr);
    CHECK(read_sim_log(w.inventory).size() == 3);
  }
}

TEST_CASE("sim: a process that dies before it syncs loses what it left unsynced", "[sim]") {
  SimWorld w;
  SECTION("no fault: the third allocate was never synced") {
    CHECK(run_child(w.inventory, "", ChildRuns::unsynced) == 0);
    auto s = w.state();
    CHECK(find_volume(s, "S2") != nullptr);
    CHECK(find_volume(s, "S3") == nullptr);
    CHECK(read_sim_log(w.inventory).size() == 2);
  }
  SECTION("crash-after stores the action before the process dies") {
    CHECK(run_child(w.inventory, "allocate#3=crash-after", ChildRuns::unsynced) == 137);
    CHECK(find_volume(w.state(), "S3") != nullptr);
    CHECK(read_sim_log(w.inventory).size() == 3);
  }
}

TEST_CASE("sim: latency settings and their overlap across devices", "[sim]") {
  SECTION("syntax and precedence") {
    auto attr = SimLatency::parse("allocate=5,bind=2.5,*=1", "test");
    CHECK(attr.lookup("allocate", "sym1") == std::chrono::microseconds(5000));
    CHECK(attr.lookup("bind", "sym1") == std::chrono::microseconds(2500));
    CHECK(attr.lookup("scrub", "sym1") == std::chrono::microseconds(1000));
    auto env = SimLatency::parse("bind@sym2=20, *@sym2=7, bind=3", "FARMCTL_SIM_LATENCY");
    CHECK(env.lookup("bind", "sym2") == std::chrono::microseconds(20000));
    CHECK(env.lookup("scrub", "sym2") == std::chrono::microseconds(7000));
    CHECK(env.lookup("bind", "sym1") == std::chrono::microseconds(3000));
    CHECK_FALSE(env.lookup("scrub", "sym1").has_value());
    CHECK_THROWS_WITH(SimLatency::parse("bind=fast", "X"),
                      "X: 'bind=fast': latency must be a non-negative number of milliseconds (expected "
                      "op=milliseconds, e.g. allocate=5,*=1)");
    CHECK_THROWS_AS(SimLatency::parse("bond=1", "X"), DeviceError);
  }
  SECTION("the attribute applies; the environment overrides it") {
    SimWorld w(nullptr, "bind=0");
    auto slow = array_config("sym1", {{"latency", "allocate=150,bind=150"}});
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(w.driver->run(slow, slice("S1", 10)).ok());
    auto t1 = std::chrono::steady_clock::now();
    REQUIRE(w.driver->run(slow, masking(Op::bind, "S1", 0)).ok());
    auto t2 = std::chrono::steady_clock::now();
    CHECK(t1 - t0 >= std::chrono::milliseconds(150));
    CHECK(t2 - t1 < std::chrono::milliseconds(100));
    auto bad = array_config("sym1", {{"latency", "allocate=soon"}});
    CHECK(w.driver->run(bad, slice("S2", 10)).status == Status::permanent_failure);
  }
  SECTION("two threads on two devices sleep at the same time") {
    SimWorld w(nullptr, "allocate=300");
    auto t0 = std::chrono::steady_clock::now();
    ActionOutcome a, b;
    std::thread first([&] { a = w.run(slice("S1", 10, "sym1")); });
    std::thread second([&] { b = w.run(slice("S1", 10, "sym2")); });
    first.join();
    second.join();
    auto elapsed = std::chrono::steady_clock::now() - t0;
    CHECK(a.ok());
    CHECK(b.ok());
    CHECK(elapsed >= std::chrono::milliseconds(300));
    CHECK(elapsed < std::chrono::milliseconds(550));  // serial would be 600
    auto log = read_sim_log(w.inventory);
    REQUIRE(log.size() == 2);
    CHECK(log[0].started_us < log[1].finished_us);  // their spans overlap
    CHECK(log[1].started_us < log[0].finished_us);
  }
}

TEST_CASE("sim: concurrency limit comes from the device attribute", "[sim]") {
  SimWorld w;
  CHECK(w.driver->concurrency_limit(array_config("sym1")) == 4);
  CHECK(w.driver->concurrency_limit(array_config("sym1", {{"concurrency", "2"}})) == 2);
  CHECK_THROWS_AS(w.driver->concurrency_limit(array_config("sym1", {{"concurrency", "0"}})), DeviceError);
  CHECK(w.driver->family() == "sim");
  CHECK(make_driver("sim", {w.inventory})->family() == "sim");
}

}  // namespace farmctl::runtime
