#pragma once
// Semantic analysis: from a schema-checked XML tree to a checked Farm.
// Reports every error FML.md lists that the schema cannot see — bad values,
// duplicate ids and names, references to nothing, target collisions,
// version rules, server counts out of order — all of them in one run.
//
// Returns nullopt when any error was reported: a farm with an error never
// reaches lowering, so there is no partial plan.
#include <optional>
#include <string_view>

#include "compiler/diagnostics.h"
#include "compiler/farm_model.h"
#include "compiler/xml_document.h"

namespace farmctl::fml {

// `default_name` names the farm when <farm> has no name attribute (the file's stem).
std::optional<Farm> analyze(const XmlDocument& doc, std::string_view default_name, DiagnosticList& diags);

}  // namespace farmctl::fml
