#include "service/work_order_intake.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reconciler/move_check.h"
#include "runtime/inventory.h"
#include "service/farm_store.h"
#include "service/order_edit.h"
#include "service/work_order_automation.h"
#include "service/work_order_request.h"

namespace farmctl::service {

namespace {

// What `farmctl migrate` checks before anything changes, from the inventory
// alone: the server is placed, the host is known, idle, of its class, and
// shares a protocol with every disk's array. 409: the farm or the hardware is
// not in a state for it; 400: the host asked for cannot take the server.
void check_move(runtime::Database& db, const FarmSource& farm, const nlohmann::json& params) {
  std::string server = params.value("server", "");
  std::string host = params.value("host", "");
  runtime::Inventory inventory(db.path());
  std::vector<std::string> refusals = reconcile::move_refusals(farm.plan(), inventory, server, host);
  if (refusals.empty()) return;
  std::string message = fmt::format("{}", fmt::join(refusals, "; "));
  if (message.find("is not placed on a host yet") != std::string::npos) throw OrderRejected(409, message, "server");
  if (message.find("the host is not idle") != std::string::npos) throw OrderRejected(409, message, "host");
  throw OrderRejected(400, message, "host");
}

}  // namespace

std::string default_storage_farm(const Account& account) { return account.name + "-storage"; }

WorkOrder take_order(runtime::Database& db, FarmSourceCache& cache, const Account& caller,
                     const nlohmann::json& body) {
  OrderRequest request = parse_order_request(body, caller.level);
  const OrderType& type = *request.type;
  FarmStore farms(db);

  std::string farm = request.text("farm");
  if (farm.empty()) {
    if (caller.is_provider())
      throw OrderRejected(400, "parameter farm is required for an order a provider admin submits", "farm");
    farm = default_storage_farm(caller);
    request.parameters["farm"] = farm;
  }
  auto stored = farms.farm(farm);
  std::shared_ptr<const FarmSource> current;
  std::int64_t billed = caller.id;
  if (stored) {
    if (!caller.is_provider() && stored->owner_id != caller.id)
      throw OrderRejected(403, fmt::format("farm {} belongs to another account", farm), "farm");
    if (stored->origin.starts_with("dir:"))
      throw OrderRejected(409,
                          fmt::format("farm {} comes from the file {}; change that file instead", farm,
                                      stored->origin.substr(4)),
                          "farm");
    billed = stored->owner_id.value_or(caller.id);
    auto head = farms.current(farm);
    if (!head) throw OrderRejected(400, fmt::format("farm {} has no revision yet", farm), "farm");
    try {
      current = cache.get(*head);
    } catch (const FarmSourceError&) {
      throw OrderRejected(409, fmt::format("farm {}'s newest revision does not compile; fix the farm first", farm),
                          "farm");
    }
  } else if (type.name != "allocate-storage") {
    throw OrderRejected(400, fmt::format("parameter farm: there is no farm '{}'", farm), "farm");
  } else if (!valid_account_name(farm)) {
    throw OrderRejected(400,
                        fmt::format("parameter farm: '{}' is not a name for a new farm (1-63 of a-z, 0-9 and '-')",
                                    farm),
                        "farm");
  }

  OrderEdit edit = plan_order_edit(type, request.parameters, farm, current);
  if (type.name == "migrate-server") check_move(db, *current, request.parameters);
  if (edit.added_mb > 0) {
    auto account = AccountStore(db).by_id(billed);
    if (account && account->quota_mb) {
      std::uint64_t used = storage_used_by(db, cache, billed);
      std::uint64_t after = used + static_cast<std::uint64_t>(edit.added_mb);
      if (after > *account->quota_mb)
        throw OrderRejected(403, fmt::format("account {} would use {} MB, over its quota of {} MB ({} MB used now)",
                                             account->name, after, *account->quota_mb, used));
    }
  }
  WorkOrderStore orders(db);
  std::int64_t id = orders.insert(billed, caller.id, type.name, request.parameters, request.description, farm,
                                  edit.quantity, edit.unit);
  return *orders.get(id);
}

}  // namespace farmctl::service
