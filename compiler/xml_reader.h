#pragma once
// The one part of farmctl that includes Xerces-C++ (besides nothing else):
// parses an XML document held in memory, validates it against an XSD given as
// text, and returns the element tree with source positions.
//
// Safety: DOCTYPE declarations are refused outright (so no DTD, no external or
// internal entity, no entity expansion), no schema location in the document is
// followed, and any attempt to resolve an external resource fails. A document
// can make farmctl read nothing but itself.
//
// Failure: returns nullopt when the document is not well-formed. A document
// that is well-formed but breaks the schema is returned all the same, with the
// schema errors in `diags`, so that later checks can report their errors in
// the same run; the caller must treat it as invalid.
#include <functional>
#include <optional>
#include <string_view>

#include "compiler/diagnostics.h"
#include "compiler/xml_document.h"

namespace farmctl::fml {

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags);

// Told each child of the root as soon as its end tag is read, so that a large
// document can be used while the rest of it is still being read. `clean`:
// nothing so far broke the schema or the syntax (schema errors are held back
// until the end, so `diags` does not say). The element and the document's
// earlier elements stay where they are until read_xml_document returns the
// document; a later error can still make the whole document invalid.
using TopElementClosed = std::function<void(const XmlDocument& doc, std::uint32_t element, bool clean)>;
// Offered each grandchild of the root as its start tag is read (with its
// attributes and their places, but no text or children yet), with its
// parent; returning true takes it: it is not kept in the document (nor is
// anything inside it). `element` is reused for the next one. For the
// million <volume> elements of a large wiring map, which need no tree.
using TakeElement = std::function<bool(const XmlDocument& doc, const XmlElement& parent, const XmlElement& element)>;
std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags,
                                             const TopElementClosed& on_top_closed,
                                             const TakeElement& take_element = TakeElement());

// Only Xerces-C++'s part of read_xml_document: the same reader, features,
// limits and schema, into a handler that keeps nothing (bench/xml_ceiling
// times it). False when the document is not well-formed or breaks the schema.
bool parse_only(std::string_view source, std::string_view schema_xsd, std::string_view schema_name);

}  // namespace farmctl::fml
