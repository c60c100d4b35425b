#include "service/http_server.h"

#include <cctype>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <httplib.h>

namespace farmctl::service {

struct HttpServer::Impl {
  Api& api;
  JsonLog& log;
  httplib::Server server;
  Impl(Api& a, JsonLog& l) : api(a), log(l) {}
};

namespace {

ApiRequest to_api_request(const httplib::Request& req) {
  ApiRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [key, value] : req.params) r.query[key] = value;  // the last of a repeated key wins
  for (const auto& [key, value] : req.headers) {
    std::string lower = key;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[lower] = value;
  }
  r.body = req.body;
  return r;
}

}  // namespace

HttpServer::HttpServer(Api& api, JsonLog& log, int threads) : impl_(std::make_unique<Impl>(api, log)) {
  httplib::Server& s = impl_->server;
  // A thread per connection being answered; keep-alive connections hold
  // theirs, so there must be more than the clients that keep one open.
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  s.set_payload_max_length(kMaxFarmBody);  // larger bodies: 413 before the body is read
  s.set_keep_alive_max_count(100);
  // An idle keep-alive connection holds its thread until this runs out, and
  // a stop waits for every thread: keep it short so SIGTERM ends promptly.
  s.set_keep_alive_timeout(1);
  // Answers are small and written in pieces: without this, Nagle's algorithm
  // meets the client's delayed ACK and every request waits ~40 ms.
  s.set_tcp_nodelay(true);
  s.set_read_timeout(10, 0);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    ApiResponse r = impl_->api.handle(to_api_request(req));
    res.status = r.status;
    for (const auto& [key, value] : r.headers) res.set_header(key, value);
    res.set_content(r.body, r.content_type);
  };
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.Patch(".*", handler);
  // What httplib answers by itself (413, 400 for a request it cannot parse)
  // gets a JSON body like every other error.
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 413 ? fmt::format("the body is larger than {} bytes", kMaxFarmBody)
                                            : fmt::format("HTTP {}", res.status);
    res.set_content(fmt::format("{{\"error\": {{\"status\": {}, \"message\": \"{}\"}}}}\n", res.status, message),
                    "application/json");
  });
}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = impl_->server.bind_to_any_port(host);
    if (bound <= 0) throw std::runtime_error(fmt::format("cannot listen on {}: no free port", host));
  } else if (!impl_->server.bind_to_port(host, port)) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{} (in use, or not an address of this host)", host, port));
  }
  return bound;
}

void HttpServer::serve() { impl_->server.listen_after_bind(); }

void HttpServer::stop() { impl_->server.stop(); }

std::pair<std::string, int> parse_listen_address(const std::string& text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error(fmt::format("bad --listen '{}': write HOST:PORT, e.g. 127.0.0.1:8080", text));
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  std::string_view p(text);
  p.remove_prefix(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535)
    throw std::runtime_error(fmt::format("bad --listen '{}': the port must be 0..65535", text));
  return {host, port};
}

}  // namespace farmctl::service
