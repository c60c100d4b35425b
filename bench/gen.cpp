// bench/gen: writes a farm of N servers and a wiring map large enough to hold
// it, deterministically from a seed (the same arguments always write the same
// bytes).
//
// The farm has a tier (with its own server-role) per K servers, of three
// kinds: web (scsi behind gateways; a system disk with an
// image and a data disk with a nightly backup; a shared content disk), app
// (iscsi; system disk and a log disk) and db (fibre channel; system disk, a
// raid-10 database disk with two backup levels, a shared disk). The wiring
// map has 8 arrays holding --volumes pre-carved volumes of the sizes the farm
// asks for (and some it does not), pools, gateways, a fabric, and one idle
// host per server plus spares.
//
//   gen --servers N [--per-tier K] [--volumes V] [--seed S] [--farm FILE] [--wiring FILE]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace {

constexpr int kArrays = 8;
constexpr int kGateways = 16;

struct Tiers {
  int web, app, db;
};

Tiers split(int servers) {
  int db = servers / 10;
  int app = servers * 3 / 10;
  return {servers - app - db, app, db};
}

// One tier and its own server-role per `per_tier` servers, the roles cycling
// through three kinds, so the file grows with the farm like a real one.
void write_farm(std::ostream& out, int servers, int per_tier) {
  out << R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="bench">
  <farm-global-disks>
    <global-disk global-name="content" drivesize="200GB">
      <attribute name="backup-policy" value="level=0:weekly;retain=4"/>
    </global-disk>
    <global-disk global-name="db-shared" drivesize="500GB">
      <attribute name="raid-level" value="10"/>
    </global-disk>
  </farm-global-disks>
)";
  Tiers t = split(servers);
  struct Kind {
    const char* name;
    int count;
  };
  const Kind kinds[] = {{"web", t.web}, {"app", t.app}, {"db", t.db}};
  for (const Kind& k : kinds) {
    for (int first = 0, n = 0; first < k.count; first += per_tier, ++n) {
      int size = std::min(per_tier, k.count - first);
      std::string tier = fmt::format("{}{:05}", k.name, n);
      out << fmt::format(
          "  <tier id=\"t-{0}\" name=\"{0}\">\n    <interface name=\"eth0\" subnet=\"front\"/>\n"
          "    <role>r-{0}</role>\n    <min-servers>0</min-servers>\n    <max-servers>{1}</max-servers>\n"
          "    <init-servers>{2}</init-servers>\n  </tier>\n",
          tier, size * 2, size);
      out << fmt::format("  <server-role id=\"r-{0}\" name=\"{0}\">\n    <hw>x86-{1}</hw>\n", tier, k.name);
      if (std::string_view(k.name) == "web")
        out << "    <disk target=\"0\" drivetype=\"scsi\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage></disk>\n"
               "    <disk drivename=\"/data\" drivetype=\"scsi\" drivesize=\"20GB\">\n"
               "      <attribute name=\"backup-policy\" value=\"nightly;retain=7\"/>\n    </disk>\n"
               "    <shared-disk global-name=\"content\" target=\"5\" drivetype=\"scsi\"/>\n";
      else if (std::string_view(k.name) == "app")
        out << "    <disk target=\"0\" drivetype=\"iscsi\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage></disk>\n"
               "    <disk drivename=\"/logs\" drivetype=\"iscsi\" drivesize=\"10GB\"/>\n"
               "    <disk drivename=\"/tmp\" drivetype=\"iscsi\" drivesize=\"4GB\"/>\n";
      else
        out << "    <disk target=\"0\" drivetype=\"fc\" drivesize=\"8GB\"><diskimage type=\"system\">linux</diskimage></disk>\n"
               "    <disk drivename=\"/db\" drivetype=\"fc\" drivesize=\"100GB\">\n"
               "      <attribute name=\"raid-level\" value=\"10\"/>\n"
               "      <attribute name=\"backup-policy\" value=\"level=0:nightly;retain=7\"/>\n"
               "      <attribute name=\"backup-policy\" value=\"level=1:hourly;retain=24\"/>\n    </disk>\n"
               "    <shared-disk global-name=\"db-shared\" target=\"9\" drivetype=\"fc\"/>\n";
      out << "  </server-role>\n";
    }
  }
  out << "  <subnet id=\"front\" name=\"front\" ip=\"external\" mask=\"255.255.255.0\" vlan=\"v1\"/>\n</farm>\n";
}

void write_wiring(std::ostream& out, int servers, long long volumes, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  // Sizes in GB and how often each is pre-carved: mostly what the farm asks
  // for, some it does not (so the allocator has to choose).
  const int sizes[] = {4, 8, 8, 8, 10, 16, 20, 20, 32, 100};
  std::uniform_int_distribution<int> pick(0, 9);
  out << "<?xml version=\"1.0\"?>\n<wiring-map>\n";
  long long per_array = volumes / kArrays;
  for (int a = 0; a < kArrays; ++a) {
    out << fmt::format(R"(  <array name="arr{0}" driver="sim" model="Symmetrix" serial="0001845{0:05}" protocols="fc iscsi">
    <port id="FA" wwn="50:06:04:8a:cc:c8:{0:02x}:00" san="fab1"/>
    <port id="SE" iqn="iqn.2001-07.com.example:arr{0}.se"/>
    <pool name="std" size="200TB"/>
    <pool name="r10" size="200TB" raid="10"/>
)",
                       a);
    long long count = per_array + (a < volumes % kArrays ? 1 : 0);
    for (long long v = 0; v < count; ++v)
      out << fmt::format("    <volume id=\"{:x}\" size=\"{}GB\"/>\n", v, sizes[pick(random)]);
    out << "  </array>\n";
  }
  out << "  <image name=\"linux\" size=\"4GB\" array=\"arr0\"/>\n  <fabric name=\"fab1\" driver=\"sim\"/>\n";
  for (int g = 0; g < kGateways; ++g)
    out << fmt::format("  <gateway name=\"gw{}\" driver=\"sim\" san=\"fab1\"/>\n", g);
  Tiers t = split(servers);
  int spare = std::max(8, servers / 50);
  for (int h = 0; h < t.web + spare; ++h)
    out << fmt::format("  <host name=\"w{:06}\" hw=\"x86-web\" gateway=\"gw{}\"/>\n", h, h % kGateways);
  for (int h = 0; h < t.app + spare; ++h)
    out << fmt::format("  <host name=\"a{0:06}\" hw=\"x86-app\"><initiator iqn=\"iqn.2026-11.org.example:a{0:06}\"/></host>\n", h);
  for (int h = 0; h < t.db + spare; ++h)
    out << fmt::format(
        "  <host name=\"d{0:06}\" hw=\"x86-db\"><initiator wwn=\"10:00:00:00:{1:02x}:{2:02x}:{3:02x}:01\" "
        "fabric=\"fab1\"/></host>\n",
        h, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
  out << "</wiring-map>\n";
}

}  // namespace

int main(int argc, char** argv) {
  int servers = 1000;
  int per_tier = 10;
  long long volumes = -1;
  std::uint64_t seed = 1;
  std::string farm_path = "farm.fml", wiring_path = "wiring.xml";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "gen: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--servers") servers = std::stoi(value());
    else if (arg == "--volumes") volumes = std::stoll(value());
    else if (arg == "--seed") seed = std::stoull(value());
    else if (arg == "--per-tier") per_tier = std::max(1, std::stoi(value()));
    else if (arg == "--farm") farm_path = value();
    else if (arg == "--wiring") wiring_path = value();
    else {
      std::cerr << "usage: gen --servers N [--volumes V] [--seed S] [--farm FILE] [--wiring FILE]\n";
      return 2;
    }
  }
  if (volumes < 0) volumes = static_cast<long long>(servers) * 4;
  std::ofstream farm_out(farm_path);
  write_farm(farm_out, servers, per_tier);
  std::ofstream wiring(wiring_path);
  write_wiring(wiring, servers, volumes, seed);
  if (!wiring) {
    std::cerr << "gen: cannot write " << wiring_path << "\n";
    return 1;
  }
  return 0;
}
