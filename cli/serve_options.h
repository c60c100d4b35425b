#pragma once
// The options of `farmctl serve`, defined once for the two programs that
// read them: farmctl, which checks them and then runs farmctl-serve with the
// same command line (run_serve), and farmctl-serve, which serves. Only
// farmctl-serve links the HTTP server and its libraries (cpp-httplib, and
// through it OpenSSL), so that every other command starts without loading
// them (docs/design/serve-binary.md).
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "service/service.h"

namespace farmctl::cli {

// --db, as every command that opens the inventory takes it.
void add_db(CLI::App* cmd, std::string& db);
// The options of `serve` (its --db included), onto its subcommand.
void add_serve_options(CLI::App* serve, ServeOptions& o);
// What the options ask of the service; throws CommandError for a bad value.
service::ServeConfig serve_config(const ServeOptions& options);

// What `serve` does, as both programs' help says it.
inline constexpr const char* kServeDescription = "Keep every stored farm converged and take work orders over HTTP";

// The program `farmctl serve` runs: farmctl-serve, beside farmctl.
inline constexpr const char* kServeProgram = "farmctl-serve";

}  // namespace farmctl::cli
