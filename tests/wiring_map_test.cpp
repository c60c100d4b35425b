// The wiring map's own checks (WIRING.md; runtime/wiring_map.h) where the
// schema cannot make them: names unique where they must be.
#include "runtime/wiring_map.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace farmctl::runtime {
namespace {

std::string map_with_volumes(const std::string& first, const std::string& second) {
  return R"(<?xml version="1.0"?>
<wiring-map>
  <array name="sym1" driver="sim" model="Symmetrix" protocols="fc">
    <port id="FA" wwn="50:06:04:8a:cc:c8:3a:00" san="fab"/>
)" + first + R"(  </array>
  <array name="sym2" driver="sim" model="Symmetrix" protocols="fc">
    <port id="FA" wwn="50:06:04:8a:cc:c8:3b:00" san="fab"/>
)" + second + R"(  </array>
  <fabric name="fab" driver="sim"/>
</wiring-map>
)";
}

TEST_CASE("a volume id is unique on its array, and may repeat on another", "[wiring]") {
  const std::string volumes = "    <volume id=\"0A1\" size=\"8GB\"/>\n    <volume id=\"0A2\" size=\"8GB\"/>\n";
  WiringParseResult ok = parse_wiring_map_source(map_with_volumes(volumes, volumes), "wiring.xml");
  INFO(ok.rendered_diagnostics());
  REQUIRE(ok.map);
  CHECK(ok.map->devices.at(0).volumes.size() == 2);

  const std::string twice = "    <volume id=\"0A2\" size=\"8GB\"/>\n    <volume id=\"0A1\" size=\"8GB\"/>\n"
                            "    <volume id=\"0A2\" size=\"4GB\"/>\n    <volume id=\"0A2\" size=\"2GB\"/>\n";
  WiringParseResult bad = parse_wiring_map_source(map_with_volumes(volumes, twice), "wiring.xml");
  INFO(bad.rendered_diagnostics());
  CHECK_FALSE(bad.map);
  CHECK(bad.rendered_diagnostics().find("wiring.xml:12:17: error: duplicate volume id on array sym2 '0A2'") !=
        std::string::npos);
  CHECK(bad.rendered_diagnostics().find("wiring.xml:13:17: error: duplicate volume id on array sym2 '0A2'") !=
        std::string::npos);
  CHECK(bad.rendered_diagnostics().find("10:17") == std::string::npos);  // the first one is not the duplicate
}

// Read against the schema's outline (WiringRead::against_outline, as
// inventory import reads first), a map either comes out as the validated
// read has it, or is doubted, with nothing said: never taken when the
// validator refuses it. The volumes are taken as their start tags are read
// (they need no tree): what stands inside one is checked all the same.
TEST_CASE("a map read against the outline is the validated map, or doubted", "[wiring]") {
  const std::string plain = "    <volume id=\"0A1\" size=\"8GB\"/>\n";
  struct Case {
    std::string what;
    std::string volumes;
    bool doubted;
  };
  std::vector<Case> cases = {
      {"plain volumes", plain, false},
      {"words inside a volume", "    <volume id=\"0A1\" size=\"8GB\">words</volume>\n", true},
      {"an entity inside a volume", "    <volume id=\"0A1\" size=\"8GB\">&amp;</volume>\n", true},
      {"an element inside a volume", "    <volume id=\"0A1\" size=\"8GB\"><port id=\"x\"/></volume>\n", true},
      {"CDATA inside a volume", "    <volume id=\"0A1\" size=\"8GB\"><![CDATA[ ]]></volume>\n", true},
      {"an attribute volumes do not have", "    <volume id=\"0A1\" size=\"8GB\" colour=\"red\"/>\n", true},
      {"a volume without its size", "    <volume id=\"0A1\"/>\n", true},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string map = map_with_volumes(c.volumes, plain);
    WiringParseResult fast =
        parse_wiring_map_source(map, "wiring.xml", DeviceRead(), WiringRead::against_outline);
    WiringParseResult validated = parse_wiring_map_source(map, "wiring.xml");
    CHECK(fast.doubted == c.doubted);
    if (c.doubted) {
      CHECK_FALSE(fast.map);
      CHECK(fast.diagnostics.items().empty());
      CHECK_FALSE(validated.map);  // each of these the schema refuses
    } else {
      REQUIRE(fast.map);
      REQUIRE(validated.map);
      CHECK(fast.map->devices.size() == validated.map->devices.size());
      CHECK(fast.map->devices.at(0).volumes.size() == validated.map->devices.at(0).volumes.size());
      CHECK(fast.rendered_diagnostics() == validated.rendered_diagnostics());
    }
  }
}

}  // namespace
}  // namespace farmctl::runtime
