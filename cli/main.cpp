// farmctl's entry point: parses the command line and dispatches to a command
// (commands.h). Nothing else lives here.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/guarded.h"
#include "cli/serve_options.h"

namespace {

using namespace farmctl::cli;

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
  auto* summary = cmd->add_flag("--summary", o.summary, "One line per server: device actions of each kind");
  auto* format = cmd->add_option("--format", o.format, "text, or markdown for a pull-request comment")
                     ->check(CLI::IsMember({"text", "markdown"}));
  cmd->get_option("--json")->excludes(summary)->excludes(format);
  summary->excludes(format);
  add_farm_options(cmd, o);
  cmd->callback([&] { guarded(code, [&] { return run_plan(o); }); });
}

void add_diff(CLI::App& app, DiffOptions& o, int& code) {
  auto* cmd = app.add_subcommand("diff", "Compare two farm files without the inventory: what the change means");
  cmd->add_option("old", o.old_source, "The farm file before: a path or git:REV:PATH")->required();
  cmd->add_option("new", o.new_source, "The farm file after: a path or git:REV:PATH")->required();
  auto* json = cmd->add_flag("--json", o.json, "Machine-readable diff");
  cmd->add_option("--format", o.format, "text, or markdown for a pull-request comment")
      ->check(CLI::IsMember({"text", "markdown"}))
      ->excludes(json);
  cmd->add_flag("--detailed-exitcode", o.detailed_exitcode, "Exit 0 when no changes, 1 on error, 2 when changes");
  cmd->callback([&] { guarded(code, [&] { return run_diff(o); }); });
}

void add_apply(CLI::App& app, FarmOptions& o, int& code, const char* name, const char* help) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("file", o.file, std::string(name) == "apply" ? "Farm file (FML) or a saved plan" : "Farm file (FML)")
      ->required();
  cmd->add_flag("--auto-approve", o.auto_approve, "Do not ask for confirmation");
  cmd->add_option("--lock-timeout", o.lock_timeout, "Wait this long for another writer (e.g. 30s)");
  cmd->add_option("--parallelism", o.parallelism, "Actions run at once, across devices (1: one at a time)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", o.json, "Progress as JSON events, one per line");
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

void add_migrate(CLI::App& app, MigrateOptions& o, int& code) {
  auto* cmd = app.add_subcommand("migrate", "Move a farm server to another idle host, make before break");
  cmd->add_option("file", o.farm.file, "Farm file (FML)")->required();
  cmd->add_option("server", o.server, "The farm server to move")->required();
  cmd->add_option("--to", o.to, "The idle host it moves to")->required();
  cmd->add_flag("--plan-only", o.plan_only, "Show the plan of the move; change nothing");
  cmd->add_flag("--auto-approve", o.farm.auto_approve, "Do not ask for confirmation");
  cmd->add_option("--lock-timeout", o.farm.lock_timeout, "Wait this long for another writer (e.g. 30s)");
  cmd->add_option("--parallelism", o.farm.parallelism, "Actions run at once, across devices (1: one at a time)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", o.farm.json, "Machine-readable plan (--plan-only) or progress events");
  add_farm_options(cmd, o.farm);
  cmd->callback([&] { guarded(code, [&] { return run_migrate(o); }); });
}

void add_connection_info(CLI::App& app, ConnectionInfoOptions& o, int& code) {
  auto* cmd = app.add_subcommand("connection-info", "What a host needs to attach a farm server's disks");
  cmd->add_option("file", o.file, "Farm file (FML)")->required();
  cmd->add_option("server", o.server, "The farm server")->required();
  cmd->add_flag("--json", o.json, "Machine-readable");
  add_db(cmd, o.db);
  cmd->callback([&] { guarded(code, [&] { return run_connection_info(o); }); });
}

void add_force_unlock(CLI::App& app, UnlockOptions& o, int& code) {
  auto* cmd = app.add_subcommand("force-unlock", "Remove the inventory's writer lock (says whose lock it breaks)");
  add_db(cmd, o.db);
  cmd->callback([&] { guarded(code, [&] { return run_force_unlock(o); }); });
}

void add_backup(CLI::App& app, BackupOptions& list_o, BackupOptions& now_o, BackupOptions& release_o,
                BackupOptions& restore_o, int& code) {
  auto* backup = app.add_subcommand("backup", "Backup copies of a farm's disks (docs/backups.md)");
  backup->require_subcommand(1);
  auto* list = backup->add_subcommand("list", "A farm's copies, by disk, oldest first");
  list->add_option("farm", list_o.farm, "The farm's name")->required();
  list->add_option("--volume", list_o.volume, "Only the copies of this disk (web-0/t0, global/NAME)");
  list->add_flag("--json", list_o.json, "JSON instead of a table");
  add_db(list, list_o.db);
  list->callback([&] { guarded(code, [&] { return run_backup_list(list_o); }); });
  auto* now = backup->add_subcommand("now", "Take a copy of a disk now (kept as its lowest-level policy keeps copies)");
  now->add_option("farm", now_o.farm, "The farm's name")->required();
  now->add_option("volume", now_o.volume, "The disk (web-0/t0, global/NAME)")->required();
  now->add_option("--lock-timeout", now_o.lock_timeout, "Wait this long for another farmctl's lock (default 0s)");
  add_db(now, now_o.db);
  now->callback([&] { guarded(code, [&] { return run_backup_now(now_o); }); });
  auto* release = backup->add_subcommand("release", "Take a volume made by restore --to-new away (scrubbed, freed)");
  release->add_option("farm", release_o.farm, "The farm's name")->required();
  release->add_option("restored", release_o.restored, "The restored volume's number (farmctl backup list)")->required();
  release->add_option("--lock-timeout", release_o.lock_timeout, "Wait this long for another farmctl's lock (default 0s)");
  add_db(release, release_o.db);
  release->callback([&] { guarded(code, [&] { return run_backup_release(release_o); }); });
  auto* restore = app.add_subcommand(
      "restore", "Bring a copy back: in place (the disk loses what it holds now) or, with --to-new, into a new volume");
  restore->add_option("farm", restore_o.farm, "The farm's name")->required();
  restore->add_option("volume", restore_o.volume, "The disk (web-0/t0, global/NAME)")->required();
  restore->add_option("--from", restore_o.from, "The copy's id (farmctl backup list)")->required();
  restore->add_flag("--auto-approve", restore_o.auto_approve, "Do not ask before overwriting the disk");
  restore->add_flag("--to-new", restore_o.to_new,
                    "Into a new volume exported to the disk's servers at a free target; the disk is left alone");
  restore->add_option("--lock-timeout", restore_o.lock_timeout, "Wait this long for another farmctl's lock (default 0s)");
  add_db(restore, restore_o.db);
  restore->callback([&] { guarded(code, [&] { return run_restore(restore_o); }); });
}

// ---- the service: serve, farm, account, workorder ----------------------------

void add_serve(CLI::App& app, ServeOptions& o, int& code, char** argv) {
  auto* cmd = app.add_subcommand("serve", kServeDescription);
  add_serve_options(cmd, o);
  cmd->callback([&code, &o, argv] { guarded(code, [&] { return run_serve(o, argv); }); });
}

void add_farm(CLI::App& app, FarmStoreOptions& o, int& code) {
  auto* farm = app.add_subcommand("farm", "Farms stored in the inventory for farmctl serve to keep converged");
  farm->require_subcommand(1);
  auto* put = farm->add_subcommand("put", "Store a farm file as its farm's next revision");
  put->add_option("file", o.file, "Farm file (FML)")->required();
  put->add_option("--owner", o.owner, "The account that owns a new farm (a customer)");
  add_db(put, o.db);
  put->callback([&] { guarded(code, [&] { return run_farm_put(o); }); });
  auto* list = farm->add_subcommand("list", "Stored farms with their revision, owner and status");
  list->add_flag("--json", o.json, "Machine-readable output");
  add_db(list, o.db);
  list->callback([&] { guarded(code, [&] { return run_farm_list(o); }); });
  auto* del = farm->add_subcommand("delete", "Stop keeping a farm converged (its storage stays: farmctl destroy)");
  del->add_option("name", o.file, "The farm's name")->required();
  add_db(del, o.db);
  del->callback([&] { guarded(code, [&] { return run_farm_delete(o); }); });
}

void add_account(CLI::App& app, AccountOptions& o, int& code) {
  auto* account = app.add_subcommand("account", "Accounts of the service: customers and administrators");
  account->require_subcommand(1);
  auto* create = account->add_subcommand("create", "Create an account and print its API token (shown only once)");
  create->add_option("name", o.name, "Account name (a-z, 0-9, -)")->required();
  create->add_option("--level", o.level, "viewer, server-admin, customer-admin or provider-admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "server-admin", "customer-admin", "provider-admin"}));
  create->add_option("--quota", o.quota, "Storage the account's farms may use, e.g. 500GB (default: no limit)");
  add_db(create, o.db);
  create->callback([&] { guarded(code, [&] { return run_account_create(o); }); });
  auto* list = account->add_subcommand("list", "Accounts with their level, quota and storage used");
  list->add_flag("--json", o.json, "Machine-readable output");
  add_db(list, o.db);
  list->callback([&] { guarded(code, [&] { return run_account_list(o); }); });
}

void add_workorder(CLI::App& app, WorkOrderOptions& o, int& code) {
  auto* wo = app.add_subcommand("workorder", "Work orders: submit from a mail, list, show, retry, close by hand");
  wo->require_subcommand(1);
  auto* submit = wo->add_subcommand("submit", "Take an order that came by mail; print the reply with its id");
  submit->add_option("--from-mail", o.mail_file, "The message (RFC 822 .eml): subject = type, 'key: value' lines")
      ->required();
  submit->add_option("--customer", o.customer, "The account the order is from")->required();
  add_db(submit, o.db);
  submit->callback([&] { guarded(code, [&] { return run_workorder_submit(o); }); });
  auto* list = wo->add_subcommand("list", "Work orders, oldest first");
  list->add_option("--state", o.state, "Only orders in this state")
      ->check(CLI::IsMember({"new", "open", "closed", "failed"}));
  list->add_option("--customer", o.customer, "Only this account's orders");
  list->add_flag("--json", o.json, "Machine-readable output");
  add_db(list, o.db);
  list->callback([&] { guarded(code, [&] { return run_workorder_list(o); }); });
  auto* show = wo->add_subcommand("show", "One work order in full");
  show->add_option("id", o.id, "Work order id")->required();
  show->add_flag("--json", o.json, "Machine-readable output");
  add_db(show, o.db);
  show->callback([&] { guarded(code, [&] { return run_workorder_show(o); }); });
  auto* retry = wo->add_subcommand("retry", "Hand a failed order back to the automation");
  retry->add_option("id", o.id, "Work order id")->required();
  add_db(retry, o.db);
  retry->callback([&] { guarded(code, [&] { return run_workorder_retry(o); }); });
  auto* close = wo->add_subcommand("close", "Close a failed (or new) order done by hand; records its billable event");
  close->add_option("id", o.id, "Work order id")->required();
  close->add_option("--comment", o.comment, "What was done")->required();
  add_db(close, o.db);
  close->callback([&] { guarded(code, [&] { return run_workorder_close(o); }); });
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
  DiffOptions diff;
  add_validate(app, validate, code);
  add_compile(app, compile, code);
  add_inventory(app, inventory, code);
  add_plan(app, plan, code);
  add_apply(app, apply, code, "apply", "Make the storage match a farm file (or apply a saved plan)");
  add_apply(app, destroy, code, "destroy", "Tear a farm down: unmap, unbind, scrub and free all its storage");
  add_graph(app, graph, code);
  add_diff(app, diff, code);
  add_force_unlock(app, unlock, code);
  MigrateOptions migrate;
  ConnectionInfoOptions connection_info;
  add_migrate(app, migrate, code);
  add_connection_info(app, connection_info, code);
  BackupOptions backup_list, backup_now, backup_release, restore;
  add_backup(app, backup_list, backup_now, backup_release, restore, code);
  ServeOptions serve;
  FarmStoreOptions farm_store;
  AccountOptions account;
  WorkOrderOptions workorder;
  add_serve(app, serve, code, argv);
  add_farm(app, farm_store, code);
  add_account(app, account, code);
  add_workorder(app, workorder, code);
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
