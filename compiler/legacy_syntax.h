#pragma once
// Old FML examples (the original farm language's documents) circulate with two
// mistakes that no XML parser accepts: attributes separated by commas
// (<disk drivename="/home", drivesize="512">) and empty elements "closed" with
// the element name (<shared-disk global-name="x" target="1" /shared-disk>).
// A generic XML error would stop at the first one and say little, so this scan
// runs before the parser, finds every such spot, and says how to write it.
// It also reports an attribute value whose closing quote is missing, which a
// parser can only notice at the end of the file.
#include "compiler/diagnostics.h"
#include "compiler/source_map.h"

namespace farmctl::fml {

// Adds one error per legacy mistake found; returns how many it found.
int find_legacy_syntax(const SourceMap& source, DiagnosticList& diags);

}  // namespace farmctl::fml
