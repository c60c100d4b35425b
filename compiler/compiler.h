#pragma once
// The FML compiler's front door: source text in, Plan IR or diagnostics out.
//
//   source --read_xml_streamed (Xerces, embedded XSD)--> each child of <farm>
//          --analyze (values, names, targets)--> Farm --lower--> plan::Plan
//
// A file with any error yields no plan (never a partial one); warnings may
// accompany a plan.
#include <optional>
#include <string>
#include <string_view>

#include "compiler/diagnostics.h"
#include "compiler/farm_model.h"
#include "compiler/plan_ir.h"
#include "compiler/source_text.h"

namespace farmctl::fml {

// How far to go: to the plan (the usual), or to the checked farm, for a
// caller that lowers it itself (farmctl compile writes the plan's JSON
// straight from the farm: lowering.h, write_plan_json).
enum class CompileUntil { plan, farm };

struct CompileResult {
  std::optional<plan::Plan> plan;
  std::optional<Farm> farm;  // only when compiled until the farm, and without errors
  DiagnosticList diagnostics;
  SourceText source;      // the text compiled, for rendering diagnostics
  std::string file_name;  // as given, for diagnostics
  std::string rendered_diagnostics() const { return render(diagnostics, file_name, source); }
};

// `file_name` is used in messages and, through its stem, as the default farm name.
CompileResult compile_source(std::string source, std::string file_name, CompileUntil until = CompileUntil::plan);
// The same, for text read from a file (SourceText::of_file).
CompileResult compile_source(SourceText source, std::string file_name, CompileUntil until = CompileUntil::plan);
// Reads the file; an unreadable file is an error diagnostic, not an exception.
CompileResult compile_file(const std::string& path, CompileUntil until = CompileUntil::plan);

}  // namespace farmctl::fml
