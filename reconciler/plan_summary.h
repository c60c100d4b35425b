#pragma once
// A reconcile plan in one screen, whatever its size (`farmctl plan
// --summary`): one line per server, and one for global disks and the fabric,
// counting the device actions of each kind, then the totals.
//
//   farmctl will change farm web-prod: device actions per server
//     global disks and fabric  allocate 2
//     server web-0             allocate 2, copy 1, bind 4, map 4
//     server web-1             unmap 4, unbind 4, scrub 2, deallocate 2  [2 to destroy]
//     total                    allocate 4, copy 1, bind 4, map 4, unmap 4, unbind 4, scrub 2, deallocate 2
//   Plan: 2 to create, 0 to update, 3 to destroy (25 device actions).
#include <array>
#include <string>
#include <vector>

#include "reconciler/action.h"

namespace farmctl::reconcile {

inline constexpr int kOpCount = static_cast<int>(Op::deallocate) + 1;

struct ActionCounts {
  std::array<int, kOpCount> by_op{};  // indexed by Op
  int total() const;
  // "allocate 2, copy 1": the kinds there are, in Op order; "" for none.
  std::string text() const;
};

struct ServerActions {
  std::string server;  // "" for global disks and the fabric
  ActionCounts actions;
  int replaced = 0;   // changes that replace a volume
  int destroyed = 0;  // changes that destroy a volume or an export, or release a server
  std::string label() const;  // "global disks and fabric", "server web-0"
};

struct PlanSummary {
  std::vector<ServerActions> servers;  // global disks first, then servers as the plan's changes name them
  ActionCounts total;
};

// Each action counts for the server of the change that lists it (else its
// export's server, else the server its private volume belongs to).
PlanSummary summarize(const ReconcilePlan& plan);
std::string render_plan_summary(const ReconcilePlan& plan);

}  // namespace farmctl::reconcile
