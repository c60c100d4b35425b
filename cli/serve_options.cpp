#include "cli/serve_options.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "cli/common.h"
#include "runtime/inventory.h"

namespace farmctl::cli {

void add_db(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db, "Inventory database (default: $FARMCTL_DB, else ./farm.db)");
}

void add_serve_options(CLI::App* cmd, ServeOptions& o) {
  cmd->add_option("--listen", o.listen, "HOST:PORT to answer on (default 127.0.0.1:8080)");
  cmd->add_option("--farms", o.farms_dir, "Also keep the *.fml files of this directory converged (re-read on change)");
  cmd->add_option("--interval", o.interval, "Reconcile every farm this often (default 30s)");
  cmd->add_option("--backoff", o.backoff, "First wait after a farm fails, doubled each time (default 1s)");
  cmd->add_option("--backoff-max", o.backoff_max, "Longest wait after failures (default 5m)");
  cmd->add_option("--order-attempts", o.order_attempts, "Failed reconciles before an open work order fails")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--parallelism", o.parallelism, "Actions run at once, across devices")->check(CLI::Range(1, 256));
  add_db(cmd, o.db);
}

service::ServeConfig serve_config(const ServeOptions& options) {
  service::ServeConfig config;
  config.db_path = runtime::resolve_inventory_path(options.db);
  config.listen = options.listen;
  config.interval = parse_duration(options.interval);
  if (config.interval.count() <= 0) throw CommandError("--interval must be more than 0");
  config.backoff.first = parse_duration(options.backoff);
  config.backoff.cap = parse_duration(options.backoff_max);
  if (config.backoff.first.count() <= 0 || config.backoff.cap < config.backoff.first)
    throw CommandError("--backoff must be more than 0 and at most --backoff-max");
  config.order_attempts = options.order_attempts;
  config.parallelism = options.parallelism;
  if (!options.farms_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.farms_dir, ec))
      throw CommandError(fmt::format("--farms {}: not a directory", options.farms_dir));
    config.farms_dir = options.farms_dir;
  }
  return config;
}

}  // namespace farmctl::cli
