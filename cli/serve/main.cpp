// farmctl-serve: the service itself (service/service.h). `farmctl serve`
// checks its options and then runs this program, beside it, with the same
// command line (cli/service_commands.cpp), so that only this process loads
// the HTTP server's libraries. Run by hand it takes that command line too:
// farmctl-serve serve [--listen HOST:PORT] ...
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/guarded.h"
#include "cli/serve_options.h"
#include "service/service.h"

int main(int argc, char** argv) {
  using namespace farmctl::cli;
  CLI::App app{"farmctl-serve: what farmctl serve runs"};
  app.set_version_flag("--version", std::string("farmctl-serve ") + FARMCTL_VERSION);
  app.require_subcommand(1);
  int code = 0;
  ServeOptions options;
  auto* serve = app.add_subcommand("serve", kServeDescription);
  add_serve_options(serve, options);
  serve->callback([&] {
    guarded(code, [&] { return farmctl::service::run_service(serve_config(options), std::cerr); });
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int exit = app.exit(e);
    return exit == 0 ? 0 : 1;
  }
  return code;
}
