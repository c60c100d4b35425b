#pragma once
// The HTTP listener: the one file that includes cpp-httplib (Debian's
// libcpp-httplib-dev; docs/design/service.md says why this library). It hands
// every request to the Api and writes back what the Api answers.
#include <memory>
#include <string>

#include "service/api.h"
#include "service/json_log.h"

namespace farmctl::service {

class HttpServer {
 public:
  HttpServer(Api& api, JsonLog& log, int threads);
  ~HttpServer();
  // Binds HOST:PORT (port 0: any free one) and returns the port; throws
  // std::runtime_error when it cannot.
  int bind(const std::string& host, int port);
  // Serves until stop(); call after bind().
  void serve();
  // Stops accepting; requests being answered finish. Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:8080" -> host and port; throws std::runtime_error when malformed.
std::pair<std::string, int> parse_listen_address(const std::string& text);

}  // namespace farmctl::service
