#pragma once
// A reconcile plan: the actions that take the devices and the inventory from
// what they hold to what a farm file asks for, with their dependencies, and
// the changes they add up to (what `farmctl plan` shows).
//
// Each Action carries everything needed to run it (its DeviceAction) and to
// record its success in the inventory (the Effect), so a plan can be saved to
// a file, applied later by another process, and journalled step by step.
// docs/plan-format.md documents the JSON; docs/design/plan.md the choices.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/heap_optional.h"
#include "runtime/backup_store.h"
#include "runtime/driver.h"
#include "runtime/inventory.h"

namespace farmctl::json {
class Writer;
}

namespace farmctl::reconcile {

using runtime::Op;
using runtime::RowId;

// What the inventory must record when an action succeeds.
struct Effect {
  // The disk unit the action concerns. For a new slice the row does not
  // exist yet: volume_row is 0 and `slice` describes it.
  RowId volume_row = 0;
  HeapOptional<runtime::VolumeRow> slice;  // allocate from a pool
  std::optional<std::string> plan_volume;   // allocate: the plan id the unit will realise
  std::optional<runtime::VolumeState> state_after;  // allocate/meta/copy: the unit's next state
  std::vector<RowId> members;                // meta: member rows in order (head first)
  std::optional<runtime::BindingRow> binding;  // bind/map/unmap/unbind
  HeapOptional<runtime::ZoneRow> zone;        // zone/unzone
  bool teardown = false;  // part of taking the unit down (states Unmapped/Unbound)
  // unmap of an export whose array masking other exports still use (hosts
  // behind one gateway share it): the binding row goes with the unmap.
  bool drop_binding = false;
  // snap: the copy to record (its volume_id is the slice's, known once carved).
  HeapOptional<runtime::BackupRow> backup;
  // restore into a new volume: the row to record (volume_id filled in then).
  HeapOptional<runtime::RestoredRow> restored;
  // vport (NPIV): the virtual port's row once the action has run, and the
  // host that carried it before (rollback places it back there; empty: none).
  // release: the port leaves the farm and returns to its fabric's range.
  HeapOptional<runtime::VirtualPortRow> vport;
  std::string vport_from_host = {};
  std::optional<RowId> vport_from_host_id = {};
  bool release_vport = false;
};

struct Action {
  int id = 0;
  Op op = Op::allocate;
  std::string volume;  // the Plan IR id ("web-0/t0", "global/media"), or "" (zone)
  std::string server;  // for exports; "" otherwise
  std::string device;  // where it runs
  std::vector<int> depends_on;
  runtime::DeviceAction device_action;
  Effect effect;
  std::string detail;  // one line for humans: "sym1:0A3 (8631 MB)"
  // Part of moving a server to another host (farmctl migrate): the new
  // host's zone/bind/map, or the old host's unmap/unbind/unzone. A failure
  // anywhere in the apply rolls the whole move back (rollback.h).
  enum class Move { none, create, teardown };
  Move move = Move::none;
};

enum class ChangeKind { create, update, destroy, replace };
std::string_view to_string(ChangeKind kind);
std::string_view symbol(ChangeKind kind);  // "+", "~", "-", "-/+"

// A change as an operator thinks of it: a volume, an export or a placement.
struct Change {
  ChangeKind kind = ChangeKind::create;
  std::string subject;  // "volume web-0/t0", "export web-0/t0 -> web-0", "server web-0"
  std::string server;   // for grouping: "" for global disks
  std::string reason;   // "size 512 MB -> 1024 MB", "drift: masking missing on sym1"
  std::vector<int> actions;
  bool destructive() const { return kind == ChangeKind::destroy || kind == ChangeKind::replace; }
};

struct NewPlacement {
  std::string server;
  RowId host_id = 0;
  std::string host;
  RowId from_host_id = 0;  // a move (farmctl migrate): the host the server leaves
  std::string from_host = {};
};

struct ReconcilePlan {
  std::string farm;
  std::int64_t generation = 0;  // inventory generation the plan was made against
  bool destroy = false;         // the farm is being destroyed
  std::string plan_json;        // the Plan IR the farm will have after apply
  std::string volumes_applied;  // and what it says of each volume (applied_volumes.h)
  std::vector<NewPlacement> placements;
  std::vector<std::string> released_servers;  // placements to drop once their exports are gone
  // Servers moving to another host (farmctl migrate): the placement changes
  // only once the whole apply succeeded, so a failed move leaves the server
  // placed on (and reaching its storage from) the old host.
  std::vector<NewPlacement> moves;
  std::vector<Action> actions;
  std::vector<Change> changes;

  // A change without device actions (backup policies) still makes a plan
  // to apply: applying it records the farm's new Plan IR.
  bool empty() const {
    return actions.empty() && placements.empty() && released_servers.empty() && moves.empty() && changes.empty();
  }
  struct Summary {
    int create = 0, update = 0, destroy = 0;
  };
  Summary summary() const;
};

// One action as JSON text: what the journal keeps of each action, so that an
// interrupted apply can finish it (recovery.h).
std::string action_to_json(const Action& action);
Action action_from_json(const std::string& text);  // throws std::runtime_error

// The changes as an array of {kind, subject, server, reason, actions}: as
// plan --json shows them and the saved-plan file keeps them.
void write_changes(json::Writer& w, const std::vector<Change>& changes);

// The saved-plan file format (farmctl plan --out): JSON, versioned.
std::string to_plan_file(const ReconcilePlan& plan);
ReconcilePlan from_plan_file(const std::string& text);  // throws std::runtime_error with a reason

}  // namespace farmctl::reconcile
