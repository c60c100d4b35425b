#pragma once
// farmctl serve: the reconcile loop, the work-order automation and the HTTP
// API in one process over one inventory (docs/service.md for operators,
// docs/design/service.md for the choices).
//
// Threads: the main thread runs the reconcile loop (which alone plans and
// applies); the HTTP server answers on a pool of its own; one thread waits
// for SIGTERM/SIGINT. A stop lets the apply in progress finish its running
// actions (journalled), then the loop and the server end and run_service
// returns 0.
#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "service/backoff.h"

namespace farmctl::service {

struct ServeConfig {
  std::string db_path;
  std::string listen = "127.0.0.1:8080";
  std::optional<std::string> farms_dir;
  std::chrono::milliseconds interval{30000};
  BackoffPolicy backoff;
  int order_attempts = 3;
  int http_threads = 32;
  int parallelism = 8;
};

// Runs until SIGTERM or SIGINT; structured log lines go to `log`. Throws
// std::runtime_error when it cannot start (inventory, address, another
// farmctl serve on the same inventory).
int run_service(const ServeConfig& config, std::ostream& log);

}  // namespace farmctl::service
