#pragma once
// What several commands share: opening the inventory, compiling a farm file,
// reading durations, talking to a terminal.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "compiler/plan_ir.h"
#include "runtime/inventory.h"

namespace farmctl::cli {

// An error the command reports as "farmctl: error: <message>" and exit 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::unique_ptr<runtime::Inventory> open_inventory(const std::string& db_flag);
// Compiles or throws CommandError after printing the diagnostics to stderr.
plan::Plan compile_or_fail(const std::string& file);
// "30s", "2m", "500ms", "1h", "0": throws CommandError for anything else.
std::chrono::milliseconds parse_duration(const std::string& text);
bool stdout_is_terminal();
bool stdin_is_terminal();
// Asks on the terminal; true only for "yes".
bool confirm(const std::string& question);

}  // namespace farmctl::cli
