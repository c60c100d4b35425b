#pragma once
// Where a large document can be cut so that several parsers read it at once
// (read_xml_document does, on two threads that take the pieces in turn).
// Each piece is a document of its own, made of pieces of the source and a
// few bytes of its own:
//
//   first piece:  source[0, cuts[0]) + closer                  e.g. ... </farm>
//   piece k:      source[0, root_tag_end) + "\n" + indent(k)
//                 + source[cuts[k-1], cuts[k]) + closer        (the last: no closer)
//
// A piece after the first repeats everything up to the root's start tag (the
// XML declaration, the root's attributes and namespace declarations), then a
// line end and the indentation of the cut's line, so that its elements stand
// in the columns they stand in in the whole document, on lines shifted by
// line_shift(k) from the line after the root's start tag on.
//
// The cuts are only guesses made without parsing: each at the first start
// tag that opens a line after its share of the file, indented as the line
// after the root's start tag is (where its first child usually stands). They
// are right when every piece but the last, closed by `closer`, parses without
// a single error: a cut inside a comment, a CDATA section, an attribute value
// or a nested element makes the piece before it malformed. A reader that uses
// the pieces must fall back to one parse of the whole document unless every
// piece is clean.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::fml {

struct DocumentPieces {
  std::size_t root_tag_end = 0;  // just past the '>' of the root's start tag
  int root_tag_end_line = 1;     // the line it is on, as a parser counts lines
  std::string closer;            // "</ROOT>", which ends every piece but the last
  struct Cut {
    std::size_t at = 0;   // the '<' of the first start tag of the next piece
    int line = 1;         // its line, as a parser counts lines (LF, CR LF, CR)
    std::string_view indent;  // the blanks before it on its line
  };
  std::vector<Cut> cuts;  // in order; one fewer than the pieces

  std::size_t pieces() const { return cuts.size() + 1; }
  // The source and own bytes that make piece k, in order.
  std::vector<std::string_view> piece(std::string_view source, std::size_t k) const;
  // The first line the parser gives in a piece that is not the whole
  // document's: the one after the root's start tag.
  int first_shifted_line() const { return root_tag_end_line + 1; }
  // What to add to a line number the parser gives in piece k (from
  // first_shifted_line() on) to have the line in the whole document.
  int line_shift(std::size_t k) const { return k == 0 ? 0 : cuts[k - 1].line - first_shifted_line(); }
};

// Up to `most` pieces of about equal size; nothing when the document has no
// root start tag that a simple scan can find (a DOCTYPE, an empty root) or
// no line after its middle that opens with a start tag.
std::optional<DocumentPieces> find_document_pieces(std::string_view source, std::size_t most);

}  // namespace farmctl::fml
