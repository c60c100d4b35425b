#include "reconciler/plan_render.h"

#include <map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace farmctl::reconcile {
namespace {

std::string_view color_of(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::create: return "\033[32m";
    case ChangeKind::update: return "\033[33m";
    case ChangeKind::destroy: return "\033[31m";
    case ChangeKind::replace: return "\033[35m";
  }
  return "";
}

// Servers in the order they first appear, global disks first.
std::vector<std::string> group_order(const ReconcilePlan& plan) {
  std::vector<std::string> order{""};
  for (const Change& c : plan.changes)
    if (std::find(order.begin(), order.end(), c.server) == order.end()) order.push_back(c.server);
  return order;
}

}  // namespace

std::string summary_line(const ReconcilePlan& plan) {
  auto s = plan.summary();
  return fmt::format("Plan: {} to create, {} to update, {} to destroy ({} device actions).", s.create, s.update,
                     s.destroy, plan.actions.size());
}

std::string render_plan_text(const ReconcilePlan& plan, bool color) {
  if (plan.empty()) return fmt::format("No changes. Farm {} matches its farm file and the devices.\n", plan.farm);
  std::map<int, const Action*> by_id;
  for (const Action& a : plan.actions) by_id[a.id] = &a;
  std::string out = fmt::format("farmctl will {} farm {}:\n", plan.destroy ? "destroy" : "change", plan.farm);
  std::string_view reset = color ? "\033[0m" : "";
  for (const std::string& group : group_order(plan)) {
    bool header = false;
    for (const Change& c : plan.changes) {
      if (c.server != group) continue;
      if (!header) {
        out += group.empty() ? "\n  # global disks and fabric\n" : fmt::format("\n  # server {}\n", group);
        header = true;
      }
      out += fmt::format("  {}{:>3} {}{}{}\n", color ? color_of(c.kind) : "", symbol(c.kind), c.subject, reset,
                         c.reason.empty() ? "" : ": " + c.reason);
      for (int id : c.actions) {
        const Action& a = *by_id.at(id);
        out += fmt::format("        {:>4} {:<10} {}\n", a.id, runtime::to_string(a.op), a.detail);
      }
    }
  }
  out += "\n" + summary_line(plan) + "\n";
  return out;
}

std::string render_plan_json(const ReconcilePlan& plan) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["format_version"] = 1;
  j["farm"] = plan.farm;
  j["destroy"] = plan.destroy;
  Json actions = Json::array();
  for (const Action& a : plan.actions)
    actions.push_back(Json{{"id", a.id},
                           {"op", runtime::to_string(a.op)},
                           {"volume", a.volume},
                           {"server", a.server},
                           {"array", a.device},
                           {"depends_on", a.depends_on},
                           {"detail", a.detail}});
  j["actions"] = std::move(actions);
  Json changes = Json::array();
  for (const Change& c : plan.changes)
    changes.push_back(Json{{"kind", to_string(c.kind)},
                           {"subject", c.subject},
                           {"server", c.server},
                           {"reason", c.reason},
                           {"actions", c.actions}});
  j["changes"] = std::move(changes);
  Json placements = Json::array();
  for (const NewPlacement& p : plan.placements) placements.push_back(Json{{"server", p.server}, {"host", p.host}});
  j["placements"] = std::move(placements);
  j["released_servers"] = plan.released_servers;
  Json moves = Json::array();
  for (const NewPlacement& m : plan.moves)
    moves.push_back(Json{{"server", m.server}, {"from_host", m.from_host}, {"host", m.host}});
  j["moves"] = std::move(moves);
  auto s = plan.summary();
  j["summary"] = Json{{"create", s.create}, {"update", s.update}, {"destroy", s.destroy}};
  return j.dump(2) + "\n";
}

}  // namespace farmctl::reconcile
