#pragma once
// Where a large document can be cut so that two parsers read it at once
// (read_xml_document does, on two threads). Each half is a document of its
// own, made of pieces of the source and a few bytes of its own:
//
//   first half:  source[0, split) + closer            e.g. ... </farm>
//   second half: source[0, root_tag_end) + padding + source[split, end)
//
// The second half repeats everything up to the root's start tag (the XML
// declaration, the root's attributes and namespace declarations), then
// blank lines and the split line's indentation, so that every element after
// the cut stands on the same line and column as in the whole document: the
// parser's positions need no translation.
//
// The cut is only a guess made without parsing: at the first start tag that
// opens a line after the middle, indented as the line after the root's
// start tag is (where its first child usually stands). It is right when the first half, closed by
// `closer`, parses without a single error; a cut inside a comment, a CDATA
// section, an attribute value or a nested element makes that half
// malformed. A reader that uses the halves must fall back to one parse of
// the whole document unless both halves are clean.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::fml {

struct DocumentHalves {
  std::size_t root_tag_end = 0;  // just past the '>' of the root's start tag
  std::size_t split = 0;         // the '<' of the first start tag of the second half
  std::string closer;            // "</ROOT>", which ends the first half
  std::string padding;           // line ends and indentation before the split
};

// Nothing when the document has no root start tag that a simple scan can
// find (a DOCTYPE, an empty root, a root that ends early) or no line after
// its middle that opens with a start tag.
std::optional<DocumentHalves> find_document_halves(std::string_view source);

}  // namespace farmctl::fml
