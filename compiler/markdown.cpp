#include "compiler/markdown.h"

#include <algorithm>

namespace farmctl::markdown {

std::string text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '~':
        out += '\\';
        out += c;
        break;
      case '<': out += "&lt;"; break;
      case '&': out += "&amp;"; break;
      case '\n': case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

std::string code(std::string_view s) {
  // The fence is one backtick more than the longest run inside; a space pads
  // content that starts or ends with a backtick. '|' must be escaped even in
  // a code span inside a table (GFM); it renders as '|'.
  std::size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  std::string body;
  for (char c : s) {
    if (c == '|') body += "\\|";
    else if (c == '\n' || c == '\r') body += ' ';
    else body += c;
  }
  bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

std::string header(const std::vector<std::string>& titles) {
  std::string out = row(titles) + "|";
  for (std::size_t i = 0; i < titles.size(); ++i) out += "---|";
  return out + "\n";
}

std::size_t append_rows(std::string& out, const std::vector<std::string>& rows, std::size_t budget,
                        std::size_t reserve) {
  std::size_t limit = budget > reserve ? budget - reserve : 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (out.size() + rows[i].size() > limit) return rows.size() - i;
    out += rows[i];
  }
  return 0;
}

}  // namespace farmctl::markdown
