#pragma once
// The JSON form of the service's records, shared by the API and the CLI's
// --json output (docs/service.md shows each).
#include <nlohmann/json.hpp>

#include "service/accounts.h"
#include "service/farm_status.h"
#include "service/farm_store.h"
#include "service/work_order_types.h"
#include "service/work_orders.h"

namespace farmctl::service {

// Objects keep their keys in the order written (id first, times last), for
// people reading the API's answers.
using Json = nlohmann::ordered_json;

Json to_json(const WorkOrder& order);
Json to_json(const BillableEvent& event);
Json to_json(const FarmStatus& status);
Json to_json(const Account& account);
Json to_json(const OrderType& type);

}  // namespace farmctl::service
