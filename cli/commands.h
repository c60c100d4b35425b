#pragma once
// The farmctl commands. main.cpp parses flags into these option structs and
// calls the matching run_* function; each returns the process exit code.
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

}  // namespace farmctl::cli
