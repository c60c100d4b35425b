// Rendering of compiler diagnostics: "FILE:LINE:COL: error: MESSAGE [CODE]",
// then the source line and a caret under the column.
#include "compiler/diagnostics.h"

#include <algorithm>

#include <fmt/format.h>

namespace farmctl::fml {

void DiagnosticList::error(Code code, Position pos, std::string message) {
  items_.push_back({code, Severity::error, pos, std::move(message)});
}

void DiagnosticList::warning(Code code, Position pos, std::string message) {
  items_.push_back({code, Severity::warning, pos, std::move(message)});
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

std::string_view source_line(std::string_view source, int line) {
  std::size_t start = 0;
  for (int i = 1; i < line; ++i) {
    std::size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  std::size_t end = source.find('\n', start);
  std::string_view text = source.substr(start, end == std::string_view::npos ? source.size() - start : end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// The caret line keeps the source line's tabs so the caret lands under the
// right character whatever the terminal's tab width.
std::string caret_line(std::string_view text, int col) {
  std::string caret;
  for (int i = 0; i + 1 < col && i < static_cast<int>(text.size()); ++i) caret += text[i] == '\t' ? '\t' : ' ';
  caret += '^';
  return caret;
}

}  // namespace

std::string render(const Diagnostic& d, std::string_view file_name, std::string_view source) {
  std::string_view kind = d.severity == Severity::error ? "error" : "warning";
  if (d.pos.line <= 0) return fmt::format("{}: {}: {} [{}]\n", file_name, kind, d.message, code_name(d.code));
  std::string out = fmt::format("{}:{}:{}: {}: {} [{}]\n", file_name, d.pos.line, d.pos.col, kind, d.message,
                                code_name(d.code));
  std::string_view text = source_line(source, d.pos.line);
  if (!text.empty()) out += fmt::format("  {}\n  {}\n", text, caret_line(text, d.pos.col));
  return out;
}

std::string render(const DiagnosticList& list, std::string_view file_name, std::string_view source) {
  std::string out;
  for (const Diagnostic& d : list.items()) out += render(d, file_name, source);
  return out;
}

}  // namespace farmctl::fml
