#include "reconciler/rollback.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace farmctl::reconcile {
namespace {

// The compensation of one completed action, or nullopt when it has none
// that may run (see rollback.h).
std::optional<Action> compensation(const Action& done, int id) {
  std::optional<Op> op;
  switch (done.op) {
    case Op::map: op = Op::unmap; break;
    case Op::bind: op = Op::unbind; break;
    case Op::copy: op = Op::scrub; break;
    case Op::meta: op = Op::break_meta; break;
    default: return std::nullopt;
  }
  Action c = done;
  c.id = id;
  c.op = *op;
  c.depends_on.clear();
  c.device_action.op = *op;
  c.effect.teardown = false;
  c.effect.drop_binding = false;
  c.detail = fmt::format("undo {} {}", runtime::to_string(done.op), done.detail);
  return c;
}

bool creates_unit(const ActionGraph& graph, const std::vector<std::size_t>& done, const std::string& volume) {
  for (std::size_t i : done) {
    const Action& a = graph.action(i);
    if (a.volume == volume && a.op == Op::allocate && a.effect.plan_volume) return true;
  }
  return false;
}

// Did another export's completed map rely on this bind?
bool serves_other_maps(const ActionGraph& graph, const std::vector<std::size_t>& done, const Action& bind,
                       const std::string& server) {
  for (std::size_t i : done) {
    const Action& a = graph.action(i);
    if (a.op == Op::map && a.server != server &&
        std::find(a.depends_on.begin(), a.depends_on.end(), bind.id) != a.depends_on.end())
      return true;
  }
  return false;
}

}  // namespace

std::vector<Action> compensations(const ActionGraph& graph, const std::vector<std::size_t>& done_order) {
  int next_id = 0;
  for (std::size_t i = 0; i < graph.size(); ++i) next_id = std::max(next_id, graph.action(i).id);
  std::vector<Action> out;
  std::set<std::string> handled;
  for (std::size_t f = 0; f < graph.size(); ++f) {
    if (graph.status(f) != ActionGraph::Status::failed) continue;
    const Action& failed = graph.action(f);
    if (failed.volume.empty() || handled.count(failed.volume)) continue;
    std::set<Op> undo;
    bool same_export_only = false;
    switch (failed.op) {
      case Op::map: undo = {Op::bind}; same_export_only = true; break;
      case Op::bind: undo = {Op::map, Op::bind, Op::meta}; break;
      case Op::copy: undo = {Op::meta}; break;
      default: continue;  // allocate, meta, grow, teardown steps: nothing to undo
    }
    handled.insert(failed.volume);
    bool new_unit = creates_unit(graph, done_order, failed.volume);
    std::vector<Action> chain;
    if (failed.op == Op::copy) {
      // A half-written image is somebody's data all the same.
      Action scrub = failed;
      scrub.op = scrub.device_action.op = Op::scrub;
      scrub.detail = fmt::format("scrub after failed copy {}", failed.detail);
      scrub.depends_on.clear();
      chain.push_back(scrub);
    }
    for (auto it = done_order.rbegin(); it != done_order.rend(); ++it) {
      const Action& a = graph.action(*it);
      if (a.volume != failed.volume || !undo.count(a.op)) continue;
      if (same_export_only && a.server != failed.server) continue;
      if (a.op == Op::meta && !new_unit) continue;  // a grown meta cannot shrink: its new members stay, Unconfigured
      if (a.op == Op::bind && failed.op == Op::map && serves_other_maps(graph, done_order, a, failed.server))
        continue;  // hosts behind one gateway share the masking: the others keep it
      if (auto c = compensation(a, 0)) chain.push_back(*c);
    }
    for (Action& c : chain) {
      c.id = ++next_id;
      if (!out.empty() && out.back().volume == c.volume) c.depends_on = {out.back().id};
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace farmctl::reconcile
