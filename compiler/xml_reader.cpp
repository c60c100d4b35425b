// This file's external interface is just read_xml_document. It is the only
// file in farmctl that includes Xerces-C++; the SAX handler and the message
// translation below are private to it.
#include "compiler/xml_reader.h"

#include <cctype>
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/EntityResolver.hpp>
#include <xercesc/sax/InputSource.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/BinInputStream.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLEntityResolver.hpp>
#include <xercesc/util/XMLString.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include "compiler/legacy_syntax.h"
#include "compiler/schema_outline.h"
#include "compiler/source_map.h"
#include "compiler/xml_chars.h"
#include "compiler/xml_pieces.h"
#include "runtime/phase_timer.h"

namespace farmctl::fml {

const XmlAttribute* XmlElement::attribute(std::string_view attr_name) const {
  for (const XmlAttribute& a : attributes)
    if (a.name == attr_name) return &a;
  return nullptr;
}

void ensure_xerces_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { XERCES_CPP_NAMESPACE::XMLPlatformUtils::Initialize(); });
}

namespace {

namespace xc = XERCES_CPP_NAMESPACE;

// XMLCh is UTF-16; converted by hand because Xerces' TranscodeToStr makes a
// new transcoder for every string, a tenth of the time a large wiring map
// took to import. (The parser has refused text that is not well-formed.)
void append_utf8(std::string& out, const XMLCh* chars, std::size_t length) {
  // Names and values are nearly always ASCII: those characters are copied
  // into room made once, and the rest (if any) encoded one by one.
  std::size_t old_size = out.size();
  out.resize(old_size + length);
  char* to = out.data() + old_size;
  std::size_t ascii = 0;
  constexpr std::uint64_t kNotAscii = 0xFF80FF80FF80FF80ULL;  // four UTF-16 units at a time
  for (std::uint64_t four = 0; ascii + 4 <= length; ascii += 4) {
    std::memcpy(&four, chars + ascii, sizeof four);
    if ((four & kNotAscii) != 0) break;
    to[ascii] = static_cast<char>(chars[ascii]);
    to[ascii + 1] = static_cast<char>(chars[ascii + 1]);
    to[ascii + 2] = static_cast<char>(chars[ascii + 2]);
    to[ascii + 3] = static_cast<char>(chars[ascii + 3]);
  }
  for (; ascii < length && chars[ascii] < 0x80; ++ascii) to[ascii] = static_cast<char>(chars[ascii]);
  out.resize(old_size + ascii);
  for (std::size_t i = ascii; i < length; ++i) {
    char32_t c = chars[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < length && chars[i + 1] >= 0xDC00 && chars[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(chars[i + 1]) - 0xDC00);
      ++i;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
}

std::string utf8(const XMLCh* text) {
  std::string out;
  if (text != nullptr) append_utf8(out, text, xc::XMLString::stringLen(text));
  return out;
}

// Every external resource (DTD, entity, schema hint) resolves to an error.
class RefuseEverything : public xc::EntityResolver {
 public:
  xc::InputSource* resolveEntity(const XMLCh* const, const XMLCh* const) override {
    throw xc::SAXException("farm files may not refer to other files or to the network");
  }
};

// Where one attribute of a start tag sits in the source.
struct AttributeSpot {
  std::size_t name = 0;
  std::size_t value = 0;      // first character inside the quotes
  std::size_t value_end = 0;  // the closing quote
};
// In the tag's order. A hash map made one allocation per attribute of every
// start tag read (a million in a large wiring map); tags have a few.
using AttributeSpots = std::vector<std::pair<std::string_view, AttributeSpot>>;

// The first spot of attribute `name` (as a hash map's emplace kept it), or null.
const AttributeSpot* find_spot(const AttributeSpots& spots, std::string_view name) {
  for (const auto& [n, spot] : spots)
    if (n == name) return &spot;
  return nullptr;
}

// Re-scans a start tag from its '<' for the place of each attribute: Xerces
// reports only where a start tag ends. One pass, so that a tag with thousands
// of attributes costs no more than its length. Fills `spots` (cleared first,
// so that its memory serves every tag).
void scan_attributes(std::string_view src, std::size_t tag_start, std::size_t tag_end, AttributeSpots& spots) {
  spots.clear();
  std::size_t i = tag_start + 1;
  while (i < tag_end && is_name_char(src[i])) ++i;
  while (i < tag_end) {
    while (i < tag_end && !is_name_char(src[i])) ++i;
    std::size_t name_start = i;
    while (i < tag_end && is_name_char(src[i])) ++i;
    std::string_view name = src.substr(name_start, i - name_start);
    while (i < tag_end && src[i] != '"' && src[i] != '\'') ++i;
    if (i >= tag_end) break;
    std::size_t value_start = i + 1;
    std::size_t close = src.find(src[i], value_start);
    if (close == std::string_view::npos || close > tag_end) break;
    spots.emplace_back(name, AttributeSpot{name_start, value_start, close});
    i = close + 1;
  }
}

// True when `raw`, bytes of the source, are exactly the ASCII characters of
// the NUL-terminated `chars` (what Xerces read): then `raw` serves for the
// string, with nothing to convert from UTF-16. One pass, which also tells a
// value the parser changed (an entity expanded, a tab or line end
// normalised) from one it did not.
bool same_ascii(std::string_view raw, const XMLCh* chars) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto byte = static_cast<unsigned char>(raw[i]);
    if (chars[i] == 0 || byte >= 0x80 || chars[i] != static_cast<XMLCh>(byte)) return false;
  }
  return chars[raw.size()] == 0;
}

// Turns a Xerces message into farmctl's words, with the position that helps
// most (the element's '<' or the attribute's name rather than the tag's end).
struct TranslatedError {
  Code code;
  std::string message;
  std::size_t offset;
};

class Handler : public xc::DefaultHandler {
 public:
  // `most_elements`: as many as the document can hold (its '<'s), room
  // reserved at once, instead of moving a million elements of a large wiring
  // map each time the vector grows.
  Handler(const SourceMap& map, DiagnosticList& diags, std::size_t most_elements)
      : map_(map), src_(map.source()), diags_(diags) {
    doc_.elements.reserve(most_elements);
  }

  // Lines from `from_line` on are `by` lines further down in the whole
  // document than in what the parser reads (a piece, xml_pieces.h).
  void shift_lines(int from_line, int by) {
    shift_from_line_ = from_line;
    shift_by_ = by;
  }

  XmlDocument take_document() {
    doc_.elements.resize(live_);
    return std::move(doc_);
  }
  void on_top_closed(const TopElementClosed* hook) { on_top_closed_ = hook; }
  // Each child of the root goes to `reader` when its end tag is read, and is
  // then dropped with everything inside it.
  void read_top_elements_with(TopElementReader* reader) { top_reader_ = reader; }
  void take_element(const TakeElement* hook) { take_element_ = hook; }
  // Each element is checked against `outline` as it is read, for a parser
  // that does not validate (schema_outline.h): the parse is abandoned at the
  // first thing the outline doubts.
  void check_against(const SchemaOutline* outline) { outline_ = outline; }
  bool fatal() const { return fatal_; }
  bool abandoned() const { return abandoned_; }

  void setDocumentLocator(const xc::Locator* locator) override { locator_ = locator; }

  void startElement(const XMLCh*, const XMLCh* local_name, const XMLCh* qname,
                    const xc::Attributes& attrs) override {
    // Read without namespaces (for an outline), an element has no local name:
    // its name is the whole of it, and so is each attribute's local name.
    if (*local_name == 0) local_name = qname;
    std::size_t tag_end = current_offset();
    std::size_t tag_start = tag_start_before(tag_end);
    if (open_.size() >= kMaxDepth) refuse_depth(tag_start);
    bool inside_taken = !open_.empty() && open_.back().index == kTaken;
    bool offered = open_.size() == 2 && !inside_taken && take_element_ != nullptr && *take_element_;
    // An element that may be taken is built in place of the last one, so that
    // its strings need no new memory; any other is built in its slot.
    auto index = static_cast<std::uint32_t>(live_);
    XmlElement& element = offered ? scratch_ : slot(index);
    // Names and values are taken from the source where they stand there as
    // Xerces read them (nearly always), rather than converted from UTF-16.
    element.name.clear();
    if (std::string_view written = name_at(tag_start); same_ascii(written, local_name))
      element.name.assign(written);
    else
      append_utf8(element.name, local_name, xc::XMLString::stringLen(local_name));
    element.pos = map_.position(tag_start);
    const AttributeSpots& spots = attribute_spots(tag_start, tag_end);
    // A tag on one line: its attributes' columns are counted from its '<'.
    bool one_line = std::memchr(src_.data() + tag_start, '\n', tag_end - tag_start) == nullptr;
    auto place = [&](std::size_t offset) {
      return one_line ? Position{element.pos.line, element.pos.col + static_cast<int>(offset - tag_start)}
                      : map_.position(offset);
    };
    std::size_t count = attrs.getLength();
    element.attributes.reserve(count);
    if (element.attributes.size() > count) element.attributes.resize(count);
    while (element.attributes.size() < count) element.attributes.emplace_back();
    for (XMLSize_t i = 0; i < count; ++i) {
      XmlAttribute& a = element.attributes[i];
      a.name.clear();
      a.value.clear();
      const XMLCh* name = attrs.getLocalName(i);
      const XMLCh* value = attrs.getValue(i);
      // Xerces gives the attributes in the tag's order: the i-th spot, as a rule.
      const AttributeSpot* spot = nullptr;
      if (i < spots.size() && same_ascii(spots[i].first, name)) {
        a.name.assign(spots[i].first);
        spot = &spots[i].second;
      } else {
        append_utf8(a.name, name, xc::XMLString::stringLen(name));
        spot = find_spot(spots, a.name);
      }
      std::string_view written =
          spot == nullptr ? std::string_view() : src_.substr(spot->value, spot->value_end - spot->value);
      if (spot != nullptr && same_ascii(written, value))
        a.value.assign(written);
      else
        append_utf8(a.value, value, xc::XMLString::stringLen(value));
      a.name_pos = spot == nullptr ? element.pos : place(spot->name);
      a.value_pos = spot == nullptr ? element.pos : place(spot->value);
    }
    SchemaOutline::TypeId type = outline_ == nullptr ? SchemaOutline::kNoType : outline_type(element);
    bool unknown = pending_unknown_ || (!open_.empty() && open_.back().inside_unknown);
    pending_unknown_ = false;
    if (inside_taken || (offered && (*take_element_)(doc_, doc_.elements[open_.back().index], element))) {
      open_.push_back({kTaken, tag_start, tag_end, unknown, element.name, type});
      return;
    }
    if (offered) slot(index) = element;  // not taken: kept like any other
    ++live_;
    if (!open_.empty()) {
      doc_.elements[index].parent = open_.back().index;
      doc_.elements[open_.back().index].children.push_back(index);
    }
    open_.push_back({index, tag_start, tag_end, unknown, {}, type});
  }

  void endElement(const XMLCh*, const XMLCh*, const XMLCh*) override {
    OpenElement open = std::move(open_.back());
    open_.pop_back();
    if (open.index == kTaken) return;
    XmlElement& element = doc_.elements[open.index];
    trim_text(element, open.tag_end);
    if (open_.size() == 1 && on_top_closed_ != nullptr && *on_top_closed_)
      (*on_top_closed_)(doc_, open.index, schema_errors_.empty() && !fatal_ && !diags_.has_errors());
    if (open_.size() == 1 && top_reader_ != nullptr) {
      top_reader_->read(doc_, open.index);
      // The element is the root's last child, and the elements after it in
      // document order are the ones inside it.
      live_ = open.index;  // their slots, with the memory of their strings, serve the next ones
      doc_.elements.front().children.pop_back();
    }
  }

  void characters(const XMLCh* chars, const XMLSize_t length) override {
    if (open_.empty()) return;
    // Checked inside a taken element too: its text is dropped, but a
    // validator would refuse it all the same.
    if (outline_ != nullptr && !outline_->type(open_.back().type).text) {
      // Blanks between children, which a validator would not report at all.
      if (!std::all_of(chars, chars + length, [](XMLCh c) { return c < 0x80 && is_xml_space(static_cast<char>(c)); }))
        abandon();
      return;
    }
    if (open_.back().index == kTaken) return;
    std::string& text = doc_.elements[open_.back().index].text;
    if (text.size() > kMaxText) return;  // text content FML never uses at this length
    append_utf8(text, chars, length);
  }

  // A DOCTYPE is refused as soon as it starts, before its internal subset
  // can declare any entity.
  void startDTD(const XMLCh*, const XMLCh*, const XMLCh*) override {
    fatal_ = true;
    std::size_t at = src_.find("<!DOCTYPE");
    diags_.error(Code::doctype_refused, map_.position(at == std::string_view::npos ? 0 : at),
                 "DTDs are not allowed in farm files: remove the <!DOCTYPE ...>; a farm file may not make farmctl "
                 "read other files or the network, or expand entities");
    throw xc::SAXException("DOCTYPE refused");
  }

  // A validator takes no CDATA section where only elements may stand, even
  // one of blanks; the outline doubts every one.
  void startCDATA() override {
    if (outline_ != nullptr) abandon();
  }

  void warning(const xc::SAXParseException& e) override {}
  void error(const xc::SAXParseException& e) override { report(e, false); }
  void fatalError(const xc::SAXParseException& e) override {
    fatal_ = true;
    report(e, true);
    throw e;  // stop: a document that is not well-formed has no tree
  }

 private:
  static constexpr std::uint32_t kTaken = UINT32_MAX;  // an element take_element took, or one inside it
  struct OpenElement {
    std::uint32_t index;  // in doc_, or kTaken
    std::size_t tag_start;
    std::size_t tag_end;
    bool inside_unknown;
    std::string taken_name;  // the name of a taken element, which doc_ does not hold
    SchemaOutline::TypeId type;  // its type in outline_, when there is one
  };
  const std::string& name_of(const OpenElement& open) const {
    return open.index == kTaken ? open.taken_name : doc_.elements[open.index].name;
  }
  static constexpr std::size_t kMaxText = 1 << 20;
  // Xerces looks up namespace scopes through the whole element stack, so
  // each level of nesting costs more than the last; the documents read here
  // nest a handful of levels, and a deeper one is refused before it gets slow.
  static constexpr std::size_t kMaxDepth = 64;

  [[noreturn]] void refuse_depth(std::size_t tag_start) {
    fatal_ = true;
    diags_.error(Code::bad_structure, map_.position(tag_start),
                 fmt::format("elements are nested more than {} deep here; farmctl's documents nest a few levels "
                             "(a farm: farm, server-role, disk, attribute)",
                             kMaxDepth));
    throw xc::SAXException("nested too deep");
  }

  [[noreturn]] void abandon() {
    abandoned_ = true;
    throw xc::SAXException("the outline of the schema doubts this document");
  }

  // The element's type in outline_, after checking that the outline allows
  // it where it stands, with these attributes; abandons the parse if not.
  // (Read without namespaces, a name has no namespace: a prefixed one, or
  // an xmlns attribute, is a name the outline does not know.)
  SchemaOutline::TypeId outline_type(const XmlElement& element) {
    SchemaOutline::TypeId type =
        open_.empty() ? outline_->root(element.name) : outline_->child(open_.back().type, element.name);
    if (type == SchemaOutline::kNoType) abandon();
    const SchemaOutline::Type& outline = outline_->type(type);
    std::size_t required = 0;
    for (const XmlAttribute& a : element.attributes) {
      auto known = std::find_if(outline.attributes.begin(), outline.attributes.end(),
                                [&](const SchemaOutline::Attribute& o) { return o.name == a.name; });
      if (known == outline.attributes.end()) {
        if (!SchemaOutline::fits_any_attribute(outline, a.name)) abandon();
        continue;
      }
      if (!SchemaOutline::fits(known->type, a.value)) abandon();
      required += known->required ? 1 : 0;
    }
    if (required != outline.required) abandon();
    return type;
  }

  int whole_line(XMLFileLoc line) const {
    auto l = static_cast<int>(line);
    return l >= shift_from_line_ ? l + shift_by_ : l;
  }

  // The element at `index`, cleared for a new start tag (its name and
  // attributes are set by the caller).
  XmlElement& slot(std::uint32_t index) {
    if (index == doc_.elements.size()) return doc_.elements.emplace_back();
    XmlElement& e = doc_.elements[index];
    e.text.clear();
    e.text_pos = {};
    e.children.clear();
    e.parent = UINT32_MAX;
    return e;
  }

  std::size_t current_offset() const {
    if (locator_ == nullptr) return 0;
    return map_.offset_of_char_column(whole_line(locator_->getLineNumber()),
                                      static_cast<int>(locator_->getColumnNumber()));
  }

  // The '<' that starts the tag around `offset`. Every message about one tag
  // asks with the same offset, so the last answer is kept: a tag with
  // thousands of bad attributes is searched once, not once per message.
  std::size_t tag_start_before(std::size_t offset) const {
    if (offset == 0) return 0;
    if (offset == last_tag_query_) return last_tag_start_;
    // memrchr: string_view::rfind goes byte by byte (7 % of building an element).
    const void* lt = memrchr(src_.data(), '<', std::min(offset, src_.size()));
    last_tag_query_ = offset;
    last_tag_start_ = lt == nullptr ? 0 : static_cast<std::size_t>(static_cast<const char*>(lt) - src_.data());
    return last_tag_start_;
  }

  void trim_text(XmlElement& element, std::size_t tag_end) {
    std::string& t = element.text;
    std::size_t first = t.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      t.clear();
      return;
    }
    t.erase(t.find_last_not_of(" \t\r\n") + 1);
    t.erase(0, first);
    std::size_t i = tag_end;
    while (i < src_.size() && is_xml_space(src_[i])) ++i;
    element.text_pos = map_.position(i);
  }

  std::string parent_name() const { return open_.empty() ? std::string() : name_of(open_.back()); }

  void report(const xc::SAXParseException& e, bool fatal) {
    std::size_t at = map_.offset_of_char_column(whole_line(e.getLineNumber()),
                                                static_cast<int>(e.getColumnNumber()));
    TranslatedError t = translate(utf8(e.getMessage()), at, fatal);
    if (!open_.empty() && open_.back().inside_unknown) return;  // already said: its parent is unknown
    if (t.message.empty()) return;
    Position pos = map_.position(t.offset);
    if (pos.line == last_pos_.line && pos.col == last_pos_.col) return;  // one message per spot
    last_pos_ = pos;
    if (!fatal) {
      schema_errors_.push_back({t.code, Severity::error, pos, std::move(t.message)});
      return;
    }
    // What the schema said after the point where the document broke is noise.
    std::erase_if(schema_errors_, [&](const Diagnostic& d) {
      return std::pair(d.pos.line, d.pos.col) > std::pair(pos.line, pos.col);
    });
    diags_.error(t.code, pos, std::move(t.message));
  }

 public:
  void flush_schema_errors() {
    for (Diagnostic& d : schema_errors_) diags_.error(d.code, d.pos, std::move(d.message));
    schema_errors_.clear();
  }

 private:

  TranslatedError translate(const std::string& msg, std::size_t at, bool fatal) {
    std::smatch m;
    std::size_t tag_start = tag_start_before(at);
    static const std::regex no_decl("no declaration found for element '([^']*)'");
    static const std::regex not_allowed("element '([^']*)' is not allowed for content model.*");
    static const std::regex undeclared_attr("attribute '([^']*)' is not declared for element '([^']*)'");
    static const std::regex required_attr("required attribute '([^']*)' was not provided|"
                                          "missing required attribute '([^']*)'");
    static const std::regex no_text("no character data is allowed by content model");
    static const std::regex end_tag("expected end of tag '([^']*)'");
    static const std::regex foreign_namespace("grammar not found for namespace '([^']*)'");
    static const std::regex incomplete("element '([^']*)' has incomplete content.*|"
                                       "element '([^']*)' is missing required.*");
    if (std::regex_search(msg, m, no_decl)) {
      pending_unknown_ = true;
      reported_unknown_.insert(m[1].str());
      std::string where = parent_name().empty() ? std::string(" as the document's root")
                                                 : fmt::format(" inside <{}>", parent_name());
      return {Code::unknown_element, fmt::format("unknown element <{}>{}", m[1].str(), where), tag_start};
    }
    if (std::regex_search(msg, m, not_allowed) && reported_unknown_.count(m[1].str()))
      return {Code::unknown_element, "", at};  // said already, as an unknown element
    if (std::regex_search(msg, m, not_allowed))
      return {Code::bad_structure,
              fmt::format("<{}> is not allowed inside <{}>", m[1].str(), parent_name()), tag_start};
    if (std::regex_search(msg, m, undeclared_attr) && reported_unknown_.count(m[2].str()))
      return {Code::unknown_attribute, "", at};  // the element itself is unknown: said once, for it
    if (std::regex_search(msg, m, foreign_namespace)) {
      if (!reported_namespaces_.insert(m[1].str()).second) return {Code::unknown_element, "", at};
      return {Code::unknown_element,
              fmt::format("elements of namespace '{}' are unknown here: this document's elements belong to no "
                          "namespace (remove the xmlns declaration or the prefix)",
                          m[1].str()),
              tag_start};
    }
    if (std::regex_search(msg, m, undeclared_attr))
      return {Code::unknown_attribute, fmt::format("unknown attribute '{}' on <{}>", m[1].str(), m[2].str()),
              attribute_name_offset(tag_start, at, m[1].str())};
    if (std::regex_search(msg, m, required_attr))
      return {Code::missing_attribute,
              fmt::format("<{}> needs the attribute '{}'", element_name_at(tag_start),
                          m[1].matched ? m[1].str() : m[2].str()),
              tag_start};
    if (std::regex_search(msg, m, no_text)) {
      std::size_t text = stray_text_before(at);
      std::string_view words = src_.substr(text, src_.find('<', text) - text);
      words = words.substr(0, words.find_last_not_of(" \t\r\n") + 1);
      return {Code::bad_structure,
              words.empty() ? fmt::format("<{}> takes no text", parent_name())
                            : fmt::format("<{}> takes no text, but holds '{}'", parent_name(), shown(words)),
              text};
    }
    if (msg.find("DOCTYPE") != std::string::npos || msg.find("DTD") != std::string::npos ||
        msg.find("may not refer to other files") != std::string::npos)
      return {Code::doctype_refused,
              "DTDs and entities are not allowed: remove the <!DOCTYPE ...>; a farm file may not make "
              "farmctl read other files or the network",
              at == 0 ? 0 : src_.rfind("<!", at) == std::string_view::npos ? at : src_.rfind("<!", at)};
    if (std::regex_search(msg, m, end_tag) && !open_.empty()) return never_closed(m[1].str(), tag_start);
    if (fatal) {
      if (std::optional<TranslatedError> t = translate_well_formedness(msg, at, tag_start)) return *t;
    }
    if (!fatal && std::regex_search(msg, m, incomplete))
      return {Code::bad_structure, fmt::format("<{}> is incomplete: {}", m[1].matched ? m[1].str() : m[2].str(), msg),
              at};
    if (fatal) return {Code::malformed_xml, fmt::format("malformed XML: {}", msg), at};
    return {Code::bad_structure, msg, at};
  }

  // An element left open where another element's end tag stands: either the
  // end tag is misspelt (it closes nothing that is open), or the element's own
  // end tag is missing.
  TranslatedError never_closed(const std::string& name, std::size_t closer_start) const {
    std::string where;
    if (src_.substr(closer_start, 2) == "</") {
      std::string closer = element_name_at(closer_start + 1);
      bool closes_something = std::any_of(open_.begin(), open_.end(), [&](const OpenElement& o) {
        return name_of(o) == closer;
      });
      if (!closes_something)
        return {Code::malformed_xml,
                fmt::format("</{}> does not close <{}> (opened at line {}): write </{}>", closer, name,
                            map_.position(open_.back().tag_start).line, name),
                closer_start};
      where = fmt::format(" before the </{}> at line {}", closer, map_.position(closer_start).line);
    }
    return {Code::malformed_xml,
            fmt::format("<{}> is never closed: end it with '/>' (<{} ... />) or add </{}>{}", name, name, name, where),
            open_.back().tag_start};
  }

  // Xerces's words for a document that is not well-formed, said so that the
  // author knows what to write, at the spot where it went wrong. nullopt: no
  // better words than Xerces's own.
  std::optional<TranslatedError> translate_well_formedness(const std::string& msg, std::size_t at,
                                                           std::size_t tag_start) const {
    static const std::regex unterminated_end("unterminated end tag '([^']*)'");
    static const std::regex unterminated_start("unterminated start tag '([^']*)'");
    static const std::regex input_ended("input ended before all started tags were ended");
    static const std::regex unknown_entity("entity '([^']*)' not found");
    std::smatch m;
    if (std::regex_search(msg, m, unterminated_end) && !open_.empty()) {
      std::string closer = element_name_at(tag_start + 1);
      return TranslatedError{Code::malformed_xml,
                             fmt::format("</{}> does not close <{}> (opened at line {}): write </{}>", closer,
                                         m[1].str(), map_.position(open_.back().tag_start).line, m[1].str()),
                             tag_start};
    }
    if (std::regex_search(msg, m, unterminated_start))
      return TranslatedError{Code::malformed_xml,
                             fmt::format("the start tag <{} has no '>': end it with '>' or '/>' before this '<'",
                                         m[1].str()),
                             at};
    if (std::regex_search(msg, m, input_ended) && !open_.empty())
      return TranslatedError{Code::malformed_xml,
                             fmt::format("<{}> is never closed: the file ends before its </{}>",
                                         name_of(open_.back()), name_of(open_.back())),
                             open_.back().tag_start};
    if (msg == "unexpected end of input") {
      std::size_t last_lt = src_.rfind('<');
      return TranslatedError{Code::malformed_xml, "the file ends inside this tag: end it with '>' or '/>'",
                             last_lt == std::string_view::npos ? at : last_lt};
    }
    if (msg == "unterminated comment") {
      std::size_t open = src_.rfind("<!--", at);
      return TranslatedError{Code::malformed_xml, "this comment is never closed: end it with '-->'",
                             open == std::string_view::npos ? at : open};
    }
    if (std::regex_search(msg, m, unknown_entity)) {
      std::size_t amp = at == 0 ? std::string_view::npos : src_.rfind('&', at - 1);
      return TranslatedError{Code::malformed_xml,
                             fmt::format("unknown entity '&{};': a farm file knows only &lt; &gt; &amp; &quot; "
                                         "&apos; and character references such as &#38;; write &amp; for a '&'",
                                         m[1].str()),
                             amp == std::string_view::npos ? at : amp};
    }
    if (msg.starts_with("unterminated entity reference") || msg == "expected entity name for reference") {
      std::size_t amp = at == 0 ? std::string_view::npos : src_.rfind('&', at - 1);
      return TranslatedError{Code::malformed_xml,
                             "this '&' starts an entity reference that does not end with ';': write &amp; for a '&'",
                             amp == std::string_view::npos ? at : amp};
    }
    if (msg == "attribute value expected")
      return TranslatedError{Code::malformed_xml,
                             "malformed XML: attribute values must be quoted: write name=\"value\"", at};
    if (msg == "comment or processing instruction expected")
      return TranslatedError{Code::malformed_xml,
                             "malformed XML: only comments may follow the end of the root element (an XML "
                             "document has one root element)",
                             at};
    if (msg == "invalid document structure")
      return TranslatedError{Code::malformed_xml,
                             "malformed XML: expected the document's root element here (a start tag, "
                             "'<name ...>')",
                             at};
    return std::nullopt;
  }

  // Xerces notices stray text where the next tag starts; the author wants to
  // see where the text itself starts: after the '>' before it, past blanks.
  std::size_t stray_text_before(std::size_t at) const {
    if (at >= src_.size() || at == 0) return at;
    std::size_t gt = src_.rfind('>', at - 1);
    std::size_t start = gt == std::string_view::npos ? 0 : gt + 1;
    while (start < at && std::isspace(static_cast<unsigned char>(src_[start]))) ++start;
    return start;
  }

  // The attribute places of the start tag at `tag_start`, scanned once
  // however many messages and attributes ask for them.
  const AttributeSpots& attribute_spots(std::size_t tag_start, std::size_t tag_end) {
    if (tag_start != spots_tag_start_ || tag_end != spots_tag_end_) {
      scan_attributes(src_, tag_start, tag_end, spots_);
      spots_tag_start_ = tag_start;
      spots_tag_end_ = tag_end;
    }
    return spots_;
  }

  // Where an attribute's name stands, for a message about it; the tag's '<'
  // when it cannot be found.
  std::size_t attribute_name_offset(std::size_t tag_start, std::size_t tag_end, const std::string& name) {
    const AttributeSpot* spot = find_spot(attribute_spots(tag_start, tag_end), name);
    return spot == nullptr ? tag_start : spot->name;
  }

  // The name written after the '<' at `tag_start`.
  std::string_view name_at(std::size_t tag_start) const {
    std::size_t i = tag_start + 1;
    while (i < src_.size() && is_name_char(src_[i])) ++i;
    return src_.substr(tag_start + 1, i - tag_start - 1);
  }

  std::string element_name_at(std::size_t tag_start) const { return std::string(name_at(tag_start)); }

  const SourceMap& map_;
  std::string_view src_;
  DiagnosticList& diags_;
  const xc::Locator* locator_ = nullptr;
  const TopElementClosed* on_top_closed_ = nullptr;
  TopElementReader* top_reader_ = nullptr;
  // Elements in doc_ from here on are spare: dropped children of the root,
  // kept so that their strings' and vectors' memory is used again.
  std::size_t live_ = 0;
  int shift_from_line_ = INT_MAX;
  int shift_by_ = 0;
  const TakeElement* take_element_ = nullptr;
  const SchemaOutline* outline_ = nullptr;
  bool abandoned_ = false;
  XmlElement scratch_;  // the grandchild of the root offered to take_element_
  XmlDocument doc_;
  std::vector<OpenElement> open_;
  bool pending_unknown_ = false;
  std::set<std::string> reported_unknown_;
  std::set<std::string> reported_namespaces_;
  std::vector<Diagnostic> schema_errors_;  // held back: a later fatal error may make them noise
  bool fatal_ = false;
  Position last_pos_;
  AttributeSpots spots_;  // of the start tag scanned last
  std::size_t spots_tag_start_ = std::string_view::npos;
  std::size_t spots_tag_end_ = std::string_view::npos;
  mutable std::size_t last_tag_query_ = std::string_view::npos;  // tag_start_before's cache
  mutable std::size_t last_tag_start_ = 0;
};

// The offset of the first byte that is not part of a valid UTF-8 sequence,
// or npos. (Overlong forms and surrogates are let through: Xerces refuses them.)
std::size_t first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    i += ascii_prefix(text.substr(i));
    if (i >= text.size()) break;
    auto byte = static_cast<unsigned char>(text[i]);
    int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return i;
    for (int k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return i;
    i += length;
  }
  return std::string_view::npos;
}

// True when the document is meant to be UTF-8: no UTF-16 byte-order mark and
// no XML declaration naming another encoding.
bool meant_as_utf8(std::string_view source) {
  if (source.starts_with("\xFF\xFE") || source.starts_with("\xFE\xFF")) return false;
  if (!source.starts_with("<?xml") && !source.starts_with("\xEF\xBB\xBF<?xml")) return true;
  std::string_view decl = source.substr(0, source.find("?>"));
  static const std::regex encoding(R"(encoding\s*=\s*["']([^"']*)["'])", std::regex::icase);
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(decl.begin(), decl.end(), m, encoding)) return true;
  std::string name = m[1].str();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "utf-8" || name == "utf8";
}

// What a reader checks beyond well-formedness.
enum class Checking {
  schema,   // validates against the schema it loads
  nothing,  // an XSD's own text, with namespaces, so that its names are local
  // Nothing, and without namespaces, which cost Xerces a fifth of its time:
  // the handler checks each element against an outline (schema_outline.h),
  // whose names have no prefix, so that any name with one, or any xmlns
  // attribute, is doubted.
  outline,
};

std::unique_ptr<xc::SAX2XMLReader> make_reader(Checking checking) {
  bool validating = checking == Checking::schema;
  ensure_xerces_initialized();
  std::unique_ptr<xc::SAX2XMLReader> p(xc::XMLReaderFactory::createXMLReader());
  p->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, checking != Checking::outline);
  p->setFeature(xc::XMLUni::fgXercesSchema, validating);
  p->setFeature(xc::XMLUni::fgSAX2CoreValidation, validating);
  p->setFeature(xc::XMLUni::fgXercesDynamic, false);
  p->setFeature(xc::XMLUni::fgXercesUseCachedGrammarInParse, true);
  p->setFeature(xc::XMLUni::fgXercesLoadSchema, false);  // ignore xsi:schemaLocation hints
  p->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
  p->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
  p->setFeature(xc::XMLUni::fgXercesSkipDTDValidation, true);
  p->setFeature(xc::XMLUni::fgXercesIdentityConstraintChecking, false);
  return p;
}

// A reader with the features above, one that resolves nothing, a limit on
// entity expansion, and, when it validates, the schema loaded and cached:
// every document farmctl reads is read by one of these.
struct SafeReader {
  // Not checking at all: for a schema's own text.
  SafeReader() : parser(make_reader(Checking::nothing)) { refuse_outside_resources(); }
  // Not validating: what it reads is checked against the schema's outline
  // instead, element by element (parse_pieces hands it to the handler).
  explicit SafeReader(const SchemaOutline& against) : parser(make_reader(Checking::outline)), outline(&against) {
    refuse_outside_resources();
  }
  SafeReader(std::string_view schema_xsd, std::string_view schema_name) : parser(make_reader(Checking::schema)) {
    refuse_outside_resources();
    std::string schema_id(schema_name);
    xc::MemBufInputSource schema_source(reinterpret_cast<const XMLByte*>(schema_xsd.data()), schema_xsd.size(),
                                        schema_id.c_str());
    if (parser->loadGrammar(schema_source, xc::Grammar::SchemaGrammarType, true) == nullptr)
      throw std::logic_error("the embedded schema " + schema_id + " does not load");
  }
  void refuse_outside_resources() {
    parser->setEntityResolver(&refuse);
    security.setEntityExpansionLimit(16);
    parser->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);
  }
  RefuseEverything refuse;
  xc::SecurityManager security;
  std::unique_ptr<xc::SAX2XMLReader> parser;
  const SchemaOutline* outline = nullptr;  // a reader of Checking::outline checks against this
};

std::size_t elements_at_most(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '<'));
}

// ---- a document read in pieces (xml_pieces.h) ----------------------------

// Serves pieces of memory one after the other, as one input, copying none
// of them beforehand: a piece of a 60 MB document is a few of them.
class PiecesStream : public xc::BinInputStream {
 public:
  explicit PiecesStream(const std::vector<std::string_view>& pieces) : pieces_(pieces) {}
  XMLFilePos curPos() const override { return position_; }
  XMLSize_t readBytes(XMLByte* const to_fill, const XMLSize_t max_to_read) override {
    XMLSize_t filled = 0;
    while (filled < max_to_read && piece_ < pieces_.size()) {
      std::string_view piece = pieces_[piece_];
      std::size_t take = std::min<std::size_t>(max_to_read - filled, piece.size() - offset_);
      std::memcpy(to_fill + filled, piece.data() + offset_, take);
      filled += take;
      offset_ += take;
      if (offset_ == piece.size()) {
        ++piece_;
        offset_ = 0;
      }
    }
    position_ += filled;
    return filled;
  }
  const XMLCh* getContentType() const override { return nullptr; }

 private:
  std::vector<std::string_view> pieces_;
  std::size_t piece_ = 0;
  std::size_t offset_ = 0;
  XMLFilePos position_ = 0;
};

class PiecesSource : public xc::InputSource {
 public:
  explicit PiecesSource(std::vector<std::string_view> pieces) : xc::InputSource("farm"), pieces_(std::move(pieces)) {}
  xc::BinInputStream* makeStream() const override { return new PiecesStream(pieces_); }

 private:
  std::vector<std::string_view> pieces_;
};

// What one parse is asked to do besides building the tree.
struct ParseHooks {
  const TopElementClosed* on_top_closed = nullptr;
  const TakeElement* take_element = nullptr;
  TopElementReader* top_reader = nullptr;
};

// One parse of `pieces` (the whole document, or a piece of it) with the reader
// features and limits above. The tree, or nothing when the input is not
// well-formed (what was wrong is in `diags`) or the outline doubted it
// (nothing said: the caller reads it again validated).
std::optional<XmlDocument> parse_pieces(SafeReader& reader, const SourceMap& map, std::vector<std::string_view> pieces,
                                        const ParseHooks& hooks, std::size_t most_elements, DiagnosticList& diags,
                                        int shift_from_line = INT_MAX, int shift_by = 0) {
  Handler handler(map, diags, most_elements);
  handler.shift_lines(shift_from_line, shift_by);
  handler.on_top_closed(hooks.on_top_closed);
  handler.take_element(hooks.take_element);
  handler.read_top_elements_with(hooks.top_reader);
  handler.check_against(reader.outline);
  reader.parser->setContentHandler(&handler);
  reader.parser->setLexicalHandler(&handler);
  reader.parser->setErrorHandler(&handler);
  PiecesSource input(std::move(pieces));
  try {
    reader.parser->parse(input);
  } catch (const xc::SAXException&) {
    // reported through fatalError, or the handler stopped the parse (its depth
    // limit, or an abandon() for the outline)
  } catch (const xc::XMLException& e) {
    handler.flush_schema_errors();
    diags.error(Code::malformed_xml, {1, 1}, "malformed XML: " + utf8(e.getMessage()));
    return std::nullopt;
  }
  handler.flush_schema_errors();
  if (handler.fatal() || handler.abandoned()) return std::nullopt;
  XmlDocument doc = handler.take_document();
  if (doc.elements.empty()) {
    diags.error(Code::malformed_xml, {1, 1}, "the file holds no XML element");
    return std::nullopt;
  }
  return doc;
}

// The tree of a document read without a schema (an XSD's own text), or
// nothing when it is not well-formed.
std::optional<XmlDocument> read_unvalidated(std::string_view source) {
  SourceMap map(source);
  SafeReader reader;
  DiagnosticList diags;
  return parse_pieces(reader, map, {source}, ParseHooks(), elements_at_most(source), diags);
}

// The outline of each schema text read so far: a process reads its
// embedded schemas, and reads them again and again in a service.
const std::optional<SchemaOutline>& outline_of(std::string_view schema_xsd) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<SchemaOutline>, std::less<>> outlines;
  std::lock_guard lock(mutex);
  auto known = outlines.find(schema_xsd);
  if (known != outlines.end()) return known->second;
  return outlines.emplace(std::string(schema_xsd), read_schema_outline(schema_xsd)).first->second;
}

// One parse of the whole document without the validator, checked against
// `outline` (with `hooks` besides). Nothing when the outline doubts it or
// anything at all is wrong, the checks read_document makes before its
// parse included: the validating read says it again, where it belongs.
std::optional<XmlDocument> read_against_outline(std::string_view source, const SchemaOutline& outline,
                                                ParseHooks hooks) {
  if (!meant_as_utf8(source) || first_invalid_utf8(source) != std::string_view::npos) return std::nullopt;
  SourceMap map(source);
  SafeReader reader(outline);
  DiagnosticList said;
  std::optional<XmlDocument> doc = parse_pieces(reader, map, {source}, hooks, elements_at_most(source), said);
  if (!said.items().empty()) return std::nullopt;
  return doc;
}

// Without a reader of top elements, room for every element at once; with
// one, the tree holds one child of the root at a time.
std::size_t room_for(std::string_view text, const MakeTopElementReader* make_reader) {
  return make_reader != nullptr ? 64 : elements_at_most(text);
}

// The elements of a later piece after those before it, under the first
// piece's root (every piece's root is the same start tag, read again).
void append_piece(XmlDocument& first, XmlDocument&& later) {
  auto shift = static_cast<std::uint32_t>(first.elements.size() - 1);  // the later root is not kept
  for (std::uint32_t child : later.elements.front().children) first.elements.front().children.push_back(child + shift);
  for (std::size_t i = 1; i < later.elements.size(); ++i) {
    XmlElement& e = later.elements[i];
    if (e.parent != 0) e.parent += shift;
    for (std::uint32_t& child : e.children) child += shift;
    first.elements.push_back(std::move(e));
  }
}

// Pieces of about this size: enough of them that two threads taking them in
// turn finish together, few enough that the piece's own cost (a root start
// tag read again, a handler) stays small.
constexpr std::size_t kPieceBytes = 256 << 10;
constexpr std::size_t kMostPieces = 64;

// Xerces reads 50 to 75 MB/s validating on one of this machine's cores
// (bench/run's "Xerces-C++ alone" row), 90 to 140 MB/s without the
// validator or namespaces (docs/performance.md, items 85 and 86), and the tree
// is built as it reads: a large farm file is cut into pieces that two
// threads parse, each taking the next piece when done with one. Without
// the validator, which costs as much again, when the schema has an outline
// (schema_outline.h): each piece is checked against it instead. Nothing
// when the document cannot be cut or any piece has anything wrong with it
// or anything the outline doubts: then the caller parses the whole
// document with the validator, which says what is wrong where, and the
// pieces' readers are thrown away.
std::optional<StreamedDocument> read_in_pieces(const SourceMap& map, std::string_view schema_xsd,
                                               std::string_view schema_name, const MakeTopElementReader* make_reader) {
  std::string_view src = map.source();
  std::optional<DocumentPieces> pieces =
      find_document_pieces(src, std::clamp<std::size_t>(src.size() / kPieceBytes, 2, kMostPieces));
  if (!pieces) return std::nullopt;
  const std::optional<SchemaOutline>& outline = outline_of(schema_xsd);
  std::size_t count = pieces->pieces();
  std::vector<std::optional<XmlDocument>> docs(count);
  std::vector<std::unique_ptr<TopElementReader>> readers(count);
  if (make_reader != nullptr)
    for (auto& reader : readers) reader = (*make_reader)();
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto parse_in_turn = [&](const SourceMap& thread_map) {
    std::optional<SafeReader> reader;
    if (outline)
      reader.emplace(*outline);
    else
      reader.emplace(schema_xsd, schema_name);
    for (std::size_t k = next++; k < count && !failed; k = next++) {
      std::vector<std::string_view> text = pieces->piece(src, k);
      std::string_view body = k + 1 < count ? text[text.size() - 2] : text.back();
      std::size_t room = room_for(body, make_reader);
      DiagnosticList diags;
      // The UTF-8 check made before one parse of the whole document, on
      // this piece's bytes. (Not the legacy-syntax scan: what it looks for
      // is never well-formed, so a piece that parses cleanly has none.)
      if (first_invalid_utf8(body) != std::string_view::npos) {
        failed = true;
        break;
      }
      ParseHooks hooks;
      hooks.top_reader = readers[k].get();
      docs[k] = parse_pieces(*reader, thread_map, std::move(text), hooks, room, diags, pieces->first_shifted_line(),
                             pieces->line_shift(k));
      if (!docs[k] || !diags.items().empty()) failed = true;
    }
  };
  SourceMap second_map = map;  // shares the line table; its caches are its own thread's
  auto second = std::async(std::launch::async, [&] { parse_in_turn(second_map); });
  parse_in_turn(map);
  second.get();
  if (failed) return std::nullopt;
  StreamedDocument result;
  result.doc = std::move(*docs[0]);
  for (std::size_t k = 1; k < count; ++k) append_piece(result.doc, std::move(*docs[k]));
  if (make_reader != nullptr) result.readers = std::move(readers);
  return result;
}

// The checks before any parse, then one parse, or pieces when allowed.
std::optional<StreamedDocument> read_document(std::string_view source, std::string_view schema_xsd,
                                              std::string_view schema_name, DiagnosticList& diags,
                                              const ParseHooks& hooks, const MakeTopElementReader* make_reader,
                                              std::size_t two_threads_from_bytes) {
  std::optional<runtime::PhaseTimer> checks(std::in_place, "read XML: line table");
  SourceMap map(source);
  if (source.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    diags.error(Code::malformed_xml, {}, "the file is empty: it holds no XML element");
    return std::nullopt;
  }
  bool in_utf8 = meant_as_utf8(source);
  checks.reset();
  // Pieces are cut between bytes, so only a document in UTF-8 (or ASCII).
  // Each piece makes the checks below on its own bytes.
  bool hooked = hooks.on_top_closed != nullptr || hooks.take_element != nullptr;
  if (in_utf8 && !hooked && source.size() >= two_threads_from_bytes) {
    runtime::PhaseTimer timer("read XML: pieces on two threads");
    if (std::optional<StreamedDocument> read = read_in_pieces(map, schema_xsd, schema_name, make_reader)) return read;
  }
  checks.emplace("read XML: checks before one parse");
  if (std::size_t bad = in_utf8 ? first_invalid_utf8(source) : std::string_view::npos; bad != std::string_view::npos) {
    // Xerces decodes in blocks and would place this error far from the byte.
    diags.error(Code::malformed_xml, map.position(bad),
                fmt::format("the file is not valid UTF-8: the byte 0x{:02X} here does not begin a complete "
                            "UTF-8 character (save the file as UTF-8)",
                            static_cast<unsigned char>(source[bad])));
    return std::nullopt;
  }
  if (find_legacy_syntax(map, diags) > 0) return std::nullopt;
  checks.reset();
  runtime::PhaseTimer timer("read XML: one parse");
  StreamedDocument result;
  ParseHooks with_reader = hooks;
  if (make_reader != nullptr) {
    result.readers.push_back((*make_reader)());
    with_reader.top_reader = result.readers.back().get();
  }
  SafeReader reader(schema_xsd, schema_name);
  std::optional<XmlDocument> doc = parse_pieces(reader, map, {source}, with_reader, room_for(source, make_reader), diags);
  if (!doc) return std::nullopt;
  result.doc = std::move(*doc);
  return result;
}

std::optional<XmlDocument> document_only(std::optional<StreamedDocument> read) {
  if (!read) return std::nullopt;
  return std::move(read->doc);
}

}  // namespace

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags) {
  return read_xml_document(source, schema_xsd, schema_name, diags, kTwoThreadsFromBytes);
}

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags,
                                             std::size_t two_threads_from_bytes) {
  return document_only(read_document(source, schema_xsd, schema_name, diags, ParseHooks(), nullptr,
                                     two_threads_from_bytes));
}

namespace {

ParseHooks hooks_of(const TopElementClosed& on_top_closed, const TakeElement& take_element) {
  ParseHooks hooks;
  if (on_top_closed) hooks.on_top_closed = &on_top_closed;
  if (take_element) hooks.take_element = &take_element;
  return hooks;
}

}  // namespace

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags,
                                             const TopElementClosed& on_top_closed,
                                             const TakeElement& take_element) {
  return document_only(read_document(source, schema_xsd, schema_name, diags, hooks_of(on_top_closed, take_element),
                                     nullptr, SIZE_MAX));
}

std::optional<XmlDocument> read_xml_document_against_outline(std::string_view source, std::string_view schema_xsd,
                                                             const TopElementClosed& on_top_closed,
                                                             const TakeElement& take_element) {
  const std::optional<SchemaOutline>& outline = outline_of(schema_xsd);
  if (!outline) return std::nullopt;
  return read_against_outline(source, *outline, hooks_of(on_top_closed, take_element));
}

std::optional<StreamedDocument> read_xml_streamed(std::string_view source, std::string_view schema_xsd,
                                                  std::string_view schema_name, DiagnosticList& diags,
                                                  const MakeTopElementReader& make_reader,
                                                  std::size_t two_threads_from_bytes) {
  return read_document(source, schema_xsd, schema_name, diags, ParseHooks(), &make_reader, two_threads_from_bytes);
}

std::optional<SchemaOutline> read_schema_outline(std::string_view schema_xsd) {
  std::optional<XmlDocument> xsd = read_unvalidated(schema_xsd);
  if (!xsd) return std::nullopt;
  return SchemaOutline::from_xsd(*xsd);
}

bool fits_outline(std::string_view source, const SchemaOutline& outline) {
  return read_against_outline(source, outline, ParseHooks()).has_value();
}

bool parse_only(std::string_view source, std::string_view schema_xsd, std::string_view schema_name) {
  SafeReader reader(schema_xsd, schema_name);
  xc::DefaultHandler nothing;
  reader.parser->setContentHandler(&nothing);
  reader.parser->setErrorHandler(&nothing);
  xc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(source.data()), source.size(), "input");
  try {
    reader.parser->parse(input);
  } catch (const xc::SAXException&) {
    return false;
  } catch (const xc::XMLException&) {
    return false;
  }
  return reader.parser->getErrorCount() == 0;
}

}  // namespace farmctl::fml
