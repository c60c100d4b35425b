// Replays every input of the fuzz corpora (tests/fuzz/corpus/, grown by
// scripts/fuzz) through the code the fuzzers drive, with the fuzzers' own
// checks (tests/fuzz/*_fuzz_input.h). So the ordinary suite keeps what the
// fuzzers found: an input that once crashed, hung or was slow stays a test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/compile_fuzz_input.h"
#include "tests/fuzz/value_fuzz_input.h"

namespace farmctl::fml {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus(std::string_view name) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::path(FARMCTL_SOURCE_DIR) / "tests/fuzz/corpus" / name))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// Not a timing test; a generous bound that only a quadratic blow-up (or a
// hang) would reach, reported with the input that reached it.
constexpr auto kSlowInput = std::chrono::seconds(5);

TEST_CASE("every input of the compile corpus compiles without crashing", "[compiler][fuzz]") {
  std::vector<fs::path> files = corpus("compile");
  REQUIRE(files.size() >= 40);
  for (const fs::path& file : files) {
    INFO(file.filename().string());
    auto start = std::chrono::steady_clock::now();
    fuzz::compile_input(read_file(file));
    CHECK(std::chrono::steady_clock::now() - start < kSlowInput);
  }
}

TEST_CASE("every input of the values corpus goes through its value parser", "[compiler][fuzz]") {
  std::vector<fs::path> files = corpus("values");
  REQUIRE(files.size() >= 40);
  for (const fs::path& file : files) {
    INFO(file.filename().string());
    auto start = std::chrono::steady_clock::now();
    fuzz::parse_value_input(read_file(file));
    CHECK(std::chrono::steady_clock::now() - start < kSlowInput);
  }
}

}  // namespace
}  // namespace farmctl::fml
