// The reconcile commands through the real binary (FARMCTL_BINARY): exit
// codes, what they print, and that a refused or failed command leaves the
// inventory and the devices as they were. Each test has its own temporary
// directory and inventory (FARMCTL_DB), with the sim's latency at 0.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/inventory_lock.h"
#include "runtime/wiring_map.h"
#include "tests/scenario_fixture.h"

namespace farmctl::testing {
namespace {

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

const char* kWebFarm = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="web">
  <farm-global-disks><global-disk global-name="shared" drivesize="8631"/></farm-global-disks>
  <tier id="t1" name="web"><role>web</role><init-servers>2</init-servers></tier>
  <server-role id="web" name="web">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivesize="8631"><diskimage type="system">solaris</diskimage></disk>
    <disk target="3" drivename="/home" drivesize="512MB"><attribute name="raid-level" value="0+1"/></disk>
    <shared-disk global-name="shared" target="1"/>
  </server-role>
</farm>
)";

const char* kSmallFarm = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="small">
  <tier id="t" name="s"><role>r</role></tier>
  <server-role id="r" name="r"><hw>cpu-x86-64</hw><disk target="0" drivetype="iscsi" drivesize="1GB"/></server-role>
</farm>
)";

// A directory with the wiring map, farm files and the inventory farm.db.
class CliWorld {
 public:
  CliWorld() {
    write_text(dir_.path() / "wiring.xml", kScenarioWiring);
    write_text(dir_.path() / "web.fml", kWebFarm);
    write_text(dir_.path() / "small.fml", kSmallFarm);
  }

  const fs::path& dir() const { return dir_.path(); }
  std::string db() const { return (dir_.path() / "farm.db").string(); }
  fs::path file(std::string_view name) const { return dir_.path() / name; }

  // Runs `farmctl ARGS` in the directory, stdin from /dev/null unless given.
  Run farmctl(const std::string& args, const std::string& db_path = {}) const {
    fs::path out = dir_.path() / "stdout", err = dir_.path() / "stderr";
    std::string command = fmt::format(
        "cd '{}' && unset FARMCTL_SIM_FAULTS; FARMCTL_DB='{}' FARMCTL_SIM_LATENCY='*=0' '{}' {} </dev/null >'{}' "
        "2>'{}'",
        dir_.path().string(), db_path.empty() ? db() : db_path, FARMCTL_BINARY, args, out.string(), err.string());
    int status = std::system(command.c_str());
    Run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }

  Run ok(const std::string& args) const {
    Run r = farmctl(args);
    INFO("farmctl " << args << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE(r.code == 0);
    return r;
  }

  void import() const { ok("inventory import wiring.xml"); }

  Snapshot snapshot() const {
    runtime::Inventory inventory(db());
    return take_snapshot(inventory, db());
  }

 private:
  TempDir dir_{"farmctl-cli"};
};

#define SHOW(r) INFO("exit " << (r).code << "\nstdout:\n" << (r).out << "\nstderr:\n" << (r).err)

TEST_CASE("cli: import, plan, apply, and plan again", "[cli]") {
  CliWorld w;
  w.import();
  Run plan = w.ok("plan web.fml");
  CHECK_THAT(plan.out, Catch::Contains("farmctl will change farm web:"));
  CHECK_THAT(plan.out, Catch::Contains("+ server web-0: placed on idle host h01"));
  CHECK_THAT(plan.out, Catch::Contains("Plan: "));

  Run detailed = w.farmctl("plan --detailed-exitcode web.fml");
  SHOW(detailed);
  CHECK(detailed.code == 2);

  Run apply = w.ok("apply --auto-approve web.fml");
  CHECK_THAT(apply.out, Catch::Contains("Apply complete: "));

  Run again = w.farmctl("plan --detailed-exitcode web.fml");
  SHOW(again);
  CHECK(again.code == 0);
  CHECK(again.out == "No changes. Farm web matches its farm file and the devices.\n");

  Run check = w.ok("inventory check");
  CHECK_THAT(check.out, Catch::Contains("all invariants hold"));
}

TEST_CASE("cli: plan --json", "[cli]") {
  CliWorld w;
  w.import();
  Run r = w.ok("plan --json web.fml");
  auto j = nlohmann::json::parse(r.out);
  CHECK(j.at("format_version") == 1);
  CHECK(j.at("farm") == "web");
  REQUIRE(j.at("actions").is_array());
  REQUIRE_FALSE(j.at("actions").empty());
  std::set<int> ids;
  for (const auto& a : j.at("actions")) {
    for (const char* key : {"id", "op", "volume", "server", "array", "depends_on"}) {
      INFO(a.dump() << " has " << key);
      CHECK(a.contains(key));
    }
    ids.insert(a.at("id").get<int>());
    for (const auto& d : a.at("depends_on")) CHECK(ids.count(d.get<int>()));  // dependencies come first
  }
  const auto& summary = j.at("summary");
  CHECK(summary.at("create").get<int>() > 0);
  CHECK(summary.at("update") == 0);
  CHECK(summary.at("destroy") == 0);
  std::set<std::string> ops;
  for (const auto& a : j.at("actions")) ops.insert(a.at("op").get<std::string>());
  CHECK(ops == std::set<std::string>{"allocate", "copy", "bind", "map"});
}

TEST_CASE("cli: apply without --auto-approve and no terminal changes nothing", "[cli]") {
  CliWorld w;
  w.import();
  auto before = w.snapshot();
  Run r = w.farmctl("apply web.fml");
  SHOW(r);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("stdin is not a terminal, so pass --auto-approve"));
  CHECK(w.snapshot() == before);
  Run d = w.farmctl("destroy web.fml");
  CHECK(d.code == 1);
  CHECK(w.snapshot() == before);
}

TEST_CASE("cli: a saved plan is applied exactly, a stale one is refused", "[cli]") {
  CliWorld w;
  w.import();
  w.ok("plan --out web.plan web.fml");
  w.ok("plan --out small.plan small.fml");
  Run applied = w.ok("apply --auto-approve web.plan");
  CHECK_THAT(applied.out, Catch::Contains("Apply complete: "));
  CHECK(w.farmctl("plan --detailed-exitcode web.fml").code == 0);

  // small.plan was made before web was applied: the inventory has moved on.
  auto before = w.snapshot();
  Run stale = w.farmctl("apply --auto-approve small.plan");
  SHOW(stale);
  CHECK(stale.code == 1);
  CHECK_THAT(stale.err, Catch::Contains("the saved plan small.plan is stale"));
  CHECK_THAT(stale.err, Catch::Contains("run farmctl plan again"));
  CHECK(w.snapshot() == before);

  // A damaged plan file is refused with its name.
  write_text(w.file("bad.plan"), "{\"plan_file_version\": 1, \"farm\": \"web\"}");
  Run bad = w.farmctl("apply --auto-approve bad.plan");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Catch::Contains("bad.plan"));
  CHECK(w.snapshot() == before);
}

// plan and apply read the farm's records while the file compiles, under the
// name its root tag seems to give (compiler/farm_name_hint.h). Where that
// guess is missing or wrong, they read the farm the file compiles to.
TEST_CASE("cli: plan and apply find the farm the file compiles to, whatever its root tag looks like", "[cli]") {
  CliWorld w;
  w.import();
  std::string farm = kWebFarm;
  farm.replace(farm.find("name=\"web\""), 10, "name=\"my web\"");
  write_text(w.file("web.fml"), farm);
  w.ok("apply --auto-approve web.fml");
  auto applied = w.snapshot();

  SECTION("no guess: a character reference in the name") {
    farm.replace(farm.find("name=\"my web\""), 13, "name=\"my w&#101;b\"");
  }
  SECTION("a wrong guess: the line break in the name is a space once parsed") {
    farm.replace(farm.find("name=\"my web\""), 13, "name=\"my\nweb\"");
  }
  write_text(w.file("same.fml"), farm);
  Run plan = w.farmctl("plan --detailed-exitcode same.fml");
  SHOW(plan);
  CHECK(plan.code == 0);
  CHECK(plan.out == "No changes. Farm my web matches its farm file and the devices.\n");
  Run apply = w.ok("apply --auto-approve same.fml");
  CHECK_THAT(apply.out, Catch::Contains("No changes. Farm my web matches"));
  CHECK(w.snapshot() == applied);
}

TEST_CASE("cli: a farm file with errors makes no inventory", "[cli]") {
  CliWorld w;
  write_text(w.file("bad.fml"), "<farm fmlversion=\"1.2\" name=\"bad\"><tier/></farm>\n");
  std::string db = (w.dir() / "new.db").string();
  for (const char* command : {"plan bad.fml", "apply --auto-approve bad.fml"}) {
    Run r = w.farmctl(command, db);
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("bad.fml has errors; nothing was planned or changed"));
    CHECK_FALSE(fs::exists(db));
  }
}

// A child process that holds the inventory's writer lock until told to let
// go (or for `hold` when given).
class LockHolderProcess {
 public:
  LockHolderProcess(const std::string& db, std::chrono::milliseconds hold = std::chrono::milliseconds(0)) {
    int ready[2], release[2];
    REQUIRE(pipe(ready) == 0);
    REQUIRE(pipe(release) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close(ready[0]);
      close(release[1]);
      {
        runtime::InventoryLock lock(db, "test holder", std::chrono::milliseconds(0));
        char c = 'x';
        if (write(ready[1], &c, 1) != 1) _exit(2);
        if (hold.count() > 0) std::this_thread::sleep_for(hold);
        else if (read(release[0], &c, 1) < 0) _exit(3);
      }
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    char c = 0;
    REQUIRE(read(ready[0], &c, 1) == 1);
    close(ready[0]);
  }
  ~LockHolderProcess() {
    close(release_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

TEST_CASE("cli: one writer per inventory", "[cli]") {
  CliWorld w;
  w.import();
  auto before = w.snapshot();
  {
    LockHolderProcess holder(w.db());
    Run r = w.farmctl("apply --auto-approve web.fml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains(fmt::format("is locked by pid {} (test holder) since ", holder.pid())));
    CHECK_THAT(r.err, Catch::Contains("--lock-timeout"));
    Run d = w.farmctl("destroy --auto-approve web.fml");
    CHECK(d.code == 1);
    CHECK(w.snapshot() == before);
  }
  SECTION("--lock-timeout waits for the holder to finish") {
    LockHolderProcess holder(w.db(), std::chrono::milliseconds(400));
    auto start = std::chrono::steady_clock::now();
    Run r = w.farmctl("apply --auto-approve --lock-timeout 20s web.fml");
    auto waited = std::chrono::steady_clock::now() - start;
    SHOW(r);
    CHECK(r.code == 0);
    CHECK(waited >= std::chrono::milliseconds(300));
  }
  SECTION("a --lock-timeout that runs out names the holder") {
    LockHolderProcess holder(w.db());
    Run r = w.farmctl("apply --auto-approve --lock-timeout 200ms web.fml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains(fmt::format("pid {}", holder.pid())));
    CHECK(w.snapshot() == before);
  }
}

TEST_CASE("cli: refusals exit 1, name what is missing, and change nothing", "[cli]") {
  CliWorld w;
  w.import();
  w.ok("apply --auto-approve web.fml");
  auto before = w.snapshot();

  SECTION("an unknown farm") {
    write_text(w.file("ghost.fml"), R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="ghost">
  <tier id="t" name="g"><role>r</role></tier>
  <server-role id="r" name="r"><hw>cpu-x86-64</hw><disk target="0" drivetype="iscsi" drivesize="1GB"/></server-role>
</farm>
)");
    Run r = w.farmctl("destroy --auto-approve ghost.fml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.err == "farmctl: error: the inventory has no farm named 'ghost'\n");
  }
  SECTION("too little capacity") {
    write_text(w.file("big.fml"), R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="big">
  <tier id="t" name="b"><role>r</role></tier>
  <server-role id="r" name="r"><hw>cpu-x86-64</hw><disk target="0" drivetype="iscsi" drivesize="900GB"/></server-role>
</farm>
)");
    for (const char* command : {"plan big.fml", "apply --auto-approve big.fml"}) {
      Run r = w.farmctl(command);
      SHOW(r);
      CHECK(r.code == 1);
      CHECK_THAT(r.err, Catch::StartsWith("farmctl: cannot plan: no storage for volume b-0/t0 (921600 MB std): "));
      CHECK_THAT(r.err, Catch::EndsWith("farmctl: error: farm big: 1 problem; nothing was changed\n"));
    }
  }
  SECTION("no fitting host") {
    std::string more = kWebFarm;
    more.replace(more.find("name=\"web\""), 10, "name=\"more\"");
    more.replace(more.find("<init-servers>2"), 15, "<init-servers>3");
    write_text(w.file("more.fml"), more);
    Run r = w.farmctl("apply --auto-approve more.fml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.err ==
          "farmctl: cannot plan: no host for server web-2: all 4 hosts of hardware class 'cpu-sun4u-x4' are in use\n"
          "farmctl: error: farm more: 1 problem; nothing was changed\n");
  }
  SECTION("a replacement without --allow-replace") {
    std::string changed = kWebFarm;
    changed.replace(changed.find("solaris"), 7, "centos");
    write_text(w.file("web.fml"), changed);
    Run r = w.farmctl("apply --auto-approve web.fml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("run again with --allow-replace to accept"));
  }
  SECTION("a wiring map that pulls hardware from under a farm") {
    std::string map(kScenarioWiring);
    auto from = map.find("<host name=\"h01\"");
    map.erase(from, map.find("\n", from) - from);
    write_text(w.file("less.xml"), map);
    Run r = w.farmctl("inventory import less.xml");
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("host 'h01' is not in the map but runs server web-0 of farm web"));
  }
  CHECK(w.snapshot() == before);
}

// The import loads each device while the rest of the map is still being read
// (runtime::DeviceFeed): an error found after them must still leave the
// inventory and the sim's store as they were.
TEST_CASE("cli: a wiring map whose error comes after its devices imports nothing", "[cli]") {
  CliWorld w;
  w.import();
  Snapshot before = w.snapshot();
  std::string map(kScenarioWiring);
  map.insert(map.find("<wiring-map>") + 12,
             "\n  <array name=\"late\" driver=\"sim\" model=\"M\" serial=\"9\"><volume id=\"v1\" size=\"8GB\"/>"
             "</array>");
  // {the last element, the message}: a reference checked once the map is read,
  // and a schema error.
  auto [last, message] = GENERATE(table<std::string, std::string>({
      {R"(<host name="zz" hw="x" gateway="nowhere"/>)", "error: gateway 'nowhere' is not declared in this map"},
      {R"(<host name="zz" hw="x" colour="red"/>)", "error: unknown attribute 'colour' on <host>"},
  }));
  map.insert(map.rfind("</wiring-map>"), "  " + last + "\n");
  write_text(w.file("late.xml"), map);
  Run r = w.farmctl("inventory import late.xml");
  SHOW(r);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("late.xml:") && Catch::Contains(message));
  CHECK(w.snapshot() == before);
}

// The import reads the map against the schema's outline first, without the
// validator; a map the outline doubts is rolled back and read again,
// validated. A namespace declaration on the last device is one the outline
// doubts (it reads without namespaces) and the schema takes: the inventory
// and the sim's store end as the same map without it leaves them.
TEST_CASE("cli: a wiring map the outline doubts late is read again and imported all the same", "[cli]") {
  std::string map(kScenarioWiring);
  auto with_late_device = [&](std::string_view attributes) {
    std::string late = fmt::format(
        "  <array name=\"late\" driver=\"sim\" model=\"M\" serial=\"9\"{}><volume id=\"v1\" size=\"8GB\"/>"
        "</array>\n",
        attributes);
    return std::string(map).insert(map.rfind("</wiring-map>"), late);
  };
  // The outline does doubt it, so the import below takes the second read.
  REQUIRE(runtime::parse_wiring_map_source(with_late_device(" xmlns:x=\"urn:x\""), "wiring.xml", {},
                                           runtime::WiringRead::against_outline)
              .doubted);
  CliWorld plain, doubted;
  write_text(plain.file("wiring.xml"), with_late_device(""));
  write_text(doubted.file("wiring.xml"), with_late_device(" xmlns:x=\"urn:x\""));
  plain.import();
  doubted.import();
  CHECK(doubted.snapshot() == plain.snapshot());
  CHECK_THAT(doubted.ok("inventory show").out, Catch::Contains("late"));
}

TEST_CASE("cli: a corrupt inventory is refused with a clear message", "[cli]") {
  CliWorld w;
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919 + 13) % 251);
  fs::path bad = w.file("garbage.db");
  write_text(bad, garbage);
  for (const char* command : {"plan web.fml", "apply --auto-approve web.fml", "inventory show", "inventory check",
                              "inventory import wiring.xml"}) {
    Run r = w.farmctl(command, bad.string());
    SHOW(r);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("farmctl: error: cannot use the inventory " + bad.string()));
    CHECK_THAT(r.err, Catch::Contains("not a database"));
  }
  CHECK(read_text(bad) == garbage);
}

TEST_CASE("cli: graph, inventory show and check", "[cli]") {
  CliWorld w;
  w.import();
  Run graph = w.ok("graph web.fml");
  CHECK_THAT(graph.out, Catch::StartsWith("digraph"));
  CHECK_THAT(graph.out, Catch::Contains("->"));
  CHECK_THAT(graph.out, Catch::EndsWith("}\n"));

  w.ok("apply --auto-approve web.fml");
  Run show = w.ok("inventory show --json");
  auto j = nlohmann::json::parse(show.out);
  CHECK(j.at("generation").get<int>() > 0);
  CHECK(j.at("hosts").at("used") == 2);
  CHECK(j.at("hosts").at("total") == 7);
  REQUIRE(j.at("farms").size() == 1);
  CHECK(j.at("farms")[0].at("name") == "web");
  bool saw_p0 = false;
  for (const auto& a : j.at("arrays"))
    for (const auto& p : a.at("pools"))
      if (p.at("name") == "p0") {
        saw_p0 = true;
        CHECK(p.at("free_mb") == 20480 - 1024);
      }
  CHECK(saw_p0);
  CHECK(j.at("volumes_by_state").at("Mapped").get<int>() == 5);

  w.ok("inventory check");
  runtime::sim_tamper(w.db(), "DELETE FROM sim_maskings WHERE device = 'sym1'");
  Run check = w.farmctl("inventory check");
  SHOW(check);
  CHECK(check.code == 1);
  CHECK_THAT(check.err, Catch::Contains("violation: the inventory has sym1:"));
  CHECK_THAT(check.err, Catch::Contains("bound to gateway:gw1, but the array does not"));

  // The plan repairs it, and the check passes again.
  w.ok("apply --auto-approve web.fml");
  w.ok("inventory check");
}

TEST_CASE("cli: destroy returns the hosts and the storage", "[cli]") {
  CliWorld w;
  w.import();
  auto initial = w.snapshot();
  w.ok("apply --auto-approve web.fml");
  Run d = w.ok("destroy --auto-approve web.fml");
  CHECK_THAT(d.out, Catch::Contains("farmctl will destroy farm web:"));
  CHECK_THAT(d.out, Catch::Contains("Destroy complete: "));
  auto after = w.snapshot();
  CHECK(after.inventory == initial.inventory);
  CHECK(after.devices == initial.devices);
  Run gone = w.farmctl("destroy --auto-approve web.fml");
  CHECK(gone.code == 1);
  CHECK(gone.err == "farmctl: error: the inventory has no farm named 'web'\n");
}

}  // namespace
}  // namespace farmctl::testing
