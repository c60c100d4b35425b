#pragma once
// The farm's name as a farm file's root tag gives it, read without parsing
// the file: `<farm ... name="web-prod">`, or the file's stem when the tag has
// no name. Only a guess, for work that can start before the file is
// compiled (farmctl plan reads the farm's records meanwhile); whoever uses it
// checks it against the compiled plan's name. Anything unusual (no <farm>
// first, an entity in the name, a tag that does not end) gives no guess.
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::fml {

std::optional<std::string> farm_name_hint(std::string_view source, std::string_view file_name);

}  // namespace farmctl::fml
