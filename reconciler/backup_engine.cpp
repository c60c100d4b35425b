// BackupEngine: see backup_engine.h.
#include "reconciler/backup_engine.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "reconciler/backup_plan.h"
#include "reconciler/backup_schedule.h"

namespace farmctl::reconcile {
namespace {

// The newest copy of each (disk, level), for the schedules.
std::map<std::pair<std::string, int>, TimePoint> newest_copies(const std::vector<runtime::BackupRow>& copies) {
  std::map<std::pair<std::string, int>, TimePoint> out;
  for (const runtime::BackupRow& c : copies) {
    auto t = parse_utc(c.taken_at);
    if (!t) continue;
    auto [it, inserted] = out.emplace(std::pair{c.source, c.level}, *t);
    if (!inserted) it->second = std::max(it->second, *t);
  }
  return out;
}

}  // namespace

BackupEngine::BackupEngine(runtime::Inventory& inventory, runtime::DriverSet& drivers, const Clock& clock,
                           ApplyEvents& events, ApplyOptions options)
    : inv_(inventory), drivers_(drivers), clock_(clock), events_(events), options_(options) {}

bool BackupEngine::apply(const ReconcilePlan& plan, BackupReport& report) {
  if (plan.actions.empty()) return true;
  ApplyResult result = apply_plan(plan, inv_, drivers_, events_, options_);
  for (const std::string& f : result.failures) report.failures.push_back(f);
  if (!result.ok() && result.failures.empty())
    report.failures.push_back(fmt::format("farm {}: the backup run was stopped before it finished", plan.farm));
  return result.ok();
}

std::vector<runtime::BackupRow> BackupEngine::newly_taken(const runtime::FarmRow& farm,
                                                          const std::vector<runtime::BackupRow>& before) {
  std::set<runtime::RowId> old;
  for (const auto& b : before) old.insert(b.id);
  std::vector<runtime::BackupRow> out;
  for (const auto& b : runtime::BackupStore(inv_).of_farm(farm.id))
    if (!old.count(b.id)) out.push_back(b);
  return out;
}

BackupReport BackupEngine::run_schedules(const runtime::FarmRow& given) {
  BackupReport report;
  auto farm = inv_.farm(given.name);
  if (!farm || !farm->plan_json) return report;
  FarmPolicies policies = applied_policies(*farm->plan_json);
  auto before = runtime::BackupStore(inv_).of_farm(farm->id);
  auto newest = newest_copies(before);
  TimePoint now = clock_.now();
  runtime::Topology topology = inv_.topology();
  BackupPlanner planner(inv_, topology, *farm);
  for (const auto& [disk, list] : policies)
    for (const fml::BackupPolicy& p : list) {
      auto last = newest.find({disk, p.level});
      if (copy_due(p.schedule, last == newest.end() ? std::nullopt : std::optional(last->second), now))
        planner.add_copy(disk, p, now, false);
    }
  std::vector<std::string> refusals;
  ReconcilePlan plan = planner.take_possible(refusals);
  for (const std::string& r : refusals) report.failures.push_back(r);
  apply(plan, report);
  report.taken = newly_taken(*farm, before);
  BackupReport retention = enforce_retention(*farm);
  report.freed = retention.freed;
  for (const std::string& f : retention.failures) report.failures.push_back(f);
  return report;
}

BackupReport BackupEngine::enforce_retention(const runtime::FarmRow& given) {
  BackupReport report;
  // Copies first: a farm with none (most applies) has nothing to free, and
  // its applied plan, megabytes for a large farm, is then neither read nor
  // parsed.
  auto copies = runtime::BackupStore(inv_).of_farm(given.id);
  if (copies.empty()) return report;
  auto farm = inv_.farm(given.name);
  if (!farm) return report;
  FarmPolicies policies = applied_policies(farm->plan_json.value_or(std::string()));
  auto beyond = copies_beyond_retention(copies, policies);
  if (beyond.empty()) return report;
  runtime::Topology topology = inv_.topology();
  BackupPlanner planner(inv_, topology, *farm);
  for (const runtime::BackupRow& c : beyond) {
    auto disk = policies.find(c.source);
    planner.add_free(c, disk == policies.end() ? "no backup policy of the farm keeps copies of this disk"
                                               : "older than the policy's retention");
  }
  apply(planner.take(), report);
  std::set<runtime::RowId> left;
  for (const auto& c : runtime::BackupStore(inv_).of_farm(farm->id)) left.insert(c.id);
  for (const auto& c : beyond)
    if (!left.count(c.id)) report.freed.push_back(c);
  return report;
}

BackupReport BackupEngine::take_now(const runtime::FarmRow& given, const std::string& disk) {
  auto farm = inv_.farm(given.name);
  if (!farm || !farm->plan_json) throw BackupRefused(fmt::format("farm {} has never been applied", given.name));
  FarmPolicies policies = applied_policies(*farm->plan_json);
  auto found = policies.find(disk);
  if (found == policies.end()) {
    auto units = inv_.farm_record(*farm).volumes;
    bool exists = std::any_of(units.begin(), units.end(), [&](const auto& v) { return v.plan_volume == disk; });
    throw BackupRefused(exists ? fmt::format("disk {} of farm {} has no backup-policy: a copy needs one to say how "
                                             "long it is kept (add <attribute name=\"backup-policy\" value=\"...\"/>)",
                                             disk, farm->name)
                               : fmt::format("farm {} has no disk {}", farm->name, disk));
  }
  const fml::BackupPolicy& lowest = *std::min_element(
      found->second.begin(), found->second.end(), [](const auto& a, const auto& b) { return a.level < b.level; });
  BackupReport report;
  auto before = runtime::BackupStore(inv_).of_farm(farm->id);
  runtime::Topology topology = inv_.topology();
  BackupPlanner planner(inv_, topology, *farm);
  planner.add_copy(disk, lowest, clock_.now(), true);
  ReconcilePlan plan;
  try {
    plan = planner.take();
  } catch (const PlanRefused& e) {
    throw BackupRefused(e.what());
  }
  apply(plan, report);
  report.taken = newly_taken(*farm, before);
  if (report.ok()) {
    BackupReport retention = enforce_retention(*farm);
    report.freed = retention.freed;
    for (const std::string& f : retention.failures) report.failures.push_back(f);
  }
  return report;
}

runtime::BackupRow BackupEngine::copy_of(const runtime::FarmRow& farm, runtime::RowId copy_id) {
  auto copy = runtime::BackupStore(inv_).by_id(copy_id);
  if (!copy || copy->farm_id != farm.id)
    throw BackupRefused(fmt::format("farm {} has no copy {} (farmctl backup list {} shows its copies)", farm.name,
                                    copy_id, farm.name));
  return *copy;
}

BackupReport BackupEngine::restore_to_new(const runtime::FarmRow& given, runtime::RowId copy_id) {
  auto farm = inv_.farm(given.name);
  if (!farm) throw BackupRefused(fmt::format("no farm {}", given.name));
  runtime::BackupRow copy = copy_of(*farm, copy_id);
  runtime::Topology topology = inv_.topology();
  BackupPlanner planner(inv_, topology, *farm);
  planner.add_restore_to_new(copy, clock_.now());
  ReconcilePlan plan;
  try {
    plan = planner.take();
  } catch (const PlanRefused& e) {
    throw BackupRefused(e.what());
  }
  BackupReport report;
  auto before = runtime::BackupStore(inv_).restored_of_farm(farm->id);
  apply(plan, report);
  for (const auto& r : runtime::BackupStore(inv_).restored_of_farm(farm->id))
    if (std::none_of(before.begin(), before.end(), [&](const auto& b) { return b.id == r.id; }))
      report.restored.push_back(r);
  return report;
}

BackupReport BackupEngine::release(const runtime::FarmRow& given, runtime::RowId restored_id) {
  auto farm = inv_.farm(given.name);
  if (!farm) throw BackupRefused(fmt::format("no farm {}", given.name));
  auto all = runtime::BackupStore(inv_).restored_of_farm(farm->id);
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& r) { return r.id == restored_id; });
  if (it == all.end())
    throw BackupRefused(fmt::format("farm {} has no restored volume {} (farmctl backup list {} shows them)",
                                    farm->name, restored_id, farm->name));
  runtime::Topology topology = inv_.topology();
  BackupPlanner planner(inv_, topology, *farm);
  planner.add_release(*it);
  BackupReport report;
  apply(planner.take(), report);
  return report;
}

BackupReport BackupEngine::restore(const runtime::FarmRow& given, runtime::RowId copy_id) {
  auto farm = inv_.farm(given.name);
  if (!farm) throw BackupRefused(fmt::format("no farm {}", given.name));
  std::optional<runtime::BackupRow> copy = copy_of(*farm, copy_id);
  runtime::Topology topology = inv_.topology();
  BackupReport report;
  ReconcilePlan plan;
  {
    BackupPlanner planner(inv_, topology, *farm);
    planner.add_restore(*copy);
    try {
      plan = planner.take();
    } catch (const PlanRefused& e) {
      throw BackupRefused(e.what());
    }
  }
  if (apply(plan, report)) return report;
  // The restore failed or was stopped: whatever the disk holds, its hosts get
  // their mapping back rather than losing the disk.
  auto refreshed = inv_.farm(farm->name);
  BackupPlanner give_back(inv_, topology, *refreshed);
  give_back.add_give_back(copy->source);
  ApplyOptions finish = options_;
  finish.stop = nullptr;
  ApplyResult result = apply_plan(give_back.take(), inv_, drivers_, events_, finish);
  for (const std::string& f : result.failures) report.failures.push_back("giving the mapping back: " + f);
  return report;
}

}  // namespace farmctl::reconcile
