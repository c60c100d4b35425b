#include "compiler/first_index.h"

#include <algorithm>
#include <functional>

namespace farmctl::fml {

FirstIndex::FirstIndex(std::vector<std::string_view> values) : values_(std::move(values)) {
  by_hash_.resize(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i)
    by_hash_[i] = {std::hash<std::string_view>()(values_[i]), static_cast<std::uint32_t>(i)};
  // By hash, then index: within one hash, the first of each value comes first.
  std::sort(by_hash_.begin(), by_hash_.end());
}

std::size_t FirstIndex::find(std::string_view value) const {
  std::size_t hash = std::hash<std::string_view>()(value);
  auto it = std::lower_bound(by_hash_.begin(), by_hash_.end(), std::pair<std::size_t, std::uint32_t>(hash, 0));
  for (; it != by_hash_.end() && it->first == hash; ++it)
    if (values_[it->second] == value) return it->second;
  return npos;
}

std::vector<std::pair<std::size_t, std::size_t>> FirstIndex::duplicates() const {
  std::vector<std::pair<std::size_t, std::size_t>> found;
  for (std::size_t run = 0, end = 0; run < by_hash_.size(); run = end) {
    for (end = run + 1; end < by_hash_.size() && by_hash_[end].first == by_hash_[run].first;) ++end;
    // A run of one hash is nearly always one value, once.
    for (std::size_t k = run + 1; k < end; ++k)
      for (std::size_t j = run; j < k; ++j)
        if (values_[by_hash_[j].second] == values_[by_hash_[k].second]) {
          found.emplace_back(by_hash_[k].second, by_hash_[j].second);
          break;
        }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace farmctl::fml
