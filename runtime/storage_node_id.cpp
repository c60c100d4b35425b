#include "runtime/storage_node_id.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "runtime/inventory.h"

namespace farmctl::runtime {
namespace {

constexpr std::array<std::string_view, 4> kKeys{"vendor", "model", "serial", "device"};
constexpr std::array<std::string_view, 4> kFields{"array", "model", "serial", "volume"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const std::string& field_of(const NodeFacts& facts, std::string_view name) {
  if (name == "array") return facts.array;
  if (name == "model") return facts.model;
  if (name == "serial") return facts.serial;
  return facts.volume;
}

}  // namespace

std::string normalise_id_part(std::string_view text) {
  std::string out;
  for (char c : trim(text)) {
    auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) && u < 0x80 ? static_cast<char>(std::toupper(u)) : (c == '.' || c == '-' ? c : '-');
  }
  return out.empty() ? "-" : out;
}

NodeIdTranslation NodeIdTranslation::parse(std::string_view text, std::string_view file_name) {
  NodeIdTranslation t;
  std::array<bool, 4> seen{};
  int line_no = 0;
  auto fail = [&](const std::string& what) {
    throw TranslationError(fmt::format("{}:{}: {}", file_name, line_no, what));
  };
  while (!text.empty()) {
    ++line_no;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) fail(fmt::format("expected KEY = VALUE, got '{}'", line));
    std::string_view key = trim(line.substr(0, eq));
    auto k = std::find(kKeys.begin(), kKeys.end(), key);
    if (k == kKeys.end()) fail(fmt::format("unknown key '{}' (vendor, model, serial, device)", key));
    auto index = static_cast<std::size_t>(k - kKeys.begin());
    if (seen[index]) fail(fmt::format("key '{}' given twice", key));
    seen[index] = true;
    std::string_view value = trim(line.substr(eq + 1));
    std::vector<Piece>& part = t.parts_[index];
    while (!value.empty()) {
      std::size_t open = value.find('{');
      if (open != 0) {
        part.push_back({std::string(value.substr(0, open)), {}});
        if (open == std::string_view::npos) break;
        value = value.substr(open);
      }
      std::size_t close = value.find('}');
      if (close == std::string_view::npos) fail(fmt::format("'{}' has a brace left open", key));
      Piece p;
      std::string_view names = value.substr(1, close - 1);
      while (true) {
        std::size_t bar = names.find('|');
        std::string_view name = trim(names.substr(0, bar));
        if (std::find(kFields.begin(), kFields.end(), name) == kFields.end())
          fail(fmt::format("unknown field {{{}}} (array, model, serial, volume)", name));
        p.fields.emplace_back(name);
        if (bar == std::string_view::npos) break;
        names = names.substr(bar + 1);
      }
      part.push_back(std::move(p));
      value = value.substr(close + 1);
    }
  }
  for (std::size_t i = 0; i < kKeys.size(); ++i)
    if (!seen[i]) throw TranslationError(fmt::format("{}: key '{}' is missing", file_name, kKeys[i]));
  return t;
}

std::string NodeIdTranslation::identify(const NodeFacts& facts) const {
  std::string out;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    std::string part;
    for (const Piece& p : parts_[i]) {
      part += p.literal;
      for (const std::string& f : p.fields)
        if (!field_of(facts, f).empty()) {
          part += field_of(facts, f);
          break;
        }
    }
    out += (i ? "__" : "") + normalise_id_part(part);
  }
  return out;
}

const NodeIdTranslation& node_id_translation(std::string_view family) {
  // Parsed once; a broken file shipped in the binary is a build mistake the
  // tests catch (every embedded file is parsed there).
  static const std::map<std::string, NodeIdTranslation, std::less<>> translations = [] {
    std::map<std::string, NodeIdTranslation, std::less<>> out;
    for (const auto& [name, text] : embedded_translation_files())
      out.emplace(std::string(name), NodeIdTranslation::parse(text, std::string(name) + ".ids"));
    return out;
  }();
  auto it = translations.find(family);
  if (it == translations.end()) it = translations.find("default");
  return it->second;
}

std::string storage_node_id(const DeviceRow& array, std::string_view volume) {
  return node_id_translation(array.config.driver)
      .identify({array.config.name, array.model, array.serial, std::string(volume)});
}

}  // namespace farmctl::runtime
