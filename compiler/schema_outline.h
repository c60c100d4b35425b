#pragma once
// What a schema of the kind farmctl's are (schemas/*.xsd) fixes about a
// document, in a form that a reader checks as it goes: which elements may
// stand where, which attributes each may have and which it needs, and
// whether it holds text. Xerces-C++'s validator costs as much again as its
// parsing (docs/performance.md); a large farm file is read in pieces without
// it, each piece checked against the outline instead (xml_reader.cpp).
//
// The promise, held by tests/schema_outline_test.cpp: a well-formed document
// that fits the outline is valid against the schema. Not the converse: the
// outline doubts a little more than the schema refuses (a CDATA section, a
// boolean written with blanks, any attribute in a namespace), and a document
// it doubts is read again with the validator, which decides, and says what
// is wrong where.
//
// Read from the XSD itself (from_xsd), so that it cannot drift from the
// schema. It holds only what farmctl's schemas use; an XSD that uses more
// has no outline, and its documents are validated by Xerces, as always.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/xml_document.h"

namespace farmctl::fml {

class SchemaOutline {
 public:
  // An element's type: what the elements declared with it may hold.
  using TypeId = std::uint16_t;
  static constexpr TypeId kNoType = UINT16_MAX;

  enum class ValueType { string, boolean };
  struct Attribute {
    std::string name;
    ValueType type = ValueType::string;
    bool required = false;
  };
  struct Type {
    bool text = false;  // character data; otherwise only blanks between its children
    std::vector<std::pair<std::string, TypeId>> children;  // any of them, in any order and number
    std::vector<Attribute> attributes;
    std::size_t required = 0;  // how many of the attributes must be there
    // Any other attribute too, unchecked (xs:anyAttribute processContents="skip").
    bool any_attribute = false;
  };

  // The outline of an XSD (read as a plain document, without a schema), or
  // nothing when the XSD uses more than this holds: a global element of
  // type xs:string or a complex type; complex types named or inline, with
  // attributes of type xs:string or xs:boolean (use required or optional),
  // and either no children, or simple content extending xs:string, or one
  // repeated choice (minOccurs="0" maxOccurs="unbounded") of elements, or a
  // sequence of one element repeated so; any other attribute, unchecked
  // (xs:anyAttribute processContents="skip"); no namespace, no mixed content.
  static std::optional<SchemaOutline> from_xsd(const XmlDocument& xsd);

  // The type of a root element of this name, or kNoType.
  TypeId root(std::string_view name) const;
  // The type of a child of this name inside an element of type `parent`, or kNoType.
  TypeId child(TypeId parent, std::string_view name) const;
  const Type& type(TypeId id) const { return types_[id]; }

  // Whether `value` is an attribute value of this type. A boolean only as
  // written canonically: the schema would also take blanks around it.
  static bool fits(ValueType type, std::string_view value);
  // Whether an attribute the type does not declare is taken by its
  // anyAttribute: only a plain name. Read without namespaces, a prefixed
  // name or an xmlns declaration is just a name, which a validator reading
  // with namespaces would see otherwise.
  static bool fits_any_attribute(const Type& type, std::string_view name);

 private:
  std::vector<Type> types_;
  std::vector<std::pair<std::string, TypeId>> roots_;
};

}  // namespace farmctl::fml
