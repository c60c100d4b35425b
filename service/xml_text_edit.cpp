#include "service/xml_text_edit.h"

#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

#include "compiler/xml_chars.h"

namespace farmctl::service {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

XmlTextEdit::XmlTextEdit(std::string_view source, const fml::XmlDocument& doc) : source_(source), doc_(doc) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < source_.size(); ++i)
    if (source_[i] == '\n') line_starts_.push_back(i + 1);
}

std::size_t XmlTextEdit::offset(fml::Position pos) const {
  if (pos.line < 1 || static_cast<std::size_t>(pos.line) > line_starts_.size() || pos.col < 1)
    throw std::logic_error(fmt::format("position {}:{} is outside the farm's text", pos.line, pos.col));
  std::size_t at = line_starts_[static_cast<std::size_t>(pos.line - 1)] + static_cast<std::size_t>(pos.col - 1);
  if (at > source_.size()) throw std::logic_error("position past the end of the farm's text");
  return at;
}

std::uint32_t XmlTextEdit::element_at(fml::Position pos) const {
  for (std::uint32_t i = 0; i < doc_.elements.size(); ++i)
    if (doc_.elements[i].pos.line == pos.line && doc_.elements[i].pos.col == pos.col) return i;
  return UINT32_MAX;
}

std::uint32_t XmlTextEdit::child_named(std::uint32_t parent, std::string_view name) const {
  for (std::uint32_t c : doc_.at(parent).children)
    if (doc_.at(c).name == name) return c;
  return UINT32_MAX;
}

std::string_view XmlTextEdit::indentation_of(std::size_t at) const {
  std::size_t line_start = source_.rfind('\n', at == 0 ? 0 : at - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::size_t end = line_start;
  while (end < at && (source_[end] == ' ' || source_[end] == '\t')) ++end;
  return source_.substr(line_start, end - line_start);
}

std::size_t XmlTextEdit::start_tag_end(std::size_t start) const {
  std::size_t end = fml::end_of_start_tag(source_, start);
  if (end == std::string_view::npos) throw std::logic_error("a start tag without its '>'");
  return end;
}

// The first "</NAME" closing `element`: skips comments, CDATA and processing
// instructions, and counts nested elements of the same name.
std::size_t XmlTextEdit::end_tag_start(std::uint32_t element, std::size_t after) const {
  const std::string& name = doc_.at(element).name;
  auto name_ends_at = [&](std::size_t i) {
    if (source_.compare(i, name.size(), name) != 0) return false;
    std::size_t j = i + name.size();
    return j < source_.size() && (source_[j] == '>' || source_[j] == '/' || std::isspace(static_cast<unsigned char>(source_[j])));
  };
  int depth = 0;
  std::size_t i = after;
  while ((i = source_.find('<', i)) != std::string_view::npos) {
    if (source_.compare(i, 4, "<!--") == 0) {
      std::size_t e = source_.find("-->", i + 4);
      i = e == std::string_view::npos ? source_.size() : e + 3;
    } else if (source_.compare(i, 9, "<![CDATA[") == 0) {
      std::size_t e = source_.find("]]>", i + 9);
      i = e == std::string_view::npos ? source_.size() : e + 3;
    } else if (source_.compare(i, 2, "<?") == 0) {
      std::size_t e = source_.find("?>", i + 2);
      i = e == std::string_view::npos ? source_.size() : e + 2;
    } else if (source_.compare(i, 2, "</") == 0) {
      if (name_ends_at(i + 2)) {
        if (depth == 0) return i;
        --depth;
      }
      i += 2;
    } else {
      std::size_t end = start_tag_end(i);
      if (name_ends_at(i + 1) && source_[end - 2] != '/') ++depth;
      i = end;
    }
  }
  throw std::logic_error(fmt::format("no end tag for <{}>", name));
}

std::string XmlTextEdit::replace_attribute_value(std::uint32_t element, std::string_view attribute,
                                                 std::string_view value) const {
  const fml::XmlAttribute* attr = doc_.at(element).attribute(attribute);
  if (attr == nullptr) {
    // Not there yet: add it at the end of the start tag.
    std::size_t start = offset(doc_.at(element).pos);
    std::size_t end = start_tag_end(start) - 1;  // at '>'
    if (source_[end - 1] == '/') --end;
    std::string out(source_);
    out.insert(end, fmt::format(" {}=\"{}\"", attribute, xml_escape(value)));
    return out;
  }
  std::size_t at = offset(attr->value_pos);
  if (at == 0 || (source_[at - 1] != '"' && source_[at - 1] != '\''))
    throw std::logic_error(fmt::format("attribute {} is not where the parser saw it", attribute));
  std::size_t end = source_.find(source_[at - 1], at);
  if (end == std::string_view::npos) throw std::logic_error("an attribute value without its closing quote");
  std::string out(source_);
  out.replace(at, end - at, xml_escape(value));
  return out;
}

std::string XmlTextEdit::replace_text(std::uint32_t element, std::string_view text) const {
  const fml::XmlElement& e = doc_.at(element);
  std::size_t begin, end;
  if (e.text.empty()) {
    begin = end = start_tag_end(offset(e.pos));
    if (source_[begin - 2] == '/') throw std::logic_error("replace_text on an empty element");
  } else {
    begin = offset(e.text_pos);
    // The parsed text is trimmed and entity-decoded; the raw text runs to the next '<'.
    std::size_t next = source_.find('<', begin);
    if (next == std::string_view::npos) throw std::logic_error("element text without an end tag");
    end = next;
    while (end > begin && std::isspace(static_cast<unsigned char>(source_[end - 1]))) --end;
  }
  std::string out(source_);
  out.replace(begin, end - begin, xml_escape(text));
  return out;
}

std::string XmlTextEdit::append_child(std::uint32_t parent, std::string_view child_xml) const {
  std::size_t start = offset(doc_.at(parent).pos);
  std::size_t tag_end = start_tag_end(start);
  std::string indent(indentation_of(start));
  std::string child_indent = indent + "  ";
  // A child of several lines keeps its own relative indentation under ours.
  std::string child;
  for (char c : child_xml) {
    child += c;
    if (c == '\n') child += child_indent;
  }
  child_xml = child;
  std::string out(source_);
  if (source_[tag_end - 2] == '/') {  // <parent .../> becomes <parent ...> child </parent>
    std::size_t slash = tag_end - 2;
    while (slash > start && std::isspace(static_cast<unsigned char>(source_[slash - 1]))) --slash;
    out.replace(slash, tag_end - slash,
                fmt::format(">\n{}{}\n{}</{}>", child_indent, child_xml, indent, doc_.at(parent).name));
    return out;
  }
  std::size_t close = end_tag_start(parent, tag_end);
  std::string_view before_close = indentation_of(close);
  std::size_t line_start = close - before_close.size();
  bool own_line = line_start == 0 || source_[line_start - 1] == '\n';
  if (own_line)  // the end tag starts its line: the child goes on a line of its own above it
    out.insert(line_start, fmt::format("{}{}\n", child_indent, child_xml));
  else
    out.insert(close, fmt::format("\n{}{}\n{}", child_indent, child_xml, indent));
  return out;
}

}  // namespace farmctl::service
