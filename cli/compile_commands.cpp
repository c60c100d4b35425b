// `farmctl validate` and `farmctl compile`: the compiler on the command line.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "compiler/compiler.h"
#include "runtime/phase_timer.h"

namespace farmctl::cli {

int run_validate(const ValidateOptions& options) {
  bool all_valid = true;
  for (const std::string& file : options.files) {
    fml::CompileResult result = fml::compile_file(file);
    std::cerr << result.rendered_diagnostics();
    if (!result.plan) {
      all_valid = false;
      continue;
    }
    if (!options.quiet)
      fmt::print("{}: valid: farm '{}', {} servers, {} volumes, {} exports\n", file, result.plan->farm,
                 result.plan->servers.size(), result.plan->volumes.size(), result.plan->exports.size());
  }
  return all_valid ? 0 : 1;
}

int run_compile(const CompileOptions& options) {
  fml::CompileResult result = fml::compile_file(options.file);
  std::cerr << result.rendered_diagnostics();
  if (!result.plan) {
    std::cerr << fmt::format("farmctl: {} has errors; no plan written\n", options.file);
    return 1;
  }
  if (options.out.empty() || options.out == "-") {
    plan::write_json(*result.plan, std::cout);
    return 0;
  }
  runtime::PhaseTimer timer("compile: write the plan");
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  if (!plan::write_json(*result.plan, out) || !out.flush()) {
    std::cerr << fmt::format("farmctl: cannot write {}\n", options.out);
    return 1;
  }
  return 0;
}

}  // namespace farmctl::cli
