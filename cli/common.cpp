#include "cli/common.h"

#include <iostream>

#include <fmt/format.h>
#include <unistd.h>

#include "compiler/compiler.h"
#include "runtime/phase_timer.h"

namespace farmctl::cli {

std::unique_ptr<runtime::Inventory> open_inventory(const std::string& db_flag) {
  std::string path = runtime::resolve_inventory_path(db_flag);
  runtime::PhaseTimer timer("inventory: open");
  try {
    return std::make_unique<runtime::Inventory>(path);
  } catch (const runtime::InventoryError& e) {
    throw CommandError(e.what());
  }
}

plan::Plan compile_or_fail(const std::string& file) {
  runtime::PhaseTimer timer("compile");
  fml::CompileResult result = fml::compile_file(file);
  std::cerr << result.rendered_diagnostics();
  if (!result.plan) throw CommandError(fmt::format("{} has errors; nothing was planned or changed", file));
  return std::move(*result.plan);
}

std::chrono::milliseconds parse_duration(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12) throw CommandError(fmt::format("bad duration '{}': write e.g. 500ms, 30s, 2m or 1h", text));
  long long n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s" || (unit.empty() && n == 0)) return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  throw CommandError(fmt::format("bad duration '{}': write e.g. 500ms, 30s, 2m or 1h", text));
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }
bool stdin_is_terminal() { return isatty(STDIN_FILENO) == 1; }

bool confirm(const std::string& question) {
  std::cout << question << " Only 'yes' will be accepted: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

}  // namespace farmctl::cli
