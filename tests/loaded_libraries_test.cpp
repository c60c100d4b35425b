// What farmctl loads at each start: every command pays for each shared
// library it maps and relocates. Xerces comes from its archive without
// libcurl (docs/design/xerces-linking.md); the HTTP server and OpenSSL come
// only with farmctl-serve, which `farmctl serve` runs
// (docs/design/serve-binary.md).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "iscsi_initiator.h"  // run_tool
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using farmctl::testing::run_tool;
using farmctl::testing::ToolRun;

// What the dynamic loader would load for `binary` (ldd's way, without ldd).
std::string loaded_libraries(const fs::path& binary) {
  ToolRun r = run_tool(fmt::format("LD_TRACE_LOADED_OBJECTS=1 '{}'", binary.string()));
  REQUIRE(r.output.find("libc.so") != std::string::npos);  // the loader answered
  return r.output;
}

const fs::path kFarmctl = FARMCTL_BINARY;
const fs::path kFarmctlServe = kFarmctl.parent_path() / "farmctl-serve";

}  // namespace

#ifdef FARMCTL_XERCES_NO_NETWORK
TEST_CASE("farmctl loads neither libcurl nor a shared Xerces", "[cli]") {
  std::string libraries = loaded_libraries(kFarmctl);
  INFO(libraries);
  CHECK(libraries.find("libcurl") == std::string::npos);
  CHECK(libraries.find("libxerces") == std::string::npos);  // linked from its archive
}
#endif

TEST_CASE("farmctl loads no HTTP server or TLS library: farmctl-serve alone does", "[cli]") {
  std::string farmctl = loaded_libraries(kFarmctl);
  INFO(farmctl);
  CHECK(farmctl.find("libcpp-httplib") == std::string::npos);
#ifdef FARMCTL_XERCES_NO_NETWORK  // a shared Xerces brings OpenSSL too, through libcurl
  CHECK(farmctl.find("libssl") == std::string::npos);
  CHECK(farmctl.find("libcrypto") == std::string::npos);
#endif
  std::string serve = loaded_libraries(kFarmctlServe);
  INFO(serve);
  CHECK(serve.find("libcpp-httplib") != std::string::npos);
}

TEST_CASE("farmctl serve without farmctl-serve beside it says what is missing", "[cli]") {
  farmctl::testing::TempDir dir;
  fs::path alone = dir.path() / "farmctl";
  fs::copy_file(kFarmctl, alone);
  ToolRun r = run_tool(fmt::format("'{}' serve --db '{}'", alone.string(), (dir.path() / "farm.db").string()));
  CHECK(r.status == 1);
  CHECK(r.output == fmt::format("farmctl: error: cannot run {}: No such file or directory (farmctl-serve must "
                                "be beside farmctl)\n",
                                (dir.path() / "farmctl-serve").string()));
  // A bad option is said by farmctl itself, before it looks for farmctl-serve.
  ToolRun bad = run_tool(fmt::format("'{}' serve --interval 0", alone.string()));
  CHECK(bad.status == 1);
  CHECK(bad.output == "farmctl: error: --interval must be more than 0\n");
}
