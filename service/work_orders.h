#pragma once
// Work orders and the billable events that close them, as rows of the
// inventory (schema: runtime/inventory_schema.cpp, version 2).
//
//   new --open()--> open --close()--> closed (+ one billable event)
//    |                |
//    +----fail()------+---> failed --retry()--> open (its edit is stored) or new
//                             |
//                             +--close_by_hand()--> closed (+ one billable event)
//
// Every transition names the state it leaves and changes nothing when the
// order is no longer in it, so two processes (the service and a CLI) or a
// restart after a crash cannot move an order twice; billable_events has one
// row per order at most (UNIQUE), so nothing is billed twice either.
//
// Not thread-safe: one store per connection.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sqlite.h"

namespace farmctl::service {

struct WorkOrder {
  std::int64_t id = 0;
  std::int64_t account_id = 0;  // the customer billed
  std::string account;          // its name
  std::int64_t submitted_by = 0;
  std::string type;
  nlohmann::json parameters;
  std::string description;
  std::string farm;
  std::string state;
  std::optional<int> farm_revision;  // the farm revision that carries the order out
  std::int64_t quantity = 0;
  std::string unit;
  int attempts = 0;  // reconciles that failed while the order was open
  std::string reason;
  std::string comment;
  std::string created_at;
  std::optional<std::string> opened_at;
  std::optional<std::string> finished_at;
  std::string updated_at;
};

struct BillableEvent {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::string account;
  std::int64_t work_order_id = 0;          // 0: a scheduled backup copy's (backup_id)
  std::optional<std::int64_t> backup_id;  // the copy billed, when no order was
  std::string type;
  std::int64_t quantity = 0;
  std::string unit;
  std::string comment;
  std::string created_at;
};

struct OrderFilter {
  std::optional<std::string> state;
  std::optional<std::int64_t> account_id;
  std::optional<std::string> farm;
  std::int64_t after_id = 0;  // paging: orders with a larger id
  int limit = 1000;
};

class WorkOrderStore {
 public:
  explicit WorkOrderStore(runtime::Database& db) : db_(db) {}

  // Stores a new order (its own transaction, committed when this returns) and returns its id.
  std::int64_t insert(std::int64_t account_id, std::int64_t submitted_by, std::string_view type,
                      const nlohmann::json& parameters, std::string_view description, std::string_view farm,
                      std::int64_t quantity, std::string_view unit);
  std::optional<WorkOrder> get(std::int64_t id);
  std::vector<WorkOrder> list(const OrderFilter& filter);
  std::vector<WorkOrder> oldest_new(int limit);
  std::vector<WorkOrder> open_orders();  // oldest first
  std::map<std::string, std::int64_t> counts_by_state();
  std::int64_t new_count();

  // Transitions. Those marked "in the caller's transaction" must run inside
  // one the caller holds; the others open their own. Each returns false when
  // the order was not in the state it leaves (and then changes nothing).
  bool open(std::int64_t id, int farm_revision, std::int64_t quantity, std::string_view unit);  // caller's tx
  bool close(std::int64_t id);                                   // open -> closed, billed
  bool close_in_transaction(std::int64_t id);                    // the same, caller's tx
  bool fail(std::int64_t id, std::string_view reason);           // new|open -> failed
  int count_failed_attempt(std::int64_t id, std::string_view reason);  // open only; returns attempts so far
  bool retry(std::int64_t id);                                   // failed -> open | new
  bool close_by_hand(std::int64_t id, std::string_view comment);  // new|failed -> closed, billed

  std::vector<BillableEvent> billable_events(std::optional<std::int64_t> account_id);
  // A backup copy the schedule took (no order): billed once (UNIQUE backup_id).
  void bill_copy(std::int64_t account_id, std::int64_t backup_id, std::int64_t size_mb, std::string_view comment);

 private:
  void bill(const WorkOrder& order, std::string_view comment);  // in the caller's transaction
  runtime::Database& db_;
};

// The billable events as CSV (RFC 4180) for a billing system:
// id,account,account_id,work_order,type,quantity,unit,time,comment
std::string billable_events_csv(const std::vector<BillableEvent>& events);

}  // namespace farmctl::service
