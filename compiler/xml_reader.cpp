// This file's external interface is just read_xml_document. It is the only
// file in farmctl that includes Xerces-C++; the SAX handler and the message
// translation below are private to it.
#include "compiler/xml_reader.h"

#include <cctype>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>

#include <fmt/format.h>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/EntityResolver.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLEntityResolver.hpp>
#include <xercesc/util/XMLString.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include "compiler/legacy_syntax.h"
#include "compiler/source_map.h"

namespace farmctl::fml {

const XmlAttribute* XmlElement::attribute(std::string_view attr_name) const {
  for (const XmlAttribute& a : attributes)
    if (a.name == attr_name) return &a;
  return nullptr;
}

namespace {

namespace xc = XERCES_CPP_NAMESPACE;

void ensure_xerces_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { xc::XMLPlatformUtils::Initialize(); });
}

std::string utf8(const XMLCh* text) {
  if (text == nullptr) return {};
  xc::TranscodeToStr out(text, "UTF-8");
  return std::string(reinterpret_cast<const char*>(out.str()), out.length());
}

// Every external resource (DTD, entity, schema hint) resolves to an error.
class RefuseEverything : public xc::EntityResolver {
 public:
  xc::InputSource* resolveEntity(const XMLCh* const, const XMLCh* const) override {
    throw xc::SAXException("farm files may not refer to other files or to the network");
  }
};

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Where each attribute of a start tag sits in the source: Xerces reports only
// where a start tag ends, so the tag is re-scanned from its '<'.
void locate_attributes(std::string_view src, std::size_t tag_start, std::size_t tag_end, const SourceMap& map,
                       std::vector<XmlAttribute>& attributes) {
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
    for (XmlAttribute& a : attributes)
      if (a.name == name) {
        a.name_pos = map.position(name_start);
        a.value_pos = map.position(value_start);
      }
    i = close + 1;
  }
}

std::size_t find_attribute_name(std::string_view src, std::size_t tag_start, std::size_t tag_end,
                                std::string_view name) {
  std::size_t i = tag_start;
  while ((i = src.find(name, i + 1)) != std::string_view::npos && i < tag_end) {
    bool starts = !is_name_char(src[i - 1]);
    bool ends = i + name.size() < src.size() && !is_name_char(src[i + name.size()]);
    if (starts && ends) return i;
  }
  return tag_start;
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
  Handler(const SourceMap& map, DiagnosticList& diags) : map_(map), src_(map.source()), diags_(diags) {}

  XmlDocument take_document() { return std::move(doc_); }
  bool fatal() const { return fatal_; }

  void setDocumentLocator(const xc::Locator* locator) override { locator_ = locator; }

  void startElement(const XMLCh*, const XMLCh* local_name, const XMLCh*, const xc::Attributes& attrs) override {
    std::size_t tag_end = current_offset();
    std::size_t tag_start = tag_start_before(tag_end);
    XmlElement element;
    element.name = utf8(local_name);
    element.pos = map_.position(tag_start);
    for (XMLSize_t i = 0; i < attrs.getLength(); ++i)
      element.attributes.push_back({utf8(attrs.getLocalName(i)), utf8(attrs.getValue(i)), element.pos, element.pos});
    locate_attributes(src_, tag_start, tag_end, map_, element.attributes);
    auto index = static_cast<std::uint32_t>(doc_.elements.size());
    if (!open_.empty()) {
      element.parent = open_.back().index;
      doc_.elements[element.parent].children.push_back(index);
    }
    doc_.elements.push_back(std::move(element));
    bool unknown = pending_unknown_ || (!open_.empty() && open_.back().inside_unknown);
    pending_unknown_ = false;
    open_.push_back({index, tag_start, tag_end, unknown});
  }

  void endElement(const XMLCh*, const XMLCh*, const XMLCh*) override {
    OpenElement open = open_.back();
    open_.pop_back();
    XmlElement& element = doc_.elements[open.index];
    trim_text(element, open.tag_end);
  }

  void characters(const XMLCh* chars, const XMLSize_t length) override {
    if (open_.empty()) return;
    std::string& text = doc_.elements[open_.back().index].text;
    if (text.size() > kMaxText) return;  // text content FML never uses at this length
    text += utf8_n(chars, length);
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

  void warning(const xc::SAXParseException& e) override {}
  void error(const xc::SAXParseException& e) override { report(e, false); }
  void fatalError(const xc::SAXParseException& e) override {
    fatal_ = true;
    report(e, true);
    throw e;  // stop: a document that is not well-formed has no tree
  }

 private:
  struct OpenElement {
    std::uint32_t index;
    std::size_t tag_start;
    std::size_t tag_end;
    bool inside_unknown;
  };
  static constexpr std::size_t kMaxText = 1 << 20;

  static std::string utf8_n(const XMLCh* chars, XMLSize_t length) {
    xc::TranscodeToStr out(chars, length, "UTF-8");
    return std::string(reinterpret_cast<const char*>(out.str()), out.length());
  }

  std::size_t current_offset() const {
    if (locator_ == nullptr) return 0;
    return map_.offset_of_char_column(static_cast<int>(locator_->getLineNumber()),
                                      static_cast<int>(locator_->getColumnNumber()));
  }

  std::size_t tag_start_before(std::size_t offset) const {
    if (offset == 0) return 0;
    std::size_t lt = src_.rfind('<', offset - 1);
    return lt == std::string_view::npos ? 0 : lt;
  }

  void trim_text(XmlElement& element, std::size_t tag_end) {
    std::string& t = element.text;
    std::size_t first = t.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      t.clear();
      return;
    }
    t = t.substr(first, t.find_last_not_of(" \t\r\n") - first + 1);
    std::size_t i = tag_end;
    while (i < src_.size() && std::isspace(static_cast<unsigned char>(src_[i]))) ++i;
    element.text_pos = map_.position(i);
  }

  std::string parent_name() const { return open_.empty() ? std::string() : doc_.elements[open_.back().index].name; }

  void report(const xc::SAXParseException& e, bool fatal) {
    std::size_t at = map_.offset_of_char_column(static_cast<int>(e.getLineNumber()),
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
    if (std::regex_search(msg, m, undeclared_attr))
      return {Code::unknown_attribute, fmt::format("unknown attribute '{}' on <{}>", m[1].str(), m[2].str()),
              find_attribute_name(src_, tag_start, at, m[1].str())};
    if (std::regex_search(msg, m, required_attr))
      return {Code::missing_attribute,
              fmt::format("<{}> needs the attribute '{}'", element_name_at(tag_start),
                          m[1].matched ? m[1].str() : m[2].str()),
              tag_start};
    if (std::regex_search(msg, m, no_text))
      return {Code::bad_structure, fmt::format("<{}> takes no text", parent_name()), at};
    if (msg.find("DOCTYPE") != std::string::npos || msg.find("DTD") != std::string::npos ||
        msg.find("may not refer to other files") != std::string::npos)
      return {Code::doctype_refused,
              "DTDs and entities are not allowed: remove the <!DOCTYPE ...>; a farm file may not make "
              "farmctl read other files or the network",
              at == 0 ? 0 : src_.rfind("<!", at) == std::string_view::npos ? at : src_.rfind("<!", at)};
    if (std::regex_search(msg, m, end_tag) && !open_.empty()) {
      const OpenElement& unclosed = open_.back();
      return {Code::malformed_xml,
              fmt::format("<{}> is never closed: end it with '/>' (<{} ... />) or add </{}> before this point",
                          m[1].str(), m[1].str(), m[1].str()),
              unclosed.tag_start};
    }
    if (!fatal && std::regex_search(msg, m, incomplete))
      return {Code::bad_structure, fmt::format("<{}> is incomplete: {}", m[1].matched ? m[1].str() : m[2].str(), msg),
              at};
    if (fatal) return {Code::malformed_xml, fmt::format("malformed XML: {}", msg), at};
    return {Code::bad_structure, msg, at};
  }

  std::string element_name_at(std::size_t tag_start) const {
    std::size_t i = tag_start + 1;
    while (i < src_.size() && is_name_char(src_[i])) ++i;
    return std::string(src_.substr(tag_start + 1, i - tag_start - 1));
  }

  const SourceMap& map_;
  std::string_view src_;
  DiagnosticList& diags_;
  const xc::Locator* locator_ = nullptr;
  XmlDocument doc_;
  std::vector<OpenElement> open_;
  bool pending_unknown_ = false;
  std::set<std::string> reported_unknown_;
  std::vector<Diagnostic> schema_errors_;  // held back: a later fatal error may make them noise
  bool fatal_ = false;
  Position last_pos_;
};

std::unique_ptr<xc::SAX2XMLReader> make_safe_reader() {
  std::unique_ptr<xc::SAX2XMLReader> p(xc::XMLReaderFactory::createXMLReader());
  p->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, true);
  p->setFeature(xc::XMLUni::fgXercesSchema, true);
  p->setFeature(xc::XMLUni::fgSAX2CoreValidation, true);
  p->setFeature(xc::XMLUni::fgXercesDynamic, false);
  p->setFeature(xc::XMLUni::fgXercesUseCachedGrammarInParse, true);
  p->setFeature(xc::XMLUni::fgXercesLoadSchema, false);  // ignore xsi:schemaLocation hints
  p->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
  p->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
  p->setFeature(xc::XMLUni::fgXercesSkipDTDValidation, true);
  p->setFeature(xc::XMLUni::fgXercesIdentityConstraintChecking, false);
  return p;
}

}  // namespace

std::optional<XmlDocument> read_xml_document(std::string_view source, std::string_view schema_xsd,
                                             std::string_view schema_name, DiagnosticList& diags) {
  SourceMap map(source);
  if (find_legacy_syntax(map, diags) > 0) return std::nullopt;

  ensure_xerces_initialized();
  std::unique_ptr<xc::SAX2XMLReader> parser = make_safe_reader();
  RefuseEverything refuse;
  parser->setEntityResolver(&refuse);
  xc::SecurityManager security;
  security.setEntityExpansionLimit(16);
  parser->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);

  std::string schema_id(schema_name);
  xc::MemBufInputSource schema_source(reinterpret_cast<const XMLByte*>(schema_xsd.data()), schema_xsd.size(),
                                      schema_id.c_str());
  if (parser->loadGrammar(schema_source, xc::Grammar::SchemaGrammarType, true) == nullptr)
    throw std::logic_error("the embedded schema " + schema_id + " does not load");

  Handler handler(map, diags);
  parser->setContentHandler(&handler);
  parser->setLexicalHandler(&handler);
  parser->setErrorHandler(&handler);
  xc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(source.data()), source.size(), "farm");
  try {
    parser->parse(input);
  } catch (const xc::SAXException&) {
    // reported through fatalError
  } catch (const xc::XMLException& e) {
    handler.flush_schema_errors();
    diags.error(Code::malformed_xml, {1, 1}, "malformed XML: " + utf8(e.getMessage()));
    return std::nullopt;
  }
  handler.flush_schema_errors();
  if (handler.fatal()) return std::nullopt;
  XmlDocument doc = handler.take_document();
  if (doc.elements.empty()) {
    diags.error(Code::malformed_xml, {1, 1}, "the file holds no XML element");
    return std::nullopt;
  }
  return doc;
}

}  // namespace farmctl::fml
