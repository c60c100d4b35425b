// What a farm file said of each volume when it was last applied
// (reconciler/applied_volumes.h): the entries of farm_volumes_applied as
// the planner reads them back, odd shapes included.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "reconciler/applied_volumes.h"

using namespace farmctl::reconcile;

namespace {

std::string dump(const AppliedVolumes& volumes) {
  std::map<std::string, AppliedVolume> sorted(volumes.begin(), volumes.end());
  std::string out;
  for (const auto& [id, v] : sorted) out += id + " " + std::to_string(v.size_mb) + " " + v.backup + "\n";
  return out;
}

}  // namespace

TEST_CASE("applied volumes: entries read back as written", "[applied]") {
  CHECK(dump(read_applied_volumes(R"([["web-0/t0",8192,"none"],["global/data",512000,"level 0 nightly retain 7"]])")) ==
        "global/data 512000 level 0 nightly retain 7\n"
        "web-0/t0 8192 none\n");
  CHECK(read_applied_volumes("[]").empty());
}

TEST_CASE("applied volumes: an entry of another shape is skipped, the others kept", "[applied]") {
  std::string text = R"([["a",1,"none"],)"
                     R"(["negative",-2,"x"],["float",1.5,"x"],["short",1],["long",1,"x",4],)"
                     R"([1,2,3],"loose",{"k":1},["nested",3,["x"]],["object",3,{"k":"x"}],[],)"
                     R"(["dup",1,"first"],["dup",2,"second"],["g",4,"ok"]])";
  CHECK(dump(read_applied_volumes(text)) ==
        "a 1 none\n"
        "dup 2 second\n"
        "g 4 ok\n");
}

TEST_CASE("applied volumes: a text that is not a list of entries reads as none", "[applied]") {
  for (const char* text : {"", "not json", R"({"a":[["a",1,"x"]]})", R"([["a",1,"x"])", R"([["a",1,"x"]] [])", "7",
                           "[[\"a\",1,\"\xff\"]]", "[[\"a\",1,\"x\"],]", "[[\"a\",01,\"x\"]]"})
    CHECK(read_applied_volumes(text).empty());
}

TEST_CASE("applied volumes: spaces, escapes and large numbers read as any JSON reader reads them", "[applied]") {
  CHECK(dump(read_applied_volumes(" [ [\"a\" , 1 , \"none\" ] ]\n")) == "a 1 none\n");
  CHECK(dump(read_applied_volumes(R"([["q\"uote\\d",2,"caf\u00e9"]])")) == "q\"uote\\d 2 caf\xc3\xa9\n");
  CHECK(dump(read_applied_volumes(R"([["a",18446744073709551615,"x"],["b",18446744073709551616,"x"]])")) ==
        "a 18446744073709551615 x\n");
}

TEST_CASE("applied volumes: entries as farmctl writes them take the fast reader, with the same result", "[applied]") {
  farmctl::plan::Plan ir;
  farmctl::plan::Volume data;
  data.id = "web-0/t1";
  data.size_mb = 20480;
  data.backup = {farmctl::fml::BackupPolicy{}};
  farmctl::plan::Volume boot;
  boot.id = "web-0/t0";
  boot.size_mb = 8192;
  ir.volumes = {boot, data};
  std::string text = applied_volumes_text(ir);
  AppliedVolumes fast;
  REQUIRE(read_written_entries(text, fast));
  CHECK(dump(fast) == dump(read_applied_volumes(text)));
  CHECK(fast.size() == 2);
  // What it leaves to the JSON parser.
  for (const char* other : {" []", R"([["a",1,"caf\u00e9"]])", "[[\"a\",1,\"\xc3\xa9\"]]", "[[\"a\",01,\"x\"]]"}) {
    AppliedVolumes out;
    CHECK_FALSE(read_written_entries(other, out));
  }
}
