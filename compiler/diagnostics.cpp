// Rendering of compiler diagnostics: "FILE:LINE:COL: error: MESSAGE [CODE]",
// then the source line and a caret under the column.
#include "compiler/diagnostics.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace farmctl::fml {

void DiagnosticList::error(Code code, Position pos, std::string message) {
  items_.push_back({code, Severity::error, pos, std::move(message)});
}

void DiagnosticList::warning(Code code, Position pos, std::string message) {
  items_.push_back({code, Severity::warning, pos, std::move(message)});
}

void DiagnosticList::append(const DiagnosticList& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool DiagnosticList::has_errors() const { return error_count() > 0; }

int DiagnosticList::error_count() const {
  return static_cast<int>(std::count_if(items_.begin(), items_.end(),
                                        [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

void DiagnosticList::sort_by_position() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.pos.line, a.pos.col) < std::pair(b.pos.line, b.pos.col);
  });
}

std::string code_name(Code code) { return fmt::format("FML{:03}", static_cast<int>(code)); }

namespace {

// Where each line of a source starts, built once per rendering so that many
// diagnostics in a large file cost one pass over it, not one pass each.
class LineIndex {
 public:
  explicit LineIndex(std::string_view source) : source_(source) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < source.size(); ++i)
      if (source[i] == '\n') starts_.push_back(i + 1);
  }

  std::string_view line(int number) const {
    if (number < 1 || static_cast<std::size_t>(number) > starts_.size()) return {};
    std::size_t start = starts_[number - 1];
    std::size_t end = source_.find('\n', start);
    std::string_view text = source_.substr(start, end == std::string_view::npos ? source_.size() - start : end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return text;
  }

 private:
  std::string_view source_;
  std::vector<std::size_t> starts_;
};

bool is_utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A long line (minified XML, a generated file) is shown as a window around
// the column, so that each diagnostic prints a bounded amount of text however
// many of them fall on that line.
constexpr std::size_t kLongLine = 200;
constexpr std::size_t kWindowBefore = 80;
constexpr std::size_t kWindowAfter = 80;

struct Excerpt {
  std::string text;  // what to print
  int col = 1;       // the caret's column within `text`
};

Excerpt excerpt(std::string_view line, int col) {
  std::size_t at = static_cast<std::size_t>(std::max(col, 1) - 1);
  if (line.size() <= kLongLine) return {std::string(line), col};
  at = std::min(at, line.size());
  std::size_t first = at > kWindowBefore ? at - kWindowBefore : 0;
  std::size_t last = std::min(line.size(), at + kWindowAfter);
  while (first > 0 && first < line.size() && is_utf8_continuation(line[first])) --first;
  while (last < line.size() && is_utf8_continuation(line[last])) ++last;
  Excerpt e;
  if (first > 0) e.text = "...";
  e.text += line.substr(first, last - first);
  if (last < line.size()) e.text += "...";
  e.col = static_cast<int>(at - first + (first > 0 ? 3 : 0)) + 1;
  return e;
}

// The caret line keeps the source line's tabs so the caret lands under the
// right character whatever the terminal's tab width, and gives a multi-byte
// UTF-8 character one space, as a terminal shows it in one cell.
std::string caret_line(std::string_view text, int col) {
  std::string caret;
  for (int i = 0; i + 1 < col && i < static_cast<int>(text.size()); ++i) {
    if (is_utf8_continuation(text[i])) continue;
    caret += text[i] == '\t' ? '\t' : ' ';
  }
  caret += '^';
  return caret;
}

std::string render_with(const Diagnostic& d, std::string_view file_name, const LineIndex& lines) {
  std::string_view kind = d.severity == Severity::error ? "error" : "warning";
  if (d.pos.line <= 0) return fmt::format("{}: {}: {} [{}]\n", file_name, kind, d.message, code_name(d.code));
  std::string out = fmt::format("{}:{}:{}: {}: {} [{}]\n", file_name, d.pos.line, d.pos.col, kind, d.message,
                                code_name(d.code));
  std::string_view text = lines.line(d.pos.line);
  if (text.empty()) return out;
  Excerpt part = excerpt(text, d.pos.col);
  out += fmt::format("  {}\n  {}\n", part.text, caret_line(part.text, part.col));
  return out;
}

}  // namespace

std::string render(const Diagnostic& d, std::string_view file_name, std::string_view source) {
  return render_with(d, file_name, LineIndex(source));
}

std::string render(const DiagnosticList& list, std::string_view file_name, std::string_view source) {
  if (list.items().empty()) return {};  // no line index of a large source for nothing
  LineIndex lines(source);
  std::string out;
  for (const Diagnostic& d : list.items()) out += render_with(d, file_name, lines);
  return out;
}

std::string shown(std::string_view name) {
  if (name.size() <= kLongestShownName) return std::string(name);
  std::size_t cut = kLongestShownName;
  while (cut > 0 && is_utf8_continuation(name[cut])) --cut;
  return std::string(name.substr(0, cut)) + "...";
}

}  // namespace farmctl::fml
