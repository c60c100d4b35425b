// The tgt driver's parts that need no daemon: reading tgtd's show, the naming
// scheme both ways, and the backing files (sparse, exact sizes, scrub).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/tgt_backing_store.h"
#include "runtime/tgt_naming.h"
#include "runtime/tgt_show_parser.h"
#include "tests/temp_dir.h"

namespace farmctl::runtime {
namespace {

namespace fs = std::filesystem;

// What tgtd 1.0.85 printed (trimmed of the LUN lines the parser skips):
// a session, two disk LUNs, an account, an address rule beside a name rule.
constexpr const char* kShow = R"(Target 1: iqn.2026-11.org.example:tgt1:web1
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 3
            Initiator: iqn.2026-11.org.example:web1 alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            Size: 0 MB, Block size: 1
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: IET     00010001
            Size: 34 MB, Block size: 512
            Backing store type: rdwr
            Backing store path: /data/pools/p0/vol-a
            Backing store flags: 
        LUN: 3
            Type: disk
            Backing store type: rdwr
            Backing store path: /data/volumes/shared
            Backing store flags: 
    Account information:
        u1
    ACL information:
        ALL
        iqn.2026-11.org.example:web1
Target 7: iqn.2001-04.com.elsewhere:handmade
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            Backing store path: None
        LUN: 2
            Type: disk
            Backing store path: /data/volumes/shared
    Account information:
    ACL information:
        iqn.2026-11.org.example:db1
)";

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uint64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

TEST_CASE("tgt show: targets, sessions, LUNs and both kinds of ACL rule", "[tgt]") {
  TgtShow show = parse_tgt_show(kShow);
  REQUIRE(show.targets.size() == 2);
  const TgtTarget& t = show.targets[0];
  CHECK(t.tid == 1);
  CHECK(t.name == "iqn.2026-11.org.example:tgt1:web1");
  REQUIRE(t.sessions.size() == 1);
  CHECK(t.sessions[0].sid == 3);
  CHECK(t.sessions[0].initiator == "iqn.2026-11.org.example:web1");
  CHECK(t.sessions[0].connections == std::vector<std::uint32_t>{0});
  REQUIRE(t.luns.size() == 3);
  CHECK(t.luns[0].type == "controller");
  CHECK(t.luns[0].backing_path.empty());
  CHECK(t.luns[1].lun == 1);
  CHECK(t.luns[1].backing_path == "/data/pools/p0/vol-a");
  CHECK(t.lun(3)->backing_path == "/data/volumes/shared");
  CHECK(t.accounts == std::vector<std::string>{"u1"});
  CHECK(t.acl_addresses == std::vector<std::string>{"ALL"});
  CHECK(t.acl_names == std::vector<std::string>{"iqn.2026-11.org.example:web1"});
  CHECK(t.has_disks());
  CHECK(show.targets[1].sessions.empty());
  CHECK(show.next_free_tid() == 8);
  CHECK(show.find("iqn.2001-04.com.elsewhere:handmade")->tid == 7);

  CHECK(parse_tgt_show("").targets.empty());
  CHECK_THROWS_WITH(parse_tgt_show("Target x: foo\n"),
                    "tgtd's show, line 1: expected 'Target <tid>: <name>', got 'Target x: foo'");
}

TEST_CASE("tgt show: one target's connections, a session with two of them", "[tgt]") {
  auto sessions = parse_tgt_connections(
      "Session: 3\n    Connection: 0\n        Initiator: iqn.2026-11.org.example:web1\n        IP Address: 127.0.0.1\n"
      "Session: 3\n    Connection: 1\n        Initiator: iqn.2026-11.org.example:web1\n        IP Address: 127.0.0.1\n"
      "Session: 5\n    Connection: 0\n        Initiator: iqn.2026-11.org.example:db1\n        IP Address: 127.0.0.1\n");
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].sid == 3);
  CHECK(sessions[0].initiator == "iqn.2026-11.org.example:web1");
  CHECK(sessions[0].connections == std::vector<std::uint32_t>{0, 1});
  CHECK(sessions[1].sid == 5);
  CHECK(sessions[1].initiator == "iqn.2026-11.org.example:db1");
  CHECK(parse_tgt_connections("").empty());
}

TEST_CASE("tgt naming: one target per host, LUN = FML target + 1, and back", "[tgt]") {
  std::map<std::string, std::string> hosts{{"iqn.2026-11.org.example:web1", "web1"},
                                           {"iqn.2026-11.org.example:big", "Big_Host"}};
  TgtNaming naming("iqn.2026-11.org.example:tgt1", hosts);
  CHECK(naming.target_of_host("web1") == "iqn.2026-11.org.example:tgt1:web1");
  CHECK(naming.target_of_host("Big_Host") == "iqn.2026-11.org.example:tgt1:big-host");
  CHECK(naming.host_of_target("iqn.2026-11.org.example:tgt1:big-host") == "Big_Host");
  CHECK(naming.host_of_target("iqn.2026-11.org.example:tgt1:someone") == "someone");
  CHECK(naming.host_of_target("iqn.2026-11.org.example:tgt1") == std::nullopt);
  CHECK(naming.host_of_target("iqn.2026-11.org.example:tgt10:web1") == std::nullopt);
  CHECK(naming.host_of_target("iqn.2001-04.com.elsewhere:handmade") == std::nullopt);
  // Discovery names a target outside the prefix by its own name; unmap finds it by that.
  CHECK(naming.target_of_host("iqn.2001-04.com.elsewhere:handmade") == "iqn.2001-04.com.elsewhere:handmade");
  CHECK(naming.host_of_initiator("iqn.2026-11.org.example:big") == "Big_Host");
  CHECK_FALSE(naming.host_of_initiator("iqn.2026-11.org.example:nobody"));
  CHECK(TgtNaming::tgt_lun(0) == 1);
  CHECK(TgtNaming::fml_target(1) == 0);
}

TEST_CASE("tgt discovery: LUNs of known volumes become mappings, ACL rules maskings", "[tgt]") {
  std::map<std::string, std::string> hosts{{"iqn.2026-11.org.example:web1", "web1"}};
  TgtNaming naming("iqn.2026-11.org.example:tgt1", hosts);
  std::vector<TgtVolumeFile> volumes{{"vol-a", "p0", "/data/pools/p0/vol-a", 32 << 20, 1, 11},
                                     {"shared", "", "/data/volumes/shared", 8 << 20, 1, 12}};
  DeviceState s = tgt_device_state("tgt1", "iscsi0", parse_tgt_show(kShow), volumes, {"p0"}, naming);
  REQUIRE(s.volumes.size() == 2);
  CHECK(s.volumes[0].size_mb == 32);
  CHECK(s.volumes[0].pool == "p0");
  REQUIRE(s.mappings.size() == 3);
  CHECK(s.mappings[0].host == "web1");
  CHECK(s.mappings[0].array == "tgt1");
  CHECK(s.mappings[0].volume == "vol-a");
  CHECK(s.mappings[0].target == 0);
  CHECK(s.mappings[1].volume == "shared");
  CHECK(s.mappings[1].lun == 2);
  CHECK(s.mappings[2].host == "iqn.2001-04.com.elsewhere:handmade");
  std::vector<std::string> maskings;
  for (const DeviceMasking& m : s.maskings) maskings.push_back(m.volume + " " + m.initiator + " " + std::to_string(m.lun));
  CHECK(maskings == std::vector<std::string>{"vol-a iqn.2026-11.org.example:web1 0", "vol-a address:ALL 0",
                                             "shared iqn.2026-11.org.example:web1 2", "shared address:ALL 2",
                                             "shared iqn.2026-11.org.example:db1 1"});
}

TEST_CASE("tgt backing files: sparse slices of the exact size, grow, copy, scrub, deallocate", "[tgt]") {
  testing::TempDir dir{"farmctl-tgt-unit"};
  std::string images = (dir.path() / "images").string();
  fs::create_directories(images);
  TgtBackingStore store(dir.path().string(), "");
  store.declare({"p0"}, {{"pre1", 4}});
  REQUIRE(store.find("pre1"));
  CHECK(store.find("pre1")->size_bytes == 4u << 20);
  CHECK(store.find("pre1")->pool.empty());

  CHECK(store.allocate("v1", "p0", 16) == "");
  auto v1 = store.find("v1");
  REQUIRE(v1);
  CHECK(v1->path == (dir.path() / "pools" / "p0" / "v1").string());
  CHECK(v1->size_bytes == 16u << 20);
  CHECK(allocated_bytes(v1->path) == 0);  // sparse
  CHECK(store.allocate("v1", "p0", 16) == "volume v1 of 16 MB is already in pool p0");
  CHECK_THROWS_WITH(store.allocate("v1", "p0", 20), "volume v1 exists already in pool p0 with 16777216 bytes, not 20 MB");
  CHECK_THROWS_WITH(store.allocate("pre1", "p0", 4), "volume pre1 exists already as a pre-carved volume");
  CHECK_THROWS_WITH(store.allocate("../x", "p0", 4),
                    "volume id '../x' cannot name a file: use letters, digits, '.', '_' and '-'");
  CHECK(store.allocate("pre1", "", 4) == "pre-carved volume pre1 is there");
  CHECK_THROWS(store.allocate("nothere", "", 4));

  CHECK(store.grow("v1", 24) == "");
  CHECK(store.find("v1")->size_bytes == 24u << 20);
  CHECK(store.grow("v1", 24) == "volume v1 has 24 MB already");
  CHECK_THROWS_WITH(store.grow("v1", 8), "volume v1 has 24 MB; a volume does not shrink to 8 MB");
  CHECK_THROWS(store.grow("pre1", 8));

  std::string image(300000, '\0');
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>('a' + i % 26);
  std::ofstream(fs::path(images) / "sys.img", std::ios::binary) << image;
  CHECK(store.copy_image("v1", "sys") == "");
  CHECK(contents(v1->path).substr(0, image.size()) == image);
  CHECK_THROWS(store.copy_image("pre1", "missing"));

  // Data far into the file as well: scrub must find every allocated region.
  {
    int fd = open(v1->path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(pwrite(fd, "secret", 6, 20 << 20) == 6);
    close(fd);
  }
  CHECK(store.scrub("v1") == "");
  std::string after = contents(v1->path);
  CHECK(after.size() == 24u << 20);
  CHECK(after.find_first_not_of('\0') == std::string::npos);
  CHECK(store.scrub("gone") == "volume gone does not exist in " + dir.path().string() + ": nothing to scrub");

  auto all = store.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "pre1");
  CHECK(all[1].id == "v1");
  CHECK(store.pools() == std::vector<std::string>{"p0"});

  CHECK(store.deallocate("v1") == "");
  CHECK_FALSE(store.find("v1"));
  CHECK(store.deallocate("pre1") == "pre-carved volume pre1 stays in " + dir.path().string() + "/volumes");
  CHECK(store.find("pre1"));
}

}  // namespace
}  // namespace farmctl::runtime
