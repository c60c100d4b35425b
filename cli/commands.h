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
  bool auto_approve = false;
  bool allow_replace = false;
  std::string lock_timeout = "0s";
};
int run_plan(const FarmOptions& options);
int run_apply(const FarmOptions& options);
int run_destroy(const FarmOptions& options);
int run_graph(const FarmOptions& options);

struct UnlockOptions {
  std::string db;
};
int run_force_unlock(const UnlockOptions& options);

}  // namespace farmctl::cli
