#pragma once
// The FML compiler's front door: source text in, Plan IR or diagnostics out.
//
//   source --read_xml_document (Xerces, embedded XSD)--> XmlDocument
//          --analyze (values, names, targets)--> Farm --lower--> plan::Plan
//
// A file with any error yields no plan (never a partial one); warnings may
// accompany a plan.
#include <optional>
#include <string>
#include <string_view>

#include "compiler/diagnostics.h"
#include "compiler/plan_ir.h"

namespace farmctl::fml {

struct CompileResult {
  std::optional<plan::Plan> plan;
  DiagnosticList diagnostics;
  std::string source;     // the text compiled, for rendering diagnostics
  std::string file_name;  // as given, for diagnostics
  std::string rendered_diagnostics() const { return render(diagnostics, file_name, source); }
};

// `file_name` is used in messages and, through its stem, as the default farm name.
CompileResult compile_source(std::string source, std::string file_name);
// Reads the file; an unreadable file is an error diagnostic, not an exception.
CompileResult compile_file(const std::string& path);

}  // namespace farmctl::fml
