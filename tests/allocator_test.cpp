// VolumeAllocator, table-driven over its documented policy (allocator.h,
// docs/allocation.md): each row is an estate, a request and the allocation
// written as one line of text —
//   "single sym1:V2 (1050 MB)"   "slice sym1/p0 (1000 MB)"
//   "meta sym1:V1+V2+V4 (10240 MB)"   "none: <the reason, word for word>"
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include "reconciler/allocator.h"
#include "tests/scenario_fixture.h"

namespace farmctl::testing {
namespace {

using reconcile::Allocation;
using reconcile::AllocationRequest;
using reconcile::VolumeAllocator;

// An inventory with only arrays (the sim store in memory: nothing is run).
class Estate {
 public:
  explicit Estate(const std::string& arrays) {
    inventory_ = std::make_unique<runtime::Inventory>((dir_.path() / "farm.db").string());
    std::string map = "<?xml version=\"1.0\"?>\n<wiring-map>\n" + arrays + "</wiring-map>\n";
    runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(map, "wiring.xml");
    INFO(parsed.rendered_diagnostics());
    REQUIRE(parsed.map);
    runtime::ImportReport report = runtime::import_wiring_map(*inventory_, *parsed.map, {""});
    INFO(fmt::format("{}", fmt::join(report.refusals, "\n")));
    REQUIRE(report.ok());
    topology_ = inventory_->topology();
  }

  runtime::Inventory& inventory() { return *inventory_; }
  const runtime::Topology& topology() const { return topology_; }

  runtime::RowId array(std::string_view name) const {
    const runtime::DeviceRow* d = topology_.device_named(name);
    REQUIRE(d != nullptr);
    return d->id;
  }
  std::vector<runtime::RowId> arrays(const std::vector<std::string>& names) const {
    std::vector<runtime::RowId> out;
    for (const std::string& n : names) out.push_back(array(n));
    return out;
  }

  std::string describe(const std::optional<Allocation>& a, const std::string& why) const {
    if (!a) return "none: " + why;
    std::string array = topology_.device(a->device_id)->config.name;
    switch (a->kind) {
      case Allocation::Kind::single:
        return fmt::format("single {}:{} ({} MB)", array, a->members.at(0).device_volume, a->capacity_mb);
      case Allocation::Kind::slice:
        return fmt::format("slice {}/{} ({} MB)", array, topology_.pool(*a->pool_id)->name, a->capacity_mb);
      case Allocation::Kind::meta: {
        std::string ids;
        for (const auto& m : a->members) ids += (ids.empty() ? "" : "+") + m.device_volume;
        return fmt::format("meta {}:{} ({} MB)", array, ids, a->capacity_mb);
      }
    }
    return "?";
  }

 private:
  TempDir dir_{"farmctl-alloc"};
  std::unique_ptr<runtime::Inventory> inventory_;
  runtime::Topology topology_;
};

std::string array_xml(const std::string& name, const std::string& body) {
  return fmt::format(
      "<array name=\"{}\" driver=\"sim\"><port id=\"P\" iqn=\"iqn.2001-07.com.example:{}\"/>{}</array>\n", name,
      name, body);
}

std::string volumes(const std::string& prefix, const std::vector<int>& sizes, const std::string& attrs = "") {
  std::string out;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    out += fmt::format("<volume id=\"{}{}\" size=\"{}\"{}/>", prefix, i + 1, sizes[i], attrs);
  return out;
}

struct Row {
  const char* what;
  std::string estate;  // <array>s
  std::uint64_t size_mb;
  std::string cls;
  std::optional<std::string> raid;
  std::vector<std::string> arrays;
  std::string expected;
};

TEST_CASE("allocation policy, one request at a time", "[allocator]") {
  const std::vector<Row> rows = {
      // 1. the smallest single volume that fits, if it wastes at most 1/8
      {"exact fit", array_xml("a", volumes("V", {1000, 1100, 1200})), 1000, "std", {}, {"a"},
       "single a:V1 (1000 MB)"},
      {"smallest that fits", array_xml("a", volumes("V", {1200, 1050, 900})), 1000, "std", {}, {"a"},
       "single a:V2 (1050 MB)"},
      {"waste of exactly 1/8 is a fit", array_xml("a", volumes("V", {1125}) + "<pool name=\"p\" size=\"9000\"/>"),
       1000, "std", {}, {"a"}, "single a:V1 (1125 MB)"},
      {"the smallest across arrays", array_xml("a", volumes("A", {1100})) + array_xml("b", volumes("B", {1010})),
       1000, "std", {}, {"a", "b"}, "single b:B1 (1010 MB)"},
      {"equal sizes: the first array given",
       array_xml("a", volumes("A", {1010})) + array_xml("b", volumes("B", {1010})), 1000, "std", {}, {"b", "a"},
       "single b:B1 (1010 MB)"},
      {"equal sizes on one array: by volume id",
       array_xml("a", "<volume id=\"Z\" size=\"1000\"/><volume id=\"M\" size=\"1000\"/>"), 1000, "std", {}, {"a"},
       "single a:M (1000 MB)"},
      {"only the arrays given", array_xml("a", volumes("A", {1000})) + array_xml("b", volumes("B", {1000})), 1000,
       "std", {}, {"b"}, "single b:B1 (1000 MB)"},
      // 2. else a slice of exactly the size from the pool with the most room
      {"waste over 1/8: a pool slice", array_xml("a", volumes("V", {1126}) + "<pool name=\"p\" size=\"9000\"/>"), 1000,
       "std", {}, {"a"}, "slice a/p (1000 MB)"},
      {"the pool with the most room",
       array_xml("a", "<pool name=\"small\" size=\"5000\"/>") + array_xml("b", "<pool name=\"big\" size=\"8000\"/>"),
       1000, "std", {}, {"a", "b"}, "slice b/big (1000 MB)"},
      {"pools tied: by pool name", array_xml("a", "<pool name=\"q\" size=\"5000\"/><pool name=\"p\" size=\"5000\"/>"),
       1000, "std", {}, {"a"}, "slice a/p (1000 MB)"},
      {"pools tied: by array order given",
       array_xml("a", "<pool name=\"p\" size=\"5000\"/>") + array_xml("b", "<pool name=\"p\" size=\"5000\"/>"), 1000,
       "std", {}, {"b", "a"}, "slice b/p (1000 MB)"},
      {"a pool too small is passed over",
       array_xml("a", "<pool name=\"p\" size=\"999\"/><pool name=\"q\" size=\"1000\"/>"), 1000, "std", {}, {"a"},
       "slice a/q (1000 MB)"},
      // 3. else a meta-volume on one array: fewest members, then least waste
      {"meta: largest first, then the smallest that covers the rest",
       array_xml("a", volumes("V", {4096, 4096, 4096, 2048})), 10240, "std", {}, {"a"}, "meta a:V3+V2+V4 (10240 MB)"},
      {"meta: fewest members wins over array order",
       array_xml("a", volumes("A", {2000, 2000, 2000, 2000, 2000})) + array_xml("b", volumes("B", {5000, 5000})),
       10000, "std", {}, {"a", "b"}, "meta b:B2+B1 (10000 MB)"},
      {"meta: equal members, least waste",
       array_xml("a", volumes("A", {5000, 5200})) + array_xml("b", volumes("B", {5000, 5100})), 10000, "std", {},
       {"a", "b"}, "meta b:B2+B1 (10100 MB)"},
      {"meta of at most 16 members", array_xml("a", volumes("V", std::vector<int>(17, 100))), 1700, "std", {}, {"a"},
       "none: a: 17 free std volumes (1700 MB, largest 100 MB), largest pool room 0 MB"},
      {"meta of exactly 16 members", array_xml("a", volumes("V", std::vector<int>(17, 100))), 1600, "std", {}, {"a"},
       "meta a:V9+V8+V7+V6+V5+V4+V3+V2+V17+V16+V15+V14+V13+V12+V11+V1 (1600 MB)"},
      // 4. else the smallest single volume that fits, whatever it wastes
      {"any single, wasting more than 1/8", array_xml("a", volumes("V", {30000, 20000, 1000})), 10000, "std", {},
       {"a"}, "single a:V2 (20000 MB)"},
      {"a meta wasting over 1/8 is never taken", array_xml("a", volumes("V", {6000, 6000})), 10000, "std", {}, {"a"},
       "none: a: 2 free std volumes (12000 MB, largest 6000 MB), largest pool room 0 MB"},
      // 5. else nothing, and why
      {"nothing fits", array_xml("a", volumes("V", {1000, 1000}) + "<pool name=\"p\" size=\"500\"/>"), 5000, "std",
       {}, {"a"}, "none: a: 2 free std volumes (2000 MB, largest 1000 MB), largest pool room 500 MB"},
      {"nothing fits on either array",
       array_xml("a", volumes("A", {1000})) + array_xml("b", "<pool name=\"p\" size=\"700\"/>"), 5000, "std", {},
       {"a", "b"},
       "none: a: 1 free std volumes (1000 MB, largest 1000 MB), largest pool room 0 MB; b: 0 free std volumes (0 MB, "
       "largest 0 MB), largest pool room 700 MB"},
      {"no array reachable", array_xml("a", volumes("A", {1000})), 100, "std", {}, {},
       "none: no array is reachable from every host that uses it"},
      // classes and RAID
      {"another class is not taken", array_xml("a", volumes("V", {1000}, " type=\"performance\"")), 1000, "std", {},
       {"a"}, "none: a: 0 free std volumes (0 MB, largest 0 MB), largest pool room 0 MB"},
      {"the class asked for", array_xml("a", volumes("S", {1000}) + volumes("P", {1000}, " type=\"performance\"")),
       1000, "performance", {}, {"a"}, "single a:P1 (1000 MB)"},
      {"a RAID level must match",
       array_xml("a", volumes("R", {1000}, " raid=\"1\"") + volumes("F", {1050}, " raid=\"5\"")), 1000, "std",
       std::string("5"), {"a"}, "single a:F1 (1050 MB)"},
      {"no RAID asked: any", array_xml("a", volumes("R", {1000}, " raid=\"1\"") + volumes("F", {1050}, " raid=\"5\"")),
       1000, "std", {}, {"a"}, "single a:R1 (1000 MB)"},
      {"a pool of another RAID level is passed over",
       array_xml("a", "<pool name=\"r1\" size=\"9000\" raid=\"1\"/><pool name=\"r5\" size=\"2000\" raid=\"5\"/>"), 1000,
       "std", std::string("5"), {"a"}, "slice a/r5 (1000 MB)"},
      {"a meta of matching members only",
       array_xml("a", volumes("R", {600, 600}, " raid=\"1\"") + volumes("F", {500, 500}, " raid=\"5\"")), 1000, "std",
       std::string("5"), {"a"}, "meta a:F2+F1 (1000 MB)"},
      {"RAID asked, none has it", array_xml("a", volumes("R", {1000}, " raid=\"1\"")), 1000, "std", std::string("6"),
       {"a"}, "none: a: 0 free std volumes (0 MB, largest 0 MB), largest pool room 0 MB"},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.what) {
      Estate estate(row.estate);
      VolumeAllocator allocator(estate.inventory(), estate.topology());
      AllocationRequest request{"v", row.size_mb, row.cls, row.raid, estate.arrays(row.arrays)};
      std::string why;
      auto a = allocator.allocate(request, why);
      CHECK(estate.describe(a, why) == row.expected);
    }
  }
}

TEST_CASE("what one call hands out is reserved for the rest of the plan", "[allocator]") {
  Estate estate(array_xml("a", volumes("V", {1000, 1000, 1010}) + "<pool name=\"p\" size=\"2500\"/>"));
  VolumeAllocator allocator(estate.inventory(), estate.topology());
  auto next = [&](std::uint64_t size) {
    std::string why;
    auto a = allocator.allocate({"v", size, "std", {}, {estate.array("a")}}, why);
    return estate.describe(a, why);
  };
  CHECK(next(1000) == "single a:V1 (1000 MB)");
  CHECK(next(1000) == "single a:V2 (1000 MB)");
  CHECK(next(1000) == "single a:V3 (1010 MB)");
  CHECK(next(1000) == "slice a/p (1000 MB)");
  CHECK(next(1000) == "slice a/p (1000 MB)");
  CHECK(allocator.pool_free_mb(estate.topology().pools.at(0).id) == 500);
  CHECK(next(1000) == "none: a: 0 free std volumes (0 MB, largest 0 MB), largest pool room 500 MB");
  CHECK(allocator.reserve_in_pool(estate.topology().pools.at(0).id, 500));
  CHECK_FALSE(allocator.reserve_in_pool(estate.topology().pools.at(0).id, 1));
  CHECK(allocator.pool_free_mb(estate.topology().pools.at(0).id) == 0);
}

TEST_CASE("a pool's room counts the slices the inventory already holds", "[allocator]") {
  Scenario s;  // sym1's p0: 20 GB, raid 0+1; each web server's /home takes 512 MB of it
  s.converge(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="w">
  <tier id="t" name="w"><role>r</role><init-servers>2</init-servers></tier>
  <server-role id="r" name="r"><hw>cpu-sun4u-x4</hw>
    <disk target="3" drivesize="512MB"><attribute name="raid-level" value="0+1"/></disk>
  </server-role>
</farm>
)");
  runtime::Topology topology = s.inventory().topology();
  VolumeAllocator allocator(s.inventory(), topology);
  const runtime::PoolRow* p0 = nullptr;
  for (const auto& p : topology.pools)
    if (p.name == "p0") p0 = &p;
  REQUIRE(p0 != nullptr);
  CHECK(allocator.pool_free_mb(p0->id) == 20480 - 1024);
  // and the volumes a farm holds are not free
  std::string why;
  auto a = allocator.allocate({"v", 8631, "std", {}, {topology.device_named("sym1")->id}}, why);
  REQUIRE(a);
  CHECK(a->members.at(0).device_volume == "0A1");
}

TEST_CASE("members to grow a meta-volume", "[allocator]") {
  Estate estate(array_xml("a", volumes("V", {1000, 2000, 4000, 4000}) + volumes("R", {9000}, " raid=\"5\"")));
  VolumeAllocator allocator(estate.inventory(), estate.topology());
  auto grow = [&](std::uint64_t extra, std::optional<std::string> raid = {}) {
    std::string why;
    auto m = allocator.members_for_growth(estate.array("a"), "std", raid, extra, why);
    if (!m) return "none: " + why;
    std::string ids;
    for (const auto& v : *m) ids += (ids.empty() ? "" : "+") + v.device_volume;
    return ids;
  };
  CHECK(grow(1500) == "V2");                    // the smallest single that covers it
  CHECK(grow(5000, std::string("5")) == "R1");  // RAID must match the unit's
  CHECK(grow(7000) == "V4+V3");                 // else several (V2 is taken)
  CHECK(grow(1500) == "none: a: 1 free std volumes (1000 MB, largest 1000 MB), largest pool room 0 MB");
}

TEST_CASE("twenty thousand equal volumes are handed out in linear time", "[allocator]") {
  constexpr int kVolumes = 20000;
  std::string body;
  body.reserve(kVolumes * 40);
  for (int i = 0; i < kVolumes; ++i) body += fmt::format("<volume id=\"{:05X}\" size=\"1024\"/>", i);
  Estate estate(array_xml("big", body));
  auto start = std::chrono::steady_clock::now();
  VolumeAllocator allocator(estate.inventory(), estate.topology());
  std::vector<runtime::RowId> arrays{estate.array("big")};
  std::set<std::string> handed;
  std::string why;
  // Half as singles, the rest as 4-member metas, then nothing is left.
  for (int i = 0; i < kVolumes / 2; ++i) {
    auto a = allocator.allocate({"v", 1000, "std", {}, arrays}, why);
    REQUIRE(a);
    REQUIRE(a->kind == Allocation::Kind::single);
    REQUIRE(handed.insert(a->members[0].device_volume).second);
  }
  for (int i = 0; i < kVolumes / 8; ++i) {
    auto a = allocator.allocate({"v", 4096, "std", {}, arrays}, why);
    REQUIRE(a);
    REQUIRE(a->kind == Allocation::Kind::meta);
    REQUIRE(a->members.size() == 4);
    for (const auto& m : a->members) REQUIRE(handed.insert(m.device_volume).second);
  }
  CHECK(handed.size() == kVolumes);
  CHECK_FALSE(allocator.allocate({"v", 1000, "std", {}, arrays}, why));
  CHECK(why == "big: 0 free std volumes (0 MB, largest 0 MB), largest pool room 0 MB");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(ms < 2000);
}

// The policy again, slow and plain, over every free volume of every array
// at once: what the allocator must hand out, though it reads the inventory
// a size at a time and a few volumes at a time (allocator.cpp, FreeList).
class ReferenceAllocator {
 public:
  struct Volume {
    std::string id;
    std::uint64_t size_mb;
    std::optional<std::string> raid;
    bool taken = false;
  };
  // Each array's volumes, in the policy's order: by size, then id.
  std::map<std::string, std::vector<Volume>> arrays;

  std::string allocate(std::uint64_t size, const std::optional<std::string>& raid,
                       const std::vector<std::string>& order) {
    std::uint64_t tolerable = size / 8;
    if (auto single = best_single(size, raid, order, tolerable)) return *single;
    if (auto meta = best_meta(size, raid, order, tolerable)) return *meta;
    if (auto single = best_single(size, raid, order, UINT64_MAX)) return *single;
    std::string why;
    for (const std::string& name : order) {
      std::uint64_t total = 0, largest = 0;
      int count = 0;
      for (const Volume& v : arrays[name])
        if (!v.taken && fits(v, raid)) ++count, total += v.size_mb, largest = std::max(largest, v.size_mb);
      why += fmt::format("{}{}: {} free std volumes ({} MB, largest {} MB), largest pool room 0 MB",
                         why.empty() ? "" : "; ", name, count, total, largest);
    }
    return "none: " + why;
  }

 private:
  static bool fits(const Volume& v, const std::optional<std::string>& raid) { return !raid || v.raid == raid; }
  static bool picked(const std::vector<std::size_t>& picks, std::size_t i) {
    return std::find(picks.begin(), picks.end(), i) != picks.end();
  }
  std::optional<std::size_t> first_fit(const std::vector<Volume>& vs, std::uint64_t min, const std::optional<std::string>& raid,
                                       const std::vector<std::size_t>& picks) {
    for (std::size_t i = 0; i < vs.size(); ++i)
      if (!vs[i].taken && vs[i].size_mb >= min && fits(vs[i], raid) && !picked(picks, i)) return i;
    return std::nullopt;
  }
  std::optional<std::size_t> last_below(const std::vector<Volume>& vs, std::uint64_t max,
                                        const std::optional<std::string>& raid, const std::vector<std::size_t>& picks) {
    for (std::size_t i = vs.size(); i-- > 0;)
      if (!vs[i].taken && vs[i].size_mb < max && fits(vs[i], raid) && !picked(picks, i)) return i;
    return std::nullopt;
  }

  std::optional<std::string> best_single(std::uint64_t size, const std::optional<std::string>& raid,
                                         const std::vector<std::string>& order, std::uint64_t max_waste) {
    const std::string* best_array = nullptr;
    std::size_t best = 0;
    for (const std::string& name : order) {
      auto i = first_fit(arrays[name], size, raid, {});
      if (!i || arrays[name][*i].size_mb - size > max_waste) continue;
      if (best_array == nullptr || arrays[name][*i].size_mb < arrays[*best_array][best].size_mb)
        best_array = &name, best = *i;
    }
    if (best_array == nullptr) return std::nullopt;
    Volume& v = arrays[*best_array][best];
    v.taken = true;
    return fmt::format("single {}:{} ({} MB)", *best_array, v.id, v.size_mb);
  }

  std::optional<std::string> best_meta(std::uint64_t size, const std::optional<std::string>& raid,
                                       const std::vector<std::string>& order, std::uint64_t max_waste) {
    const std::string* best_array = nullptr;
    std::vector<std::size_t> best_picks;
    std::uint64_t best_total = 0;
    for (const std::string& name : order) {
      std::vector<Volume>& vs = arrays[name];
      std::vector<std::size_t> picks;
      std::uint64_t total = 0;
      while (total < size && picks.size() < 16) {
        auto i = first_fit(vs, size - total, raid, picks);
        if (!i) i = last_below(vs, size - total, raid, picks);
        if (!i) break;
        picks.push_back(*i);
        total += vs[*i].size_mb;
      }
      bool ok = total >= size && total - size <= max_waste && picks.size() >= 2;
      if (ok && (best_array == nullptr || picks.size() < best_picks.size() ||
                 (picks.size() == best_picks.size() && total < best_total)))
        best_array = &name, best_picks = picks, best_total = total;
    }
    if (best_array == nullptr) return std::nullopt;
    std::string ids;
    for (std::size_t i : best_picks) {
      arrays[*best_array][i].taken = true;
      ids += (ids.empty() ? "" : "+") + arrays[*best_array][i].id;
    }
    return fmt::format("meta {}:{} ({} MB)", *best_array, ids, best_total);
  }
};

TEST_CASE("the allocator hands out what the policy over every free volume would", "[allocator]") {
  // Two arrays of random volumes (one size with several hundred, more than
  // the allocator reads at once; RAID levels mixed, one rare), and random
  // requests until most of it is gone.
  std::mt19937 random(20261123);
  auto pick = [&](const auto& choices) { return choices[random() % choices.size()]; };
  const std::vector<int> sizes = {500, 1000, 1000, 1000, 1000, 1024, 2000, 4000};
  const std::vector<std::optional<std::string>> raids = {std::nullopt, std::nullopt, std::nullopt, "5", "5", "10"};
  ReferenceAllocator reference;
  std::string estate_xml;
  for (const std::string name : {"a", "b"}) {
    std::string body;
    for (int i = 0; i < 700; ++i) {
      // ids not in the order they are written: the policy goes by id
      std::string id = fmt::format("V{:04d}", (i * 7919) % 10000);
      int size = pick(sizes);
      std::optional<std::string> raid = pick(raids);
      body += fmt::format("<volume id=\"{}\" size=\"{}\"{}/>", id, size,
                          raid ? fmt::format(" raid=\"{}\"", *raid) : "");
      reference.arrays[name].push_back({id, static_cast<std::uint64_t>(size), raid});
    }
    estate_xml += array_xml(name, body);
    std::sort(reference.arrays[name].begin(), reference.arrays[name].end(), [](const auto& x, const auto& y) {
      return std::pair(x.size_mb, x.id) < std::pair(y.size_mb, y.id);
    });
  }
  Estate estate(estate_xml);
  VolumeAllocator allocator(estate.inventory(), estate.topology());
  const std::vector<std::uint64_t> asked = {400, 900, 1000, 1000, 1000, 1500, 3000, 5000, 7000, 9000};
  const std::vector<std::optional<std::string>> asked_raids = {std::nullopt, std::nullopt, "5", "10", "6"};
  int metas = 0, nones = 0;
  for (int k = 0; k < 600; ++k) {
    std::uint64_t size = pick(asked);
    std::optional<std::string> raid = pick(asked_raids);
    std::vector<std::string> order = random() % 2 == 0 ? std::vector<std::string>{"a", "b"}
                                                        : std::vector<std::string>{"b", "a"};
    std::string why;
    auto a = allocator.allocate({"v", size, "std", raid, estate.arrays(order)}, why);
    std::string expected = reference.allocate(size, raid, order);
    INFO("request " << k << ": " << size << " MB, raid " << raid.value_or("any"));
    REQUIRE(estate.describe(a, why) == expected);
    metas += expected.starts_with("meta") ? 1 : 0;
    nones += expected.starts_with("none") ? 1 : 0;
  }
  CHECK(metas > 20);  // the requests reach every part of the policy
  CHECK(nones > 20);
}

}  // namespace
}  // namespace farmctl::testing
