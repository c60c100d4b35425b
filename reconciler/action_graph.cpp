#include "reconciler/action_graph.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace farmctl::reconcile {

ActionGraph::ActionGraph(const std::vector<Action>& actions)
    : actions_(actions),
      status_(actions.size(), Status::waiting),
      deps_(actions.size()),
      dependents_(actions.size()),
      waiting_on_(actions.size(), 0),
      chain_(actions.size(), 1),
      unfinished_(actions.size()) {
  std::unordered_map<int, std::size_t> index_of;
  for (std::size_t i = 0; i < actions.size(); ++i) index_of[actions[i].id] = i;
  for (std::size_t i = 0; i < actions.size(); ++i)
    for (int dep : actions[i].depends_on) {
      auto it = index_of.find(dep);
      if (it == index_of.end()) throw std::runtime_error(fmt::format("action {} depends on unknown action {}", actions[i].id, dep));
      if (it->second >= i) throw std::runtime_error(fmt::format("action {} depends on later action {}", actions[i].id, dep));
      deps_[i].push_back(it->second);
      dependents_[it->second].push_back(i);
      ++waiting_on_[i];
    }
  // Dependencies always point to earlier actions, so one backward pass
  // settles every chain length.
  for (std::size_t i = actions.size(); i-- > 0;)
    for (std::size_t d : dependents_[i]) chain_[i] = std::max(chain_[i], chain_[d] + 1);
  for (std::size_t i = 0; i < actions.size(); ++i)
    if (waiting_on_[i] == 0) status_[i] = Status::ready, ready_.push_back(i);
  std::unordered_map<std::string, std::size_t> first_of_unit;
  unit_rank_.resize(actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i)
    unit_rank_[i] = actions[i].volume.empty() ? i : first_of_unit.emplace(actions[i].volume, i).first->second;
}

bool ActionGraph::runs_before(std::size_t a, std::size_t b) const {
  if (unit_rank_[a] != unit_rank_[b]) return unit_rank_[a] < unit_rank_[b];
  if (chain_[a] != chain_[b]) return chain_[a] > chain_[b];
  return a < b;
}

std::vector<std::size_t> ActionGraph::take_ready() {
  std::vector<std::size_t> out;
  out.swap(ready_);
  for (std::size_t i : out) status_[i] = Status::running;
  std::sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) { return runs_before(a, b); });
  return out;
}

void ActionGraph::finish(std::size_t index, Status status) {
  status_[index] = status;
  --unfinished_;
}

void ActionGraph::mark_done(std::size_t index) {
  finish(index, Status::done);
  for (std::size_t d : dependents_[index])
    if (--waiting_on_[d] == 0 && status_[d] == Status::waiting) {
      status_[d] = Status::ready;
      ready_.push_back(d);
    }
}

void ActionGraph::mark_failed(std::size_t index) {
  finish(index, Status::failed);
  skip_dependents(index);
}

// Walks with an explicit stack: plans can be long chains.
void ActionGraph::skip_dependents(std::size_t index) {
  std::vector<std::size_t> stack(dependents_[index].begin(), dependents_[index].end());
  while (!stack.empty()) {
    std::size_t d = stack.back();
    stack.pop_back();
    if (status_[d] != Status::waiting && status_[d] != Status::ready) continue;
    if (status_[d] == Status::ready) ready_.erase(std::remove(ready_.begin(), ready_.end(), d), ready_.end());
    finish(d, Status::skipped);
    stack.insert(stack.end(), dependents_[d].begin(), dependents_[d].end());
  }
}

std::vector<std::size_t> ActionGraph::skipped_by(std::size_t failed_index) const {
  std::vector<std::size_t> out;
  std::vector<bool> seen(size(), false);
  std::vector<std::size_t> stack(dependents_[failed_index].begin(), dependents_[failed_index].end());
  while (!stack.empty()) {
    std::size_t d = stack.back();
    stack.pop_back();
    if (seen[d]) continue;
    seen[d] = true;
    if (status_[d] == Status::skipped) out.push_back(d);
    stack.insert(stack.end(), dependents_[d].begin(), dependents_[d].end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string to_dot(const ReconcilePlan& plan) {
  std::string out = fmt::format("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
                                dot_escape(plan.farm));
  for (const Action& a : plan.actions) {
    std::string_view color = a.op == Op::unmap || a.op == Op::unbind || a.op == Op::unzone || a.op == Op::scrub ||
                                     a.op == Op::break_meta || a.op == Op::deallocate
                                 ? "firebrick"
                                 : "darkgreen";
    out += fmt::format("  a{} [label=\"{} {}\\n{}\\n{}\", color={}];\n", a.id, a.id, runtime::to_string(a.op),
                       dot_escape(a.volume.empty() ? a.device : a.volume), dot_escape(a.detail), color);
  }
  for (const Action& a : plan.actions)
    for (int d : a.depends_on) out += fmt::format("  a{} -> a{};\n", d, a.id);
  out += "}\n";
  return out;
}

}  // namespace farmctl::reconcile
