#pragma once
// The one part of farmctl that includes Xerces-C++ (besides nothing else):
// parses an XML document held in memory, checks it against an XSD given as
// text — validated, or against the schema's outline (schema_outline.h) with
// a validated read to decide when the outline doubts — and returns the
// element tree with source positions.
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
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/schema_outline.h"
#include "compiler/xml_document.h"

namespace farmctl::fml {

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags);

// A document of at least this many bytes is cut into pieces that two
// threads parse (xml_pieces.h): the same tree, the same diagnostics (a piece
// with anything wrong sends the whole document through one parse, which
// says what). Below it a second thread costs more than it gives. The pieces
// are checked against the schema's outline, not validated (schema_outline.h),
// so they pay from a smaller size than the one validated parse did: bench/gen's
// 0.6 MB farm of 10,000 servers took 19-25 ms in one parse, 12-15 ms in
// pieces (226 M instructions for the whole compile against 257 M).
inline constexpr std::size_t kTwoThreadsFromBytes = 256 << 10;
// The same, with the size from which two threads are used given (tests).
std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags,
                                             std::size_t two_threads_from_bytes);

// With either hook below the document is read by one parse, in order.
//
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

// The same, read without the validator when the schema has an outline
// (schema_outline.h): each element is checked against the outline as it is
// read (bench/gen's million-volume wiring map: 1.22-1.48 s instead of
// 1.58-2.24 s, by hand). Nothing when the outline doubts the document or
// anything in it is wrong (or the schema has no outline): the caller then
// undoes what its hooks did and reads the document with the hooked
// read_xml_document above, which decides, and says what is wrong where.
std::optional<XmlDocument> read_xml_document_against_outline(std::string_view source, std::string_view schema_xsd,
                                                             const TopElementClosed& on_top_closed,
                                                             const TakeElement& take_element);

// Reading a large document without holding its tree: each child of the
// root is handed, whole, to a TopElementReader as soon as its end tag is
// read, and then dropped with everything inside it. A document read in
// pieces has a reader per piece (pieces are read on two threads); they are
// returned in document order, so that what they gathered can be put
// together. When a piece fails, every reader is thrown away and the whole
// document is read again by a new reader: the returned readers saw every
// element of the document, once.
class TopElementReader {
 public:
  virtual ~TopElementReader() = default;
  // `element` (an index into `doc`) with its attributes, text and every
  // element inside it; doc.root() has the root's attributes.
  virtual void read(const XmlDocument& doc, std::uint32_t element) = 0;
};
using MakeTopElementReader = std::function<std::unique_ptr<TopElementReader>()>;

struct StreamedDocument {
  XmlDocument doc;  // the root, with its attributes and no children
  std::vector<std::unique_ptr<TopElementReader>> readers;  // in document order
};
// Nothing when the document is not well-formed (as read_xml_document).
std::optional<StreamedDocument> read_xml_streamed(std::string_view source, std::string_view schema_xsd,
                                                  std::string_view schema_name, DiagnosticList& diags,
                                                  const MakeTopElementReader& make_reader,
                                                  std::size_t two_threads_from_bytes = kTwoThreadsFromBytes);

// Xerces-C++ set up for the process, once (every read does it first). 2 to 3 ms
// of tables: compile has it done on its second core while it reads a large
// file, instead of before the first piece's parse.
void ensure_xerces_initialized();

// The outline of a schema (schema_outline.h), read from its XSD; nothing when
// the XSD uses more than an outline holds.
std::optional<SchemaOutline> read_schema_outline(std::string_view schema_xsd);
// Whether a document is well-formed and fits the outline, read as the
// pieces of a large farm file are: without the validator. Tests hold the
// outline to its promise with it.
bool fits_outline(std::string_view source, const SchemaOutline& outline);

// Only Xerces-C++'s part of a validated read_xml_document: the same reader,
// features, limits and schema, into a handler that keeps nothing
// (bench/xml_ceiling times it). False when the document is not well-formed
// or breaks the schema.
bool parse_only(std::string_view source, std::string_view schema_xsd, std::string_view schema_name);

}  // namespace farmctl::fml
