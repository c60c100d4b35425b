#include "compiler/xml_halves.h"

#include <algorithm>
#include <cstring>

#include "compiler/xml_chars.h"

namespace farmctl::fml {
namespace {

constexpr std::size_t npos = std::string_view::npos;

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
std::size_t line_ends(std::string_view src, std::size_t from, std::size_t to) {
  std::size_t count = static_cast<std::size_t>(std::count(src.begin() + from, src.begin() + to, '\n'));
  const char* p = src.data() + from;
  const char* end = src.data() + to;
  while ((p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)))) != nullptr) {
    ++p;
    if (p == end || *p != '\n') ++count;
  }
  return count;
}

}  // namespace

std::optional<DocumentHalves> find_document_halves(std::string_view src) {
  std::size_t lt = skip_prologue(src);
  // A DOCTYPE ("<!") or text where the root should start: the one parse says what is wrong.
  if (lt == npos || lt + 1 >= src.size() || src[lt] != '<' || !is_name_char(src[lt + 1])) return std::nullopt;
  std::size_t name_end = lt + 1;
  while (name_end < src.size() && is_name_char(src[name_end])) ++name_end;
  std::size_t root_tag_end = end_of_start_tag(src, lt + 1);
  if (root_tag_end == npos || src[root_tag_end - 2] == '/') return std::nullopt;

  // The root's children are most likely indented as its first child is.
  std::string_view indent;
  std::size_t first_line = src.find('\n', root_tag_end);
  if (first_line != npos) {
    std::size_t k = first_line + 1;
    while (k < src.size() && (src[k] == ' ' || src[k] == '\t')) ++k;
    indent = src.substr(first_line + 1, k - first_line - 1);
  }
  for (std::size_t nl = src.find('\n', std::max(root_tag_end, src.size() / 2)); nl != npos;
       nl = src.find('\n', nl + 1)) {
    std::size_t k = nl + 1;
    while (k < src.size() && (src[k] == ' ' || src[k] == '\t')) ++k;
    if (k + 1 >= src.size() || src[k] != '<' || !is_name_char(src[k + 1])) continue;
    if (src.substr(nl + 1, k - nl - 1) != indent) continue;
    DocumentHalves halves;
    halves.root_tag_end = root_tag_end;
    halves.split = k;
    halves.closer = "</" + std::string(src.substr(lt + 1, name_end - lt - 1)) + ">";
    halves.padding.assign(line_ends(src, root_tag_end, nl + 1), '\n');
    halves.padding.append(src.substr(nl + 1, k - nl - 1));
    return halves;
  }
  return std::nullopt;
}

}  // namespace farmctl::fml
