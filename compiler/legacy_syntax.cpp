#include "compiler/legacy_syntax.h"

#include <cctype>
#include <string>

#include <fmt/format.h>

#include "compiler/xml_chars.h"

namespace farmctl::fml {
namespace {

// Scans the start tags of a document; knows just enough XML to skip
// comments, CDATA sections, processing instructions and declarations.
class LegacyScanner {
 public:
  LegacyScanner(const SourceMap& map, DiagnosticList& diags) : map_(map), src_(map.source()), diags_(diags) {}

  int run() {
    while (i_ < src_.size()) {
      std::size_t lt = src_.find('<', i_);
      if (lt == std::string_view::npos) break;
      i_ = lt;
      char next = lt + 1 < src_.size() ? src_[lt + 1] : '\0';
      if ((next == '!' || next == '?') && (skip_markup("<!--", "-->") || skip_markup("<![CDATA[", "]]>") ||
                                           skip_markup("<?", "?>") || skip_markup("<!", ">")))
        continue;
      ++i_;
      if (i_ < src_.size() && is_name_char(src_[i_]))
        scan_start_tag();
    }
    return found_;
  }

 private:
  bool skip_markup(std::string_view open, std::string_view close) {
    if (src_.substr(i_, open.size()) != open) return false;
    std::size_t end = src_.find(close, i_ + open.size());
    i_ = end == std::string_view::npos ? src_.size() : end + close.size();
    return true;
  }

  std::string_view read_name() {
    std::size_t start = i_;
    while (i_ < src_.size() && is_name_char(src_[i_])) ++i_;
    return src_.substr(start, i_ - start);
  }

  void skip_space() {
    while (i_ < src_.size() && is_xml_space(src_[i_])) ++i_;
  }

  void scan_start_tag() {
    std::string_view element = read_name();
    std::string_view previous_attribute;
    while (i_ < src_.size()) {
      skip_space();
      if (i_ >= src_.size()) return;
      char c = src_[i_];
      if (c == '>') { ++i_; return; }
      if (c == '/' && i_ + 1 < src_.size() && src_[i_ + 1] == '>') { i_ += 2; return; }
      if (c == ',') { report_comma(element, previous_attribute); ++i_; continue; }
      if (c == '/' && i_ + 1 < src_.size() && is_name_char(src_[i_ + 1])) { report_name_closer(element); return; }
      if (!is_name_char(c)) return;  // something else is wrong: the XML parser will say what
      previous_attribute = read_name();
      skip_space();
      if (i_ >= src_.size() || src_[i_] != '=') return;
      ++i_;
      skip_space();
      if (i_ >= src_.size() || (src_[i_] != '"' && src_[i_] != '\'')) return;
      std::size_t close = src_.find(src_[i_], i_ + 1);
      if (close == std::string_view::npos) {
        report_unclosed_value(element, previous_attribute);
        return;
      }
      i_ = close + 1;
    }
  }

  void report_comma(std::string_view element, std::string_view previous_attribute) {
    std::size_t comma = i_;
    std::size_t next = comma + 1;
    while (next < src_.size() && is_xml_space(src_[next])) ++next;
    std::size_t end = next;
    while (end < src_.size() && is_name_char(src_[end])) ++end;
    std::string next_attribute(src_.substr(next, end - next));
    std::string between = previous_attribute.empty() || next_attribute.empty()
                              ? std::string()
                              : fmt::format(" between {} and {}", previous_attribute, next_attribute);
    diags_.error(Code::old_style_syntax, map_.position(comma),
                 fmt::format("attributes of <{}> are separated by a comma{}: XML separates attributes with "
                             "whitespace only; delete the ',' (old FML examples show commas there)",
                             element, between));
    ++found_;
  }

  void report_name_closer(std::string_view element) {
    std::size_t at = i_;
    std::string_view closer = read_name_after_slash();
    diags_.error(Code::old_style_syntax, map_.position(at),
                 fmt::format("'/{}>' does not close a tag: end an empty element with '/>' "
                             "(<{} ... />) or close it with '</{}>'",
                             closer, element, element));
    ++found_;
    std::size_t gt = src_.find('>', i_);
    i_ = gt == std::string_view::npos ? src_.size() : gt + 1;
  }

  // A quote that never closes swallows the rest of the file, and the parser
  // can then only say "unexpected end of input" at the very end.
  void report_unclosed_value(std::string_view element, std::string_view attribute) {
    diags_.error(Code::malformed_xml, map_.position(i_),
                 fmt::format("the value of '{}' on <{}> never ends: add the closing {} (the rest of the file is "
                             "inside the quotes)",
                             attribute, element, src_[i_]));
    ++found_;
    i_ = src_.size();
  }

  std::string_view read_name_after_slash() {
    ++i_;  // the '/'
    return read_name();
  }

  const SourceMap& map_;
  std::string_view src_;
  DiagnosticList& diags_;
  std::size_t i_ = 0;
  int found_ = 0;
};

}  // namespace

int find_legacy_syntax(const SourceMap& source, DiagnosticList& diags) {
  return LegacyScanner(source, diags).run();
}

}  // namespace farmctl::fml
