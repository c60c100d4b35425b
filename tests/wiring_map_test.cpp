// The wiring map's own checks (WIRING.md; runtime/wiring_map.h) where the
// schema cannot make them: names unique where they must be.
#include "runtime/wiring_map.h"

#include <catch2/catch.hpp>

#include <string>

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

}  // namespace
}  // namespace farmctl::runtime
