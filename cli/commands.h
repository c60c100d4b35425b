#pragma once
// The farmctl commands. main.cpp parses flags into these option structs and
// calls the matching run_* function; each returns the process exit code
// (0 success, 1 error; plan --detailed-exitcode: 2 when there are changes).
#include <string>
#include <vector>

namespace farmctl::cli {

struct ValidateOptions {
  std::vector<std::string> files;
  bool quiet = false;
};
int run_validate(const ValidateOptions& options);

struct CompileOptions {
  std::string file;
  std::string out;  // empty: stdout
};
int run_compile(const CompileOptions& options);

struct InventoryOptions {
  std::string db;
  std::string map_file;  // import
  bool json = false;     // show
};
int run_inventory_import(const InventoryOptions& options);
int run_inventory_show(const InventoryOptions& options);
int run_inventory_check(const InventoryOptions& options);

struct FarmOptions {
  std::string db;
  std::string file;  // farm file, or a saved plan (apply)
  bool json = false;
  bool detailed_exitcode = false;
  std::string out;  // plan --out
  bool summary = false;         // plan --summary: device actions per server
  std::string format = "text";  // plan --format: text or markdown
  bool auto_approve = false;
  bool allow_replace = false;
  std::string lock_timeout = "0s";
  int parallelism = 8;  // apply/destroy: actions at once (1: the serial reference executor)
};
int run_plan(const FarmOptions& options);
int run_apply(const FarmOptions& options);
int run_destroy(const FarmOptions& options);
int run_graph(const FarmOptions& options);

// migrate: move a farm server to another idle host (docs/migration.md).
struct MigrateOptions {
  FarmOptions farm;  // file, db, auto_approve, json, lock_timeout, parallelism
  std::string server;
  std::string to;
  bool plan_only = false;
};
int run_migrate(const MigrateOptions& options);

// connection-info: what a host needs to attach a server's disks.
struct ConnectionInfoOptions {
  std::string db;
  std::string file;  // the farm file (only its farm name is used)
  std::string server;
  bool json = false;
};
int run_connection_info(const ConnectionInfoOptions& options);

// diff: OLD and NEW are paths or git:REV:PATH (cli/diff_command.cpp).
struct DiffOptions {
  std::string old_source;
  std::string new_source;
  bool json = false;
  bool detailed_exitcode = false;
  std::string format = "text";  // text or markdown
};
int run_diff(const DiffOptions& options);

struct UnlockOptions {
  std::string db;
};
int run_force_unlock(const UnlockOptions& options);

// backup list | now, restore (cli/backup_commands.cpp, docs/backups.md).
struct BackupOptions {
  std::string db;
  std::string farm;
  std::string volume;     // list --volume (a filter), now VOLUME, restore VOLUME
  long long from = 0;     // restore --from COPY
  bool json = false;      // list
  bool auto_approve = false;  // restore in place destroys what the disk holds now
  bool to_new = false;        // restore into a new volume instead (non-destructive)
  long long restored = 0;     // backup release: the restored volume
  std::string lock_timeout = "0s";
};
int run_backup_list(const BackupOptions& options);
int run_backup_now(const BackupOptions& options);
int run_restore(const BackupOptions& options);
int run_backup_release(const BackupOptions& options);

// ---- the service (cli/service_commands.cpp, cli/workorder_commands.cpp) ----
struct ServeOptions {
  std::string db;
  std::string listen = "127.0.0.1:8080";
  std::string farms_dir;             // empty: no --farms
  std::string interval = "30s";
  std::string backoff = "1s";        // first wait after a farm fails
  std::string backoff_max = "5m";
  int order_attempts = 3;            // failed reconciles before an open work order fails
  int parallelism = 8;
};
// Checks the options, then runs farmctl-serve with the command line `argv`
// (farmctl's own, NULL-terminated); returns only by throwing CommandError.
int run_serve(const ServeOptions& options, char** argv);

struct FarmStoreOptions {
  std::string db;
  std::string file;   // put
  std::string owner;  // put: the owning account of a new farm
  bool json = false;  // list
};
int run_farm_put(const FarmStoreOptions& options);
int run_farm_list(const FarmStoreOptions& options);
int run_farm_delete(const FarmStoreOptions& options);  // file holds the farm's name

struct AccountOptions {
  std::string db;
  std::string name;
  std::string level;
  std::string quota;  // a size ("500GB"); empty: none
  bool json = false;
};
int run_account_create(const AccountOptions& options);
int run_account_list(const AccountOptions& options);

struct WorkOrderOptions {
  std::string db;
  std::string mail_file;  // submit --from-mail
  std::string customer;   // submit: the account the mail is from; list: filter
  std::string state;      // list
  long long id = 0;       // show, retry, close
  std::string comment;    // close
  bool json = false;
};
int run_workorder_submit(const WorkOrderOptions& options);
int run_workorder_list(const WorkOrderOptions& options);
int run_workorder_show(const WorkOrderOptions& options);
int run_workorder_retry(const WorkOrderOptions& options);
int run_workorder_close(const WorkOrderOptions& options);

}  // namespace farmctl::cli
