// farmctl holds no network client: Xerces-C++ is linked with farmctl's net
// accessor, which refuses every URL, instead of its libcurl one
// (compiler/xerces_net/refusing_net_accessor.cpp). The parser never asks it
// for anything (xml_reader.h refuses DOCTYPEs and resolves no entity or
// schema location: compiler_test.cpp), so it is asked here directly.
#include <catch2/catch.hpp>

#include <memory>
#include <string_view>

#include <xercesc/util/BinInputStream.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLNetAccessor.hpp>
#include <xercesc/util/XMLURL.hpp>

#include "compiler/xml_reader.h"

#ifdef FARMCTL_XERCES_NO_NETWORK

namespace xc = XERCES_CPP_NAMESPACE;

TEST_CASE("Xerces' net accessor is farmctl's and refuses every URL", "[compiler]") {
  farmctl::fml::ensure_xerces_initialized();
  REQUIRE(xc::XMLPlatformUtils::fgNetAccessor != nullptr);
  // The archive's libcurl accessor would answer with its own name (and try
  // the URLs below).
  REQUIRE(std::u16string_view(xc::XMLPlatformUtils::fgNetAccessor->getId()) == u"farmctl: no network");
  for (const char* url : {"http://127.0.0.1:9/fml.xsd", "ftp://127.0.0.1:9/fml.xsd"}) {
    INFO(url);
    xc::XMLURL target(url);
    std::unique_ptr<xc::BinInputStream> stream;
    CHECK_THROWS_AS(stream.reset(xc::XMLPlatformUtils::fgNetAccessor->makeNew(target)), xc::XMLException);
    CHECK_FALSE(stream);
  }
}

#endif
