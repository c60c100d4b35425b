// A small-N run of bench/run, so the benchmark keeps working: it must build
// its inputs with bench/gen, run every stage, and print its whole table.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

TEST_CASE("bench/run completes on a small farm and prints every figure", "[bench]") {
  std::string build = std::filesystem::path(FARMCTL_BINARY).parent_path().string();
  std::string cmd = std::string("FARMCTL_BENCH_NO_BUILD=1 FARMCTL_BENCH_BIN='") + build +
                    "' SMALL=200 LARGE=400 VOLUMES=3000 PLAN_SERVERS=100 '" + FARMCTL_SOURCE_DIR + "/bench/run' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = pclose(pipe);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (const char* figure : {"compile 200 servers", "compile 400 servers", "import 3000 volumes", "plan from empty",
                             "the same plan as text", "actions per second", "no-op plan", "plan after one disk changed",
                             "Xerces-C++ alone", "compile 400 servers, ten to a tier", "median of 5 runs"})
    CHECK(out.find(figure) != std::string::npos);
}
