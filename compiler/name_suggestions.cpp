#include "compiler/name_suggestions.h"

#include <algorithm>

#include <fmt/format.h>

namespace farmctl::fml {
namespace {

constexpr std::size_t kLongestName = 128;
// Edit-distance cells one call may compute: a farm with a great many names
// gets a suggestion from the names looked at within this budget, not a slow run.
constexpr std::size_t kWorkBudget = std::size_t{1} << 22;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string suggestion_suffix(std::string_view wanted, const std::vector<std::string>& known) {
  if (wanted.size() > kLongestName) return {};  // not a typo; and keeps the cost bounded
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  std::size_t work = 0;
  for (const std::string& k : known) {
    if (k.size() > kLongestName) continue;
    work += (wanted.size() + 1) * (k.size() + 1);
    if (work > kWorkBudget) break;
    std::size_t d = edit_distance(wanted, k);
    if (best == nullptr || d < best_distance) best = &k, best_distance = d;
  }
  if (best == nullptr || best_distance > std::max<std::size_t>(2, wanted.size() / 3)) return {};
  return fmt::format(" (did you mean '{}'?)", *best);
}

}  // namespace farmctl::fml
