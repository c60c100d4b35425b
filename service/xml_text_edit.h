#pragma once
// Edits of an XML document's text guided by its parsed tree
// (compiler/xml_document.h): replace an attribute's value or an element's
// text, add a child element. Everything not edited — comments, formatting,
// attribute order — stays byte for byte, so a farm's revisions differ only
// where a work order changed something and read well in a diff.
//
// Positions come from the parser (line, byte column); the editor turns them
// into offsets of the text the tree was parsed from. An XmlTextEdit applies
// one edit at a time and is then spent (the tree no longer matches the text):
// parse the result again for the next edit.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/xml_document.h"

namespace farmctl::service {

class XmlTextEdit {
 public:
  XmlTextEdit(std::string_view source, const fml::XmlDocument& doc);

  // The element whose start tag begins at `pos`; UINT32_MAX when none.
  std::uint32_t element_at(fml::Position pos) const;
  // A child element of `parent` named `name`; UINT32_MAX when none.
  std::uint32_t child_named(std::uint32_t parent, std::string_view name) const;

  // The text with the edit made. Each throws std::logic_error when the tree
  // and the text disagree (a bug, not bad input).
  std::string replace_attribute_value(std::uint32_t element, std::string_view attribute, std::string_view value) const;
  std::string replace_text(std::uint32_t element, std::string_view text) const;
  // Adds `child_xml` (one element, no trailing newline) as the last child of
  // `parent`, on its own line, indented one step more than the parent.
  std::string append_child(std::uint32_t parent, std::string_view child_xml) const;

 private:
  std::size_t offset(fml::Position pos) const;
  std::string_view indentation_of(std::size_t offset) const;
  std::size_t start_tag_end(std::size_t start) const;  // offset just past the start tag's '>'
  std::size_t end_tag_start(std::uint32_t element, std::size_t after) const;

  std::string_view source_;
  const fml::XmlDocument& doc_;
  std::vector<std::size_t> line_starts_;
};

// `text` escaped for an attribute value in double quotes or for element content.
std::string xml_escape(std::string_view text);

}  // namespace farmctl::service
