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

// The inverse of a teardown step of a move's old host: its access comes back.
std::optional<Action> restoration(const Action& done) {
  Action c = done;
  c.depends_on.clear();
  c.effect.teardown = false;
  c.effect.drop_binding = false;
  switch (done.op) {
    case Op::unzone: c.op = Op::zone; break;
    case Op::unbind:
      c.op = Op::bind;
      if (c.effect.binding) c.effect.binding->mapped = false;  // the map that follows says so
      break;
    case Op::unmap: c.op = Op::map; break;
    default: return std::nullopt;
  }
  if (done.op != Op::unzone && !c.effect.binding) return std::nullopt;  // not a recorded export
  c.device_action.op = c.op;
  c.detail = fmt::format("restore {} {}", runtime::to_string(done.op), done.detail);
  return c;
}

// NPIV: a virtual port a move carried to the new host goes back to the host
// it came from (before the new host's maps go: the old host sees the disks
// again before the new one stops).
std::optional<Action> vport_back(const Action& done) {
  if (!done.effect.vport) return std::nullopt;
  Action c = done;
  c.depends_on.clear();
  c.device_action.host = done.effect.vport_from_host;
  c.effect.vport_from_host = done.device_action.host;
  c.effect.vport->host_id = done.effect.vport_from_host_id;
  c.effect.vport_from_host_id = done.effect.vport->host_id;
  c.effect.release_vport = false;
  c.detail = fmt::format("restore vport {}", done.detail);
  return c;
}

// A move (farmctl migrate) is all or nothing: when anything in the apply did
// not complete, the old host's withdrawn access is given back (zone, bind,
// map, in the reverse of the order it was taken) and then the new host's is
// taken away (unmap, unbind; a zone made for it stays for the next plan to
// remove). Both hosts are the farm's throughout, so no step exposes storage
// outside it; the placement moves only when the apply succeeds (apply.cpp).
std::vector<Action> move_rollback(const ActionGraph& graph, const std::vector<std::size_t>& done_order) {
  bool any_move = false, all_done = true;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (graph.action(i).move != Action::Move::none) any_move = true;
    if (graph.status(i) != ActionGraph::Status::done) all_done = false;
  }
  std::vector<Action> out;
  if (!any_move || all_done) return out;
  for (auto it = done_order.rbegin(); it != done_order.rend(); ++it) {
    const Action& a = graph.action(*it);
    if (a.move != Action::Move::teardown) continue;
    if (auto c = a.op == Op::vport ? vport_back(a) : restoration(a)) out.push_back(std::move(*c));
  }
  for (auto it = done_order.rbegin(); it != done_order.rend(); ++it) {
    const Action& a = graph.action(*it);
    if (a.move != Action::Move::create) continue;
    if (a.op == Op::vport) {
      if (auto c = vport_back(a)) out.push_back(std::move(*c));
      continue;
    }
    if (a.op != Op::map && a.op != Op::bind) continue;
    if (auto c = compensation(a, 0)) {
      // The new host's export goes whole, even where no bind of its own is
      // undone (a masking it shares with the old host: NPIV, a gateway).
      if (c->op == Op::unmap) c->effect.drop_binding = true;
      out.push_back(std::move(*c));
    }
  }
  return out;
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
    if (failed.move != Action::Move::none) continue;
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
      if (a.move != Action::Move::none) continue;  // the move's own rollback below
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
  std::vector<Action> move = move_rollback(graph, done_order);
  for (Action& c : move) {
    c.id = ++next_id;
    if (!out.empty()) c.depends_on = {out.back().id};
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace farmctl::reconcile
