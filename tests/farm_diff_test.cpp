// farmctl diff, plan --summary and --format markdown (issue 10):
//  - a table of farm edits and the exact changes the offline diff must find,
//    one case per kind of change, renames as a remove plus an add;
//  - git revisions in a temporary repository, through the farmctl binary;
//  - Markdown golden files under tests/data/golden/, byte for byte;
//  - --detailed-exitcode, --json, and the plan summary of a few hundred servers.
//
// To refresh the golden files after an intended change of format, run the
// tests with FARMCTL_UPDATE_EXPECTED=1, then read the diff before committing.
#include "compiler/farm_diff.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/compiler.h"
#include "compiler/farm_diff_render.h"
#include "compiler/markdown.h"
#include "reconciler/plan_markdown.h"
#include "reconciler/plan_summary.h"

namespace farmctl {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = FARMCTL_SOURCE_DIR;
const fs::path kGoldenDir = kSourceDir / "tests" / "data" / "golden";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

void check_golden(const std::string& actual, const std::string& name) {
  const fs::path path = kGoldenDir / name;
  const char* update = std::getenv("FARMCTL_UPDATE_EXPECTED");
  if (update != nullptr && std::string_view(update) == "1") write_text(path, actual);
  INFO("golden file: " << path.string());
  REQUIRE(fs::exists(path));
  CHECK(actual == read_text(path));
}

plan::Plan compiled(const std::string& source, const std::string& name = "farm.fml") {
  fml::CompileResult result = fml::compile_source(source, name);
  INFO(result.rendered_diagnostics());
  REQUIRE(result.plan);
  return std::move(*result.plan);
}

// One line per change: '!' marks a destructive one; where it is declared.
std::string dump(const plan::FarmDiff& diff) {
  std::string out;
  for (const plan::DiffChange& c : diff.changes)
    out += fmt::format("{}{:>3} {}: {} ({}:{})\n", c.destructive ? "!" : " ", plan::symbol(c.kind), c.subject(),
                       c.reason(), c.in_old ? "old" : "new", c.line);
  return out;
}

// The farm every case edits. Line numbers matter: the global disk is on
// line 4, the tier on 6, the disks on 14 and 15, the shared disk on 16.
const std::string kBase = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="web">
  <farm-global-disks>
    <global-disk global-name="media" drivesize="10GB"/>
  </farm-global-disks>
  <tier id="1" name="web">
    <role>r1</role>
    <min-servers>0</min-servers>
    <max-servers>8</max-servers>
    <init-servers>2</init-servers>
  </tier>
  <server-role id="r1" name="web">
    <hw>cpu-x</hw>
    <disk target="0" drivesize="8GB"><diskimage type="system">solaris</diskimage><attribute name="backup-policy" value="nightly"/></disk>
    <disk target="2" drivename="/data" drivesize="2GB"><attribute name="raid-level" value="1"/></disk>
    <shared-disk global-name="media" target="1"/>
  </server-role>
</farm>
)";

// kBase with every `from` replaced by `to`, in order; each must occur.
std::string edited(const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = kBase;
  for (const auto& [from, to] : edits) {
    INFO("edit: " << from);
    REQUIRE(text.find(from) != std::string::npos);
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  }
  return text;
}

struct DiffCase {
  const char* name;
  std::vector<std::pair<std::string, std::string>> edits;
  const char* expected;
};

const std::vector<DiffCase> kDiffCases = {
    {"no change", {}, ""},
    {"a server added: its disks and the shared disk it will see",
     {{"<init-servers>2", "<init-servers>3"}},
     "   + server web-2: tier web grows from 2 to 3 servers; role web, hw cpu-x (new:6)\n"
     "   + volume web-2/t0: 8192 MB std, image solaris (new:14)\n"
     "   + volume web-2/t2: 2048 MB std, raid 1 (new:15)\n"
     "   + export global/media -> web-2: target 1 over scsi (new:16)\n"},
    {"a server removed: destructive, with its disks; its exports go with it",
     {{"<init-servers>2", "<init-servers>1"}},
     "!  - server web-1: tier web shrinks from 2 to 1 server (old:6)\n"
     "!  - volume web-1/t0: its server web-1 is removed (old:14)\n"
     "!  - volume web-1/t2: its server web-1 is removed (old:15)\n"},
    {"a volume grown: updated in place",
     {{R"(drivesize="10GB")", R"(drivesize="20GB")"}},
     "   ~ volume global/media: size 10240 MB -> 20480 MB (grows in place) (new:4)\n"},
    {"a volume shrunk: replaced",
     {{R"(drivesize="2GB")", R"(drivesize="1GB")"}},
     "!-/+ volume web-0/t2: size 2048 MB -> 1024 MB (a disk cannot shrink) (new:15)\n"
     "!-/+ volume web-1/t2: size 2048 MB -> 1024 MB (a disk cannot shrink) (new:15)\n"},
    {"a new image: replaced",
     {{">solaris<", ">debian<"}},
     "!-/+ volume web-0/t0: image solaris -> debian (new:14)\n"
     "!-/+ volume web-1/t0: image solaris -> debian (new:14)\n"},
    {"a new class: replaced",
     {{R"(drivename="/data" drivesize="2GB")", R"(drivename="/data" drivesize="2GB" drivetype="performance")"}},
     "!-/+ volume web-0/t2: class std -> performance (new:15)\n"
     "!-/+ volume web-1/t2: class std -> performance (new:15)\n"},
    {"a new raid level: replaced",
     {{R"(value="1")", R"(value="5")"}},
     "!-/+ volume web-0/t2: raid 1 -> 5 (new:15)\n"
     "!-/+ volume web-1/t2: raid 1 -> 5 (new:15)\n"},
    {"a raid level where there was none: replaced",
     {{R"(drivesize="10GB"/>)", R"(drivesize="10GB"><attribute name="raid-level" value="0+1"/></global-disk>)"}},
     "!-/+ volume global/media: raid none -> 0+1 (new:4)\n"},
    {"a raid level dropped: the disk keeps its layout",
     {{R"(<attribute name="raid-level" value="1"/>)", ""}},
     "   ~ volume web-0/t2: raid 1 -> unspecified (the disk keeps raid 1) (new:15)\n"
     "   ~ volume web-1/t2: raid 1 -> unspecified (the disk keeps raid 1) (new:15)\n"},
    {"backup policies changed",
     {{R"(value="nightly")", R"(value="level=0:weekly;retain=4")"}},
     "   ~ volume web-0/t0: backup level=0:nightly -> level=0:weekly;retain=4 (new:14)\n"
     "   ~ volume web-1/t0: backup level=0:nightly -> level=0:weekly;retain=4 (new:14)\n"},
    {"a backup policy added, one dropped",
     {{R"(value="nightly"/>)", R"(value="level=0:nightly"/><attribute name="backup-policy" value="level=1:hourly"/>)"},
      {R"(<attribute name="raid-level" value="1"/>)", R"(<attribute name="backup-policy" value="weekly"/>)"}},
     "   ~ volume web-0/t0: backup adds level=1:hourly (new:14)\n"
     "   ~ volume web-0/t2: raid 1 -> unspecified (the disk keeps raid 1); backup adds level=0:weekly (new:15)\n"
     "   ~ volume web-1/t0: backup adds level=1:hourly (new:14)\n"
     "   ~ volume web-1/t2: raid 1 -> unspecified (the disk keeps raid 1); backup adds level=0:weekly (new:15)\n"},
    {"an image dropped, a drivename changed: metadata only",
     {{R"(<diskimage type="system">solaris</diskimage>)", ""}, {"/data", "/srv"}},
     "   ~ volume web-0/t0: image solaris -> none (the disk keeps its data) (new:14)\n"
     "   ~ volume web-0/t2: drivename /data -> /srv (new:15)\n"
     "   ~ volume web-1/t0: image solaris -> none (the disk keeps its data) (new:14)\n"
     "   ~ volume web-1/t2: drivename /data -> /srv (new:15)\n"},
    {"an export moved to another target",
     {{R"(global-name="media" target="1")", R"(global-name="media" target="3")"}},
     "   ~ export global/media -> web-0: target 1 -> 3 (new:16)\n"
     "   ~ export global/media -> web-1: target 1 -> 3 (new:16)\n"},
    {"an export moved to another protocol",
     {{R"(global-name="media" target="1")", R"(global-name="media" target="1" drivetype="fc")"}},
     "   ~ export global/media -> web-0: protocol scsi -> fc (new:16)\n"
     "   ~ export global/media -> web-1: protocol scsi -> fc (new:16)\n"},
    {"a hardware class changed: placed servers keep their hosts",
     {{"<hw>cpu-x</hw>", "<hw>cpu-y</hw>"}},
     "   ~ server web-0: hw cpu-x -> cpu-y (a placed server keeps its host; only new ones get cpu-y) (new:6)\n"
     "   ~ server web-1: hw cpu-x -> cpu-y (a placed server keeps its host; only new ones get cpu-y) (new:6)\n"},
    {"a tier renamed: its servers removed and new ones added",
     {{R"(<tier id="1" name="web">)", R"(<tier id="1" name="app">)"}},
     "!  - server web-0: tier web renamed to app? a server is named after its tier, so a renamed tier's servers are "
     "removed and new ones added (old:6)\n"
     "!  - volume web-0/t0: its server web-0 is removed (old:14)\n"
     "!  - volume web-0/t2: its server web-0 is removed (old:15)\n"
     "!  - server web-1: tier web renamed to app? a server is named after its tier, so a renamed tier's servers are "
     "removed and new ones added (old:6)\n"
     "!  - volume web-1/t0: its server web-1 is removed (old:14)\n"
     "!  - volume web-1/t2: its server web-1 is removed (old:15)\n"
     "   + server app-0: tier app renamed from web? a server is named after its tier, so a renamed tier's servers are "
     "removed and new ones added; role web, hw cpu-x (new:6)\n"
     "   + volume app-0/t0: 8192 MB std, image solaris (new:14)\n"
     "   + volume app-0/t2: 2048 MB std, raid 1 (new:15)\n"
     "   + export global/media -> app-0: target 1 over scsi (new:16)\n"
     "   + server app-1: tier app renamed from web? a server is named after its tier, so a renamed tier's servers are "
     "removed and new ones added; role web, hw cpu-x (new:6)\n"
     "   + volume app-1/t0: 8192 MB std, image solaris (new:14)\n"
     "   + volume app-1/t2: 2048 MB std, raid 1 (new:15)\n"
     "   + export global/media -> app-1: target 1 over scsi (new:16)\n"},
    {"a global-name renamed: the disk destroyed and an empty one made",
     {{R"(global-name="media")", R"(global-name="video")"}},
     "!  - volume global/media: no longer in the farm file; renamed to global/video? a global disk is known by its "
     "global-name, so a renamed one is destroyed and an empty one made (old:4)\n"
     "   + volume global/video: 10240 MB std; a new, empty disk: the data of global/media is not moved (new:4)\n"
     "   + export global/video -> web-0: target 1 over scsi (new:16)\n"
     "   + export global/video -> web-1: target 1 over scsi (new:16)\n"},
    {"a private disk moved to another target: destroyed and made anew",
     {{R"(<disk target="2")", R"(<disk target="3")"}},
     "!  - volume web-0/t2: no longer in the farm file; moved to web-0/t3? a private disk is known by its target, so "
     "a moved one is destroyed and an empty one made (old:15)\n"
     "!  - volume web-1/t2: no longer in the farm file; moved to web-1/t3? a private disk is known by its target, so "
     "a moved one is destroyed and an empty one made (old:15)\n"
     "   + volume web-0/t3: 2048 MB std, raid 1; a new, empty disk: the data of web-0/t2 is not moved (new:15)\n"
     "   + volume web-1/t3: 2048 MB std, raid 1; a new, empty disk: the data of web-1/t2 is not moved (new:15)\n"},
    {"a disk without a target pushed to another by a change elsewhere in its role",
     {{R"(<disk target="2" drivename)", R"(<disk drivename)"},
      {R"(global-name="media" target="1")", R"(global-name="media" target="3")"}},
     "!  - volume web-0/t2: no longer in the farm file; moved to web-0/t1? a private disk is known by its target, so "
     "a moved one is destroyed and an empty one made (old:15)\n"
     "!  - volume web-1/t2: no longer in the farm file; moved to web-1/t1? a private disk is known by its target, so "
     "a moved one is destroyed and an empty one made (old:15)\n"
     "   + volume web-0/t1: 2048 MB std, raid 1; a new, empty disk: the data of web-0/t2 is not moved (new:15)\n"
     "   ~ export global/media -> web-0: target 1 -> 3 (new:16)\n"
     "   + volume web-1/t1: 2048 MB std, raid 1; a new, empty disk: the data of web-1/t2 is not moved (new:15)\n"
     "   ~ export global/media -> web-1: target 1 -> 3 (new:16)\n"},
    {"a shared disk no longer shown to a role: the disk stays",
     {{R"(<shared-disk global-name="media" target="1"/>)", ""}},
     "   - export global/media -> web-0: target 1 over scsi no longer shown; the disk stays (old:16)\n"
     "   - export global/media -> web-1: target 1 over scsi no longer shown; the disk stays (old:16)\n"},
    {"the farm renamed: another farm to farmctl",
     {{R"(name="web">
  <farm-global)", R"(name="shop">
  <farm-global)"}},
     "   ~ farm web: name web -> shop; farmctl sees another farm: planning NEW makes all of shop anew and leaves web's "
     "storage as it is (new:0)\n"},
    {"destructive changes first, whatever the order of the file",
     {{R"(drivesize="10GB")", R"(drivesize="20GB")"},
      {"<init-servers>2", "<init-servers>1"},
      {">solaris<", ">debian<"}},
     "!-/+ volume web-0/t0: image solaris -> debian (new:14)\n"
     "!  - server web-1: tier web shrinks from 2 to 1 server (old:6)\n"
     "!  - volume web-1/t0: its server web-1 is removed (old:14)\n"
     "!  - volume web-1/t2: its server web-1 is removed (old:15)\n"
     "   ~ volume global/media: size 10240 MB -> 20480 MB (grows in place) (new:4)\n"},
};

TEST_CASE("farm diff: each kind of change, found from the two files alone", "[diff]") {
  const plan::Plan base = compiled(kBase);
  for (const DiffCase& c : kDiffCases) {
    SECTION(c.name) {
      plan::Plan changed = compiled(edited(c.edits));
      plan::FarmDiff diff = plan::diff_plans(base, changed);
      CHECK(dump(diff) == c.expected);
      CHECK(diff.empty() == (std::string_view(c.expected).empty()));
      // The same inputs, the same diff.
      CHECK(dump(plan::diff_plans(base, changed)) == dump(diff));
    }
  }
}

TEST_CASE("farm diff: counts and the text form", "[diff]") {
  plan::Plan old_plan = compiled(kBase);
  plan::Plan new_plan = compiled(edited({{R"(drivesize="10GB")", R"(drivesize="20GB")"},
                                         {"<init-servers>2", "<init-servers>1"},
                                         {">solaris<", ">debian<"}}));
  plan::FarmDiff diff = plan::diff_plans(old_plan, new_plan);
  auto n = diff.counts();
  CHECK(n.create == 0);
  CHECK(n.update == 1);
  CHECK(n.replace == 1);
  CHECK(n.destroy == 3);
  CHECK(diff.destructive_count() == 4);
  CHECK(plan::render_diff_text(diff, {"a.fml", "b.fml"}, false) ==
        "Farm web: a.fml -> b.fml\n"
        "\n"
        "Destructive changes (data is lost or a server goes):\n"
        "  -/+ volume web-0/t0: image solaris -> debian (b.fml:14)\n"
        "    - server web-1: tier web shrinks from 2 to 1 server (a.fml:6)\n"
        "    - volume web-1/t0: its server web-1 is removed (a.fml:14)\n"
        "    - volume web-1/t2: its server web-1 is removed (a.fml:15)\n"
        "\n"
        "Other changes:\n"
        "    ~ volume global/media: size 10240 MB -> 20480 MB (grows in place) (b.fml:4)\n"
        "\n"
        "Diff: 0 to create, 1 to update, 1 to replace, 3 to destroy.\n");
  CHECK(plan::render_diff_text(plan::diff_plans(old_plan, old_plan), {"a.fml", "b.fml"}, false) ==
        "No changes: a.fml and b.fml ask for the same farm web.\n");
}

TEST_CASE("markdown: names and text are escaped for table cells", "[diff]") {
  CHECK(markdown::text("a|b *c* _d_ [e] <f> & `g` \\ ~h~") ==
        "a\\|b \\*c\\* \\_d\\_ \\[e\\] &lt;f> &amp; \\`g\\` \\\\ \\~h\\~");
  CHECK(markdown::text("two\nlines") == "two lines");
  CHECK(markdown::code("web-0/t0") == "`web-0/t0`");
  CHECK(markdown::code("a`b") == "``a`b``");
  CHECK(markdown::code("`x") == "`` `x ``");
  CHECK(markdown::code("p|q") == "`p\\|q`");
}

TEST_CASE("diff --format markdown: golden file, and within a comment's size however large", "[diff]") {
  const fs::path old_path = kSourceDir / "examples" / "web-prod.fml";
  const fs::path new_path = kSourceDir / "tests" / "data" / "diff" / "web-prod-new.fml";
  plan::Plan old_plan = compiled(read_text(old_path), "web-prod.fml");
  plan::Plan new_plan = compiled(read_text(new_path), "web-prod-new.fml");
  plan::FarmDiff diff = plan::diff_plans(old_plan, new_plan);
  check_golden(plan::render_diff_markdown(diff, {"examples/web-prod.fml", "tests/data/diff/web-prod-new.fml"}),
               "diff-web-prod.md");

  // 299 servers more and a new image: the destructive changes stay, the rest is cut and counted.
  plan::Plan three = compiled(edited({{"<init-servers>2", "<init-servers>3"}}));
  plan::Plan big = compiled(edited(
      {{"<max-servers>8", "<max-servers>400"}, {"<init-servers>2", "<init-servers>302"}, {">solaris<", ">debian<"}}));
  std::string md = plan::render_diff_markdown(plan::diff_plans(three, big), {"old.fml", "new.fml"});
  CHECK(md.size() < markdown::kBudget);
  std::size_t replaced = 0;
  const std::string replace_row = "| `-/+` replace |";
  for (std::size_t at = md.find(replace_row); at != std::string::npos; at = md.find(replace_row, at + 1)) ++replaced;
  CHECK(replaced == 3);
  CHECK(md.find("more changes not shown here") != std::string::npos);
  CHECK(md.rfind("</details>\n") == md.size() - 11);
}

// ---- plan --summary and plan --format markdown, on a plan made by hand ----------------

reconcile::ReconcilePlan sample_plan() {
  using reconcile::Action;
  using reconcile::Change;
  using reconcile::ChangeKind;
  using runtime::Op;
  reconcile::ReconcilePlan p;
  p.farm = "web";
  auto action = [&](Op op, std::string volume, std::string server, std::string detail) {
    Action a;
    a.id = static_cast<int>(p.actions.size()) + 1;
    a.op = op;
    a.volume = std::move(volume);
    a.server = std::move(server);
    a.detail = std::move(detail);
    p.actions.push_back(a);
    return a.id;
  };
  int g = action(Op::allocate, "global/media", "", "sym1:0A1 (10240 MB)");
  p.changes.push_back({ChangeKind::create, "volume global/media", "", "sym1:0A1 (10240 MB)", {g}});
  int u1 = action(Op::unmap, "web-1/t2", "web-1", "gw1: h02 t2");
  int u2 = action(Op::unbind, "web-1/t2", "web-1", "sym1:0A4 from gw1");
  int s = action(Op::scrub, "web-1/t2", "", "sym1:0A4");
  int d = action(Op::deallocate, "web-1/t2", "", "sym1:0A4");
  int a = action(Op::allocate, "web-1/t2", "", "sym1:f1-1 (1024 MB from pool p0)");
  p.changes.push_back({ChangeKind::replace, "volume web-1/t2", "web-1",
                       "size 2048 MB -> 1024 MB (a disk cannot shrink); new: sym1:f1-1 (1024 MB from pool p0)",
                       {u1, u2, s, d, a}});
  int b = action(Op::bind, "web-1/t2", "web-1", "sym1:f1-1 to gw1");
  int m = action(Op::map, "web-1/t2", "web-1", "gw1: h02 t2");
  p.changes.push_back({ChangeKind::update, "export web-1/t2 -> web-1 (target 2)", "web-1", "remade after replace",
                       {b, m}});
  int gr = action(Op::grow, "web-0/t0", "", "sym1:f2-1 to 16384 MB");
  p.changes.push_back({ChangeKind::update, "volume web-0/t0", "web-0", "size 8192 MB -> 16384 MB (grows in place)",
                       {gr}});
  int um = action(Op::unmap, "global/media", "web-2", "gw1: h03 t1");
  p.changes.push_back({ChangeKind::destroy, "export global/media -> web-2 (target 1)", "web-2", "", {um}});
  p.changes.push_back({ChangeKind::destroy, "server web-2", "web-2", "host h03 returns to idle", {}});
  p.released_servers.push_back("web-2");
  return p;
}

TEST_CASE("plan --summary: one line per server, then the totals", "[diff]") {
  CHECK(reconcile::render_plan_summary(sample_plan()) ==
        "farmctl will change farm web: device actions per server\n"
        "  global disks and fabric  allocate 1\n"
        "  server web-1             allocate 1, bind 1, map 1, unmap 1, unbind 1, scrub 1, deallocate 1"
        "  [1 to replace]\n"
        "  server web-0             grow 1\n"
        "  server web-2             unmap 1  [2 to destroy]\n"
        "  total                    allocate 2, grow 1, bind 1, map 1, unmap 2, unbind 1, scrub 1, deallocate 1\n"
        "Plan: 2 to create, 2 to update, 3 to destroy (10 device actions).\n");
  reconcile::ReconcilePlan empty;
  empty.farm = "web";
  CHECK(reconcile::render_plan_summary(empty) == "No changes. Farm web matches its farm file and the devices.\n");
}

TEST_CASE("plan --format markdown: golden file", "[diff]") {
  check_golden(reconcile::render_plan_markdown(sample_plan()), "plan-web.md");
}

// ---- the farmctl binary ---------------------------------------------------------------

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `argv` (no shell; argv[0] searched on PATH) in the directory `cwd`,
// with `env` ("NAME=VALUE") added to the environment.
Run run_command(std::vector<std::string> argv, const fs::path& cwd, const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const fs::path out = fs::temp_directory_path() / fmt::format("farmctl-diff-{}-{}.out", ::getpid(), counter);
  const fs::path err = fs::temp_directory_path() / fmt::format("farmctl-diff-{}-{}.err", ::getpid(), counter++);
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    for (const std::string& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> cargs;
    for (std::string& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execvp(cargs[0], cargs.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(out);
  run.err = read_text(err);
  fs::remove(out);
  fs::remove(err);
  return run;
}

Run farmctl(const std::vector<std::string>& args, const fs::path& cwd, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{FARMCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(std::move(argv), cwd, env);
}

// Runs git in `dir`; the test fails if git does.
void git(const fs::path& dir, const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null < 0 || ::chdir(dir.c_str()) != 0) ::_exit(126);
    ::dup2(null, 1);
    std::vector<std::string> argv{"git", "-c", "user.name=farmctl test", "-c", "user.email=test@example.invalid",
                                  "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargs;
    for (std::string& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execvp("git", cargs.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO("git " << args.front());
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

// A temporary directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "farmctl-diff-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// kBase without its farm name, so the name comes from the file's stem.
std::string unnamed(std::string text) {
  auto at = text.find(R"( name="web">)");
  text.erase(at, std::string_view(R"( name="web")").size());
  return text;
}

TEST_CASE("farmctl diff git:REV:PATH: two revisions of a temporary repository", "[diff]") {
  TempDir repo;
  git(repo.path, {"init", "-q"});
  fs::create_directories(repo.path / "farms");
  write_text(repo.path / "farms" / "farm.fml", unnamed(kBase));
  git(repo.path, {"add", "farms/farm.fml"});
  git(repo.path, {"commit", "-q", "-m", "first"});
  write_text(repo.path / "farms" / "farm.fml", unnamed(edited({{"<init-servers>2", "<init-servers>1"}})));
  git(repo.path, {"commit", "-q", "-a", "-m", "second"});

  SECTION("two revisions: the same diff as from the files, named as given") {
    Run run = farmctl({"diff", "git:HEAD~1:farms/farm.fml", "git:HEAD:farms/farm.fml"}, repo.path);
    INFO(run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    CHECK(run.out ==
          "Farm farm: git:HEAD~1:farms/farm.fml -> git:HEAD:farms/farm.fml\n"
          "\n"
          "Destructive changes (data is lost or a server goes):\n"
          "    - server web-1: tier web shrinks from 2 to 1 server (git:HEAD~1:farms/farm.fml:6)\n"
          "    - volume web-1/t0: its server web-1 is removed (git:HEAD~1:farms/farm.fml:14)\n"
          "    - volume web-1/t2: its server web-1 is removed (git:HEAD~1:farms/farm.fml:15)\n"
          "\n"
          "Diff: 0 to create, 0 to update, 0 to replace, 3 to destroy.\n");
  }
  SECTION("a revision against the working tree, from a subdirectory with ./PATH; --detailed-exitcode") {
    Run run = farmctl({"diff", "git:HEAD~1:./farm.fml", "farm.fml", "--detailed-exitcode"}, repo.path / "farms");
    INFO(run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find("    - server web-1: tier web shrinks from 2 to 1 server (git:HEAD~1:./farm.fml:6)\n") !=
          std::string::npos);
    CHECK(run.out.find("~ farm") == std::string::npos);  // the same default name on both sides
    Run same = farmctl({"diff", "git:HEAD:./farm.fml", "farm.fml", "--detailed-exitcode"}, repo.path / "farms");
    CHECK(same.exit_code == 0);
    CHECK(same.out == "No changes: git:HEAD:./farm.fml and farm.fml ask for the same farm farm.\n");
  }
  SECTION("an unknown revision or path: git's reason and exit 1") {
    Run run = farmctl({"diff", "git:nosuchrev:farms/farm.fml", "farms/farm.fml", "--detailed-exitcode"}, repo.path);
    CHECK(run.exit_code == 1);
    CHECK(run.out.empty());
    CHECK(run.err.rfind("farmctl: error: cannot read git:nosuchrev:farms/farm.fml: git show nosuchrev:farms/farm.fml "
                        "failed: fatal: ",
                        0) == 0);
    Run bad = farmctl({"diff", "git:--output=x:farm.fml", "farms/farm.fml"}, repo.path);
    CHECK(bad.exit_code == 1);
    CHECK(bad.err == "farmctl: error: bad source 'git:--output=x:farm.fml': write git:REV:PATH, e.g. "
                     "git:main:farms/web.fml\n");
    CHECK(!fs::exists(repo.path / "x"));
  }
  SECTION("a revision that does not compile: its diagnostics under the git name, exit 1") {
    write_text(repo.path / "farms" / "farm.fml", unnamed(edited({{R"(drivesize="2GB")", R"(drivesize="2XB")"}})));
    git(repo.path, {"commit", "-q", "-a", "-m", "broken"});
    Run run = farmctl({"diff", "git:HEAD~1:farms/farm.fml", "git:HEAD:farms/farm.fml", "--detailed-exitcode"},
                      repo.path);
    CHECK(run.exit_code == 1);
    CHECK(run.out.empty());
    CHECK(run.err.rfind("git:HEAD:farms/farm.fml:15:", 0) == 0);
    CHECK(run.err.find("farmctl: error: git:HEAD:farms/farm.fml has errors; nothing was compared\n") !=
          std::string::npos);
  }
}

TEST_CASE("farmctl diff: exit codes, --json and --format markdown through the binary", "[diff]") {
  TempDir dir;
  write_text(dir.path / "old.fml", kBase);
  write_text(dir.path / "new.fml", edited({{">solaris<", ">debian<"}}));
  write_text(dir.path / "bad.fml", "<farm");

  CHECK(farmctl({"diff", "old.fml", "old.fml", "--detailed-exitcode"}, dir.path).exit_code == 0);
  CHECK(farmctl({"diff", "old.fml", "new.fml", "--detailed-exitcode"}, dir.path).exit_code == 2);
  CHECK(farmctl({"diff", "old.fml", "new.fml"}, dir.path).exit_code == 0);
  Run bad = farmctl({"diff", "old.fml", "bad.fml", "--detailed-exitcode"}, dir.path);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.rfind("bad.fml:", 0) == 0);
  CHECK(farmctl({"diff", "old.fml", "missing.fml", "--detailed-exitcode"}, dir.path).exit_code == 1);
  CHECK(farmctl({"diff", "old.fml", "new.fml", "--json", "--format", "markdown"}, dir.path).exit_code != 0);

  // /dev/null: a farm file that is new, or deleted.
  Run added = farmctl({"diff", "/dev/null", "old.fml", "--detailed-exitcode"}, dir.path);
  CHECK(added.exit_code == 2);
  CHECK(added.out.rfind("Farm web: /dev/null -> old.fml\n\nOther changes:\n    + volume global/media: ", 0) == 0);
  CHECK(added.out.find("Diff: 9 to create, 0 to update, 0 to replace, 0 to destroy.\n") != std::string::npos);
  Run deleted = farmctl({"diff", "old.fml", "/dev/null", "--json"}, dir.path);
  CHECK(deleted.exit_code == 0);
  CHECK(nlohmann::json::parse(deleted.out)["summary"]["destructive"] == 7);
  CHECK(farmctl({"diff", "/dev/null", "/dev/null"}, dir.path).err ==
        "farmctl: error: at most one of OLD and NEW may be /dev/null\n");

  Run json = farmctl({"diff", "old.fml", "new.fml", "--json"}, dir.path);
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["format_version"] == 1);
  CHECK(j["summary"]["replace"] == 2);
  CHECK(j["summary"]["destructive"] == 2);
  CHECK(j["changes"][0]["kind"] == "replace");
  CHECK(j["changes"][0]["id"] == "web-0/t0");
  CHECK(j["changes"][0]["source"] == "new.fml");
  CHECK(j["changes"][0]["line"] == 14);

  Run md = farmctl({"diff", "examples/web-prod.fml", "tests/data/diff/web-prod-new.fml", "--format", "markdown"},
                   kSourceDir);
  CHECK(md.exit_code == 0);
  CHECK(md.out == read_text(kGoldenDir / "diff-web-prod.md"));
}

// A wiring map of `hosts` hosts behind one gateway and one big pool.
std::string big_wiring(int hosts) {
  std::string text = R"(<?xml version="1.0"?>
<wiring-map>
  <array name="a1" driver="sim" model="Symmetrix" serial="1" protocols="fc">
    <port id="FA-1" wwn="50:06:04:8a:cc:c8:3b:00" san="f" type="front-end"/>
    <pool name="p" size="100TB"/>
  </array>
  <gateway name="gw1" driver="sim" model="Pathlight" san="f"/>
  <fabric name="f" driver="sim"/>
)";
  for (int i = 0; i < hosts; ++i) text += fmt::format("  <host name=\"h{:03}\" hw=\"cpu-x\" gateway=\"gw1\"/>\n", i);
  return text + "</wiring-map>\n";
}

TEST_CASE("farmctl plan --summary: a plan of 300 servers in 304 lines", "[diff]") {
  TempDir dir;
  write_text(dir.path / "wiring.xml", big_wiring(300));
  write_text(dir.path / "big.fml", R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="big">
  <farm-global-disks><global-disk global-name="shared" drivesize="10GB"/></farm-global-disks>
  <tier id="1" name="web"><role>r</role>
    <min-servers>1</min-servers><max-servers>300</max-servers><init-servers>300</init-servers>
  </tier>
  <server-role id="r" name="web"><hw>cpu-x</hw>
    <disk target="0" drivesize="1GB"/>
    <shared-disk global-name="shared" target="1"/>
  </server-role>
</farm>
)");
  std::vector<std::string> env{"FARMCTL_DB=" + (dir.path / "farm.db").string()};
  Run import = farmctl({"inventory", "import", "wiring.xml"}, dir.path, env);
  INFO(import.err);
  REQUIRE(import.exit_code == 0);

  Run run = farmctl({"plan", "big.fml", "--summary", "--detailed-exitcode"}, dir.path, env);
  INFO(run.err);
  CHECK(run.exit_code == 2);
  std::vector<std::string> lines;
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 300 + 4);  // a heading, global disks, 300 servers, the totals, the plan line
  CHECK(lines[0] == "farmctl will change farm big: device actions per server");
  CHECK(lines[1] == "  global disks and fabric  allocate 1");
  CHECK(lines[3] == "  server web-1             allocate 1, bind 1, map 2");
  CHECK(lines[302] == "  total                    allocate 301, bind 301, map 600");
  CHECK(lines[303].rfind("Plan: ", 0) == 0);

  Run md = farmctl({"plan", "big.fml", "--format", "markdown"}, dir.path, env);
  CHECK(md.exit_code == 0);
  CHECK(md.out.size() < markdown::kBudget);
  CHECK(md.out.find("<details><summary>Device actions per server (1202 actions)</summary>") != std::string::npos);
  CHECK(md.out.find("| server `web-299` | 1 | 1 | 2 |\n") != std::string::npos);
  CHECK(md.out.find("more changes not shown here: run `farmctl plan` for all.") != std::string::npos);
  CHECK(farmctl({"plan", "big.fml", "--summary", "--json"}, dir.path, env).exit_code != 0);
}

// The CI job of docs/review.md, as printed there, in a dry run (no token):
// the page's example must keep working.
TEST_CASE("docs/review.md: the CI job comments a pull request's farm changes", "[diff]") {
  if (run_command({"jq", "--version"}, fs::current_path()).exit_code != 0) {
    WARN("jq is not installed: the CI job of docs/review.md is not run");
    return;
  }
  std::string page = read_text(kSourceDir / "docs" / "review.md");
  auto begin = page.find("```sh\n");
  REQUIRE(begin != std::string::npos);
  begin += 6;
  std::string script = page.substr(begin, page.find("```\n", begin) - begin);

  TempDir repo;
  write_text(repo.path / "farm-review.sh", script);
  git(repo.path, {"init", "-q"});
  fs::create_directories(repo.path / "farms");
  write_text(repo.path / "farms" / "web-prod.fml", read_text(kSourceDir / "examples" / "web-prod.fml"));
  write_text(repo.path / "farms" / "db-cluster.fml", read_text(kSourceDir / "examples" / "db-cluster.fml"));
  git(repo.path, {"add", "farms"});
  git(repo.path, {"commit", "-q", "-m", "base"});
  git(repo.path, {"checkout", "-q", "-b", "change"});
  write_text(repo.path / "farms" / "web-prod.fml",
             read_text(kSourceDir / "tests" / "data" / "diff" / "web-prod-new.fml"));
  git(repo.path, {"commit", "-q", "-a", "-m", "change"});

  const std::string path = fs::path(FARMCTL_BINARY).parent_path().string() + ":" + std::getenv("PATH");
  std::vector<std::string> env{"PATH=" + path, "BASE_REF=main", "FARMCTL_DB=", "GITHUB_TOKEN="};
  Run run = run_command({"sh", "farm-review.sh"}, repo.path, env);
  INFO(run.err);
  CHECK(run.exit_code == 0);
  std::string expected = "<!-- farmctl-review -->\n\n" +
                         read_text(kGoldenDir / "diff-web-prod.md") +
                         "\n> **3 destructive change(s).** Data will be lost: merge only if that is intended.\n";
  for (auto [from, to] : {std::pair{"examples/web-prod.fml", "git:main:farms/web-prod.fml"},
                          std::pair{"tests/data/diff/web-prod-new.fml", "farms/web-prod.fml"}})
    for (auto at = expected.find(from); at != std::string::npos; at = expected.find(from, at + 1))
      expected.replace(at, std::string_view(from).size(), to);
  CHECK(run.out == expected);
}

}  // namespace
}  // namespace farmctl
