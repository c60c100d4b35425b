#include "compiler/farm_name_hint.h"

#include <filesystem>

namespace farmctl::fml {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The root element's start tag, past the XML declaration, comments and
// processing instructions; empty when the document starts otherwise.
std::string_view root_tag(std::string_view s) {
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (s.substr(i, 4) == "<!--") {
      std::size_t end = s.find("-->", i + 4);
      if (end == std::string_view::npos) return {};
      i = end + 3;
    } else if (s.substr(i, 2) == "<?") {
      std::size_t end = s.find("?>", i + 2);
      if (end == std::string_view::npos) return {};
      i = end + 2;
    } else {
      break;
    }
  }
  if (s.substr(i, 5) != "<farm" || i + 5 >= s.size() || !(is_space(s[i + 5]) || s[i + 5] == '>' || s[i + 5] == '/'))
    return {};
  std::size_t end = s.find('>', i);
  return end == std::string_view::npos ? std::string_view() : s.substr(i + 5, end - i - 5);
}

}  // namespace

std::optional<std::string> farm_name_hint(std::string_view source, std::string_view file_name) {
  std::string_view tag = root_tag(source);
  if (tag.data() == nullptr) return std::nullopt;
  std::size_t i = 0;
  while (i < tag.size()) {
    while (i < tag.size() && (is_space(tag[i]) || tag[i] == '/')) ++i;
    std::size_t name_start = i;
    while (i < tag.size() && tag[i] != '=' && !is_space(tag[i])) ++i;
    std::string_view name = tag.substr(name_start, i - name_start);
    while (i < tag.size() && (is_space(tag[i]) || tag[i] == '=')) ++i;
    if (i >= tag.size() || (tag[i] != '"' && tag[i] != '\'')) break;
    std::size_t close = tag.find(tag[i], i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view value = tag.substr(i + 1, close - i - 1);
    i = close + 1;
    if (name != "name") continue;
    if (value.find_first_of("&<") != std::string_view::npos) return std::nullopt;
    return std::string(value);
  }
  if (i < tag.size()) return std::nullopt;  // not attributes as the guess reads them
  return std::filesystem::path(file_name).stem().string();
}

}  // namespace farmctl::fml
