#pragma once
// Which backup copies a farm keeps: a pure function of its copies and the
// policies its applied farm file gives each disk (docs/backups.md).
//
//   - copies of a disk at a level that has a policy: the newest `retain`;
//   - copies at a level whose policy was removed: as many of the newest as
//     the disk's remaining policies keep at most (none when it has none left,
//     or the disk left the farm file).
// Returned oldest first: the copies to scrub and free.
#include <map>
#include <string>
#include <vector>

#include "compiler/values.h"
#include "runtime/backup_store.h"

namespace farmctl::reconcile {

// A farm's policies by disk (Plan IR volume id).
using FarmPolicies = std::map<std::string, std::vector<fml::BackupPolicy>>;

std::vector<runtime::BackupRow> copies_beyond_retention(const std::vector<runtime::BackupRow>& copies,
                                                        const FarmPolicies& policies);

// The policies of the Plan IR a farm last applied (farms.plan_json): what
// the service keeps to, never a revision not yet converged.
FarmPolicies applied_policies(const std::string& plan_json);

}  // namespace farmctl::reconcile
