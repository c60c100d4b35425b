// FirstIndex (compiler/first_index.h): the first index of each value, and
// every later index that repeats one, as a hash map in document order says them.
#include "compiler/first_index.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace farmctl::fml {
namespace {

TEST_CASE("first index: lookups and duplicates in order", "[first_index]") {
  std::vector<std::string_view> values = {"web", "db", "web", "app", "db", "web", ""};
  FirstIndex index(values);
  CHECK(index.find("web") == 0);
  CHECK(index.find("db") == 1);
  CHECK(index.find("app") == 3);
  CHECK(index.find("") == 6);
  CHECK(index.find("cache") == FirstIndex::npos);
  using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
  CHECK(index.duplicates() == Pairs{{2, 0}, {4, 1}, {5, 0}});
  CHECK(FirstIndex({}).duplicates().empty());
  CHECK(FirstIndex({}).find("x") == FirstIndex::npos);
}

TEST_CASE("first index: agrees with a hash map over many values", "[first_index]") {
  // 30,000 values, a third of them repeats of earlier ones at scattered places.
  std::vector<std::string> texts;
  for (int i = 0; i < 30'000; ++i)
    texts.push_back(i % 3 == 2 ? fmt::format("v{}", (i * 7919) % (i + 1)) : fmt::format("v{}", i));
  std::vector<std::string_view> values(texts.begin(), texts.end());
  FirstIndex index(values);
  std::unordered_map<std::string_view, std::size_t> first;
  std::vector<std::pair<std::size_t, std::size_t>> expected;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (auto [it, fresh] = first.emplace(values[i], i); !fresh) expected.emplace_back(i, it->second);
  CHECK(index.duplicates() == expected);
  std::size_t found_first = 0;
  for (const auto& [value, i] : first) found_first += index.find(value) == i;
  CHECK(found_first == first.size());
  CHECK(expected.size() > 5'000);
}

}  // namespace
}  // namespace farmctl::fml
