// farmctl's entry point: parses the command line and dispatches to a command
// (commands.h). Nothing else lives here.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace {

using namespace farmctl::cli;

void add_validate(CLI::App& app, ValidateOptions& o, int& code) {
  auto* cmd = app.add_subcommand("validate", "Check farm files; print every error with its line and column");
  cmd->add_option("files", o.files, "Farm files (FML)")->required()->check(CLI::ExistingPath);
  cmd->add_flag("-q,--quiet", o.quiet, "Print only problems");
  cmd->callback([&] { code = run_validate(o); });
}

void add_compile(CLI::App& app, CompileOptions& o, int& code) {
  auto* cmd = app.add_subcommand("compile", "Compile a farm file to the Plan IR (JSON)");
  cmd->add_option("file", o.file, "Farm file (FML)")->required();
  cmd->add_option("-o,--out", o.out, "Write the plan here instead of stdout");
  cmd->callback([&] { code = run_compile(o); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"farmctl: compile farm files and reconcile SAN storage to them"};
  app.set_version_flag("--version", std::string("farmctl ") + FARMCTL_VERSION);
  app.require_subcommand(1);
  int code = 0;
  ValidateOptions validate;
  CompileOptions compile;
  add_validate(app, validate, code);
  add_compile(app, compile, code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "farmctl: error: " << e.what() << "\n";
    return 1;
  }
  return code;
}
