#include "reconciler/plan_render.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "compiler/json_writer.h"

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

// The changes of each server, servers in the order they first appear,
// global disks ("") first. One pass: a plan of 10,000 servers has 60,000
// changes, and a scan of them per server was most of `farmctl plan`'s time.
std::vector<std::vector<const Change*>> changes_by_server(const ReconcilePlan& plan) {
  std::vector<std::vector<const Change*>> groups(1);
  std::unordered_map<std::string_view, std::size_t> group_of{{"", 0}};
  for (const Change& c : plan.changes) {
    auto [it, added] = group_of.emplace(c.server, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(&c);
  }
  return groups;
}

}  // namespace

std::string summary_line(const ReconcilePlan& plan) {
  auto s = plan.summary();
  return fmt::format("Plan: {} to create, {} to update, {} to destroy ({} device actions).", s.create, s.update,
                     s.destroy, plan.actions.size());
}

std::string render_plan_text(const ReconcilePlan& plan, bool color) {
  if (plan.empty()) return fmt::format("No changes. Farm {} matches its farm file and the devices.\n", plan.farm);
  std::unordered_map<int, const Action*> by_id;
  for (const Action& a : plan.actions) by_id[a.id] = &a;
  std::string out = fmt::format("farmctl will {} farm {}:\n", plan.destroy ? "destroy" : "change", plan.farm);
  std::string_view reset = color ? "\033[0m" : "";
  for (const std::vector<const Change*>& group : changes_by_server(plan)) {
    if (group.empty()) continue;
    const std::string& server = group.front()->server;
    out += server.empty() ? "\n  # global disks and fabric\n" : fmt::format("\n  # server {}\n", server);
    for (const Change* change : group) {
      const Change& c = *change;
      out += fmt::format("  {}{:>3} {}{}{}\n", color ? color_of(c.kind) : "", symbol(c.kind), c.subject, reset,
                         c.reason.empty() ? "" : ": " + c.reason);
      for (int id : c.actions) {
        const Action& a = *by_id.at(id);
        out += fmt::format("        {:>4} {:<10} {}\n", a.id, runtime::to_string(a.op), a.detail);
      }
    }
  }
  // Appended a piece at a time: "\n" + summary_line(...) tripped GCC 12's
  // false -Wrestrict warning on std::string (its bug 105329).
  out += '\n';
  out += summary_line(plan);
  out += '\n';
  return out;
}

// Streamed (a plan of 90,000 actions is tens of megabytes of JSON): the same
// bytes as an nlohmann::ordered_json document dumped with indent 2.
std::string render_plan_json(const ReconcilePlan& plan) {
  std::string out;
  out.reserve(400 * plan.actions.size() + 4096);  // about what an action takes: no regrowth on the way
  json::Writer w(out);
  w.begin_object();
  w.field("format_version", 1);
  w.field("farm", plan.farm);
  w.field("destroy", plan.destroy);
  w.key("actions");
  w.begin_array();
  for (const Action& a : plan.actions) {
    w.begin_object();
    w.field("id", a.id);
    w.field("op", runtime::to_string(a.op));
    w.field("volume", a.volume);
    w.field("server", a.server);
    w.field("array", a.device);
    w.field("depends_on", a.depends_on);
    w.field("detail", a.detail);
    w.end_object();
  }
  w.end_array();
  w.key("changes");
  write_changes(w, plan.changes);
  w.key("placements");
  w.begin_array();
  for (const NewPlacement& p : plan.placements) {
    w.begin_object();
    w.field("server", p.server);
    w.field("host", p.host);
    w.end_object();
  }
  w.end_array();
  w.field("released_servers", plan.released_servers);
  w.key("moves");
  w.begin_array();
  for (const NewPlacement& m : plan.moves) {
    w.begin_object();
    w.field("server", m.server);
    w.field("from_host", m.from_host);
    w.field("host", m.host);
    w.end_object();
  }
  w.end_array();
  auto s = plan.summary();
  w.key("summary");
  w.begin_object();
  w.field("create", s.create);
  w.field("update", s.update);
  w.field("destroy", s.destroy);
  w.end_object();
  w.end_object();
  return out + "\n";
}

}  // namespace farmctl::reconcile
