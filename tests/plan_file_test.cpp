// The saved-plan file (farmctl plan --out; reconcile::to_plan_file and
// from_plan_file): a plan read back is the plan written, byte for byte when
// written again, and a file that is not one is refused with the reason.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/scenario_fixture.h"

namespace farmctl::testing {
namespace {

using reconcile::from_plan_file;
using reconcile::ReconcilePlan;
using reconcile::to_plan_file;

const char* kFarm = R"(<?xml version="1.0"?>
<farm fmlversion="1.2" name="web">
  <farm-global-disks><global-disk global-name="shared" drivesize="8631"/></farm-global-disks>
  <tier id="t1" name="web"><role>web</role><init-servers>2</init-servers></tier>
  <server-role id="web" name="web">
    <hw>cpu-sun4u-x4</hw>
    <disk target="0" drivesize="8631"><diskimage type="system">solaris</diskimage></disk>
    <disk target="3" drivename="/home" drivesize="512MB">
      <attribute name="raid-level" value="0+1"/>
      <attribute name="backup-policy" value="nightly"/>
    </disk>
    <shared-disk global-name="shared" target="1"/>
  </server-role>
</farm>
)";

std::string error_of(const std::string& text) {
  try {
    from_plan_file(text);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("a saved plan reads back as the plan written", "[plan-file]") {
  Scenario s;
  ReconcilePlan plan = s.plan(kFarm);
  REQUIRE(plan.actions.size() > 10);
  std::string text = to_plan_file(plan);
  ReconcilePlan back = from_plan_file(text);
  CHECK(to_plan_file(back) == text);
  CHECK(back.actions.size() == plan.actions.size());
  CHECK(back.changes.size() == plan.changes.size());
  CHECK(back.plan_json == plan.plan_json);
  CHECK(back.volumes_applied == plan.volumes_applied);
  CHECK(back.generation == plan.generation);
  for (std::size_t i = 0; i < plan.actions.size(); ++i) {
    INFO("action " << plan.actions[i].id);
    CHECK(reconcile::action_to_json(back.actions[i]) == reconcile::action_to_json(plan.actions[i]));
  }
  // The same document as a JSON library writes it.
  CHECK(nlohmann::ordered_json::parse(text).dump(1) + "\n" == text);

  // Its keys sorted (as a tool that rewrites JSON may leave it): "actions"
  // now comes before "plan_file_version", and every action is still read.
  ReconcilePlan sorted = from_plan_file(nlohmann::json::parse(text).dump(1));
  CHECK(to_plan_file(sorted) == text);
}

TEST_CASE("a file that is not a saved plan of this version is refused with the reason", "[plan-file]") {
  Scenario s;
  std::string text = to_plan_file(s.plan(kFarm));
  CHECK_THAT(error_of("not json"), Catch::StartsWith("not a farmctl plan file ("));
  CHECK_THAT(error_of(text.substr(0, text.size() / 2)), Catch::StartsWith("not a farmctl plan file ("));

  // Another version is refused as such, whatever its actions look like.
  auto other = nlohmann::ordered_json::parse(text);
  other["plan_file_version"] = 2;
  other["actions"] = nlohmann::ordered_json::array({{{"id", "one"}}});
  CHECK(error_of(other.dump()) == "plan file version 2 is not supported");

  auto damaged = nlohmann::ordered_json::parse(text);
  damaged["actions"][0].erase("device_action");
  CHECK_THAT(error_of(damaged.dump()), Catch::StartsWith("the plan file is damaged ("));
  damaged = nlohmann::ordered_json::parse(text);
  damaged.erase("changes");
  CHECK_THAT(error_of(damaged.dump()), Catch::StartsWith("the plan file is damaged ("));
}

}  // namespace
}  // namespace farmctl::testing
