#pragma once
// A submitted work order, checked on its own before anything is stored:
// the body's shape (only type, parameters and description; unknown fields
// refused), the type (known, and allowed for the caller's level), every
// parameter (known to the type, of its type, in range, the required ones
// there). What it does to a farm is checked next (order_edit.h).
//
// Parameters come back normalized: sizes as whole MB (JSON integers),
// integers as numbers, strings as given.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "service/accounts.h"
#include "service/request_refused.h"
#include "service/work_order_types.h"

namespace farmctl::service {

// Why an order is refused: the HTTP status (400 bad request, 403 not allowed,
// 404 no such farm) and the parameter at fault, if one is.
using OrderRejected = RequestRefused;

struct OrderRequest {
  const OrderType* type = nullptr;
  nlohmann::json parameters = nlohmann::json::object();
  std::string description;
  // The parameter's value (normalized), or nullptr when it was not given.
  const nlohmann::json* get(const std::string& name) const {
    auto it = parameters.find(name);
    return it == parameters.end() ? nullptr : &*it;
  }
  std::string text(const std::string& name) const {
    const nlohmann::json* v = get(name);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
  }
};

// Throws OrderRejected. Integer parameters may also be given as decimal text
// (mail orders have nothing else).
OrderRequest parse_order_request(const nlohmann::json& body, Level level);

}  // namespace farmctl::service
