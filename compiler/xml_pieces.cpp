#include "compiler/xml_pieces.h"

#include <algorithm>
#include <cstring>

#include "compiler/xml_chars.h"

namespace farmctl::fml {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view kLineEnd = "\n";

// Past the byte-order mark, the XML declaration, comments, processing
// instructions and blanks before the root element; npos if one never ends.
std::size_t skip_prologue(std::string_view src) {
  std::size_t i = src.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  for (;;) {
    while (i < src.size() && is_xml_space(src[i])) ++i;
    std::string_view close;
    if (src.substr(i, 4) == "<!--") close = "-->";
    else if (src.substr(i, 2) == "<?") close = "?>";
    else return i;
    std::size_t end = src.find(close, i + 2);
    if (end == npos) return npos;
    i = end + close.size();
  }
}

// Line ends in [from, to) as an XML parser counts them: LF, CR LF, and a CR alone.
int line_ends(std::string_view src, std::size_t from, std::size_t to) {
  int count = 0;
  each_index_of(src.substr(from, to - from), '\n', [&](std::size_t) { ++count; });
  const char* p = src.data() + from;
  const char* end = src.data() + to;
  while ((p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)))) != nullptr) {
    ++p;
    if (p == end || *p != '\n') ++count;
  }
  return count;
}

// Where the blanks end that open the line after the line end at `line_end`.
std::size_t after_line_blanks(std::string_view src, std::size_t line_end) {
  std::size_t k = line_end + 1;
  while (k < src.size() && (src[k] == ' ' || src[k] == '\t')) ++k;
  return k;
}

}  // namespace

std::vector<std::string_view> DocumentPieces::piece(std::string_view source, std::size_t k) const {
  std::size_t begin = k == 0 ? 0 : cuts[k - 1].at;
  std::size_t end = k < cuts.size() ? cuts[k].at : source.size();
  std::vector<std::string_view> parts;
  if (k > 0) parts = {source.substr(0, root_tag_end), kLineEnd, cuts[k - 1].indent};
  parts.push_back(source.substr(begin, end - begin));
  if (k < cuts.size()) parts.push_back(closer);
  return parts;
}

std::optional<DocumentPieces> find_document_pieces(std::string_view src, std::size_t most) {
  std::size_t lt = skip_prologue(src);
  // A DOCTYPE ("<!") or text where the root should start: the one parse says what is wrong.
  if (most < 2 || lt == npos || lt + 1 >= src.size() || src[lt] != '<' || !is_name_char(src[lt + 1]))
    return std::nullopt;
  std::size_t name_end = lt + 1;
  while (name_end < src.size() && is_name_char(src[name_end])) ++name_end;
  std::size_t root_tag_end = end_of_start_tag(src, lt + 1);
  if (root_tag_end == npos || src[root_tag_end - 2] == '/') return std::nullopt;

  DocumentPieces pieces;
  pieces.root_tag_end = root_tag_end;
  pieces.root_tag_end_line = 1 + line_ends(src, 0, root_tag_end);
  pieces.closer = "</" + std::string(src.substr(lt + 1, name_end - lt - 1)) + ">";
  // The root's children are most likely indented as its first child is.
  std::string_view indent;
  if (std::size_t first_line = src.find('\n', root_tag_end); first_line != npos)
    indent = src.substr(first_line + 1, after_line_blanks(src, first_line) - first_line - 1);

  std::size_t counted_to = root_tag_end;
  int line = pieces.root_tag_end_line;
  for (std::size_t k = 1; k < most; ++k) {
    std::size_t from = std::max(counted_to, src.size() / most * k);
    for (std::size_t nl = src.find('\n', from); nl != npos; nl = src.find('\n', nl + 1)) {
      std::size_t at = after_line_blanks(src, nl);
      if (at + 1 >= src.size() || src[at] != '<' || !is_name_char(src[at + 1])) continue;
      if (src.substr(nl + 1, at - nl - 1) != indent) continue;
      line += line_ends(src, counted_to, at);
      counted_to = at;
      pieces.cuts.push_back({at, line, src.substr(nl + 1, at - nl - 1)});
      break;
    }
  }
  if (pieces.cuts.empty()) return std::nullopt;
  return pieces;
}

}  // namespace farmctl::fml
