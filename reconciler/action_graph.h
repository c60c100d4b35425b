#pragma once
// ActionGraph: what is ready to run, given what has finished. It knows the
// dependencies between actions and nothing about devices (ninja's Plan to the
// executor's Builder): executors ask it for ready actions and tell it what
// succeeded or failed; a failure makes every action that depends on it,
// directly or not, skipped.
#include <vector>

#include "reconciler/action.h"

namespace farmctl::reconcile {

class ActionGraph {
 public:
  enum class Status { waiting, ready, running, done, failed, skipped };

  explicit ActionGraph(const std::vector<Action>& actions);

  std::size_t size() const { return status_.size(); }
  Status status(std::size_t index) const { return status_[index]; }
  const Action& action(std::size_t index) const { return actions_[index]; }
  // Indices ready to start, in the order given by priority (longest path to
  // the end first, then plan order), and not yet handed out.
  std::vector<std::size_t> take_ready();
  void mark_done(std::size_t index);
  void mark_failed(std::size_t index);  // dependents become skipped
  bool finished() const { return unfinished_ == 0; }
  // Length (in actions) of the longest chain from this action to an end.
  int chain_length(std::size_t index) const { return chain_[index]; }
  // Which ready action should start first: true when `a` comes before `b`.
  // Work on a disk unit already under way goes before starting new units
  // (units in plan order, global disks first), then the longer remaining
  // chain: a pipeline that feeds the next device (the gateway's maps) early,
  // instead of every array allocating everything before anything is bound.
  bool runs_before(std::size_t a, std::size_t b) const;
  std::vector<std::size_t> skipped_by(std::size_t failed_index) const;
  // Indices of the actions `index` depends on.
  const std::vector<std::size_t>& dependencies(std::size_t index) const { return deps_[index]; }

 private:
  void finish(std::size_t index, Status status);
  void skip_dependents(std::size_t index);

  const std::vector<Action>& actions_;
  std::vector<Status> status_;
  std::vector<std::vector<std::size_t>> deps_;
  std::vector<std::vector<std::size_t>> dependents_;
  std::vector<int> waiting_on_;
  std::vector<int> chain_;
  std::vector<std::size_t> unit_rank_;  // index of the first action of the same unit
  std::vector<std::size_t> ready_;
  std::size_t unfinished_ = 0;
};

// Graphviz DOT of a plan's actions (farmctl graph).
std::string to_dot(const ReconcilePlan& plan);

}  // namespace farmctl::reconcile
