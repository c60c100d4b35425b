#include "service/work_orders.h"

#include <fmt/format.h>

#include "service/timestamps.h"

namespace farmctl::service {
namespace {

constexpr std::string_view kSelect =
    "SELECT o.id, o.account_id, a.name, o.submitted_by, o.type, o.parameters, o.description, o.farm, o.state, "
    "o.farm_revision, o.quantity, o.unit, o.attempts, o.reason, o.comment, o.created_at, o.opened_at, "
    "o.finished_at, o.updated_at FROM work_orders o JOIN accounts a ON a.id = o.account_id";

WorkOrder read_order(const runtime::Statement& s) {
  WorkOrder o;
  o.id = s.int64(0);
  o.account_id = s.int64(1);
  o.account = s.text(2);
  o.submitted_by = s.int64(3);
  o.type = s.text(4);
  o.parameters = nlohmann::json::parse(s.text_view(5), nullptr, false);
  o.description = s.text(6);
  o.farm = s.text(7);
  o.state = s.text(8);
  if (auto r = s.optional_int64(9)) o.farm_revision = static_cast<int>(*r);
  o.quantity = s.int64(10);
  o.unit = s.text(11);
  o.attempts = s.int32(12);
  o.reason = s.text(13);
  o.comment = s.text(14);
  o.created_at = s.text(15);
  o.opened_at = s.optional_text(16);
  o.finished_at = s.optional_text(17);
  o.updated_at = s.text(18);
  return o;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::int64_t WorkOrderStore::insert(std::int64_t account_id, std::int64_t submitted_by, std::string_view type,
                                    const nlohmann::json& parameters, std::string_view description,
                                    std::string_view farm, std::int64_t quantity, std::string_view unit) {
  std::string now = now_text();
  runtime::Transaction tx(db_);
  db_.prepare(
         "INSERT INTO work_orders (account_id, submitted_by, type, parameters, description, farm, state, quantity, "
         "unit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?)")
      .bind_all(account_id, submitted_by, type, parameters.dump(), description, farm, quantity, unit, now, now)
      .run();
  std::int64_t id = db_.last_insert_rowid();
  tx.commit();
  return id;
}

std::optional<WorkOrder> WorkOrderStore::get(std::int64_t id) {
  auto s = db_.prepare(std::string(kSelect) + " WHERE o.id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_order(s);
}

std::vector<WorkOrder> WorkOrderStore::list(const OrderFilter& filter) {
  std::string sql = std::string(kSelect) + " WHERE o.id > ?1";
  if (filter.state) sql += " AND o.state = ?2";
  if (filter.account_id) sql += " AND o.account_id = ?3";
  if (filter.farm) sql += " AND o.farm = ?4";
  sql += " ORDER BY o.id LIMIT ?5";
  auto s = db_.prepare(sql);
  s.bind(1, filter.after_id);
  if (filter.state) s.bind(2, *filter.state);
  if (filter.account_id) s.bind(3, *filter.account_id);
  if (filter.farm) s.bind(4, *filter.farm);
  s.bind(5, filter.limit);
  std::vector<WorkOrder> out;
  while (s.step()) out.push_back(read_order(s));
  return out;
}

std::vector<WorkOrder> WorkOrderStore::oldest_new(int limit) {
  OrderFilter f;
  f.state = "new";
  f.limit = limit;
  return list(f);
}

std::vector<WorkOrder> WorkOrderStore::open_orders() {
  OrderFilter f;
  f.state = "open";
  f.limit = 1'000'000;
  return list(f);
}

std::map<std::string, std::int64_t> WorkOrderStore::counts_by_state() {
  std::map<std::string, std::int64_t> out{{"new", 0}, {"open", 0}, {"closed", 0}, {"failed", 0}};
  auto s = db_.prepare("SELECT state, COUNT(*) FROM work_orders GROUP BY state");
  while (s.step()) out[s.text(0)] = s.int64(1);
  return out;
}

std::int64_t WorkOrderStore::new_count() {
  auto s = db_.prepare("SELECT COUNT(*) FROM work_orders WHERE state = 'new'");
  s.step();
  return s.int64(0);
}

bool WorkOrderStore::open(std::int64_t id, int farm_revision, std::int64_t quantity, std::string_view unit) {
  std::string now = now_text();
  db_.prepare(
         "UPDATE work_orders SET state = 'open', farm_revision = ?2, quantity = ?3, unit = ?4, attempts = 0, reason = "
         "'', opened_at = ?5, updated_at = ?5 WHERE id = ?1 AND state = 'new'")
      .bind_all(id, farm_revision, quantity, unit, now)
      .run();
  return db_.changes() == 1;
}

void WorkOrderStore::bill(const WorkOrder& order, std::string_view comment) {
  db_.prepare(
         "INSERT INTO billable_events (account_id, work_order_id, type, quantity, unit, comment, created_at) VALUES "
         "(?, ?, ?, ?, ?, ?, ?)")
      .bind_all(order.account_id, order.id, order.type, order.quantity, order.unit, comment, now_text())
      .run();
}

bool WorkOrderStore::close(std::int64_t id) {
  runtime::Transaction tx(db_);
  if (!close_in_transaction(id)) return false;
  tx.commit();
  return true;
}

bool WorkOrderStore::close_in_transaction(std::int64_t id) {
  auto order = get(id);
  if (!order || order->state != "open") return false;
  std::string now = now_text();
  db_.prepare("UPDATE work_orders SET state = 'closed', reason = '', finished_at = ?2, updated_at = ?2 WHERE id = ?1")
      .bind_all(id, now)
      .run();
  bill(*order, "");
  return true;
}

bool WorkOrderStore::fail(std::int64_t id, std::string_view reason) {
  std::string now = now_text();
  db_.prepare(
         "UPDATE work_orders SET state = 'failed', reason = ?2, finished_at = ?3, updated_at = ?3 WHERE id = ?1 AND "
         "state IN ('new', 'open')")
      .bind_all(id, reason, now)
      .run();
  return db_.changes() == 1;
}

int WorkOrderStore::count_failed_attempt(std::int64_t id, std::string_view reason) {
  db_.prepare(
         "UPDATE work_orders SET attempts = attempts + 1, reason = ?2, updated_at = ?3 WHERE id = ?1 AND state = "
         "'open'")
      .bind_all(id, reason, now_text())
      .run();
  auto order = get(id);
  return order ? order->attempts : 0;
}

bool WorkOrderStore::retry(std::int64_t id) {
  std::string now = now_text();
  // An order whose edit is stored (farm_revision set) must not be edited
  // again: it goes back to open and closes when its farm converges.
  db_.prepare(
         "UPDATE work_orders SET state = CASE WHEN farm_revision IS NULL THEN 'new' ELSE 'open' END, attempts = 0, "
         "reason = '', finished_at = NULL, updated_at = ?2 WHERE id = ?1 AND state = 'failed'")
      .bind_all(id, now)
      .run();
  return db_.changes() == 1;
}

bool WorkOrderStore::close_by_hand(std::int64_t id, std::string_view comment) {
  runtime::Transaction tx(db_);
  auto order = get(id);
  if (!order || (order->state != "failed" && order->state != "new")) return false;
  std::string now = now_text();
  db_.prepare(
         "UPDATE work_orders SET state = 'closed', comment = ?2, finished_at = ?3, updated_at = ?3 WHERE id = ?1")
      .bind_all(id, comment, now)
      .run();
  bill(*order, comment);
  tx.commit();
  return true;
}

std::vector<BillableEvent> WorkOrderStore::billable_events(std::optional<std::int64_t> account_id) {
  std::string sql =
      "SELECT b.id, b.account_id, a.name, IFNULL(b.work_order_id, 0), b.type, b.quantity, b.unit, b.comment, "
      "b.created_at, b.backup_id FROM billable_events b JOIN accounts a ON a.id = b.account_id";
  if (account_id) sql += " WHERE b.account_id = ?1";
  sql += " ORDER BY b.id";
  auto s = db_.prepare(sql);
  if (account_id) s.bind(1, *account_id);
  std::vector<BillableEvent> out;
  while (s.step())
    out.push_back({s.int64(0), s.int64(1), s.text(2), s.int64(3), s.optional_int64(9), s.text(4), s.int64(5),
                   s.text(6), s.text(7), s.text(8)});
  return out;
}

void WorkOrderStore::bill_copy(std::int64_t account_id, std::int64_t backup_id, std::int64_t size_mb,
                               std::string_view comment) {
  db_.prepare(
         "INSERT OR IGNORE INTO billable_events (account_id, backup_id, type, quantity, unit, comment, created_at) "
         "VALUES (?, ?, 'backup-copy', ?, 'MB', ?, ?)")
      .bind_all(account_id, backup_id, size_mb, comment, now_text())
      .run();
}

std::string billable_events_csv(const std::vector<BillableEvent>& events) {
  std::string out = "id,account,account_id,work_order,type,quantity,unit,time,comment\r\n";
  for (const BillableEvent& e : events)
    out += fmt::format("{},{},{},{},{},{},{},{},{}\r\n", e.id, csv_field(e.account), e.account_id,
                       e.work_order_id != 0 ? std::to_string(e.work_order_id) : std::string(),
                       csv_field(e.type), e.quantity, csv_field(e.unit), e.created_at, csv_field(e.comment));
  return out;
}

}  // namespace farmctl::service
