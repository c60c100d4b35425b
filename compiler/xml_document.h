#pragma once
// A read-only XML element tree with source positions, produced by
// read_xml_document (xml_reader.h). Kept flat (elements in one vector, children
// by index) so that no walk over it needs recursion and destroying a deep
// document cannot overflow the stack.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diagnostics.h"

namespace farmctl::fml {

struct XmlAttribute {
  std::string name;
  std::string value;
  Position name_pos;
  Position value_pos;  // first character inside the quotes
};

struct XmlElement {
  std::string name;
  Position pos;  // the '<' of the start tag
  std::vector<XmlAttribute> attributes;
  std::string text;        // character content, surrounding whitespace trimmed
  Position text_pos;       // first non-space character of the content
  std::vector<std::uint32_t> children;  // indices into XmlDocument::elements
  std::uint32_t parent = UINT32_MAX;

  const XmlAttribute* attribute(std::string_view attr_name) const;
};

struct XmlDocument {
  std::vector<XmlElement> elements;  // elements[0] is the root, then document order
  const XmlElement& root() const { return elements.front(); }
  const XmlElement& at(std::uint32_t i) const { return elements[i]; }
};

}  // namespace farmctl::fml
