// What Xerces-C++ itself costs: a farm file (or, with --wiring, a wiring
// map) parsed with schema validation against the embedded schema, as farmctl
// asks for it, but into a handler that does nothing. Its MB/s is the ceiling
// of `farmctl compile`'s MB/s: whatever farmctl does with the elements comes
// on top. Prints the best of three runs.
//   build/bench/xml_ceiling FILE [--wiring]
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "compiler/embedded_schema.h"

namespace xc = xercesc;

namespace {

// The features farmctl's reader sets (compiler/xml_reader.cpp): validation
// against a cached grammar, no schema hints, no DTDs.
void configure(xc::SAX2XMLReader& reader) {
  const std::pair<const XMLCh*, bool> features[] = {
      {xc::XMLUni::fgSAX2CoreNameSpaces, true},          {xc::XMLUni::fgXercesSchema, true},
      {xc::XMLUni::fgSAX2CoreValidation, true},          {xc::XMLUni::fgXercesDynamic, false},
      {xc::XMLUni::fgXercesUseCachedGrammarInParse, true}, {xc::XMLUni::fgXercesLoadSchema, false},
      {xc::XMLUni::fgXercesLoadExternalDTD, false},      {xc::XMLUni::fgXercesDisableDefaultEntityResolution, true},
      {xc::XMLUni::fgXercesSkipDTDValidation, true},     {xc::XMLUni::fgXercesIdentityConstraintChecking, false}};
  for (const auto& [name, on] : features) reader.setFeature(name, on);
}

double parse_seconds(const std::string& text, std::string_view schema) {
  std::unique_ptr<xc::SAX2XMLReader> reader(xc::XMLReaderFactory::createXMLReader());
  configure(*reader);
  xc::MemBufInputSource grammar(reinterpret_cast<const XMLByte*>(schema.data()), schema.size(), "schema");
  reader->loadGrammar(grammar, xc::Grammar::SchemaGrammarType, true);
  xc::DefaultHandler nothing;
  reader->setContentHandler(&nothing);
  reader->setErrorHandler(&nothing);
  xc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(text.data()), text.size(), "input");
  auto started = std::chrono::steady_clock::now();
  reader->parse(input);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: xml_ceiling FILE [--wiring]\n";
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  bool wiring = argc > 2 && std::string(argv[2]) == "--wiring";
  xc::XMLPlatformUtils::Initialize();
  double best = 1e9;
  for (int run = 0; run < 3; ++run)
    best = std::min(best, parse_seconds(text, wiring ? farmctl::fml::embedded_wiring_schema()
                                                     : farmctl::fml::embedded_fml_schema()));
  fmt::print("{:.1f} MB/s ({} bytes in {:.3f} s)\n", static_cast<double>(text.size()) / 1048576 / best, text.size(),
             best);
  xc::XMLPlatformUtils::Terminate();
  return 0;
}
