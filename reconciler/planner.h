#pragma once
// The planner: diffs a farm's Plan IR against the inventory (as refreshed by
// the drivers' discovery) into a ReconcilePlan — placements, allocations and
// an action graph of allocate -> meta -> copy -> (zone) -> bind -> map for what
// is missing, and unmap -> unbind -> (unzone) -> scrub -> break -> deallocate for
// what must go, plus repairs of drift the devices show.
//
// The planner reads and never writes: a refusal (no capacity, no host, a
// replacement not allowed, ...) throws PlanRefused and nothing has changed.
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/plan_ir.h"
#include "reconciler/action.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// Every refusal found, each a full sentence naming what is missing.
class PlanRefused : public std::runtime_error {
 public:
  explicit PlanRefused(std::vector<std::string> reasons);
  const std::vector<std::string>& reasons() const { return reasons_; }

 private:
  std::vector<std::string> reasons_;
};

struct PlanOptions {
  bool allow_replace = false;  // shrinking a disk or changing its image/class/raid destroys its data
  bool destroy = false;        // tear the whole farm down
  // farmctl migrate: server -> the idle host it moves to. Its exports go over
  // a protocol the new host and each volume's array share (docs/migration.md);
  // the new host's access is made before the old host's is withdrawn.
  std::map<std::string, std::string> move_to = {};
  // The plan's Plan IR as text (ReconcilePlan::plan_json), which apply stores
  // and plan files carry. A plan only shown goes without: at 10,000 servers
  // it is 11 MB of JSON, a quarter of a no-op plan's CPU.
  bool ir_text = true;
};

// What discovery found, by device name.
using Discovery = std::map<std::string, runtime::DeviceState>;

// A farm's row and records, read before the plan is made: `farmctl plan`
// reads them while the farm file compiles, under the name its root tag
// gives. The planner takes them (moves them out) only when `name` is the
// IR's farm, and reads its own otherwise.
struct FarmSnapshot {
  std::string name;
  std::optional<runtime::FarmRow> row;  // as Inventory::farm_for_plan reads it
  runtime::FarmRecord record;
};

ReconcilePlan make_plan(const plan::Plan& ir, runtime::Inventory& inventory, const runtime::Topology& topology,
                        const Discovery& discovery, const PlanOptions& options);

// Discovery that may still be running: `farmctl plan` overlaps it with
// reading the farm's records from the inventory (two cores, two databases).
// The planner calls it once, when it first needs what the devices show; what
// discovery threw comes out of make_plan.
using PendingDiscovery = std::function<const Discovery&()>;
ReconcilePlan make_plan(const plan::Plan& ir, runtime::Inventory& inventory, const runtime::Topology& topology,
                        const PendingDiscovery& discovery, const PlanOptions& options,
                        FarmSnapshot* snapshot = nullptr);

}  // namespace farmctl::reconcile
