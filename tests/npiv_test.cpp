// NPIV (issue 8, docs/design/npiv.md) at its edges: the wiring map's
// <npiv-range> and what import refuses, and npiv="true" in FML and the Plan
// IR. The moves themselves are in migration_test.cpp, with the exposure
// checker.
#include <catch2/catch.hpp>

#include "compiler/compiler.h"
#include "compiler/plan_ir.h"
#include "runtime/wiring_import.h"
#include "runtime/wiring_map.h"
#include "tests/scenario_fixture.h"

namespace farmctl::testing {
namespace {

std::string wiring(std::string_view fabric_body, std::string_view extra = "") {
  return fmt::format(R"(<?xml version="1.0"?>
<wiring-map>
  <array name="sym1" driver="sim" model="Symmetrix" serial="1" protocols="fc">
    <port id="FA-3A" wwn="50:06:04:8a:cc:c8:3b:00" san="fabric-a" type="front-end"/>
    <pool name="p0" size="20GB"/>
  </array>
  <fabric name="fabric-a" driver="sim">{}</fabric>
  <fabric name="fabric-b" driver="sim"/>{}
  <host name="f01" hw="cpu-x86-64"><initiator wwn="10:00:00:00:c9:2b:aa:01" fabric="fabric-a"/></host>
  <host name="f02" hw="cpu-x86-64"><initiator wwn="10:00:00:00:c9:2b:aa:02" fabric="fabric-a"/></host>
</wiring-map>
)",
                     fabric_body, extra);
}

constexpr std::string_view kRange =
    R"(<npiv-range first="c0:50:76:00:00:00:00:00" last="c0:50:76:00:00:00:00:ff"/>)";

std::string errors_of(const std::string& map) {
  runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(map, "wiring.xml");
  if (parsed.map) return "accepted";
  return parsed.rendered_diagnostics();
}

std::string npiv_farm(std::string_view npiv) {
  return fmt::format(R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="app">
  <tier id="t" name="app"><role>app</role></tier>
  <server-role id="app" name="app"{}>
    <hw>cpu-x86-64</hw>
    <disk target="0" drivetype="fc" drivesize="1GB"/>
  </server-role>
</farm>
)",
                     npiv);
}

TEST_CASE("a fabric's npiv-range is read, and bad ranges are refused with the reason", "[npiv]") {
  runtime::WiringParseResult ok = runtime::parse_wiring_map_source(wiring(kRange), "wiring.xml");
  INFO(ok.rendered_diagnostics());
  REQUIRE(ok.map);
  const runtime::WiredDevice& fabric = ok.map->devices.at(1);
  REQUIRE(fabric.npiv_ranges.size() == 1);
  CHECK(fabric.npiv_ranges[0].first == "c0:50:76:00:00:00:00:00");
  CHECK(fabric.npiv_ranges[0].last == "c0:50:76:00:00:00:00:ff");

  CHECK_THAT(errors_of(wiring(R"(<npiv-range first="c0:50:76:00:00:00:00:ff" last="c0:50:76:00:00:00:00:00"/>)")),
             Catch::Contains("<npiv-range> on fabric fabric-a ends (c0:50:76:00:00:00:00:00) before it starts "
                             "(c0:50:76:00:00:00:00:ff)"));
  CHECK_THAT(errors_of(wiring(R"(<npiv-range first="c0:50:76" last="c0:50:76:00:00:00:00:ff"/>)")),
             Catch::Contains("bad WWN 'c0:50:76' in <npiv-range>"));
  CHECK_THAT(
      errors_of(wiring(kRange, R"(
  <fabric name="fabric-c" driver="sim"><npiv-range first="c0:50:76:00:00:00:00:80" last="c0:50:76:00:00:00:01:00"/></fabric>)")),
      Catch::Contains("<npiv-range> c0:50:76:00:00:00:00:80..c0:50:76:00:00:00:01:00 on fabric fabric-c overlaps "
                      "c0:50:76:00:00:00:00:00..c0:50:76:00:00:00:00:ff on fabric fabric-a (line 7)"));
  CHECK_THAT(errors_of(wiring(R"(<npiv-range first="10:00:00:00:c9:2b:aa:00" last="10:00:00:00:c9:2b:aa:01"/>)")),
             Catch::Contains("holds 10:00:00:00:c9:2b:aa:01, the initiator of host f01"));
  CHECK_THAT(errors_of(wiring(R"(<npiv-range first="50:06:04:8a:cc:c8:3b:00" last="50:06:04:8a:cc:c8:3b:00"/>)")),
             Catch::Contains("holds 50:06:04:8a:cc:c8:3b:00, port FA-3A of sym1"));
}

TEST_CASE("import keeps a range whose virtual ports a farm owns, and changes nothing when refused", "[npiv]") {
  Scenario s(wiring(kRange));
  REQUIRE(s.inventory().topology().npiv_ranges.size() == 1);
  s.converge(npiv_farm(R"( npiv="true")"));
  REQUIRE(s.inventory().all_virtual_ports().size() == 1);
  Snapshot before = s.snapshot();
  runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(wiring(""), "wiring.xml");
  REQUIRE(parsed.map);
  runtime::ImportReport report = runtime::import_wiring_map(s.inventory(), *parsed.map, {s.db()});
  REQUIRE(report.refusals.size() == 1);
  CHECK(report.refusals[0] ==
        "virtual port c0:50:76:00:00:00:00:00 on fabric fabric-a is owned by farm app; keep the npiv-range that "
        "holds it until the farm releases it");
  CHECK(s.snapshot() == before);
  CHECK(s.inventory().topology().npiv_ranges.size() == 1);
  // Once the farm is gone, the range may go.
  s.destroy("app");
  CHECK(s.inventory().all_virtual_ports().empty());
  s.reimport(wiring(""));
  CHECK(s.inventory().topology().npiv_ranges.empty());
}

// The sim declares a map's devices while the inventory transaction runs
// (wiring_import.cpp); a refused map must not leave its new devices behind.
TEST_CASE("a refused import declares nothing to the devices", "[npiv]") {
  Scenario s(wiring(kRange));
  s.converge(npiv_farm(R"( npiv="true")"));
  std::string refused = wiring("", R"(
  <array name="sym9" driver="sim" model="Symmetrix" serial="9" protocols="fc"><volume id="0A1" size="1GB"/></array>)");
  runtime::WiringParseResult parsed = runtime::parse_wiring_map_source(refused, "wiring.xml");
  INFO(parsed.rendered_diagnostics());
  REQUIRE(parsed.map);
  runtime::ImportReport report = runtime::import_wiring_map(s.inventory(), *parsed.map, {s.db()});
  REQUIRE(report.refusals.size() == 1);
  runtime::Database store(runtime::sim_store_path(s.db()));
  auto sym9 = store.prepare(
      "SELECT (SELECT COUNT(*) FROM sim_devices WHERE name = 'sym9') + "
      "(SELECT COUNT(*) FROM sim_idle_volumes WHERE device = 'sym9')");
  REQUIRE(sym9.step());
  CHECK(sym9.int64(0) == 0);
  // Accepted, the same device is there.
  s.destroy("app");
  s.reimport(refused);
  sym9.reset();
  REQUIRE(sym9.step());
  CHECK(sym9.int64(0) == 2);
}

TEST_CASE("npiv on a server-role: in the Plan IR only when true, so older dumps do not change", "[npiv][compiler]") {
  auto json_of = [](const std::string& fml) {
    fml::CompileResult r = fml::compile_source(fml, "app.fml");
    INFO(r.rendered_diagnostics());
    REQUIRE(r.plan);
    return plan::to_json(*r.plan);
  };
  CHECK_THAT(json_of(npiv_farm(R"( npiv="true")")), Catch::Contains(R"("npiv": true)"));
  CHECK_THAT(json_of(npiv_farm("")), !Catch::Contains("npiv"));
  CHECK_THAT(json_of(npiv_farm(R"( npiv="false")")), !Catch::Contains("npiv"));
  fml::CompileResult bad = fml::compile_source(npiv_farm(R"( npiv="yes")"), "app.fml");
  CHECK_FALSE(bad.plan);
  CHECK_THAT(bad.rendered_diagnostics(), Catch::Contains("npiv"));
}

}  // namespace
}  // namespace farmctl::testing
