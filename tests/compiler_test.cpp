// The FML compiler end to end (FML.md; docs/fml.md, docs/plan-ir.md):
//  - tables of farm snippets and the plan::to_text dump they must lower to;
//  - the two FML.md examples against golden JSON, byte for byte;
//  - every farm under tests/data/bad/ against the exact diagnostics next to
//    it (*.expected); those files double as fuzz seeds;
//  - the entity and DTD rules, with a real file that must stay unread;
//  - the farmctl binary itself: exit codes, stdout, stderr, -o, --help.
//
// To refresh the *.expected files and golden JSON after an intended change of
// wording or format, run the tests with FARMCTL_UPDATE_EXPECTED=1, then read
// the diff before committing it.
#include "compiler/compiler.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace farmctl::fml {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = FARMCTL_SOURCE_DIR;
const fs::path kBadDir = kSourceDir / "tests" / "data" / "bad";
const fs::path kGoldenDir = kSourceDir / "tests" / "data" / "golden";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

bool updating_expectations() {
  const char* update = std::getenv("FARMCTL_UPDATE_EXPECTED");
  return update != nullptr && std::string_view(update) == "1";
}

// Compares `actual` with the file `expected_path`, or rewrites the file when
// the run asks for it.
void check_against_file(const std::string& actual, const fs::path& expected_path) {
  if (updating_expectations()) write_file(expected_path, actual);
  INFO("expected output: " << expected_path.string());
  REQUIRE(fs::exists(expected_path));
  CHECK(actual == read_file(expected_path));
}

// The body of a farm file, wrapped in <farm>.
std::string farm(std::string_view body, std::string_view version = "1.2", std::string_view name = "t") {
  return fmt::format("<?xml version=\"1.0\"?>\n<farm fmlversion=\"{}\" name=\"{}\">\n{}</farm>\n", version, name,
                     body);
}

// The to_text dump of a farm, or its diagnostics when it has errors.
std::string dump(std::string source, std::string file_name = "farm.fml") {
  CompileResult result = compile_source(std::move(source), std::move(file_name));
  if (!result.plan) return "no plan:\n" + result.rendered_diagnostics();
  return plan::to_text(*result.plan);
}

struct Row {
  const char* what;
  std::string source;
  const char* expected;
};

void check_rows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    INFO(row.what << "\n" << row.source);
    CHECK(dump(row.source) == row.expected);
  }
}

// ---------------------------------------------------------------------------
// Lowering, as to_text dumps

TEST_CASE("targets are settled in three passes per role", "[compiler]") {
  check_rows({
      {"system disk takes 0; the others the lowest free target in document order",
       farm(R"FML(  <farm-global-disks><global-disk global-name="db" drivesize="1GB"/></farm-global-disks>
  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <disk drivename="/data" drivesize="10"/>
    <disk drivename="/boot" drivesize="20"><diskimage type="system">linux</diskimage></disk>
    <shared-disk global-name="db" target="1"/>
    <disk drivename="/tmp" drivesize="30"/>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume global/db 1024MB std shared raid=- image=- backup=[]\n"
       "volume web-0/t0 20MB std raid=- image=system:linux backup=[] drivename=/boot\n"
       "volume web-0/t2 10MB std raid=- image=- backup=[] drivename=/data\n"
       "volume web-0/t3 30MB std raid=- image=- backup=[] drivename=/tmp\n"
       "export web-0/t0 -> web-0 t0 scsi\n"
       "export global/db -> web-0 t1 scsi\n"
       "export web-0/t2 -> web-0 t2 scsi\n"
       "export web-0/t3 -> web-0 t3 scsi\n"},
      {"explicit targets are taken first, even when written after a disk without one",
       farm(R"FML(  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <disk drivename="/a" drivesize="1"/>
    <disk drivename="/b" drivesize="2" target="0"/>
    <disk drivename="/c" drivesize="3" target="1"/>
    <disk drivename="/d" drivesize="4"/>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume web-0/t0 2MB std raid=- image=- backup=[] drivename=/b\n"
       "volume web-0/t1 3MB std raid=- image=- backup=[] drivename=/c\n"
       "volume web-0/t2 1MB std raid=- image=- backup=[] drivename=/a\n"
       "volume web-0/t3 4MB std raid=- image=- backup=[] drivename=/d\n"
       "export web-0/t0 -> web-0 t0 scsi\n"
       "export web-0/t1 -> web-0 t1 scsi\n"
       "export web-0/t2 -> web-0 t2 scsi\n"
       "export web-0/t3 -> web-0 t3 scsi\n"},
      {"a system disk with an explicit target keeps it and leaves 0 free",
       farm(R"FML(  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <disk target="5" drivesize="1"><diskimage type="system">linux</diskimage></disk>
    <disk drivename="/x" drivesize="2"/>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume web-0/t0 2MB std raid=- image=- backup=[] drivename=/x\n"
       "volume web-0/t5 1MB std raid=- image=system:linux backup=[]\n"
       "export web-0/t0 -> web-0 t0 scsi\n"
       "export web-0/t5 -> web-0 t5 scsi\n"},
      {"a shared disk without a target takes the lowest free one like a private disk",
       farm(R"FML(  <farm-global-disks><global-disk global-name="db" drivesize="1"/></farm-global-disks>
  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <shared-disk global-name="db"/>
    <disk drivename="/" drivesize="2"><diskimage type="system">linux</diskimage></disk>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume global/db 1MB std shared raid=- image=- backup=[]\n"
       "volume web-0/t0 2MB std raid=- image=system:linux backup=[] drivename=/\n"
       "export web-0/t0 -> web-0 t0 scsi\n"
       "export global/db -> web-0 t1 scsi\n"},
  });
}

TEST_CASE("shared disks are one volume seen by every server of every role that names them", "[compiler]") {
  check_rows({
      {"two roles, two tiers, one global disk at different targets",
       farm(R"FML(  <farm-global-disks>
    <global-disk global-name="Oracle Cluster, partition 1" drivesize="8631"/>
    <global-disk global-name="unused" drivesize="1"/>
  </farm-global-disks>
  <tier id="1" name="app"><role>a</role><init-servers>2</init-servers></tier>
  <tier id="2" name="db"><role>d</role></tier>
  <server-role id="a" name="App">
    <hw>x86</hw>
    <shared-disk global-name="Oracle Cluster, partition 1" target="3"/>
  </server-role>
  <server-role id="d" name="Db">
    <hw>sparc</hw>
    <shared-disk global-name="Oracle Cluster, partition 1" target="0"/>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server app-0 tier=app role=App hw=x86\n"
       "server app-1 tier=app role=App hw=x86\n"
       "server db-0 tier=db role=Db hw=sparc\n"
       "volume global/Oracle Cluster, partition 1 8631MB std shared raid=- image=- backup=[]\n"
       "volume global/unused 1MB std shared raid=- image=- backup=[]\n"
       "export global/Oracle Cluster, partition 1 -> app-0 t3 scsi\n"
       "export global/Oracle Cluster, partition 1 -> app-1 t3 scsi\n"
       "export global/Oracle Cluster, partition 1 -> db-0 t0 scsi\n"},
  });
}

TEST_CASE("drivetype is an access path (the export) or a quality class (the volume)", "[compiler]") {
  check_rows({
      {"fc, RAID, iSCSI, performance; shared disks take the global disk's path unless they name one",
       farm(R"FML(  <farm-global-disks>
    <global-disk global-name="g1" drivesize="1" drivetype="iscsi"/>
    <global-disk global-name="g2" drivesize="2" drivetype="bandwidth"/>
  </farm-global-disks>
  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <disk target="0" drivesize="1" drivetype="fc"/>
    <disk target="1" drivesize="2" drivetype="RAID"/>
    <disk target="2" drivesize="3" drivetype="iSCSI"/>
    <disk target="3" drivesize="4" drivetype="performance"/>
    <shared-disk global-name="g1" target="4"/>
    <shared-disk global-name="g2" target="5" drivetype="fc"/>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume global/g1 1MB std shared raid=- image=- backup=[]\n"
       "volume global/g2 2MB bandwidth shared raid=- image=- backup=[]\n"
       "volume web-0/t0 1MB std raid=- image=- backup=[]\n"
       "volume web-0/t1 2MB raid raid=- image=- backup=[]\n"
       "volume web-0/t2 3MB std raid=- image=- backup=[]\n"
       "volume web-0/t3 4MB performance raid=- image=- backup=[]\n"
       "export web-0/t0 -> web-0 t0 fc\n"
       "export web-0/t1 -> web-0 t1 scsi\n"
       "export web-0/t2 -> web-0 t2 iscsi\n"
       "export web-0/t3 -> web-0 t3 scsi\n"
       "export global/g1 -> web-0 t4 iscsi\n"
       "export global/g2 -> web-0 t5 fc\n"},
  });
}

TEST_CASE("raid levels, images, backup policies, sizes and metadata", "[compiler]") {
  check_rows({
      {"raid 1+0 is written 10; 0+1 stays; images; backups sorted by level with retain 7 by default",
       farm(R"FML(  <tier id="1" name="web"><role>w</role></tier>
  <server-role id="w" name="Web">
    <hw>x86</hw>
    <disk target="0" drivesize="1.5GB">
      <diskimage type="system">solaris</diskimage>
      <attribute name="raid-level" value="1+0"/>
      <attribute name="backup-policy" value="level=2:weekly;retain=3"/>
      <attribute name="backup-policy" value="every 15m"/>
      <attribute name="backup-policy" value="level=1:cron(0 2 * * *)"/>
    </disk>
    <disk target="1" drivesize="2GiB">
      <diskimage type="data">webroot</diskimage>
      <attribute name="raid-level" value="0+1"/>
      <attribute name="owner" value="dba"/>
      <attribute name="comment" value="kept as metadata"/>
    </disk>
    <disk target="2" drivesize="1TB">
      <attribute name="raid-level" value="5"/>
      <attribute name="backup-policy" value="nightly"/>
    </disk>
  </server-role>
)FML"),
       "farm t fml 1.2\n"
       "server web-0 tier=web role=Web hw=x86\n"
       "volume web-0/t0 1536MB std raid=10 image=system:solaris "
       "backup=[0:every 15m:7,1:cron(0 2 * * *):7,2:weekly:3]\n"
       "volume web-0/t1 2048MB std raid=0+1 image=data:webroot backup=[] comment=kept as metadata owner=dba\n"
       "volume web-0/t2 1048576MB std raid=5 image=- backup=[0:nightly:7]\n"
       "export web-0/t0 -> web-0 t0 scsi\n"
       "export web-0/t1 -> web-0 t1 scsi\n"
       "export web-0/t2 -> web-0 t2 scsi\n"},
  });
}

TEST_CASE("tiers: server names and the defaults of min/init/max", "[compiler]") {
  const std::string role = R"FML(  <server-role id="w" name="Web"><hw>x86</hw></server-role>
)FML";
  check_rows({
      {"no counts: one server",
       farm("  <tier id=\"1\" name=\"a\"><role>w</role></tier>\n" + role),
       "farm t fml 1.2\nserver a-0 tier=a role=Web hw=x86\n"},
      {"min only: init = min",
       farm("  <tier id=\"1\" name=\"a\"><role>w</role><min-servers>3</min-servers></tier>\n" + role),
       "farm t fml 1.2\nserver a-0 tier=a role=Web hw=x86\nserver a-1 tier=a role=Web hw=x86\n"
       "server a-2 tier=a role=Web hw=x86\n"},
      {"max 0: no server",
       farm("  <tier id=\"1\" name=\"a\"><role>w</role><max-servers>0</max-servers></tier>\n" + role),
       "farm t fml 1.2\n"},
      {"max only: one server",
       farm("  <tier id=\"1\" name=\"a\"><role>w</role><max-servers>5</max-servers></tier>\n" + role),
       "farm t fml 1.2\nserver a-0 tier=a role=Web hw=x86\n"},
      {"init only, and tiers in document order",
       farm("  <tier id=\"2\" name=\"b\"><role>w</role><init-servers>2</init-servers></tier>\n"
            "  <tier id=\"1\" name=\"a\"><role>w</role><init-servers>0</init-servers></tier>\n"
            "  <tier id=\"3\" name=\"c.1\"><role>w</role></tier>\n" +
            role),
       "farm t fml 1.2\nserver b-0 tier=b role=Web hw=x86\nserver b-1 tier=b role=Web hw=x86\n"
       "server c.1-0 tier=c.1 role=Web hw=x86\n"},
      {"min, init and max in any order of children",
       farm("  <tier id=\"1\" name=\"a\"><init-servers>2</init-servers><max-servers>2</max-servers>"
            "<role>w</role><min-servers>2</min-servers></tier>\n" +
            role),
       "farm t fml 1.2\nserver a-0 tier=a role=Web hw=x86\nserver a-1 tier=a role=Web hw=x86\n"},
  });
}

TEST_CASE("fmlversion 1.1, 1.2 and 1.3", "[compiler]") {
  const std::string body = R"FML(  <tier id="1" name="a"><role>w</role></tier>
  <server-role id="w" name="Web"><hw>x86</hw><disk target="0" drivesize="1"/></server-role>
)FML";
  for (const char* version : {"1.1", "1.2", "1.3"}) {
    INFO(version);
    CHECK(dump(farm(body, version)) ==
          fmt::format("farm t fml {}\nserver a-0 tier=a role=Web hw=x86\n"
                      "volume a-0/t0 1MB std raid=- image=- backup=[]\nexport a-0/t0 -> a-0 t0 scsi\n",
                      version));
  }
}

TEST_CASE("the farm is named by its name attribute, else by the file's stem", "[compiler]") {
  const std::string body = R"FML(  <tier id="1" name="a"><role>w</role><max-servers>0</max-servers></tier>
  <server-role id="w" name="Web"><hw>x86</hw></server-role>
)FML";
  const std::string unnamed = "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\">\n" + body + "</farm>\n";
  CHECK(dump(unnamed, "farms/web-prod.fml") == "farm web-prod fml 1.2\n");
  CHECK(dump(unnamed, "/abs/path/solaris-1.1.fml") == "farm solaris-1.1 fml 1.2\n");
  CHECK(dump(unnamed, "noextension") == "farm noextension fml 1.2\n");
  CHECK(dump(farm(body, "1.2", "named"), "farms/web-prod.fml") == "farm named fml 1.2\n");
}

TEST_CASE("warnings accompany a plan", "[compiler]") {
  const std::string source = farm(R"FML(  <farm-global-disks><global-disk global-name="spare" drivesize="1"/></farm-global-disks>
  <tier id="1" name="a"><role>w</role><max-servers>0</max-servers></tier>
  <server-role id="w" name="Web"><hw>x86</hw></server-role>
  <server-role id="x" name="Idle"><hw>x86</hw></server-role>
)FML");
  CompileResult result = compile_source(source, "w.fml");
  REQUIRE(result.plan);
  CHECK(result.rendered_diagnostics() ==
        "w.fml:3:22: warning: global disk 'spare' is shared with no server (it is still provisioned) [FML050]\n"
        "    <farm-global-disks><global-disk global-name=\"spare\" drivesize=\"1\"/></farm-global-disks>\n"
        "                       ^\n"
        "w.fml:6:3: warning: server-role 'Idle' is played by no tier [FML050]\n"
        "    <server-role id=\"x\" name=\"Idle\"><hw>x86</hw></server-role>\n"
        "    ^\n");
}

TEST_CASE("compiling is deterministic: the same file gives the same JSON", "[compiler]") {
  for (const char* example : {"web-prod.fml", "solaris-1.1.fml"}) {
    const fs::path path = kSourceDir / "examples" / example;
    CompileResult first = compile_file(path.string());
    CompileResult second = compile_file(path.string());
    REQUIRE(first.plan);
    REQUIRE(second.plan);
    CHECK(plan::to_json(*first.plan) == plan::to_json(*second.plan));
    // the plan depends on the text, not on where the file lies
    CompileResult elsewhere = compile_source(read_file(path), std::string("copy/") + example);
    REQUIRE(elsewhere.plan);
    CHECK(plan::to_json(*elsewhere.plan) == plan::to_json(*first.plan));
  }
}

// ---------------------------------------------------------------------------
// Golden JSON of the FML.md examples

TEST_CASE("attribute values are what the parser read: references expanded, blanks normalised", "[compiler]") {
  // The reader takes a value from the source bytes when they are exactly
  // what Xerces read, and from Xerces otherwise.
  std::string body =
      "  <tier id=\"t\" name=\"web\"><role>r</role></tier>\n"
      "  <server-role id=\"r\" name=\"n&#65;me &amp; co\tr\u00e9le\">\n"
      "    <hw>x86</hw>\n"
      "    <disk target=\"0\" drivesize=\"8GB\"/>\n"
      "    <disk drivename=\"/d&#x61;ta\" drivesize=\"&#50;0GB\"/>\n"
      "  </server-role>\n";
  CompileResult result = compile_source(farm(body), "farm.fml");
  INFO(result.rendered_diagnostics());
  REQUIRE(result.plan);
  CHECK(result.plan->servers.at(0).role == "nAme & co r\u00e9le");
  CHECK(result.plan->volumes.at(1).drivename == std::optional<std::string>("/data"));
  CHECK(result.plan->volumes.at(1).size_mb == 20480);
}

TEST_CASE("the Plan IR's items are written one per line, every field as JSON writes it", "[compiler]") {
  plan::Plan p;
  p.farm = "f";
  p.fml_version = "1.2";
  p.servers.push_back({"web-0", "web", "front end", "x86", 0, 3, true});
  plan::Volume v;
  v.id = "web-0/t1";
  v.size_mb = 20480;
  v.cls = "gold";
  v.raid = "0+1";
  v.image = plan::Image{"system", "linux \"lts\""};
  fml::BackupPolicy hourly, nightly;
  hourly.level = 1;
  hourly.schedule.kind = fml::Schedule::Kind::hourly;
  hourly.retain = 24;
  v.backup = {hourly, nightly};  // written by level
  v.drivename = "/data";
  v.attributes = {{"owner", "ops\tteam"}, {"cost-centre", "42"}};
  p.volumes.push_back(v);
  plan::Volume bare;
  bare.id = "global/g";
  bare.size_mb = 1024;
  bare.shared = true;
  p.volumes.push_back(bare);
  p.exports.push_back({"web-0/t1", "web-0", 1, "iscsi", 0});
  CHECK(plan::to_json(p) ==
        "{\n"
        "  \"format_version\": 1,\n"
        "  \"farm\": \"f\",\n"
        "  \"fml_version\": \"1.2\",\n"
        "  \"servers\": [\n"
        "    {\"name\": \"web-0\", \"tier\": \"web\", \"role\": \"front end\", \"hw\": \"x86\", \"npiv\": true}\n"
        "  ],\n"
        "  \"volumes\": [\n"
        "    {\"id\": \"web-0/t1\", \"size_mb\": 20480, \"shared\": false, \"class\": \"gold\", \"raid\": \"0+1\", "
        "\"image\": {\"type\": \"system\", \"name\": \"linux \\\"lts\\\"\"}, \"backup\": [{\"level\": 0, "
        "\"schedule\": \"nightly\", \"retain\": 7}, {\"level\": 1, \"schedule\": \"hourly\", \"retain\": 24}], "
        "\"drivename\": \"/data\", \"attributes\": {\"cost-centre\": \"42\", \"owner\": \"ops\\tteam\"}},\n"
        "    {\"id\": \"global/g\", \"size_mb\": 1024, \"shared\": true, \"class\": \"std\", \"raid\": null, "
        "\"image\": null, \"backup\": [], \"drivename\": null, \"attributes\": {}}\n"
        "  ],\n"
        "  \"exports\": [\n"
        "    {\"volume\": \"web-0/t1\", \"server\": \"web-0\", \"target\": 1, \"protocol\": \"iscsi\"}\n"
        "  ]\n"
        "}\n");
  plan::Plan empty;
  CHECK(plan::to_json(empty) ==
        "{\n  \"format_version\": 1,\n  \"farm\": \"\",\n  \"fml_version\": \"\",\n  \"servers\": [],\n"
        "  \"volumes\": [],\n  \"exports\": []\n}\n");
}

TEST_CASE("the FML.md examples compile to their golden JSON", "[compiler]") {
  for (const char* example : {"web-prod", "solaris-1.1"}) {
    INFO(example);
    CompileResult result = compile_file((kSourceDir / "examples" / (std::string(example) + ".fml")).string());
    INFO(result.rendered_diagnostics());
    REQUIRE(result.plan);
    CHECK(result.diagnostics.items().empty());
    check_against_file(plan::to_json(*result.plan), kGoldenDir / (std::string(example) + ".json"));
  }
}

// ---------------------------------------------------------------------------
// Farms that must be refused, with the whole text of what is said

std::vector<fs::path> bad_farms() {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(kBadDir))
    if (e.path().extension() == ".fml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("every farm in tests/data/bad is refused with exactly the expected diagnostics", "[compiler]") {
  std::vector<fs::path> files = bad_farms();
  REQUIRE(files.size() >= 40);
  for (const fs::path& file : files) {
    INFO(file.filename().string());
    CompileResult result = compile_source(read_file(file), file.filename().string());
    CHECK_FALSE(result.plan);
    CHECK(result.diagnostics.has_errors());
    fs::path expected = file;
    check_against_file(result.rendered_diagnostics(), expected.replace_extension(".expected"));
  }
}

TEST_CASE("every error of FML.md's list has a bad farm", "[compiler]") {
  // One file per code at least, named after it (fml010-bad-size.fml, ...).
  const int codes[] = {1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17,
                       20, 21, 22, 23, 24, 25, 30, 31, 32, 40, 41, 42, 43};
  std::vector<fs::path> files = bad_farms();
  for (int code : codes) {
    std::string prefix = fmt::format("fml{:03}-", code);
    bool found = std::any_of(files.begin(), files.end(),
                             [&](const fs::path& f) { return f.filename().string().starts_with(prefix); });
    INFO(prefix);
    CHECK(found);
    // and its expected output shows that code
    for (const fs::path& f : files)
      if (f.filename().string().starts_with(prefix)) {
        fs::path expected = f;
        CHECK(read_file(expected.replace_extension(".expected")).find(fmt::format("[FML{:03}]", code)) !=
              std::string::npos);
      }
  }
}

TEST_CASE("a file that cannot be read is an FML090 error, not an exception", "[compiler]") {
  const fs::path missing = fs::temp_directory_path() / "farmctl-test-no-such-file.fml";
  fs::remove(missing);
  CompileResult result = compile_file(missing.string());
  CHECK_FALSE(result.plan);
  CHECK(result.rendered_diagnostics() ==
        missing.string() + ": error: cannot read the file: No such file or directory [FML090]\n");

  CompileResult directory = compile_file(kSourceDir.string());
  CHECK_FALSE(directory.plan);
  CHECK(directory.rendered_diagnostics() ==
        kSourceDir.string() + ": error: cannot read the file: it is a directory [FML090]\n");
}

// ---------------------------------------------------------------------------
// No file, no network: entities and DTDs

// A file with a marker that must never show up in anything farmctl says.
struct SecretFile {
  fs::path path = fs::temp_directory_path() / fmt::format("farmctl-secret-{}.txt", ::getpid());
  std::string marker = fmt::format("SECRET-MARKER-{}-7f3a", ::getpid());
  SecretFile() { write_file(path, marker + "\n"); }
  ~SecretFile() { fs::remove(path); }
};

TEST_CASE("external entities and DTDs are refused and nothing they name is read", "[compiler]") {
  SecretFile secret;
  const std::string uri = "file://" + secret.path.string();
  const std::vector<std::string> attacks = {
      // a general entity used in an attribute and in text
      "<?xml version=\"1.0\"?>\n<!DOCTYPE farm [ <!ENTITY s SYSTEM \"" + uri +
          "\"> ]>\n<farm fmlversion=\"1.2\" name=\"x\"><tier id=\"1\" name=\"a\"><role>&s;</role></tier></farm>\n",
      // a parameter entity that would pull the file into the DTD
      "<?xml version=\"1.0\"?>\n<!DOCTYPE farm [ <!ENTITY % s SYSTEM \"" + uri +
          "\"> %s; ]>\n<farm fmlversion=\"1.2\"/>\n",
      // an external DTD subset
      "<?xml version=\"1.0\"?>\n<!DOCTYPE farm SYSTEM \"" + uri + "\">\n<farm fmlversion=\"1.2\"/>\n",
      // the path without a scheme
      "<?xml version=\"1.0\"?>\n<!DOCTYPE farm [ <!ENTITY s SYSTEM \"" + secret.path.string() +
          "\"> ]>\n<farm fmlversion=\"1.2\" name=\"&s;\"/>\n",
  };
  for (const std::string& attack : attacks) {
    INFO(attack);
    CompileResult result = compile_source(attack, "attack.fml");
    CHECK_FALSE(result.plan);
    REQUIRE(!result.diagnostics.items().empty());
    CHECK(result.diagnostics.items().front().code == Code::doctype_refused);
    // the marker is in no message (the source line shows the path, not the content)
    CHECK(result.rendered_diagnostics().find(secret.marker) == std::string::npos);
  }
}

TEST_CASE("XInclude and schema-location hints are not followed", "[compiler]") {
  SecretFile secret;
  CompileResult include = compile_source(
      farm("  <xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"" + secret.path.string() +
           "\" parse=\"text\"/>\n"),
      "include.fml");
  CHECK_FALSE(include.plan);
  CHECK(include.rendered_diagnostics().find(secret.marker) == std::string::npos);

  // a schema hint pointing at a file that is no schema: if it were read, the
  // farm would fail to validate; it is ignored and the farm compiles
  CompileResult hint = compile_source(
      "<?xml version=\"1.0\"?>\n<farm xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:noNamespaceSchemaLocation=\"file://" +
          secret.path.string() + "\" fmlversion=\"1.2\" name=\"h\"/>\n",
      "hint.fml");
  INFO(hint.rendered_diagnostics());
  CHECK(hint.plan);
}

TEST_CASE("a billion laughs costs nothing: refused at the DOCTYPE", "[compiler]") {
  std::string entities = "<!ENTITY l0 \"lol\">\n";
  for (int i = 1; i < 30; ++i) {
    std::string refs;
    for (int k = 0; k < 10; ++k) refs += fmt::format("&l{};", i - 1);
    entities += fmt::format("<!ENTITY l{} \"{}\">\n", i, refs);
  }
  std::string source =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE farm [\n" + entities + "]>\n<farm fmlversion=\"1.2\" name=\"&l29;\"/>\n";
  CompileResult result = compile_source(source, "laughs.fml");
  CHECK_FALSE(result.plan);
  REQUIRE(result.diagnostics.items().size() == 1);
  CHECK(result.diagnostics.items().front().code == Code::doctype_refused);
  CHECK(result.rendered_diagnostics().size() < 1000);
}

// ---------------------------------------------------------------------------
// Output stays proportionate to the input

TEST_CASE("a farm on one long line renders a window around each caret", "[compiler]") {
  std::string disks;
  for (int i = 0; i < 300; ++i) disks += "<disk target=\"7\" drivesize=\"1\"/>";
  std::string source = "<?xml version=\"1.0\"?><farm fmlversion=\"1.2\" name=\"x\"><tier id=\"1\" name=\"a\">"
                       "<role>w</role></tier><server-role id=\"w\" name=\"W\"><hw>h</hw>" +
                       disks + "</server-role></farm>";
  CompileResult result = compile_source(source, "long.fml");
  CHECK_FALSE(result.plan);
  CHECK(result.diagnostics.error_count() == 299);
  std::string rendered = result.rendered_diagnostics();
  CHECK(rendered.size() < 299 * 500);
  // the first collision, shown as a window into the 10 KB line
  std::string first = rendered.substr(0, rendered.find("\nlong.fml", 1) + 1);
  CHECK(first ==
        "long.fml:1:168: error: target 7 of server-role 'W' is already used by the disk at line 1 [FML030]\n"
        "  ...e></tier><server-role id=\"w\" name=\"W\"><hw>h</hw><disk target=\"7\" drivesize=\"1\"/><disk "
        "target=\"7\" drivesize=\"1\"/><disk target=\"7\" drivesize=\"1\"/><disk target=\"7\"...\n"
        "  " + std::string(83, ' ') + "^\n");
}

// Inputs shaped to make a careless pass quadratic. Each compiles in a few
// milliseconds to a few hundred; the bound only catches a blow-up.
TEST_CASE("pathological farms stay linear", "[compiler]") {
  auto repeat = [](std::string_view piece, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += piece;
    return out;
  };
  std::string many_attributes;
  for (int i = 0; i < 10000; ++i) many_attributes += fmt::format(" a{}=\"v\"", i);
  std::string dangling;
  for (int i = 0; i < 5000; ++i)
    dangling += fmt::format("<tier id=\"t{0}\" name=\"t{0}\"><role>rolx{0}</role></tier>\n", i);
  for (int i = 0; i < 5000; ++i)
    dangling += fmt::format("<server-role id=\"role{0}\" name=\"r{0}\"><hw>h</hw></server-role>\n", i);
  const std::vector<std::pair<const char*, std::string>> inputs = {
      {"nesting 100000 deep",
       "<farm fmlversion=\"1.2\">" + repeat("<tier id=\"1\" name=\"a\">", 100000) + "</farm>"},
      {"10000 unknown attributes on one tag", "<farm fmlversion=\"1.2\"" + many_attributes + "/>"},
      {"30000 target collisions on one line under a long role name",
       "<farm fmlversion=\"1.2\"><tier id=\"1\" name=\"a\"><role>w</role></tier><server-role id=\"w\" name=\"" +
           std::string(100000, 'W') + "\"><hw>h</hw>" + repeat("<disk target=\"7\" drivesize=\"1\"/>", 30000) +
           "</server-role></farm>"},
      {"5000 dangling references among 5000 roles", farm(dangling)},
      {"a 5 MB attribute value", farm("", "1.2", std::string(5'000'000, 'x'))},
      {"a 3 MB text of entity references", farm("<server-role id=\"w\" name=\"W\"><hw>" + repeat("a&amp;", 500000) +
                                                "</hw></server-role>")},
      {"100000 init-servers", farm("<tier id=\"1\" name=\"a\"><role>w</role><init-servers>10000</init-servers></tier>"
                                   "<server-role id=\"w\" name=\"W\"><hw>h</hw>" +
                                   repeat("<disk drivesize=\"1\" drivename=\"d\"/>", 1) + "</server-role>")},
  };
  for (const auto& [what, source] : inputs) {
    INFO(what);
    auto start = std::chrono::steady_clock::now();
    CompileResult result = compile_source(source, "big.fml");
    std::string rendered = result.rendered_diagnostics();
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 5.0);
    CHECK(rendered.size() < 50 * source.size() + 10000);  // a windowed line per error, at worst
  }
}

TEST_CASE("long names are cut short in messages", "[compiler]") {
  std::string name(300, 'n');
  std::string source = farm("  <tier id=\"1\" name=\"a\"><role>" + name + "</role></tier>\n");
  CompileResult result = compile_source(source, "n.fml");
  REQUIRE(result.diagnostics.items().size() == 1);
  CHECK(result.diagnostics.items().front().message ==
        "tier 'a' names role '" + std::string(64, 'n') + "...', but no <server-role> has that id");
}

// ---------------------------------------------------------------------------
// The farmctl binary

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs farmctl with `args` (already shell-quoted) in the directory `cwd`,
// capturing stdout and stderr.
Run farmctl(const std::string& args, const fs::path& cwd = fs::current_path()) {
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path();
  const fs::path out = dir / fmt::format("farmctl-test-{}-{}.out", ::getpid(), counter);
  const fs::path err = dir / fmt::format("farmctl-test-{}-{}.err", ::getpid(), counter++);
  std::string command =
      fmt::format("cd '{}' && '{}' {} >'{}' 2>'{}' </dev/null", cwd.string(), FARMCTL_BINARY, args, out.string(),
                  err.string());
  int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(out);
  run.err = read_file(err);
  fs::remove(out);
  fs::remove(err);
  return run;
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

TEST_CASE("farmctl validate: 0 and a summary for good farms, 1 and diagnostics on stderr for bad", "[compiler][cli]") {
  const fs::path web = kSourceDir / "examples" / "web-prod.fml";
  const fs::path solaris = kSourceDir / "examples" / "solaris-1.1.fml";
  Run good = farmctl("validate " + quoted(web) + " " + quoted(solaris));
  CHECK(good.exit_code == 0);
  CHECK(good.err.empty());
  CHECK(good.out == web.string() + ": valid: farm 'web-prod', 2 servers, 6 volumes, 8 exports\n" + solaris.string() +
                        ": valid: farm 'solaris-1.1', 1 servers, 1 volumes, 1 exports\n");

  Run quiet = farmctl("validate -q " + quoted(web));
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.out.empty());

  // the expected texts name each file by its base name: run in their directory
  Run bad = farmctl("validate fml010-bad-size.fml", kBadDir);
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err == read_file(kBadDir / "fml010-bad-size.expected"));

  Run mixed = farmctl("validate " + quoted(web) + " fml023-unknown-role.fml", kBadDir);
  CHECK(mixed.exit_code == 1);
  CHECK(mixed.out == web.string() + ": valid: farm 'web-prod', 2 servers, 6 volumes, 8 exports\n");
  CHECK(mixed.err == read_file(kBadDir / "fml023-unknown-role.expected"));
}

TEST_CASE("farmctl compile writes the golden JSON to stdout or to -o", "[compiler][cli]") {
  const fs::path web = kSourceDir / "examples" / "web-prod.fml";
  const std::string golden = read_file(kGoldenDir / "web-prod.json");

  Run to_stdout = farmctl("compile " + quoted(web));
  CHECK(to_stdout.exit_code == 0);
  CHECK(to_stdout.err.empty());
  CHECK(to_stdout.out == golden);

  const fs::path out = fs::temp_directory_path() / fmt::format("farmctl-test-{}.json", ::getpid());
  fs::remove(out);
  Run to_file = farmctl("compile -o " + quoted(out) + " " + quoted(web));
  CHECK(to_file.exit_code == 0);
  CHECK(to_file.out.empty());
  CHECK(to_file.err.empty());
  CHECK(read_file(out) == golden);
  fs::remove(out);

  Run bad = farmctl("compile --out " + quoted(out) + " fml041-counts-out-of-order.fml", kBadDir);
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK_FALSE(fs::exists(out));  // no plan, not even an empty file
  CHECK(bad.err == read_file(kBadDir / "fml041-counts-out-of-order.expected") +
                       "farmctl: fml041-counts-out-of-order.fml has errors; no plan written\n");

  Run unwritable = farmctl("compile -o /nonexistent-dir/plan.json " + quoted(web));
  CHECK(unwritable.exit_code == 1);
  CHECK(unwritable.err == "farmctl: cannot write /nonexistent-dir/plan.json\n");
}

TEST_CASE("farmctl: a file that does not exist is an error that says so", "[compiler][cli]") {
  Run validate = farmctl("validate /nonexistent/farm.fml");
  CHECK(validate.exit_code == 1);
  CHECK(validate.out.empty());
  CHECK(validate.err == "/nonexistent/farm.fml: error: cannot read the file: No such file or directory [FML090]\n");

  Run compile = farmctl("compile /nonexistent/farm.fml");
  CHECK(compile.exit_code == 1);
  CHECK(compile.out.empty());
  CHECK(compile.err ==
        "/nonexistent/farm.fml: error: cannot read the file: No such file or directory [FML090]\n"
        "farmctl: /nonexistent/farm.fml has errors; no plan written\n");

  Run directory = farmctl("validate " + quoted(kBadDir));
  CHECK(directory.exit_code == 1);
  CHECK(directory.err == kBadDir.string() + ": error: cannot read the file: it is a directory [FML090]\n");
}

TEST_CASE("farmctl: an external entity naming a real file leaks nothing of it", "[compiler][cli]") {
  SecretFile secret;
  const fs::path attack = fs::temp_directory_path() / fmt::format("farmctl-attack-{}.fml", ::getpid());
  write_file(attack, "<?xml version=\"1.0\"?>\n<!DOCTYPE farm [ <!ENTITY s SYSTEM \"file://" + secret.path.string() +
                         "\"> ]>\n<farm fmlversion=\"1.2\" name=\"&s;\"/>\n");
  for (const char* command : {"validate", "compile"}) {
    INFO(command);
    Run run = farmctl(std::string(command) + " " + quoted(attack));
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("[FML002]") != std::string::npos);
    CHECK(run.out.find(secret.marker) == std::string::npos);
    CHECK(run.err.find(secret.marker) == std::string::npos);
  }
  fs::remove(attack);
}

TEST_CASE("farmctl --help on every command and --version exit 0", "[compiler][cli]") {
  for (const char* args : {"--help", "validate --help", "compile --help", "-h"}) {
    INFO(args);
    Run help = farmctl(args);
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage") != std::string::npos);
  }
  Run version = farmctl("--version");
  CHECK(version.exit_code == 0);
  CHECK(version.out.starts_with("farmctl "));

  Run none = farmctl("");
  CHECK(none.exit_code != 0);
  Run unknown = farmctl("frobnicate");
  CHECK(unknown.exit_code != 0);
}

}  // namespace
}  // namespace farmctl::fml
