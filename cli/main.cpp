// farmctl's entry point: parses the command line and dispatches to a command
// (commands.h). Nothing else lives here.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"

namespace {

using namespace farmctl::cli;

// Runs a command, turning the errors every command may meet into one line
// and exit code 1.
template <class Fn>
void guarded(int& code, Fn&& fn) {
  try {
    code = fn();
  } catch (const std::exception& e) {
    std::cerr << "farmctl: error: " << e.what() << "\n";
    code = 1;
  }
}

void add_db(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db, "Inventory database (default: $FARMCTL_DB, else ./farm.db)");
}

void add_validate(CLI::App& app, ValidateOptions& o, int& code) {
  auto* cmd = app.add_subcommand("validate", "Check farm files; print every error with its line and column");
  cmd->add_option("files", o.files, "Farm files (FML)")->required();
  cmd->add_flag("-q,--quiet", o.quiet, "Print only problems");
  cmd->callback([&] { guarded(code, [&] { return run_validate(o); }); });
}

void add_compile(CLI::App& app, CompileOptions& o, int& code) {
  auto* cmd = app.add_subcommand("compile", "Compile a farm file to the Plan IR (JSON)");
  cmd->add_option("file", o.file, "Farm file (FML)")->required();
  cmd->add_option("-o,--out", o.out, "Write the plan here instead of stdout");
  cmd->callback([&] { guarded(code, [&] { return run_compile(o); }); });
}

void add_inventory(CLI::App& app, InventoryOptions& o, int& code) {
  auto* inv = app.add_subcommand("inventory", "Import, show and check the inventory of the storage estate");
  inv->require_subcommand(1);
  auto* import = inv->add_subcommand("import", "Load a wiring map (the hardware that exists) into the inventory");
  import->add_option("map", o.map_file, "Wiring map (XML)")->required();
  add_db(import, o.db);
  import->callback([&] { guarded(code, [&] { return run_inventory_import(o); }); });
  auto* show = inv->add_subcommand("show", "Capacity per array and pool, volumes per state, hosts idle and used");
  show->add_flag("--json", o.json, "Machine-readable output");
  add_db(show, o.db);
  show->callback([&] { guarded(code, [&] { return run_inventory_show(o); }); });
  auto* check = inv->add_subcommand("check", "Check the inventory's invariants against itself and the devices");
  add_db(check, o.db);
  check->callback([&] { guarded(code, [&] { return run_inventory_check(o); }); });
}

void add_farm_options(CLI::App* cmd, FarmOptions& o) {
  add_db(cmd, o.db);
  cmd->add_flag("--allow-replace", o.allow_replace,
                "Allow replacing volumes (shrink, new image, class or raid): destroys their data");
}

void add_plan(CLI::App& app, FarmOptions& o, int& code) {
  auto* cmd = app.add_subcommand("plan", "Show what apply would change to make the storage match a farm file");
  cmd->add_option("file", o.file, "Farm file (FML)")->required();
  cmd->add_flag("--json", o.json, "Machine-readable plan");
  cmd->add_flag("--detailed-exitcode", o.detailed_exitcode, "Exit 0 when no changes, 1 on error, 2 when changes");
  cmd->add_option("--out", o.out, "Save the plan, to apply exactly it later");
  add_farm_options(cmd, o);
  cmd->callback([&] { guarded(code, [&] { return run_plan(o); }); });
}

void add_apply(CLI::App& app, FarmOptions& o, int& code, const char* name, const char* help) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("file", o.file, std::string(name) == "apply" ? "Farm file (FML) or a saved plan" : "Farm file (FML)")
      ->required();
  cmd->add_flag("--auto-approve", o.auto_approve, "Do not ask for confirmation");
  cmd->add_option("--lock-timeout", o.lock_timeout, "Wait this long for another writer (e.g. 30s)");
  add_farm_options(cmd, o);
  std::string which = name;
  cmd->callback([&, which] {
    guarded(code, [&] { return which == "apply" ? run_apply(o) : run_destroy(o); });
  });
}

void add_graph(CLI::App& app, FarmOptions& o, int& code) {
  auto* cmd = app.add_subcommand("graph", "Print the plan's action graph as Graphviz DOT");
  cmd->add_option("file", o.file, "Farm file (FML)")->required();
  add_farm_options(cmd, o);
  cmd->callback([&] { guarded(code, [&] { return run_graph(o); }); });
}

void add_force_unlock(CLI::App& app, UnlockOptions& o, int& code) {
  auto* cmd = app.add_subcommand("force-unlock", "Remove the inventory's writer lock (says whose lock it breaks)");
  add_db(cmd, o.db);
  cmd->callback([&] { guarded(code, [&] { return run_force_unlock(o); }); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"farmctl: compile farm files and reconcile SAN storage to them"};
  app.set_version_flag("--version", std::string("farmctl ") + FARMCTL_VERSION);
  app.require_subcommand(1);
  int code = 0;
  ValidateOptions validate;
  CompileOptions compile;
  InventoryOptions inventory;
  FarmOptions plan, apply, destroy, graph;
  UnlockOptions unlock;
  add_validate(app, validate, code);
  add_compile(app, compile, code);
  add_inventory(app, inventory, code);
  add_plan(app, plan, code);
  add_apply(app, apply, code, "apply", "Make the storage match a farm file (or apply a saved plan)");
  add_apply(app, destroy, code, "destroy", "Tear a farm down: unmap, unbind, scrub and free all its storage");
  add_graph(app, graph, code);
  add_force_unlock(app, unlock, code);
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
  }
  return code;
}
