#include "reconciler/plan_summary.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "reconciler/plan_render.h"

namespace farmctl::reconcile {
namespace {

// The server an action is done for, when no change names it.
std::string server_of(const Action& a) {
  if (!a.server.empty()) return a.server;
  auto slash = a.volume.find('/');
  if (slash == std::string::npos || a.volume.compare(0, slash, "global") == 0) return "";
  return a.volume.substr(0, slash);
}

}  // namespace

int ActionCounts::total() const {
  int n = 0;
  for (int c : by_op) n += c;
  return n;
}

std::string ActionCounts::text() const {
  std::string out;
  for (int op = 0; op < kOpCount; ++op)
    if (by_op[op] > 0)
      out += fmt::format("{}{} {}", out.empty() ? "" : ", ", runtime::to_string(static_cast<Op>(op)), by_op[op]);
  return out;
}

std::string ServerActions::label() const { return server.empty() ? "global disks and fabric" : "server " + server; }

PlanSummary summarize(const ReconcilePlan& plan) {
  PlanSummary out;
  std::map<std::string, std::size_t> index;
  auto group = [&](const std::string& server) -> ServerActions& {
    auto [it, added] = index.emplace(server, out.servers.size());
    if (added) out.servers.push_back(ServerActions{server, {}, 0, 0});
    return out.servers[it->second];
  };
  group("");
  std::map<int, std::string> server_of_action;
  for (const Change& c : plan.changes) {
    ServerActions& s = group(c.server);
    if (c.kind == ChangeKind::replace) ++s.replaced;
    if (c.kind == ChangeKind::destroy) ++s.destroyed;
    for (int id : c.actions) server_of_action.emplace(id, c.server);
  }
  for (const Action& a : plan.actions) {
    auto it = server_of_action.find(a.id);
    ServerActions& s = group(it != server_of_action.end() ? it->second : server_of(a));
    ++s.actions.by_op[static_cast<int>(a.op)];
    ++out.total.by_op[static_cast<int>(a.op)];
  }
  // The global line only when it has something to say.
  const ServerActions& global = out.servers.front();
  if (global.actions.total() == 0 && global.replaced == 0 && global.destroyed == 0)
    out.servers.erase(out.servers.begin());
  return out;
}

std::string render_plan_summary(const ReconcilePlan& plan) {
  if (plan.empty()) return render_plan_text(plan, false);
  PlanSummary summary = summarize(plan);
  std::size_t width = 5;  // "total"
  for (const ServerActions& s : summary.servers) width = std::max(width, s.label().size());
  width = std::min<std::size_t>(width, 40);
  std::string out = fmt::format("farmctl will {} farm {}: device actions per server\n",
                                plan.destroy ? "destroy" : "change", plan.farm);
  for (const ServerActions& s : summary.servers) {
    std::string counts = s.actions.total() > 0 ? s.actions.text() : "no device actions";
    std::string marks;
    if (s.replaced > 0) marks += fmt::format("{} to replace", s.replaced);
    if (s.destroyed > 0) marks += fmt::format("{}{} to destroy", marks.empty() ? "" : ", ", s.destroyed);
    out += fmt::format("  {:<{}}  {}{}\n", s.label(), width, counts, marks.empty() ? "" : "  [" + marks + "]");
  }
  out += fmt::format("  {:<{}}  {}\n", "total", width, summary.total.total() > 0 ? summary.total.text() : "none");
  out += summary_line(plan) + "\n";
  return out;
}

}  // namespace farmctl::reconcile
