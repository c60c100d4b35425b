// The API's front door: authentication, routing, and turning every failure
// into a JSON error response. The handlers are in api_*.cpp.
#include "service/api.h"

#include <fmt/format.h>

#include "service/api_handlers.h"
#include "service/work_order_request.h"

namespace farmctl::service {

ConnectionPool::Lease ConnectionPool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(db));
    }
  }
  return Lease(*this, std::make_unique<runtime::Database>(path_));
}

void ConnectionPool::give_back(std::unique_ptr<runtime::Database> db) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(db));
}

namespace api {

ApiResponse json_response(int status, const Json& body) {
  ApiResponse r;
  r.status = status;
  r.body = body.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

ApiResponse error_response(int status, const std::string& message, const std::string& parameter) {
  Json error{{"status", status}, {"message", message}};
  if (!parameter.empty()) error["parameter"] = parameter;
  return json_response(status, {{"error", error}});
}

nlohmann::json parse_json_body(const ApiRequest& request) {
  if (request.body.empty()) throw HttpError(400, "the request has no body: send a JSON object");
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message is exact but wordy; keep what says where.
    std::string what = e.what();
    if (auto at = what.find("parse error"); at != std::string::npos) what = what.substr(at);
    throw HttpError(400, "malformed JSON: " + what);
  }
}

void require_level(const Context& ctx, Level least, const char* what) {
  if (ctx.caller.level < least)
    throw HttpError(403, fmt::format("{} needs level {} or above; this account is {}", what, to_string(least),
                                     to_string(ctx.caller.level)));
}

}  // namespace api

namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

ApiResponse Api::handle(const ApiRequest& request) {
  ApiResponse response;
  try {
    response = route(request);
  } catch (const RequestRefused& e) {  // api::HttpError, OrderRejected
    response = api::error_response(e.status(), e.what(), e.parameter());
  } catch (const runtime::SqliteError& e) {
    log_.error("api.database_error", {{"path", request.path}, {"message", e.what()}});
    response = e.busy() ? api::error_response(503, "the inventory is busy; try again")
                        : api::error_response(500, "internal error (see the service log)");
    if (e.busy()) response.headers["Retry-After"] = "1";
  } catch (const std::exception& e) {
    log_.error("api.error", {{"path", request.path}, {"message", e.what()}});
    response = api::error_response(500, "internal error (see the service log)");
  }
  metrics_.http_request(response.status);
  return response;
}

ApiResponse Api::route(const ApiRequest& request) {
  const std::string& m = request.method;
  std::vector<std::string> s = segments(request.path);
  if (s.size() == 1 && s[0] == "healthz") {
    if (m != "GET" && m != "HEAD") throw api::HttpError(405, "use GET /healthz");
    ApiResponse r;
    r.content_type = "text/plain";
    r.body = "ok\n";
    return r;
  }

  // Everything else needs a token.
  std::string auth = request.header("authorization");
  if (!auth.starts_with("Bearer ")) {
    ApiResponse r = api::error_response(401, "send Authorization: Bearer TOKEN (farmctl account create prints one)");
    r.headers["WWW-Authenticate"] = "Bearer realm=\"farmctl\"";
    return r;
  }
  auto lease = pool_.borrow();
  runtime::Database& db = *lease;
  auto caller = AccountStore(db).authenticate(std::string_view(auth).substr(7));
  if (!caller) {
    ApiResponse r = api::error_response(401, "the token is not valid");
    r.headers["WWW-Authenticate"] = "Bearer realm=\"farmctl\", error=\"invalid_token\"";
    return r;
  }
  api::Context ctx{request, *caller, db, cache_, metrics_, log_, wake_};
  // A known path asked with the wrong method is a 405 naming the right one.
  auto only = [&](const char* want) {
    if (m != want) throw api::HttpError(405, fmt::format("{} {} is not a route; use {}", m, request.path, want));
  };

  if (s.size() == 1 && s[0] == "metrics") {
    only("GET");
    return api::metrics(ctx);
  }
  if (s.empty() || s[0] != "v1") throw api::HttpError(404, fmt::format("no route {}", request.path));
  s.erase(s.begin());
  std::string what = s.empty() ? std::string() : s[0];
  if (s.size() == 1 && what == "whoami") {
    only("GET");
    return api::whoami(ctx);
  }
  if (s.size() == 1 && what == "work-order-types") {
    only("GET");
    return api::work_order_types(ctx);
  }
  if (what == "work-orders") {
    if (s.size() == 1 && m == "POST") {
      if (request.body.size() > kMaxOrderBody)
        throw api::HttpError(413, fmt::format("a work order's body may be at most {} bytes", kMaxOrderBody));
      return api::submit_work_order(ctx);
    }
    if (s.size() == 1) {
      only("GET");
      return api::list_work_orders(ctx);
    }
    if (s.size() == 2) {
      only("GET");
      return api::show_work_order(ctx, s[1]);
    }
    if (s.size() == 3 && (s[2] == "retry" || s[2] == "close")) {
      only("POST");
      if (request.body.size() > kMaxOrderBody) throw api::HttpError(413, "the body is too large");
      return s[2] == "retry" ? api::retry_work_order(ctx, s[1]) : api::close_work_order(ctx, s[1]);
    }
  }
  if (what == "farms") {
    if (s.size() == 1) {
      only("GET");
      return api::list_farms(ctx);
    }
    if (s.size() == 2 && m == "PUT") return api::put_farm(ctx, s[1]);
    if (s.size() == 2) {
      only("GET");
      return api::show_farm(ctx, s[1]);
    }
    if (s.size() == 3 && s[2] == "source") {
      only("GET");
      return api::farm_source(ctx, s[1]);
    }
    if (s.size() == 3 && s[2] == "revisions") {
      only("GET");
      return api::farm_revisions(ctx, s[1]);
    }
    if (s.size() == 3 && s[2] == "backups") {
      only("GET");
      return api::farm_backups(ctx, s[1]);
    }
  }
  if (what == "accounts") {
    if (s.size() == 1) {
      only("GET");
      return api::list_accounts(ctx);
    }
    if (s.size() == 3 && (s[2] == "billable-events" || s[2] == "billable-events.csv")) {
      only("GET");
      auto format = request.query.find("format");
      bool csv = s[2].ends_with(".csv") || (format != request.query.end() && format->second == "csv") ||
                 request.header("accept").find("text/csv") != std::string::npos;
      return api::billable_events(ctx, s[1], csv);
    }
  }
  throw api::HttpError(404, fmt::format("no route {}", request.path));
}

}  // namespace farmctl::service
