// The work-order routes: the types a caller may order, submitting, listing
// and showing orders, and the provider admin's retry and close.
#include <charconv>

#include <fmt/format.h>

#include "service/api_handlers.h"
#include "service/service_json.h"
#include "service/work_order_intake.h"
#include "service/work_orders.h"

namespace farmctl::service::api {
namespace {

std::int64_t parse_id(const std::string& text, const char* what) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw HttpError(400, fmt::format("'{}' is not a {} id", text.substr(0, 40), what));
  return id;
}

// The order if the caller may see it; 404 otherwise, whether or not it exists,
// so that ids of other tenants' orders give nothing away.
WorkOrder visible_order(Context& ctx, const std::string& id_text) {
  std::int64_t id = parse_id(id_text, "work order");
  auto order = WorkOrderStore(ctx.db).get(id);
  if (!order || (!ctx.caller.is_provider() && order->account_id != ctx.caller.id))
    throw HttpError(404, fmt::format("no work order {}", id));
  return *order;
}

}  // namespace

ApiResponse work_order_types(Context& ctx) {
  Json types = Json::array();
  for (const OrderType& t : order_types())
    if (t.allowed_for(ctx.caller.level)) types.push_back(to_json(t));
  return json_response(200, {{"level", to_string(ctx.caller.level)}, {"types", types}});
}

ApiResponse submit_work_order(Context& ctx) {
  nlohmann::json body = parse_json_body(ctx.request);
  WorkOrder order = take_order(ctx.db, ctx.cache, ctx.caller, body);
  ctx.log.info("work_order.received", {{"work_order", order.id},
                                       {"farm", order.farm},
                                       {"type", order.type},
                                       {"account", order.account},
                                       {"submitted_by", ctx.caller.name}});
  ctx.wake();
  ApiResponse r = json_response(201, to_json(order));
  r.headers["Location"] = fmt::format("/v1/work-orders/{}", order.id);
  return r;
}

ApiResponse list_work_orders(Context& ctx) {
  OrderFilter filter;
  for (const auto& [key, value] : ctx.request.query) {
    if (key == "state") {
      if (value != "new" && value != "open" && value != "closed" && value != "failed")
        throw HttpError(400, fmt::format("state '{}' is not new, open, closed or failed", value.substr(0, 40)),
                        "state");
      filter.state = value;
    } else if (key == "farm") {
      filter.farm = value;
    } else if (key == "account") {
      if (!ctx.caller.is_provider()) throw HttpError(403, "only a provider admin may list another account's orders");
      auto account = AccountStore(ctx.db).by_name(value);
      if (!account) throw HttpError(400, fmt::format("no account '{}'", value.substr(0, 64)), "account");
      filter.account_id = account->id;
    } else if (key == "after") {
      filter.after_id = parse_id(value, "work order");
    } else if (key == "limit") {
      int limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 10000)
        throw HttpError(400, "limit must be 1..10000", "limit");
      filter.limit = limit;
    } else {
      throw HttpError(400, fmt::format("unknown query parameter '{}' (state, farm, account, after, limit)",
                                       key.substr(0, 64)),
                      key.substr(0, 64));
    }
  }
  if (!ctx.caller.is_provider()) filter.account_id = ctx.caller.id;
  Json orders = Json::array();
  for (const WorkOrder& o : WorkOrderStore(ctx.db).list(filter)) orders.push_back(to_json(o));
  return json_response(200, {{"work_orders", orders}});
}

ApiResponse show_work_order(Context& ctx, const std::string& id) {
  return json_response(200, to_json(visible_order(ctx, id)));
}

ApiResponse retry_work_order(Context& ctx, const std::string& id) {
  require_level(ctx, Level::provider_admin, "retrying a work order");
  WorkOrder order = visible_order(ctx, id);
  WorkOrderStore orders(ctx.db);
  if (!orders.retry(order.id))
    throw HttpError(409, fmt::format("work order {} is {}; only a failed order can be retried", order.id, order.state));
  ctx.log.info("work_order.retried", {{"work_order", order.id}, {"farm", order.farm}, {"by", ctx.caller.name}});
  ctx.wake();
  return json_response(200, to_json(*orders.get(order.id)));
}

ApiResponse close_work_order(Context& ctx, const std::string& id) {
  require_level(ctx, Level::provider_admin, "closing a work order by hand");
  WorkOrder order = visible_order(ctx, id);
  nlohmann::json body = parse_json_body(ctx.request);
  if (!body.is_object()) throw HttpError(400, "send {\"comment\": \"what was done\"}");
  for (auto& [key, value] : body.items())
    if (key != "comment") throw HttpError(400, fmt::format("unknown field '{}': send only comment", key.substr(0, 64)));
  if (!body.contains("comment") || !body["comment"].is_string() || body["comment"].get<std::string>().empty())
    throw HttpError(400, "field comment is required: say what was done by hand", "comment");
  std::string comment = body["comment"].get<std::string>();
  if (comment.size() > 2000) throw HttpError(400, "comment is longer than 2000 bytes", "comment");
  WorkOrderStore orders(ctx.db);
  if (!orders.close_by_hand(order.id, comment))
    throw HttpError(409, fmt::format("work order {} is {}; only a new or failed order can be closed by hand", order.id,
                                     order.state));
  ctx.log.info("work_order.closed", {{"work_order", order.id},
                                     {"farm", order.farm},
                                     {"by", ctx.caller.name},
                                     {"by_hand", true},
                                     {"quantity", order.quantity},
                                     {"unit", order.unit}});
  return json_response(200, to_json(*orders.get(order.id)));
}

}  // namespace farmctl::service::api
