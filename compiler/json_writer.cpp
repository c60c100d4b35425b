#include "compiler/json_writer.h"

#include <array>
#include <charconv>

namespace farmctl::json {
namespace {

// The bytes a JSON string escapes: the quote, the backslash, control characters.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

}  // namespace

void Writer::newline_indent() {
  if (!pretty_) return;
  // One append of a line end and the indentation, cut from a line end and
  // 64 spaces while they suffice (twelve hundred thousand times for a large plan).
  static constexpr std::string_view kLineEnd =
      "\n                                                                ";
  std::size_t spaces = levels_.size() * static_cast<std::size_t>(indent_);
  if (spaces < kLineEnd.size()) {
    out_.append(kLineEnd.data(), spaces + 1);
    return;
  }
  out_ += '\n';
  out_.append(spaces, ' ');
}

// Commas and line breaks before a value (or a key) as dump(2) places them.
void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) return;
  Level& level = levels_.back();
  if (!level.empty) out_ += ',';
  level.empty = false;
  newline_indent();
}

void Writer::key(std::string_view k) {
  before_value();
  write_string(k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
}

void Writer::begin_object() {
  before_value();
  out_ += '{';
  levels_.push_back({true});
}

void Writer::end_object() {
  bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) newline_indent();
  out_ += '}';
}

void Writer::begin_array() {
  before_value();
  out_ += '[';
  levels_.push_back({false});
}

void Writer::end_array() {
  bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) newline_indent();
  out_ += ']';
}

void Writer::value(std::string_view s) {
  before_value();
  write_string(s);
}

void append_number(std::string& out, std::int64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void Writer::value(std::int64_t n) {
  before_value();
  append_number(out_, n);
}

void Writer::value(std::uint64_t n) {
  before_value();
  append_number(out_, n);
}

void Writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
}

void Writer::null() {
  before_value();
  out_ += "null";
}

// Escapes as nlohmann::json does (ensure_ascii off): the two-character
// escapes, other control characters as \u00xx, everything else as it is.
void append_string(std::string& out, std::string_view s) {
  // Nearly every string needs no escape: it is copied with its quotes at once.
  std::size_t plain = 0;
  while (plain < s.size() && !kEscaped[static_cast<unsigned char>(s[plain])]) ++plain;
  if (plain == s.size()) {
    out += '"';
    out.append(s.data(), s.size());
    out += '"';
    return;
  }
  out += '"';
  std::size_t run = 0;  // start of the pending run of plain bytes
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* escape = nullptr;
    switch (c) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '\b': escape = "\\b"; break;
      case '\f': escape = "\\f"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      default: break;
    }
    if (escape == nullptr && c >= 0x20) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (escape != nullptr) {
      out += escape;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void Writer::write_string(std::string_view s) { append_string(out_, s); }

}  // namespace farmctl::json
