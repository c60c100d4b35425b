#pragma once
// Taking a work order in — from the API (POST /v1/work-orders) or from a
// mail (farmctl workorder submit --from-mail): every check an order must
// pass before it is stored, then the row, state `new`. The checks:
// the request itself (work_order_request.h); the farm — it exists (or the
// order creates it: allocate-storage), belongs to the caller (a provider
// admin may order for any farm; the order is billed to the farm's owner),
// and is not a --farms file; the edit fits the farm (order_edit.h); the
// customer's quota. Any failure throws OrderRejected and stores nothing.
#include <nlohmann/json.hpp>

#include "runtime/sqlite.h"
#include "service/accounts.h"
#include "service/farm_source_cache.h"
#include "service/work_orders.h"

namespace farmctl::service {

WorkOrder take_order(runtime::Database& db, FarmSourceCache& cache, const Account& caller, const nlohmann::json& body);

// The farm an allocate-storage order without a farm parameter goes to.
std::string default_storage_farm(const Account& account);

}  // namespace farmctl::service
