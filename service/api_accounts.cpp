// The account routes: who am I, the accounts (provider admin), billable
// events as JSON or CSV, and the metrics.
#include <charconv>

#include <fmt/format.h>

#include "service/api_handlers.h"
#include "service/farm_status.h"
#include "service/service_json.h"
#include "service/work_order_automation.h"
#include "service/work_orders.h"

namespace farmctl::service::api {

ApiResponse whoami(Context& ctx) {
  Json j = to_json(ctx.caller);
  j["storage_used_mb"] = storage_used_by(ctx.db, ctx.cache, ctx.caller.id);
  return json_response(200, j);
}

ApiResponse list_accounts(Context& ctx) {
  require_level(ctx, Level::provider_admin, "listing accounts");
  Json out = Json::array();
  for (const Account& a : AccountStore(ctx.db).all()) out.push_back(to_json(a));
  return json_response(200, {{"accounts", out}});
}

ApiResponse billable_events(Context& ctx, const std::string& account, bool csv) {
  std::int64_t id = 0;
  if (account == "me") {
    id = ctx.caller.id;
  } else {
    auto [end, ec] = std::from_chars(account.data(), account.data() + account.size(), id);
    if (ec != std::errc() || end != account.data() + account.size())
      throw HttpError(400, fmt::format("'{}' is not an account id (or 'me')", account.substr(0, 40)));
  }
  // Another tenant's bills do not exist as far as a customer can tell.
  if ((!ctx.caller.is_provider() && id != ctx.caller.id) || !AccountStore(ctx.db).by_id(id))
    throw HttpError(404, fmt::format("no account {}", id));
  auto events = WorkOrderStore(ctx.db).billable_events(id);
  if (csv) {
    ApiResponse r;
    r.content_type = "text/csv";
    r.headers["Content-Disposition"] = fmt::format("attachment; filename=\"billable-events-{}.csv\"", id);
    r.body = billable_events_csv(events);
    return r;
  }
  Json out = Json::array();
  for (const BillableEvent& e : events) out.push_back(to_json(e));
  return json_response(200, {{"account_id", id}, {"billable_events", out}});
}

ApiResponse metrics(Context& ctx) {
  require_level(ctx, Level::provider_admin, "reading the metrics");
  std::map<std::string, std::int64_t> farms{{"Ready", 0}, {"Reconciling", 0}, {"Failed", 0}};
  for (const FarmStatus& s : FarmStatusStore(ctx.db).all()) ++farms[s.status];
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = ctx.metrics.render(WorkOrderStore(ctx.db).counts_by_state(), farms);
  return r;
}

}  // namespace farmctl::service::api
