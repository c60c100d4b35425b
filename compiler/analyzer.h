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
#include "compiler/xml_reader.h"

namespace farmctl::fml {

// `default_name` names the farm when <farm> has no name attribute (the file's stem).
std::optional<Farm> analyze(const XmlDocument& doc, std::string_view default_name, DiagnosticList& diags);

// The same, for a document read by read_xml_streamed with readers made by
// farm_part_reader(): `root` is the streamed document's root, `parts` its
// readers. The diagnostics, and the farm, are those analyze gives.
MakeTopElementReader farm_part_reader();
std::optional<Farm> analyze_parts(const XmlElement& root, const std::vector<std::unique_ptr<TopElementReader>>& parts,
                                  std::string_view default_name, DiagnosticList& diags);

}  // namespace farmctl::fml
