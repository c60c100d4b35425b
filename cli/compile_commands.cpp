// `farmctl validate` and `farmctl compile`: the compiler on the command line.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "compiler/compiler.h"
#include "compiler/lowering.h"
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
  // Until the checked farm: its plan's JSON is written straight from it,
  // without the plan's objects in between (the same bytes). The result is
  // left for the process's exit to reclaim, as compilers leave their trees
  // (clang's -disable-free): freed piece by piece, a 100,000-server farm
  // took 16-24 ms after its plan was written (strace, by hand). farmctl
  // compiles once per run.
  fml::CompileResult& result = *new fml::CompileResult(fml::compile_file(options.file, fml::CompileUntil::farm));
  std::cerr << result.rendered_diagnostics();
  if (!result.farm) {
    std::cerr << fmt::format("farmctl: {} has errors; no plan written\n", options.file);
    return 1;
  }
  // The source is done with (its diagnostics are out): a large file is
  // unmapped, a small one's memory given back for the plan's text to use.
  result.source = fml::SourceText();
  runtime::PhaseTimer timer("compile: lower and write the plan");
  if (options.out.empty() || options.out == "-") {
    fml::write_plan_json(*result.farm, std::cout);
    return 0;
  }
  std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
  if (!fml::write_plan_json(*result.farm, out) || !out.flush()) {
    std::cerr << fmt::format("farmctl: cannot write {}\n", options.out);
    return 1;
  }
  return 0;
}

}  // namespace farmctl::cli
