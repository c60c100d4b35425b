// Backups on a real iSCSI target ([backup][tgt]): data written through the
// initiator, copied (tgt: the backing file, reflink or sparse copy, with the
// target quiesced), overwritten, restored in place, read back through the
// initiator. A private tgtd per test (tgtd_fixture.h); nothing is skipped.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "tests/iscsi_initiator.h"
#include "tests/tgtd_fixture.h"

namespace farmctl::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrefix = "iqn.2026-11.org.example:tgt1";

std::string run_ok(const TgtdFixture& t, const std::string& args) {
  ToolRun run = run_tool(fmt::format("FARMCTL_DB='{}' '{}' {}", t.inventory(), FARMCTL_BINARY, args));
  INFO("farmctl " << args << "\n" << run.output);
  REQUIRE(run.status == 0);
  return run.output;
}

std::string write_file(const TgtdFixture& t, const std::string& name, const std::string& text) {
  fs::path path = t.dir() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return "'" + path.string() + "'";
}

}  // namespace

TEST_CASE("tgt: written, copied, overwritten, restored and read back through the initiator", "[backup][tgt]") {
  TgtdFixture tgtd;
  std::string map = fmt::format(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="tgt1" driver="tgt" protocols="iscsi" {}>
    <port id="iscsi0" iqn="{}"/>
    <pool name="p0" size="256MB"/>
  </array>
  <host name="b1" hw="cpu-b"><initiator iqn="iqn.2026-11.org.example:b1"/></host>
</wiring-map>
)",
                                tgtd.array_attributes(), kPrefix);
  run_ok(tgtd, "inventory import " + write_file(tgtd, "wiring.xml", map));
  std::string farm = write_file(tgtd, "bk.fml", R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="bk">
  <tier id="db" name="db"><role>db</role><init-servers>1</init-servers></tier>
  <server-role id="db" name="db">
    <hw>cpu-b</hw>
    <disk target="0" drivetype="iscsi" drivesize="16MB">
      <attribute name="backup-policy" value="level=0:nightly;retain=7"/>
    </disk>
  </server-role>
</farm>
)");
  run_ok(tgtd, "apply --auto-approve " + farm);
  const std::string initiator = "iqn.2026-11.org.example:b1";
  const std::string target = std::string(kPrefix) + ":b1";
  const std::vector<std::uint64_t> lbas{0, 2048, 32760};  // start, middle, the last 8 blocks of 16 MB

  {
    IscsiSession host(tgtd.portal(), initiator, target, 1);
    for (std::uint64_t lba : lbas) REQUIRE(host.write(lba, pattern(8, 0xA1)));
    // The copy is taken while the host stays logged in: the target is only
    // quiesced for the copy, then it serves again.
    run_ok(tgtd, "backup now bk db-0/t0");
    for (std::uint64_t lba : lbas) REQUIRE(host.write(lba, pattern(8, 0xB2)));
    for (std::uint64_t lba : lbas) REQUIRE(host.read(lba, 8) == pattern(8, 0xB2));
  }
  std::string list = run_ok(tgtd, "backup list bk");
  CHECK(list.find("db-0/t0") != std::string::npos);
  run_ok(tgtd, "restore bk db-0/t0 --from 1 --auto-approve");
  {
    IscsiSession host(tgtd.portal(), initiator, target, 1);
    for (std::uint64_t lba : lbas) CHECK(host.read(lba, 8) == pattern(8, 0xA1));
  }
  // Into a new volume: the host sees the copy at the first free target
  // (FML target 1: LUN 2) beside its disk, which keeps what it holds.
  {
    IscsiSession host(tgtd.portal(), initiator, target, 1);
    for (std::uint64_t lba : lbas) REQUIRE(host.write(lba, pattern(8, 0xC3)));
  }
  std::string to_new = run_ok(tgtd, "restore bk db-0/t0 --from 1 --to-new");
  CHECK(to_new.find("server db-0 sees it at target 1") != std::string::npos);
  {
    IscsiSession copy(tgtd.portal(), initiator, target, 2);
    for (std::uint64_t lba : lbas) CHECK(copy.read(lba, 8) == pattern(8, 0xA1));
    IscsiSession disk(tgtd.portal(), initiator, target, 1);
    for (std::uint64_t lba : lbas) CHECK(disk.read(lba, 8) == pattern(8, 0xC3));
  }
  run_ok(tgtd, "inventory check");
  run_ok(tgtd, "backup release bk 1");
  CHECK_THROWS(IscsiSession(tgtd.portal(), initiator, target, 2));
  // Destroying the farm scrubs the copy and deletes its file.
  run_ok(tgtd, "destroy --auto-approve " + farm);
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(tgtd.data_dir() / "pools")) files += e.is_regular_file();
  CHECK(files == 0);
}

}  // namespace farmctl::testing
