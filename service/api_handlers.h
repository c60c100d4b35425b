#pragma once
// Private to the API (api.cpp and api_*.cpp): what a route handler gets and
// the helpers they share.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "service/accounts.h"
#include "service/api.h"
#include "service/request_refused.h"
#include "service/service_json.h"

namespace farmctl::service::api {

// Thrown by a handler to answer with an error; parameter names the bad one.
using HttpError = RequestRefused;

struct Context {
  const ApiRequest& request;
  const Account& caller;
  runtime::Database& db;
  FarmSourceCache& cache;
  Metrics& metrics;
  JsonLog& log;
  const std::function<void()>& wake;
};

ApiResponse json_response(int status, const Json& body);
ApiResponse error_response(int status, const std::string& message, const std::string& parameter = "");
// The body as JSON; HttpError 400 naming what is wrong when it is not.
nlohmann::json parse_json_body(const ApiRequest& request);
void require_level(const Context& ctx, Level least, const char* what);

ApiResponse work_order_types(Context& ctx);
ApiResponse submit_work_order(Context& ctx);
ApiResponse list_work_orders(Context& ctx);
ApiResponse show_work_order(Context& ctx, const std::string& id);
ApiResponse retry_work_order(Context& ctx, const std::string& id);
ApiResponse close_work_order(Context& ctx, const std::string& id);

ApiResponse list_farms(Context& ctx);
ApiResponse show_farm(Context& ctx, const std::string& name);
ApiResponse farm_source(Context& ctx, const std::string& name);
ApiResponse farm_revisions(Context& ctx, const std::string& name);
ApiResponse put_farm(Context& ctx, const std::string& name);

ApiResponse whoami(Context& ctx);
ApiResponse list_accounts(Context& ctx);
ApiResponse farm_backups(Context& ctx, const std::string& name);
ApiResponse billable_events(Context& ctx, const std::string& account, bool csv);
ApiResponse metrics(Context& ctx);

}  // namespace farmctl::service::api
