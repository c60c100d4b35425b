#pragma once
// Rollback: when an action fails, the completed steps of the same disk unit
// are compensated in the reverse of the order they ran, so the unit ends in a
// state of ARCHITECTURE.md's diagram (the original farm manager's rules):
//   map fails             -> that export's bind is undone        -> Unbound
//   bind fails            -> the unit's new exports are undone, a meta made
//                            by this apply is broken             -> Unconfigured
//   copy fails            -> the disk is scrubbed, a meta made by this apply
//                            is broken                           -> Unconfigured
//   meta/allocate fails   -> nothing runs; the pieces stay the farm's,
//                            Unconfigured, and the next plan tidies them.
// Teardown steps (unmap, unbind, scrub, break, deallocate) and zones are
// never compensated: undoing them would expose storage again.
// What succeeded for other units stays.
// Except a move (farmctl migrate, Action::move): if anything in the apply
// did not complete, the old host's unmaps/unbinds/unzones are undone (it is
// the farm's host: nothing is exposed) and then the new host's binds and maps,
// so the server keeps its storage where it was.
#include <vector>

#include "reconciler/action.h"
#include "reconciler/action_graph.h"

namespace farmctl::reconcile {

// `done_order` lists the indices of the actions that completed, in the order
// they completed. Returns the compensating actions (fresh ids above every id
// of the plan), each depending on the one before it for the same unit.
std::vector<Action> compensations(const ActionGraph& graph, const std::vector<std::size_t>& done_order);

}  // namespace farmctl::reconcile
