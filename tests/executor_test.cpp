// The executor, rollback and the journal, through the real binary: a fault
// injected at every step, the process killed at every step and at random
// moments, the parallel executor against the serial reference.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reconciler/action.h"
#include "reconciler/invariants.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"
#include "runtime/sim_driver.h"

namespace fs = std::filesystem;
using namespace farmctl;

namespace {

const std::string kWiring = std::string(FARMCTL_SOURCE_DIR) + "/examples/wiring.xml";
const std::string kFarm = std::string(FARMCTL_SOURCE_DIR) + "/tests/data/executor/realistic.fml";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scratch estate: its own inventory and sim store in a temp directory.
class Estate {
 public:
  Estate() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() / fmt::format("farmctl-exec-{}-{}", getpid(), ++counter);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    REQUIRE(farmctl("inventory import " + kWiring).code == 0);
  }
  ~Estate() { fs::remove_all(dir_); }

  std::string db() const { return (dir_ / "farm.db").string(); }

  // Runs farmctl with the given environment additions; returns exit code and output.
  Result farmctl(const std::string& args, const std::string& env = "") const {
    std::string cmd = fmt::format("cd '{}' && env FARMCTL_DB='{}' FARMCTL_SIM_LATENCY='*=0' {} '{}' {} >out.txt 2>err.txt",
                                  dir_.string(), db(), env, FARMCTL_BINARY, args);
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(dir_ / "out.txt");
    r.err = slurp(dir_ / "err.txt");
    return r;
  }

  Result apply(const std::string& env = "", const std::string& extra = "") const {
    return farmctl("apply --auto-approve " + extra + " '" + kFarm + "'", env);
  }

  int plan_exit() const { return farmctl("plan --detailed-exitcode '" + kFarm + "'").code; }

  std::vector<std::string> violations() const {
    runtime::Inventory inv(db());
    runtime::DriverSet drivers(inv.topology(), runtime::DriverContext{db()});
    auto devices = drivers.discover_all();
    return reconcile::check_invariants(inv, &devices);
  }

  // The inventory and the devices as text, independent of row ids and of
  // the order in which things were done.
  std::string end_state() const {
    runtime::Inventory inv(db());
    runtime::Topology topo = inv.topology();
    std::map<runtime::RowId, std::string> names;
    std::set<std::string> lines;
    for (const auto& v : inv.all_volumes()) {
      std::string name = topo.device(v.device_id)->config.name + ":" + v.device_volume;
      names[v.id] = name;
      lines.insert(fmt::format("volume {} {} {} plan={} image={} dirty={} size={}", name, runtime::to_string(v.state),
                               v.farm_id ? "owned" : "free", v.plan_volume.value_or("-"), v.image.value_or("-"),
                               v.dirty_farm.value_or("-"), v.size_mb));
    }
    for (const auto& v : inv.all_volumes())
      if (v.parent_id) lines.insert(fmt::format("member {} of {} #{}", names[v.id], names[*v.parent_id], v.member_order));
    for (const auto& b : inv.all_bindings())
      lines.insert(fmt::format("binding {} host={} target={} lun={} {} bound={} mapped={}", names[b.volume_id],
                               topo.host(b.host_id)->name, b.target, b.lun, b.initiator, b.bound, b.mapped));
    runtime::DriverSet drivers(topo, runtime::DriverContext{db()});
    for (const auto& [device, state] : drivers.discover_all()) {
      for (const auto& v : state.volumes)
        lines.insert(fmt::format("device {} volume {} {} members={}", device, v.id, v.size_mb, v.members.size()));
      for (const auto& m : state.maskings)
        lines.insert(fmt::format("device {} mask {} {} {} {}", device, m.volume, m.initiator, m.port, m.lun));
      for (const auto& m : state.mappings)
        lines.insert(fmt::format("device {} map {} {} {} {} {}", device, m.host, m.array, m.volume, m.target, m.lun));
      for (const auto& z : state.zones) lines.insert(fmt::format("device {} zone {} {}", device, z.initiator, z.port));
    }
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  int planned_actions() const {
    Result r = farmctl("plan --json '" + kFarm + "'");
    REQUIRE(r.code == 0);
    return static_cast<int>(nlohmann::json::parse(r.out)["actions"].size());
  }

  // Every successful allocate of a device volume must be followed by its
  // deallocate before the next allocate of it, unless the next one is the
  // very same action run again (recovery re-runs what was in flight).
  std::vector<std::string> double_allocations() const {
    std::vector<std::string> problems;
    std::map<std::string, std::string> held;  // device:volume -> farm of the allocate that holds it
    for (const auto& e : runtime::read_sim_log(db())) {
      if (!e.outcome.ok()) continue;
      std::string key = e.action.device + ":" + e.action.volume;
      if (e.action.op == runtime::Op::allocate) {
        auto it = held.find(key);
        if (it != held.end() && it->second != e.action.farm)
          problems.push_back(fmt::format("{} allocated to {} while {} held it", key, e.action.farm, it->second));
        held[key] = e.action.farm;
      } else if (e.action.op == runtime::Op::deallocate) {
        held.erase(key);
      }
    }
    return problems;
  }

  // Actions the journal records as done that no device stored (the sim's
  // log is written with each action's effect, in the same transaction): a
  // device must never lose what the journal already calls done.
  std::vector<std::string> done_but_not_stored() const {
    std::multiset<std::string> stored;
    auto key = [](const runtime::DeviceAction& a) {
      return fmt::format("{} {} {} {} {}", runtime::to_string(a.op), a.device, a.volume, a.initiator, a.host);
    };
    for (const auto& e : runtime::read_sim_log(db()))
      if (e.outcome.ok()) stored.insert(key(e.action));
    std::vector<std::string> problems;
    runtime::Database inv(db());
    auto done = inv.prepare(
        "SELECT action_json FROM journal JOIN journal_actions ON entry_id = id WHERE status = 'done' ORDER BY id");
    while (done.step()) {
      std::string k = key(reconcile::action_from_json(done.text(0)).device_action);
      auto it = stored.find(k);
      if (it == stored.end()) problems.push_back(k);
      else stored.erase(it);
    }
    return problems;
  }

  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

// The next apply (which first finishes what the journal shows in flight)
// converges, and afterwards every invariant holds.
void require_converges(const Estate& estate) {
  INFO(estate.end_state());
  Result again = estate.apply();
  INFO(again.out << again.err);
  REQUIRE(again.code == 0);
  CHECK(estate.plan_exit() == 0);
  CHECK(estate.violations().empty());
  CHECK(estate.double_allocations().empty());
}

}  // namespace

TEST_CASE("the realistic farm has at least 40 steps over two arrays, a gateway and a fabric", "[executor]") {
  Estate estate;
  Result r = estate.farmctl("plan --json '" + kFarm + "'");
  REQUIRE(r.code == 0);
  auto plan = nlohmann::json::parse(r.out);
  std::set<std::string> devices;
  for (const auto& a : plan["actions"]) devices.insert(a["array"].get<std::string>());
  CHECK(plan["actions"].size() >= 40);
  CHECK(devices.count("sym1"));
  CHECK(devices.count("sym2"));
  CHECK(devices.count("gw1"));
  CHECK(devices.count("fabric-a"));
}

TEST_CASE("a permanent failure at any step is rolled back, leaves the invariants holding, and the next apply converges",
          "[executor]") {
  int steps = Estate().planned_actions();
  for (int k = 1; k <= steps; ++k) {
    DYNAMIC_SECTION("fail step " << k) {
      Estate estate;
      Result r = estate.apply(fmt::format("FARMCTL_SIM_FAULTS='*#{}=permanent'", k));
      INFO(r.out << r.err);
      CHECK(r.code == 1);
      CHECK(r.err.find("injected permanent fault") != std::string::npos);
      CHECK(r.err.find("Run farmctl plan to see the work that remains") != std::string::npos);
      CHECK(estate.violations().empty());
      CHECK(estate.plan_exit() == 2);  // exactly the remaining work is planned
      require_converges(estate);
    }
  }
}

TEST_CASE("a failed map undoes its bind, and a failed bind undoes the unit's exports", "[executor]") {
  Estate estate;
  // The first map of the run fails: its export's bind is compensated.
  // The first map on sym1 is a direct fibre-channel export: its masking is its own.
  Result r = estate.apply("FARMCTL_SIM_FAULTS='map@sym1#1=permanent'", "--parallelism 1");
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("rolled back: unbind undo bind") != std::string::npos);
  CHECK(estate.violations().empty());
  require_converges(estate);
}

TEST_CASE("transient failures are retried and the apply succeeds", "[executor]") {
  Estate estate;
  Result r = estate.apply("FARMCTL_SIM_FAULTS='bind#1-2=transient,map#3=transient'", "--parallelism 1");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("after 3 attempts") != std::string::npos);
  CHECK(estate.plan_exit() == 0);
  CHECK(estate.violations().empty());
}

TEST_CASE("killed at any step, before or after the device acts: the next apply finishes from the journal",
          "[executor]") {
  int steps = Estate().planned_actions();
  for (const char* when : {"crash", "crash-after"}) {
    for (int k = 1; k <= steps; k += 2) {
      DYNAMIC_SECTION(when << " at step " << k) {
        Estate estate;
        Result r = estate.apply(fmt::format("FARMCTL_SIM_FAULTS='*#{}={}'", k, when));
        CHECK(r.code == 137);
        CHECK(estate.done_but_not_stored().empty());
        if (!estate.violations().empty()) {
          // The device is ahead of the inventory until recovery; check says why.
          Result check = estate.farmctl("inventory check");
          CHECK(check.code == 1);
          CHECK(check.err.find("interrupted") != std::string::npos);
        }
        require_converges(estate);
      }
    }
  }
}

TEST_CASE("kill -9 from outside at random moments: nothing leaked, nothing exposed, the next apply converges",
          "[executor]") {
  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> delay_ms(5, 400);
  for (int round = 0; round < 8; ++round) {
    DYNAMIC_SECTION("round " << round) {
      Estate estate;
      int delay = delay_ms(random);
      pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        std::string db = estate.db();
        setenv("FARMCTL_DB", db.c_str(), 1);
        setenv("FARMCTL_SIM_LATENCY", "*=8", 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(FARMCTL_BINARY, FARMCTL_BINARY, "apply", "--auto-approve", kFarm.c_str(), nullptr);
        _exit(127);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
      INFO("killed after " << delay << " ms");
      CHECK(estate.done_but_not_stored().empty());
      require_converges(estate);
    }
  }
}

TEST_CASE("the parallel executor leaves the same end state as the serial reference", "[executor]") {
  Estate serial, parallel;
  REQUIRE(serial.apply("", "--parallelism 1").code == 0);
  REQUIRE(parallel.apply("", "--parallelism 16").code == 0);
  CHECK(serial.end_state() == parallel.end_state());
  // and so does taking it down again
  REQUIRE(serial.farmctl("destroy --auto-approve --parallelism 1 '" + kFarm + "'").code == 0);
  REQUIRE(parallel.farmctl("destroy --auto-approve --parallelism 16 '" + kFarm + "'").code == 0);
  CHECK(serial.end_state() == parallel.end_state());
}

TEST_CASE("steps on different devices overlap, and one device never runs more than its limit", "[executor]") {
  Estate estate;
  // 20 ms per action; the gateway may run 2 at once (the wiring map's
  // concurrency attribute is the sim's limit; see docs/drivers.md).
  Result r = estate.farmctl("apply --auto-approve '" + kFarm + "'", "FARMCTL_SIM_LATENCY='*=20'");
  REQUIRE(r.code == 0);
  auto log = runtime::read_sim_log(estate.db());
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> spans;
  for (const auto& e : log) spans[e.action.device].push_back({e.started_us, e.finished_us});
  auto max_overlap = [](std::vector<std::pair<std::int64_t, std::int64_t>> s) {
    std::vector<std::pair<std::int64_t, int>> events;
    for (auto [a, b] : s) events.push_back({a, 1}), events.push_back({b, -1});
    std::sort(events.begin(), events.end());
    int now = 0, most = 0;
    for (auto [t, d] : events) most = std::max(most, now += d);
    return most;
  };
  int across = 0;
  for (const auto& [device, s] : spans) {
    INFO(device);
    CHECK(max_overlap(s) <= 4);  // the sim's default limit
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> all;
  for (const auto& [device, s] : spans) all.insert(all.end(), s.begin(), s.end());
  across = max_overlap(all);
  CHECK(across > 4);  // several devices at once
}

TEST_CASE("the writer lock names its holder, and a dead holder's lock is taken over", "[executor]") {
  Estate estate;
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string db = estate.db();
    setenv("FARMCTL_DB", db.c_str(), 1);
    setenv("FARMCTL_SIM_LATENCY", "*=30", 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(FARMCTL_BINARY, FARMCTL_BINARY, "apply", "--auto-approve", kFarm.c_str(), nullptr);
    _exit(127);
  }
  // wait until the child holds the lock
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (slurp(estate.db() + ".lock").find(fmt::format("pid={}", pid)) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Result busy = estate.apply();
  CHECK(busy.code == 1);
  CHECK(busy.err.find(fmt::format("locked by pid {}", pid)) != std::string::npos);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  require_converges(estate);
}

TEST_CASE("a commit's journal entries, written a few statements at a time, are the ids handed back", "[executor]") {
  Estate estate;
  runtime::Inventory inv(estate.db());
  // 100 intents: statements of 64, 32 and 4 rows; one more commit after them.
  const std::vector<std::string> devices{"dev0", "dev1", "dev2"};
  std::vector<runtime::Inventory::Intent> intents;
  for (int i = 0; i < 100; ++i)
    intents.push_back({i, i % 2 == 0 ? "bind" : "map", devices[i % 3], fmt::format("{{\"n\":{}}}", i)});
  auto ids = inv.write([&] { return inv.journal_intents("run-1", "f", intents); });
  auto more = inv.write([&] { return inv.journal_intents("run-1", "f", {{100, "zone", "fab", "{}"}}); });
  REQUIRE(ids.size() == 100);
  REQUIRE(more.size() == 1);
  CHECK(more[0] > ids.back());
  auto open = inv.open_journal_entries();
  REQUIRE(open.size() == 101);
  std::map<std::int64_t, runtime::Inventory::JournalEntry> by_id;
  for (const auto& e : open) by_id[e.id] = e;
  for (int i = 0; i < 100; ++i) {
    INFO(i);
    REQUIRE(by_id.count(ids[i]) == 1);
    const auto& e = by_id[ids[i]];
    CHECK(e.action_id == i);
    CHECK(e.op == intents[i].op);
    CHECK(e.device == intents[i].device);
    CHECK(e.action_json == intents[i].action_json);
    CHECK(e.run_id == "run-1");
    CHECK(e.farm == "f");
  }

  // Outcomes of 70 of them, each with its own message: 64 + 6 rows.
  std::vector<runtime::Inventory::Outcome> outcomes;
  std::vector<std::string> messages;
  for (int i = 0; i < 70; ++i) messages.push_back(i % 5 == 0 ? "" : fmt::format("message {}", i));
  for (int i = 0; i < 70; ++i) outcomes.push_back({ids[i], i % 7 == 0 ? "failed" : "done", messages[i]});
  inv.write([&] { inv.journal_outcomes(outcomes); });
  open = inv.open_journal_entries();
  CHECK(open.size() == 31);
  runtime::Database db(estate.db());
  auto s = db.prepare("SELECT status, message, finished_at IS NOT NULL FROM journal WHERE id = ?");
  for (int i = 0; i < 100; ++i) {
    INFO(i);
    s.bind(1, ids[i]);
    REQUIRE(s.step());
    if (i < 70) {
      CHECK(s.text(0) == (i % 7 == 0 ? "failed" : "done"));
      CHECK(s.text(1) == messages[i]);
      CHECK(s.int64(2) == 1);
    } else {
      CHECK(s.text(0) == "intent");
      CHECK(s.int64(2) == 0);
    }
    s.reset();
  }
}
