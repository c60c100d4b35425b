#pragma once
// Settles the SCSI target of every disk and shared disk of a server-role, in
// the three passes of FML.md ("Meaning"): explicit targets first; then a
// system-image disk without a target takes target 0; then every other disk
// without a target, in document order, takes the lowest free target.
// Collisions and exhaustion are reported as errors.
#include "compiler/diagnostics.h"
#include "compiler/farm_model.h"

namespace farmctl::fml {

void settle_targets(ServerRole& role, DiagnosticList& diags);

}  // namespace farmctl::fml
