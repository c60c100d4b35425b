// The tgt driver end to end: a real tgtd per test on a free 127.0.0.1 port
// with its own control socket (tgtd_fixture.h), farmctl run as a command,
// and what hosts really see checked from the initiator side (iscsi-ls,
// iscsi-inq, iscsi-readcapacity16, and libiscsi for data). If tgtd cannot run
// here the fixture throws and every test fails: nothing is skipped.
//
// Naming scheme under test (docs/drivers.md): host H sees one target,
// iqn.2026-11.org.example:tgt1:H, that only H's initiator name may log in to;
// a farm disk at FML target N is its LUN N+1.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/tgt_show_parser.h"
#include "tests/iscsi_initiator.h"
#include "tests/tgtd_fixture.h"

namespace farmctl::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrefix = "iqn.2026-11.org.example:tgt1";
constexpr std::uint64_t kMiB = 1024 * 1024;

std::string iqn(const std::string& host) { return "iqn.2026-11.org.example:" + host; }
std::string target(const std::string& host) { return std::string(kPrefix) + ":" + host; }

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One test's world: a tgtd, an inventory, farm files in the fixture's directory.
struct World {
  TgtdFixture tgtd;

  ToolRun farmctl(const std::string& args) const {
    return run_tool(fmt::format("FARMCTL_DB='{}' '{}' {}", tgtd.inventory(), FARMCTL_BINARY, args));
  }
  // Runs farmctl and requires exit status 0, showing its output otherwise.
  std::string ok(const std::string& args) const {
    ToolRun run = farmctl(args);
    INFO("farmctl " << args << "\n" << run.output);
    REQUIRE(run.status == 0);
    return run.output;
  }
  std::string file(const std::string& name, const std::string& text) const {
    fs::path path = tgtd.dir() / name;
    write_file(path, text);
    return "'" + path.string() + "'";
  }
  IscsiInitiator host(const std::string& name) const { return IscsiInitiator(tgtd.portal(), iqn(name)); }
  runtime::TgtShow show() const { return runtime::parse_tgt_show(tgtd.client().show()); }
  int tid_of(const std::string& host_name) const {
    auto s = show();
    const runtime::TgtTarget* t = s.find(target(host_name));
    REQUIRE(t != nullptr);
    return t->tid;
  }
};

std::string host_xml(const std::string& name, const std::string& hw) {
  return fmt::format(R"(  <host name="{}" hw="{}"><initiator iqn="{}"/></host>)", name, hw, iqn(name)) + "\n";
}

// Two farms on one tgtd: alpha on hosts a1, a2 (cpu-a), beta on b1 (cpu-b).
std::string two_farm_map(const TgtdFixture& t) {
  return fmt::format(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="tgt1" driver="tgt" protocols="iscsi" {}>
    <port id="iscsi0" iqn="{}"/>
    <pool name="p0" size="1GB"/>
  </array>
{}{}{}</wiring-map>
)",
                     t.array_attributes(), kPrefix, host_xml("a1", "cpu-a"), host_xml("a2", "cpu-a"),
                     host_xml("b1", "cpu-b"));
}

// Two app servers, each with a private 16 MB disk at target 0 and the farm's
// shared 8 MB disk at target 1.
constexpr const char* kAlpha = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="alpha">
  <farm-global-disks>
    <global-disk global-name="shared" drivesize="8MB" drivetype="iscsi"/>
  </farm-global-disks>
  <tier id="app" name="app"><role>app</role><init-servers>2</init-servers></tier>
  <server-role id="app" name="app">
    <hw>cpu-a</hw>
    <disk target="0" drivetype="iscsi" drivesize="16MB"/>
    <shared-disk global-name="shared" target="1" drivetype="iscsi"/>
  </server-role>
</farm>
)";

// One server with a 24 MB disk at target 0 and a 4 MB one at target 3.
constexpr const char* kBeta = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="beta">
  <tier id="db" name="db"><role>db</role><init-servers>1</init-servers></tier>
  <server-role id="db" name="db">
    <hw>cpu-b</hw>
    <disk target="0" drivetype="iscsi" drivesize="24MB"/>
    <disk target="3" drivetype="iscsi" drivesize="4MB"/>
  </server-role>
</farm>
)";

// Both farms applied; returns the farm file arguments.
std::pair<std::string, std::string> apply_two_farms(const World& w) {
  w.ok("inventory import " + w.file("wiring.xml", two_farm_map(w.tgtd)));
  std::string alpha = w.file("alpha.fml", kAlpha);
  std::string beta = w.file("beta.fml", kBeta);
  w.ok("apply --auto-approve " + alpha);
  w.ok("apply --auto-approve " + beta);
  return {alpha, beta};
}

std::set<std::string> names_of(const std::map<std::string, std::vector<int>>& seen) {
  std::set<std::string> out;
  for (const auto& [name, luns] : seen) out.insert(name);
  return out;
}

// Every target's ACL is exactly its own host's initiator name, with no address rule.
void require_acls_exact(const World& w) {
  for (const runtime::TgtTarget& t : w.show().targets) {
    INFO("target " << t.name);
    REQUIRE(t.name.rfind(std::string(kPrefix) + ":", 0) == 0);
    std::string host = t.name.substr(std::string(kPrefix).size() + 1);
    CHECK(t.acl_names == std::vector<std::string>{iqn(host)});
    CHECK(t.acl_addresses.empty());
  }
}

TEST_CASE("tgt: an applied farm gives each host exactly its disks, at LUN target+1, with the declared sizes",
          "[tgt]") {
  World w;
  apply_two_farms(w);

  for (std::string h : {"a1", "a2"}) {
    INFO("host " << h);
    auto seen = w.host(h).discover();
    REQUIRE(seen == std::map<std::string, std::vector<int>>{{target(h), {0, 1, 2}}});
    CHECK(w.host(h).capacity(target(h), 1) == 16 * kMiB);  // private disk, FML target 0
    CHECK(w.host(h).capacity(target(h), 2) == 8 * kMiB);   // shared disk, FML target 1
  }
  auto seen_b = w.host("b1").discover();
  REQUIRE(seen_b == std::map<std::string, std::vector<int>>{{target("b1"), {0, 1, 4}}});
  CHECK(w.host("b1").capacity(target("b1"), 1) == 24 * kMiB);
  CHECK(w.host("b1").capacity(target("b1"), 4) == 4 * kMiB);

  // The shared disk is one disk: what a1 writes, a2 reads.
  auto data = pattern(8, 0x5a);
  {
    IscsiSession a1(w.tgtd.portal(), iqn("a1"), target("a1"), 2);
    REQUIRE(a1.write(100, data));
  }
  IscsiSession a2(w.tgtd.portal(), iqn("a2"), target("a2"), 2);
  auto got = a2.read(100, 8);
  REQUIRE(got.has_value());
  CHECK(*got == data);

  // Private disks are not: a1's data is not on a2's LUN 1.
  {
    IscsiSession a1(w.tgtd.portal(), iqn("a1"), target("a1"), 1);
    REQUIRE(a1.write(0, data));
  }
  IscsiSession a2_private(w.tgtd.portal(), iqn("a2"), target("a2"), 1);
  auto other = a2_private.read(0, 8);
  REQUIRE(other.has_value());
  CHECK(*other == std::vector<unsigned char>(data.size(), 0));

  require_acls_exact(w);
  CHECK(w.ok("plan " + w.file("alpha2.fml", kAlpha)).find("No changes.") != std::string::npos);
}

TEST_CASE("tgt: another farm's IQN or an unknown one is refused at login and sees nothing in discovery", "[tgt]") {
  World w;
  apply_two_farms(w);

  IscsiInitiator b1 = w.host("b1");
  CHECK(names_of(b1.discover()) == std::set<std::string>{target("b1")});
  for (std::string h : {"a1", "a2"}) {
    std::string why;
    CHECK_FALSE(b1.can_log_in(target(h), &why));
    CHECK(why.find("Login Failed") != std::string::npos);
    CHECK_FALSE(b1.capacity(target(h), 1).has_value());
  }

  IscsiInitiator stranger(w.tgtd.portal(), "iqn.2026-11.org.example:stranger");
  CHECK(stranger.discover().empty());
  for (std::string h : {"a1", "a2", "b1"}) {
    std::string why;
    CHECK_FALSE(stranger.can_log_in(target(h), &why));
    CHECK(why.find("Login Failed") != std::string::npos);
  }
  CHECK_THROWS(IscsiSession(w.tgtd.portal(), "iqn.2026-11.org.example:stranger", target("a1"), 1));
}

TEST_CASE("tgt: what farm A wrote is zeros to farm B given the same disk after A is destroyed", "[tgt]") {
  World w;
  // One pre-carved volume: whoever gets storage gets this very file.
  std::string map = fmt::format(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="tgt1" driver="tgt" protocols="iscsi" {}>
    <port id="iscsi0" iqn="{}"/>
    <volume id="disk0" size="16MB"/>
  </array>
{}{}</wiring-map>
)",
                                w.tgtd.array_attributes(), kPrefix, host_xml("a1", "cpu-a"), host_xml("b1", "cpu-b"));
  w.ok("inventory import " + w.file("wiring.xml", map));
  auto farm = [](const std::string& name, const std::string& hw) {
    return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="{0}">
  <tier id="t" name="{0}"><role>r</role><init-servers>1</init-servers></tier>
  <server-role id="r" name="r"><hw>{1}</hw><disk target="0" drivetype="iscsi" drivesize="16MB"/></server-role>
</farm>
)",
                       name, hw);
  };
  std::string a = w.file("a.fml", farm("farm-a", "cpu-a"));
  std::string b = w.file("b.fml", farm("farm-b", "cpu-b"));
  std::string disk0 = (w.tgtd.data_dir() / "volumes" / "disk0").string();
  const std::uint64_t blocks = 16 * kMiB / IscsiSession::kBlock;
  const std::vector<std::uint64_t> lbas{0, blocks / 2, blocks - 8};

  w.ok("apply --auto-approve " + a);
  {
    IscsiSession host_a(w.tgtd.portal(), iqn("a1"), target("a1"), 1);
    for (std::uint64_t lba : lbas) REQUIRE(host_a.write(lba, pattern(8, static_cast<unsigned char>(lba))));
    for (std::uint64_t lba : lbas) REQUIRE(host_a.read(lba, 8) == pattern(8, static_cast<unsigned char>(lba)));
  }
  REQUIRE(read_file(disk0).find(std::string(reinterpret_cast<const char*>(pattern(8, 0).data()), 4096)) !=
          std::string::npos);

  std::string destroyed = w.ok("destroy --auto-approve " + a);
  CHECK(destroyed.find("scrub") != std::string::npos);
  w.ok("apply --auto-approve " + b);

  // B's LUN 1 is that same file...
  auto s = w.show();
  const runtime::TgtTarget* tb = s.find(target("b1"));
  REQUIRE(tb != nullptr);
  REQUIRE(tb->lun(1) != nullptr);
  CHECK(tb->lun(1)->backing_path == disk0);
  // ...and B reads zeros where A wrote.
  IscsiSession host_b(w.tgtd.portal(), iqn("b1"), target("b1"), 1);
  for (std::uint64_t lba : lbas) {
    auto got = host_b.read(lba, 8);
    REQUIRE(got.has_value());
    CHECK(*got == std::vector<unsigned char>(8 * IscsiSession::kBlock, 0));
  }
}

TEST_CASE("tgt: destroy while a host is logged in closes its session and it cannot log back in", "[tgt]") {
  World w;
  auto [alpha, beta] = apply_two_farms(w);

  IscsiSession a1(w.tgtd.portal(), iqn("a1"), target("a1"), 1);
  REQUIRE(a1.read(0, 1).has_value());
  {
    auto s = w.show();
    const runtime::TgtTarget* t = s.find(target("a1"));
    REQUIRE(t != nullptr);
    REQUIRE(t->sessions.size() == 1);
    CHECK(t->sessions.front().initiator == iqn("a1"));
  }

  w.ok("destroy --auto-approve " + alpha);

  CHECK_FALSE(a1.read(0, 1).has_value());
  auto s = w.show();
  CHECK(s.find(target("a1")) == nullptr);
  CHECK(s.find(target("a2")) == nullptr);
  for (const runtime::TgtTarget& t : s.targets)
    for (const runtime::TgtSession& session : t.sessions) CHECK(session.initiator != iqn("a1"));
  std::string why;
  CHECK_FALSE(w.host("a1").can_log_in(target("a1"), &why));
  CHECK(why.find("Login Failed") != std::string::npos);
  CHECK(w.host("a1").discover().empty());

  // The other farm is untouched.
  CHECK(w.host("b1").discover() == std::map<std::string, std::vector<int>>{{target("b1"), {0, 1, 4}}});
}

TEST_CASE("tgt: a host's initiator renamed: the new name sees the same disks and data, the old one is cut off",
          "[tgt]") {
  World w;
  auto [alpha, beta] = apply_two_farms(w);
  std::vector<unsigned char> data(IscsiSession::kBlock, 0x5a);
  IscsiSession before(w.tgtd.portal(), iqn("b1"), target("b1"), 1);
  REQUIRE(before.write(7, data));

  std::string map = two_farm_map(w.tgtd);
  std::string renamed = iqn("b1") + "-new";
  map.replace(map.find("\"" + iqn("b1") + "\""), iqn("b1").size() + 2, "\"" + renamed + "\"");
  w.ok("inventory import " + w.file("wiring.xml", map));
  std::string plan = w.ok("plan " + beta);
  INFO(plan);
  CHECK(plan.find("unmap") == std::string::npos);
  CHECK(plan.find("initiator renamed") != std::string::npos);
  w.ok("apply --auto-approve " + beta);

  // The old name's session is closed and it cannot log back in.
  CHECK_FALSE(before.read(7, 1).has_value());
  CHECK_FALSE(w.host("b1").can_log_in(target("b1")));
  // The new name sees the same disks at the same LUNs, with the data.
  IscsiInitiator now(w.tgtd.portal(), renamed);
  CHECK(now.discover() == std::map<std::string, std::vector<int>>{{target("b1"), {0, 1, 4}}});
  IscsiSession after(w.tgtd.portal(), renamed, target("b1"), 1);
  CHECK(after.read(7, 1) == std::optional(data));
  auto shown = w.show();
  const runtime::TgtTarget* t = shown.find(target("b1"));
  REQUIRE(t != nullptr);
  CHECK(t->acl_names == std::vector<std::string>{renamed});
  CHECK(w.ok("plan --detailed-exitcode " + beta).find("No changes") != std::string::npos);
}

TEST_CASE("tgt: a LUN deleted and an ACL added by hand: plan shows the repair, apply restores exactly the farm",
          "[tgt]") {
  World w;
  auto [alpha, beta] = apply_two_farms(w);

  // By hand, behind farmctl's back: a1 loses its private disk, and b1 (farm
  // beta) is let in to a2's target (farm alpha) — and logs in.
  ToolRun lun = run_tool(w.tgtd.tgtadm() + fmt::format("--mode logicalunit --op delete --tid {} --lun 1", w.tid_of("a1")));
  REQUIRE(lun.status == 0);
  ToolRun acl = run_tool(w.tgtd.tgtadm() +
                         fmt::format("--mode target --op bind --tid {} --initiator-name {}", w.tid_of("a2"), iqn("b1")));
  REQUIRE(acl.status == 0);
  CHECK(w.host("a1").discover() == std::map<std::string, std::vector<int>>{{target("a1"), {0, 2}}});
  CHECK(w.host("b1").can_log_in(target("a2")));
  IscsiSession intruder(w.tgtd.portal(), iqn("b1"), target("a2"), 1);
  REQUIRE(intruder.read(0, 1).has_value());

  ToolRun plan = w.farmctl("plan --detailed-exitcode " + alpha);
  INFO(plan.output);
  CHECK(plan.status == 2);
  CHECK(plan.output.find("drift: masking missing on tgt1") != std::string::npos);
  CHECK(plan.output.find("drift: mapping missing on tgt1") != std::string::npos);
  CHECK(plan.output.find("is masked to " + iqn("b1") + ", which is not in the farm") != std::string::npos);

  w.ok("apply --auto-approve " + alpha);

  CHECK(w.host("a1").discover() == std::map<std::string, std::vector<int>>{{target("a1"), {0, 1, 2}}});
  CHECK(w.host("a1").capacity(target("a1"), 1) == 16 * kMiB);
  CHECK_FALSE(w.host("b1").can_log_in(target("a2")));
  CHECK(names_of(w.host("b1").discover()) == std::set<std::string>{target("b1")});
  CHECK_FALSE(intruder.read(0, 1).has_value());  // its session was closed, not just its next login refused
  require_acls_exact(w);
  CHECK(w.ok("plan " + alpha).find("No changes.") != std::string::npos);
  CHECK(w.ok("plan " + beta).find("No changes.") != std::string::npos);
}

TEST_CASE("tgt: a target made by hand that presents a farm's disk is taken down, and with no ACL nobody gets in",
          "[tgt]") {
  World w;
  auto [alpha, beta] = apply_two_farms(w);
  auto s = w.show();
  const runtime::TgtLogicalUnit* disk = s.find(target("a1"))->lun(1);
  REQUIRE(disk != nullptr);
  std::string path = disk->backing_path;
  const std::string handmade = "iqn.2001-04.com.elsewhere:handmade";
  int tid = s.next_free_tid();
  REQUIRE(run_tool(w.tgtd.tgtadm() + fmt::format("--mode target --op new --tid {} --targetname {}", tid, handmade))
              .status == 0);
  REQUIRE(run_tool(w.tgtd.tgtadm() +
                   fmt::format("--mode logicalunit --op new --tid {} --lun 5 --backing-store {}", tid, path))
              .status == 0);
  // A target without any ACL rule admits no one, whatever its name.
  CHECK_FALSE(w.host("b1").can_log_in(handmade));
  CHECK(names_of(w.host("b1").discover()) == std::set<std::string>{target("b1")});

  ToolRun plan = w.farmctl("plan " + alpha);
  INFO(plan.output);
  CHECK(plan.output.find("tgt1 shows tgt1:" + path.substr(path.rfind('/') + 1) + " to host " + handmade) !=
        std::string::npos);
  w.ok("apply --auto-approve " + alpha);
  auto after = w.show();
  REQUIRE(after.find(handmade) != nullptr);
  CHECK_FALSE(after.find(handmade)->has_disks());
  CHECK(w.ok("plan " + alpha).find("No changes.") != std::string::npos);
}

TEST_CASE("tgt: examples/tgt-wiring.xml and examples/tgt-farm.fml work against a real tgtd", "[tgt]") {
  World w;
  std::string map = read_file(fs::path(FARMCTL_SOURCE_DIR) / "examples" / "tgt-wiring.xml");
  std::regex attributes(R"(portal="[^"]*" control-port="[^"]*" dir="[^"]*")");
  REQUIRE(std::regex_search(map, attributes));
  map = std::regex_replace(map, attributes, w.tgtd.array_attributes());
  fs::create_directories(w.tgtd.data_dir() / "images");
  auto image = pattern(2048, 0xa7);  // 1 MiB of system image
  write_file(w.tgtd.data_dir() / "images" / "tiny-linux.img", std::string(image.begin(), image.end()));

  w.ok("inventory import " + w.file("tgt-wiring.xml", map));
  std::string farm = "'" + (fs::path(FARMCTL_SOURCE_DIR) / "examples" / "tgt-farm.fml").string() + "'";
  w.ok("apply --auto-approve " + farm);

  int web_hosts = 0;
  for (std::string h : {"web1", "web2", "web3"}) {
    auto seen = w.host(h).discover();
    if (seen.empty()) continue;
    ++web_hosts;
    REQUIRE(seen == std::map<std::string, std::vector<int>>{{target(h), {0, 1, 2, 3}}});
    CHECK(w.host(h).capacity(target(h), 1) == 32 * kMiB);
    CHECK(w.host(h).capacity(target(h), 3) == 64 * kMiB);
    IscsiSession boot(w.tgtd.portal(), iqn(h), target(h), 1);
    CHECK(boot.read(0, 2048) == image);  // the image was copied before the host could see the disk
  }
  CHECK(web_hosts == 2);
  CHECK(w.host("db1").discover() == std::map<std::string, std::vector<int>>{{target("db1"), {0, 1}}});
  CHECK(w.host("db1").capacity(target("db1"), 1) == 128 * kMiB);
  CHECK(w.ok("plan " + farm).find("No changes.") != std::string::npos);
}

TEST_CASE("tgt: a server moved to another IQN keeps its data there, and the old IQN's session is closed and refused",
          "[tgt][migration]") {
  World w;
  // beta's one server on b1, and an idle b2 of the same class.
  std::string map = two_farm_map(w.tgtd);
  map.replace(map.find("</wiring-map>"), 13, host_xml("b2", "cpu-b") + "</wiring-map>");
  w.ok("inventory import " + w.file("wiring.xml", map));
  std::string beta = w.file("beta.fml", kBeta);
  w.ok("apply --auto-approve " + beta);
  REQUIRE(w.host("b1").discover() == std::map<std::string, std::vector<int>>{{target("b1"), {0, 1, 4}}});
  CHECK(w.host("b2").discover().empty());

  // b1 writes to both disks and stays logged in to the first.
  auto boot = pattern(16, 0x3c);
  auto data = pattern(8, 0xd1);
  IscsiSession old_session(w.tgtd.portal(), iqn("b1"), target("b1"), 1);
  REQUIRE(old_session.write(64, boot));
  {
    IscsiSession second(w.tgtd.portal(), iqn("b1"), target("b1"), 4);
    REQUIRE(second.write(0, data));
  }

  std::string moved = w.ok("migrate " + beta + " db-0 --to b2 --auto-approve");
  CHECK(moved.find("moves from host b1 to host b2") != std::string::npos);

  // The new IQN sees the same two disks, with the sizes and the data b1 wrote.
  CHECK(w.host("b2").discover() == std::map<std::string, std::vector<int>>{{target("b2"), {0, 1, 4}}});
  CHECK(w.host("b2").capacity(target("b2"), 1) == 24 * kMiB);
  CHECK(w.host("b2").capacity(target("b2"), 4) == 4 * kMiB);
  {
    IscsiSession b2(w.tgtd.portal(), iqn("b2"), target("b2"), 1);
    CHECK(b2.read(64, 16) == boot);
  }
  {
    IscsiSession b2(w.tgtd.portal(), iqn("b2"), target("b2"), 4);
    CHECK(b2.read(0, 8) == data);
  }

  // The old IQN: its open session is gone, its login refused, discovery empty.
  CHECK_FALSE(old_session.read(64, 1).has_value());
  for (const runtime::TgtTarget& t : w.show().targets)
    for (const runtime::TgtSession& session : t.sessions) CHECK(session.initiator != iqn("b1"));
  std::string why;
  CHECK_FALSE(w.host("b1").can_log_in(target("b1"), &why));
  CHECK(why.find("Login Failed") != std::string::npos);
  CHECK_FALSE(w.host("b1").can_log_in(target("b2")));
  CHECK(w.host("b1").discover().empty());

  require_acls_exact(w);
  CHECK(w.ok("connection-info " + beta + " db-0").find("on host b2") != std::string::npos);
  CHECK(w.ok("plan " + beta).find("No changes.") != std::string::npos);
}

// Upper case, as a storage node identifier holds a part.
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST_CASE("tgt: what a LUN reports is its storage node identifier, the same on every host that sees the disk",
          "[tgt]") {
  World w;
  auto [alpha, beta] = apply_two_farms(w);
  auto info = nlohmann::json::parse(w.ok("connection-info --json " + alpha + " app-0"));
  REQUIRE(info["disks"].size() == 2);
  auto inventory = nlohmann::json::parse(w.ok("inventory show --json"));
  for (const auto& disk : info["disks"]) {
    INFO(disk.dump());
    int lun = disk["target"].get<int>() + 1;
    std::string device_volume = disk["device_volume"].get<std::string>();
    auto seen = w.host("a1").identity(target("a1"), lun);
    REQUIRE(seen.has_value());
    CHECK(seen->vendor == "IET");
    CHECK(seen->product == "VIRTUAL-DISK");
    CHECK(seen->serial == device_volume);
    // The wiring map gives tgt1 no serial: the array's name stands in.
    CHECK(disk["storage_node"] == fmt::format("{}__{}__TGT1__{}", seen->vendor, seen->product, upper(seen->serial)));
    int listed = 0;
    for (const auto& node : inventory["storage_nodes"])
      listed += node["storage_node"] == disk["storage_node"] && node["device_volume"] == device_volume;
    CHECK(listed == 1);
  }
  // The shared disk (FML target 1) is one disk: a2 reads the same serial as a1.
  auto a1 = w.host("a1").identity(target("a1"), 2);
  auto a2 = w.host("a2").identity(target("a2"), 2);
  REQUIRE(a1.has_value());
  REQUIRE(a2.has_value());
  CHECK(a1->serial == a2->serial);
  CHECK(w.host("a1").identity(target("a1"), 1)->serial != a1->serial);
}

TEST_CASE("tgt: with no tgtd on the socket, plan says so and how to start it", "[tgt]") {
  World w;
  std::string map = two_farm_map(w.tgtd);
  map = std::regex_replace(map, std::regex(R"(control-port="\d+")"), R"(control-port="1")");
  w.ok("inventory import " + w.file("wiring.xml", map));
  ToolRun plan = w.farmctl("plan " + w.file("alpha.fml", kAlpha));
  INFO(plan.output);
  CHECK(plan.status == 1);
  CHECK(plan.output.find("cannot discover device 'tgt1': tgtd of array tgt1 does not answer") != std::string::npos);
  CHECK(plan.output.find("start it with: tgtd -f --iscsi portal=" + w.tgtd.portal() + " -C 1") != std::string::npos);
}

}  // namespace
}  // namespace farmctl::testing
