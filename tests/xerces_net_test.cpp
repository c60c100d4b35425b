// farmctl holds no network client: Xerces-C++ is linked with farmctl's net
// accessor, which refuses every URL, instead of its libcurl one
// (compiler/xerces_net/refusing_net_accessor.cpp). The parser never asks it
// for anything (xml_reader.h refuses DOCTYPEs and resolves no entity or
// schema location: compiler_test.cpp), so it is asked here directly.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <string_view>

#include <xercesc/util/BinInputStream.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLNetAccessor.hpp>
#include <xercesc/util/XMLURL.hpp>

#include "compiler/xml_reader.h"

#ifdef FARMCTL_XERCES_NO_NETWORK

namespace {

namespace xc = XERCES_CPP_NAMESPACE;

// A listening TCP socket on loopback, on a port the kernel chose.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
  // Whether a client connected (the socket is non-blocking: no wait).
  bool was_connected() const {
    int client = ::accept(fd, nullptr, nullptr);
    if (client < 0) return false;
    ::close(client);
    return true;
  }
};

}  // namespace

TEST_CASE("Xerces' net accessor refuses every URL without connecting to it", "[compiler]") {
  farmctl::fml::ensure_xerces_initialized();
  Listener listener;
  REQUIRE(xc::XMLPlatformUtils::fgNetAccessor != nullptr);
  // Another accessor would try the URL (and libcurl's would wait on the
  // listener for an answer): stop first.
  REQUIRE(std::u16string_view(xc::XMLPlatformUtils::fgNetAccessor->getId()) == u"farmctl: no network");
  for (std::string url : {"http://127.0.0.1:" + std::to_string(listener.port) + "/fml.xsd",
                          "ftp://127.0.0.1:" + std::to_string(listener.port) + "/fml.xsd"}) {
    INFO(url);
    xc::XMLURL target(url.c_str());
    std::unique_ptr<xc::BinInputStream> stream;
    CHECK_THROWS_AS(stream.reset(xc::XMLPlatformUtils::fgNetAccessor->makeNew(target)), xc::XMLException);
    CHECK_FALSE(stream);
    CHECK_FALSE(listener.was_connected());
  }
}

#endif
