#include "service/work_order_automation.h"

#include <map>

#include <fmt/format.h>

#include "service/accounts.h"
#include "service/farm_store.h"
#include "service/work_order_request.h"

namespace farmctl::service {
namespace {

std::string refusal_text(const std::vector<std::string>& refusals) {
  std::string reason = "the storage cannot provide it: ";
  for (std::size_t i = 0; i < refusals.size(); ++i) reason += (i ? "; " : "") + refusals[i];
  return reason;
}

}  // namespace

std::uint64_t storage_used_by(runtime::Database& db, FarmSourceCache& cache, std::int64_t account_id) {
  FarmStore farms(db);
  std::uint64_t total = 0;
  for (const StoredFarm& f : farms.farms_of(account_id)) {
    auto head = farms.current(f.name);
    if (!head) continue;
    try {
      total += cache.get(*head)->total_mb();
    } catch (const FarmSourceError&) {
      // a revision that no longer compiles asks for nothing the loop can apply
    }
    // Backup copies held for the farm count too (docs/backups.md).
    auto copies = db.prepare("SELECT IFNULL(SUM(b.size_mb), 0) FROM backups b JOIN farms f ON f.id = b.farm_id WHERE f.name = ?");
    copies.bind_all(f.name);
    if (copies.step()) total += static_cast<std::uint64_t>(copies.int64(0));
  }
  return total;
}

ServerMoves move_of(const WorkOrder& order) {
  if (order.type != "migrate-server") return {};
  return {{order.parameters.value("server", ""), order.parameters.value("host", "")}};
}

ServerMoves open_moves(runtime::Database& db, std::string_view farm) {
  OrderFilter filter;
  filter.state = "open";
  filter.farm = std::string(farm);
  filter.limit = 1'000'000;
  ServerMoves moves;
  for (const WorkOrder& order : WorkOrderStore(db).list(filter))  // oldest first: the newest order for a server wins
    for (auto& [server, host] : move_of(order)) moves[server] = host;
  return moves;
}

bool is_backup_order(std::string_view type) { return type == "take-snapshot" || type == "restore-disk"; }

void WorkOrderAutomation::fail(const WorkOrder& order, const std::string& reason) {
  if (WorkOrderStore(db_).fail(order.id, reason))
    log_.warn("work_order.failed",
              {{"work_order", order.id}, {"farm", order.farm}, {"type", order.type}, {"reason", reason}});
}

std::set<std::string> WorkOrderAutomation::open_new_orders(int limit) {
  std::set<std::string> changed;
  // By farm, each farm's orders oldest first; farms in the order of their oldest.
  std::vector<std::string> farm_order;
  std::map<std::string, std::vector<WorkOrder>> by_farm;
  for (WorkOrder& order : WorkOrderStore(db_).oldest_new(limit)) {
    if (!by_farm.count(order.farm)) farm_order.push_back(order.farm);
    by_farm[order.farm].push_back(std::move(order));
  }
  for (const std::string& farm : farm_order) {
    try {
      if (!open_farm_orders(farm, by_farm[farm], false)) open_farm_orders(farm, by_farm[farm], true);
      changed.insert(farm);
    } catch (const std::exception& e) {
      // Something unexpected (a database error): the orders stay new for the next pass.
      log_.error("work_order.open_failed", {{"farm", farm}, {"message", e.what()}});
    }
  }
  return changed;
}

bool WorkOrderAutomation::open_farm_orders(const std::string& farm, const std::vector<WorkOrder>& orders,
                                           bool check_each) {
  FarmStore farms(db_);
  AccountStore accounts(db_);
  auto stored = farms.farm(farm);
  std::shared_ptr<const FarmSource> working;  // the farm after the orders staged so far
  int base_revision = 0;
  if (stored) {
    auto head = farms.current(farm);
    if (!head) {
      for (const WorkOrder& order : orders) fail(order, fmt::format("farm {} has no revision", farm));
      return true;
    }
    working = cache_.get(*head);
    base_revision = head->revision;
  }
  std::map<std::int64_t, std::uint64_t> used;  // by account, with what is staged
  std::vector<Staged> staged;
  for (const WorkOrder& order : orders) {
    const OrderType* type = order_type(order.type);
    if (type == nullptr) {
      fail(order, fmt::format("unknown work-order type {}", order.type));
      continue;
    }
    if (stored && stored->owner_id.value_or(order.account_id) != order.account_id) {
      fail(order, fmt::format("farm {} belongs to another account now", farm));
      continue;
    }
    OrderEdit edit;
    try {
      edit = plan_order_edit(*type, order.parameters, farm, working);
    } catch (const OrderRejected& rejected) {
      fail(order, rejected.what());
      continue;
    }
    if (type->name == "migrate-server") {
      // The move is checked on its own, against the devices as they are now:
      // it edits nothing, so the batch's dry run would not try it.
      std::vector<std::string> refusals = reconciler_.refusals(*working, move_of(order));
      if (!refusals.empty()) {
        fail(order, refusal_text(refusals));
        continue;
      }
    }
    if (edit.added_mb > 0) {
      auto account = accounts.by_id(order.account_id);
      if (account && account->quota_mb) {
        if (!used.count(account->id)) used[account->id] = storage_used_by(db_, cache_, account->id);
        std::uint64_t after = used[account->id] + static_cast<std::uint64_t>(edit.added_mb);
        if (after > *account->quota_mb) {
          fail(order, fmt::format("account {} would use {} MB of its {} MB quota", account->name, after,
                                  *account->quota_mb));
          continue;
        }
        used[account->id] = after;
      }
    }
    if (check_each && edit.changes) {
      std::vector<std::string> refusals = reconciler_.refusals(*edit.result, {});
      if (!refusals.empty()) {
        fail(order, refusal_text(refusals));
        continue;
      }
    }
    working = edit.result;
    staged.push_back({order, std::move(edit)});
  }
  if (staged.empty()) return true;
  bool any_change = false;
  for (const Staged& s : staged) any_change = any_change || s.edit.changes;
  if (!check_each && any_change && !reconciler_.refusals(*working, {}).empty()) return false;

  runtime::Transaction tx(db_);
  // The farm may have moved on since it was read (a farm put, another
  // process): then the orders wait for the next pass, against the new revision.
  auto now = farms.farm(farm);
  if ((now ? now->revision : 0) != base_revision) return true;
  WorkOrderStore store(db_);
  int revision = base_revision;
  std::vector<std::pair<const Staged*, int>> opened;
  for (const Staged& s : staged) {
    if (s.edit.changes)
      revision = farms.put(farm, s.edit.result->text(), fmt::format("work-order:{}", s.order.id), s.order.account_id,
                           s.order.id);
    // false: closed by hand meanwhile; its edit is then made without it (rare,
    // and an administrator's choice: the next farm put can take it back).
    if (store.open(s.order.id, revision, s.edit.quantity, s.edit.unit)) opened.emplace_back(&s, revision);
  }
  tx.commit();
  for (const auto& [s, rev] : opened)
    log_.info("work_order.opened", {{"work_order", s->order.id},
                                    {"farm", farm},
                                    {"type", s->order.type},
                                    {"farm_revision", rev},
                                    {"account", s->order.account}});
  return true;
}

void WorkOrderAutomation::farm_reconciled(std::string_view farm, int applied_revision,
                                          const ReconcileOutcome& outcome) {
  if (outcome.result == ReconcileOutcome::Result::interrupted) return;  // not the orders' fault: resume later
  WorkOrderStore orders(db_);
  OrderFilter filter;
  filter.state = "open";
  filter.farm = std::string(farm);
  filter.limit = 1'000'000;
  std::vector<WorkOrder> mine = orders.list(filter);
  if (mine.empty()) return;
  if (outcome.result == ReconcileOutcome::Result::success) {
    std::vector<const WorkOrder*> closed;
    runtime::Transaction tx(db_);
    std::vector<const WorkOrder*> device_orders;
    for (const WorkOrder& order : mine) {
      if (order.farm_revision.value_or(0) > applied_revision) continue;  // a newer revision than was applied
      if (is_backup_order(order.type)) {
        device_orders.push_back(&order);
        continue;
      }
      if (orders.close_in_transaction(order.id)) closed.push_back(&order);
    }
    tx.commit();
    // Copies and restores are taken of the farm as applied, after it: an
    // order that fails here fails at once (its reason says why), as nothing
    // of it is stored to be retried.
    for (const WorkOrder* order : device_orders) {
      std::string why = backups_ != nullptr ? backups_->carry_out(*order) : "backups are not run by this service";
      if (why.empty() && orders.close(order->id)) closed.push_back(order);
      else if (!why.empty()) fail(*order, why);
    }
    for (const WorkOrder* order : closed)
      log_.info("work_order.closed", {{"work_order", order->id},
                                      {"farm", order->farm},
                                      {"type", order->type},
                                      {"account", order->account},
                                      {"quantity", order->quantity},
                                      {"unit", order->unit}});
    return;
  }
  std::string reason = fmt::format("{}: {}", outcome.reason, outcome.message);
  std::vector<std::pair<const WorkOrder*, int>> out_of_attempts;
  runtime::Transaction tx(db_);
  for (const WorkOrder& order : mine) {
    int attempts = orders.count_failed_attempt(order.id, reason);
    if (attempts >= max_attempts_ && orders.fail(order.id, reason)) out_of_attempts.emplace_back(&order, attempts);
  }
  tx.commit();
  for (const auto& [order, attempts] : out_of_attempts)
    log_.warn("work_order.failed", {{"work_order", order->id}, {"farm", order->farm}, {"type", order->type},
                                    {"attempts", attempts}, {"reason", reason}});
}

}  // namespace farmctl::service
