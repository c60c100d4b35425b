#pragma once
// Which index of a list first holds a value, for lists of 100,000 ids and
// names: the values' hashes sorted once, looked up by binary search. A hash
// map made a node for each value, and its lookups missed the cache on every
// node and every string (docs/performance.md, "Eighth round").
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace farmctl::fml {

class FirstIndex {
 public:
  static constexpr std::size_t npos = SIZE_MAX;

  // `values` stand for as long as the index does.
  explicit FirstIndex(std::vector<std::string_view> values);

  // The first index whose value is `value`; npos when none is.
  std::size_t find(std::string_view value) const;

  // (index, first index with its value) for each index whose value an
  // earlier one holds, in order of index.
  std::vector<std::pair<std::size_t, std::size_t>> duplicates() const;

 private:
  std::vector<std::string_view> values_;
  std::vector<std::pair<std::size_t, std::uint32_t>> by_hash_;  // (hash, index), sorted
};

}  // namespace farmctl::fml
