#pragma once
// "did you mean ...?" for names that refer to nothing: the closest known name
// by edit distance, when it is close enough to be a likely typo.
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::fml {

// Returns "" or " (did you mean 'role37'?)".
std::string suggestion_suffix(std::string_view wanted, const std::vector<std::string>& known);

}  // namespace farmctl::fml
