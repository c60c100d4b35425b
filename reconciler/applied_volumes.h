#pragma once
// What the farm file said about each volume when it was last applied: its
// size (a disk cannot shrink) and its backup policies. The planner compares
// the new file with it.
//
// Stored apart from the Plan IR (farm_volumes_applied, schema v7) as a small
// JSON array, [["id", size_mb, "policies"], ...]: a plan of a changed farm
// file reads one short entry per volume instead of parsing the whole stored
// IR (11 MB for 10,000 servers, most of a one-change plan's time). Farms
// applied before v6 have none; their entries are read from the IR.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "compiler/plan_ir.h"

namespace farmctl::reconcile {

struct AppliedVolume {
  std::uint64_t size_mb = 0;
  std::string backup = "none";  // "level 0 nightly retain 7, level 1 hourly retain 24", or "none"
  bool operator==(const AppliedVolume&) const = default;
};

using AppliedVolumes = std::unordered_map<std::string, AppliedVolume>;  // by volume id

// The policies as AppliedVolume::backup and plan messages write them.
std::string policies_text(const std::vector<fml::BackupPolicy>& policies);

// The entries of a compiled farm, as farm_volumes_applied holds them.
std::string applied_volumes_text(const plan::Plan& ir);

// Reads farm_volumes_applied's entries; an unreadable text reads as no entries.
AppliedVolumes read_applied_volumes(const std::string& text);

// The fast path of read_applied_volumes, for entries as applied_volumes_text
// writes them: false (and `out` partly filled) for any other text, which
// read_applied_volumes then reads as JSON. Apart so that tests can hold it
// to the general reader.
bool read_written_entries(std::string_view text, AppliedVolumes& out);

// The same entries from a stored Plan IR (a SAX pass that keeps only them).
AppliedVolumes applied_volumes_of_plan_json(const std::string& plan_json);

// applied_volumes_of_plan_json, written as applied_volumes_text writes it:
// for plan files saved before the entries were part of a plan.
std::string applied_volumes_text_of_plan_json(const std::string& plan_json);

}  // namespace farmctl::reconcile
