#pragma once
// An offline diff of two Plan IRs: what a change to a farm file means in the
// farm's own terms, made from the two files alone, without an inventory
// (`farmctl diff OLD NEW`, docs/cli.md). Rendered by farm_diff_render.h.
//
// It predicts what the reconciler will do with NEW once OLD has been applied,
// using the reconciler's own rules (reconciler/planner.cpp):
//   - a volume is known by its Plan IR id; a private disk's id holds its
//     server and target ("web-0/t3"), a global disk's its global-name, and a
//     server's name its tier. A renamed tier or global-name, or a private disk
//     that lands on another target, is therefore a remove plus an add;
//   - a volume that grows is updated in place; one that shrinks, or changes
//     class, RAID level or image, is replaced (destroyed and made again);
//   - an export (a volume shown to a server) that moves to another target or
//     protocol is updated: unmapped and mapped again, data intact.
// Destructive changes — a volume destroyed or replaced, a server removed —
// are listed first and marked.
#include <string>
#include <string_view>
#include <vector>

#include "compiler/plan_ir.h"

namespace farmctl::plan {

enum class DiffKind { create, update, destroy, replace };
std::string_view to_string(DiffKind kind);  // "create", "update", "destroy", "replace"
std::string_view symbol(DiffKind kind);     // "+", "~", "-", "-/+"

enum class DiffSubject { farm, server, volume, export_ };
std::string_view to_string(DiffSubject subject);  // "farm", "server", "volume", "export"

struct DiffChange {
  DiffKind kind = DiffKind::create;
  DiffSubject what = DiffSubject::volume;
  std::string id;      // "web-0", "web-0/t3", "global/media -> web-0" (an export: VOLUME -> SERVER)
  std::string server;  // the server it concerns, for grouping: "" for the farm and global disks
  std::vector<std::string> reasons;  // most important first: "size 1024 MB -> 512 MB (a disk cannot shrink)"
  bool destructive = false;  // data is lost or a server goes
  bool in_old = false;       // `line` is in OLD (a removal); otherwise in NEW
  int line = 0;              // source line of the declaring element; 0 = unknown

  std::string subject() const;  // "volume web-0/t3"
  std::string reason() const;   // the reasons joined by "; "
};

struct FarmDiff {
  std::string old_farm;
  std::string new_farm;
  // Destructive changes first; then, in each part, the farm, global disks and
  // each server (NEW's order, then servers only OLD has), and for each its
  // server, volume and export changes in plan order.
  std::vector<DiffChange> changes;

  bool empty() const { return changes.empty(); }
  struct Counts {
    int create = 0, update = 0, replace = 0, destroy = 0;
  };
  Counts counts() const;
  int destructive_count() const;
};

// A pure function of the two plans: the same inputs give the same diff.
FarmDiff diff_plans(const Plan& old_plan, const Plan& new_plan);

}  // namespace farmctl::plan
