// `farmctl workorder submit | list | show | retry | close`: work orders for
// administrators on the command line, straight against the inventory (a
// running farmctl serve picks up what changes within a poll tick).
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "service/accounts.h"
#include "service/farm_source_cache.h"
#include "service/mail_order.h"
#include "service/service_json.h"
#include "service/work_order_intake.h"
#include "service/work_order_request.h"
#include "service/work_orders.h"

namespace farmctl::cli {
namespace {

service::WorkOrder order_or_fail(runtime::Database& db, long long id) {
  auto order = service::WorkOrderStore(db).get(id);
  if (!order) throw CommandError(fmt::format("there is no work order {}", id));
  return *order;
}

void print_order(const service::WorkOrder& o) {
  fmt::print("work order {}\n", o.id);
  fmt::print("  type:          {}\n", o.type);
  fmt::print("  state:         {}\n", o.state);
  fmt::print("  account:       {} (id {})\n", o.account, o.account_id);
  fmt::print("  farm:          {}{}\n", o.farm, o.farm_revision ? fmt::format(" (revision {})", *o.farm_revision) : "");
  fmt::print("  parameters:    {}\n", o.parameters.dump());
  if (!o.description.empty()) fmt::print("  description:   {}\n", o.description);
  fmt::print("  quantity:      {} {}\n", o.quantity, o.unit);
  fmt::print("  created:       {}\n", o.created_at);
  if (o.opened_at) fmt::print("  opened:        {}\n", *o.opened_at);
  if (o.finished_at) fmt::print("  finished:      {}\n", *o.finished_at);
  if (o.attempts > 0) fmt::print("  attempts:      {}\n", o.attempts);
  if (!o.reason.empty()) fmt::print("  reason:        {}\n", o.reason);
  if (!o.comment.empty()) fmt::print("  comment:       {}\n", o.comment);
}

}  // namespace

int run_workorder_submit(const WorkOrderOptions& options) {
  std::ifstream in(options.mail_file, std::ios::binary);
  if (!in) throw CommandError(fmt::format("cannot read {}", options.mail_file));
  std::ostringstream text;
  text << in.rdbuf();
  service::MailOrder mail;
  try {
    mail = service::read_mail_order(text.str());
  } catch (const service::MailError& e) {
    throw CommandError(fmt::format("{}: {}", options.mail_file, e.what()));
  }
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  auto customer = service::AccountStore(db).by_name(options.customer);
  if (!customer) throw CommandError(fmt::format("there is no account '{}'", options.customer));
  service::FarmSourceCache cache;
  try {
    service::WorkOrder order = service::take_order(db, cache, *customer, mail.request);
    std::cout << service::confirmation_reply(mail, order);
    return 0;
  } catch (const service::OrderRejected& e) {
    std::cout << service::refusal_reply(mail, e.what());
    fmt::print(stderr, "farmctl: error: the order was refused: {}\n", e.what());
    return 1;
  }
}

int run_workorder_list(const WorkOrderOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::OrderFilter filter;
  filter.limit = 1'000'000;
  if (!options.state.empty()) filter.state = options.state;
  if (!options.customer.empty()) {
    auto account = service::AccountStore(db).by_name(options.customer);
    if (!account) throw CommandError(fmt::format("there is no account '{}'", options.customer));
    filter.account_id = account->id;
  }
  auto orders = service::WorkOrderStore(db).list(filter);
  if (options.json) {
    service::Json out = service::Json::array();
    for (const auto& o : orders) out.push_back(service::to_json(o));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  fmt::print("{:>6}  {:<7} {:<17} {:<16} {:<20} {:<24} {}\n", "ID", "STATE", "TYPE", "ACCOUNT", "FARM", "CREATED",
             "REASON");
  for (const auto& o : orders)
    fmt::print("{:>6}  {:<7} {:<17} {:<16} {:<20} {:<24} {}\n", o.id, o.state, o.type, o.account, o.farm,
               o.created_at, o.reason.substr(0, 80));
  return 0;
}

int run_workorder_show(const WorkOrderOptions& options) {
  auto inventory = open_inventory(options.db);
  service::WorkOrder order = order_or_fail(inventory->database(), options.id);
  if (options.json)
    std::cout << service::to_json(order).dump(2) << "\n";
  else
    print_order(order);
  return 0;
}

int run_workorder_retry(const WorkOrderOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::WorkOrder order = order_or_fail(db, options.id);
  service::WorkOrderStore orders(db);
  if (!orders.retry(order.id))
    throw CommandError(fmt::format("work order {} is {}; only a failed order can be retried", order.id, order.state));
  fmt::print("work order {} is {} again; farmctl serve carries it out\n", order.id, orders.get(order.id)->state);
  return 0;
}

int run_workorder_close(const WorkOrderOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::Database& db = inventory->database();
  service::WorkOrder order = order_or_fail(db, options.id);
  service::WorkOrderStore orders(db);
  if (!orders.close_by_hand(order.id, options.comment))
    throw CommandError(fmt::format("work order {} is {}; only a new or failed order can be closed by hand", order.id,
                                   order.state));
  fmt::print("work order {} closed by hand; billable event recorded ({} {} for {})\n", order.id, order.quantity,
             order.unit, order.account);
  return 0;
}

}  // namespace farmctl::cli
