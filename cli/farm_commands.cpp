// `farmctl plan | apply | destroy | graph`: a farm file against the inventory.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "reconciler/action_graph.h"
#include "reconciler/apply.h"
#include "reconciler/plan_render.h"
#include "reconciler/planner.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"

namespace farmctl::cli {
namespace {

using reconcile::ReconcilePlan;

// Discovery, then the planner; refusals become one error listing each reason.
ReconcilePlan plan_farm(runtime::Inventory& inventory, const plan::Plan& ir, const reconcile::PlanOptions& options) {
  runtime::Topology topology = inventory.topology();
  runtime::DriverSet drivers(topology, runtime::DriverContext{inventory.path()});
  reconcile::Discovery discovery;
  try {
    discovery = drivers.discover_all();
  } catch (const runtime::DeviceError& e) {
    throw CommandError(e.what());
  }
  try {
    return reconcile::make_plan(ir, inventory, topology, discovery, options);
  } catch (const reconcile::PlanRefused& refused) {
    for (const std::string& r : refused.reasons()) std::cerr << "farmctl: cannot plan: " << r << "\n";
    throw CommandError(fmt::format("farm {}: {} problem{}; nothing was changed", ir.farm, refused.reasons().size(),
                                   refused.reasons().size() == 1 ? "" : "s"));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CommandError(fmt::format("cannot read {}", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool looks_like_plan_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

// Progress as plain lines, one per finished action (a live line on a
// terminal comes with the parallel executor).
class LineProgress : public reconcile::ApplyEvents {
 public:
  explicit LineProgress(int total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  void finished(const reconcile::Action& a, const runtime::ActionOutcome& outcome, int attempts) override {
    ++done_;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
    std::string retries = attempts > 1 ? fmt::format(" after {} attempts", attempts) : "";
    if (outcome.ok())
      fmt::print("[{}/{}] {} {}: done{} ({} ms)\n", done_, total_, runtime::to_string(a.op), a.detail, retries, ms);
    else
      fmt::print("[{}/{}] {} {}: FAILED{}: {}\n", done_, total_, runtime::to_string(a.op), a.detail, retries,
                 outcome.message);
    std::fflush(stdout);
  }
  void skipped(const reconcile::Action& a, int because_of) override {
    ++done_;
    fmt::print("[{}/{}] {} {}: skipped (depends on failed action {})\n", done_, total_, runtime::to_string(a.op),
               a.detail, because_of);
  }

 private:
  int total_;
  int done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Shows the plan, asks, executes, reports. Expects the lock to be held.
int execute(runtime::Inventory& inventory, const ReconcilePlan& plan, const FarmOptions& options,
            std::string_view verb) {
  std::cout << reconcile::render_plan_text(plan, stdout_is_terminal());
  if (plan.empty()) return 0;
  if (!options.auto_approve) {
    if (!stdin_is_terminal())
      throw CommandError(fmt::format("not {}: stdin is not a terminal, so pass --auto-approve to {} without asking",
                                     verb == "destroy" ? "destroying" : "applying", verb));
    if (!confirm(fmt::format("\nDo you want to {} farm {}?", verb, plan.farm))) {
      fmt::print("{} cancelled; nothing was changed\n", verb);
      return 1;
    }
  }
  std::cout << "\n";
  runtime::DriverSet drivers(inventory.topology(), runtime::DriverContext{inventory.path()});
  LineProgress progress(static_cast<int>(plan.actions.size()));
  reconcile::ApplyResult result = reconcile::apply_plan(plan, inventory, drivers, progress);
  if (result.ok()) {
    fmt::print("\n{} complete: {} actions done.\n", verb == "destroy" ? "Destroy" : "Apply", result.done);
    return 0;
  }
  fmt::print(stderr, "\n{} incomplete: {} done, {} failed, {} skipped.\n", verb == "destroy" ? "Destroy" : "Apply",
             result.done, result.failed, result.skipped);
  for (const std::string& f : result.failures) fmt::print(stderr, "  failed: {}\n", f);
  fmt::print(stderr, "Run farmctl plan to see the work that remains.\n");
  return 1;
}

}  // namespace

int run_plan(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  ReconcilePlan plan = plan_farm(*inventory, ir, {options.allow_replace, false});
  if (!options.out.empty()) {
    std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
    if (!(out << reconcile::to_plan_file(plan)) || !out.flush())
      throw CommandError(fmt::format("cannot write the plan to {}", options.out));
  }
  if (options.json)
    std::cout << reconcile::render_plan_json(plan);
  else
    std::cout << reconcile::render_plan_text(plan, stdout_is_terminal());
  if (!options.out.empty() && !options.json)
    fmt::print("\nSaved the plan to {}; apply exactly it with: farmctl apply {}\n", options.out, options.out);
  return options.detailed_exitcode && !plan.empty() ? 2 : 0;
}

int run_apply(const FarmOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "apply " + options.file, parse_duration(options.lock_timeout));
  if (looks_like_plan_file(options.file)) {
    ReconcilePlan plan;
    try {
      plan = reconcile::from_plan_file(read_file(options.file));
    } catch (const std::runtime_error& e) {
      throw CommandError(fmt::format("{}: {}", options.file, e.what()));
    }
    if (plan.generation != inventory->generation())
      throw CommandError(fmt::format(
          "the saved plan {} is stale: the inventory changed since it was made (generation {} then, {} now); run "
          "farmctl plan again",
          options.file, plan.generation, inventory->generation()));
    return execute(*inventory, plan, options, "apply");
  }
  plan::Plan ir = compile_or_fail(options.file);
  ReconcilePlan plan = plan_farm(*inventory, ir, {options.allow_replace, false});
  return execute(*inventory, plan, options, "apply");
}

int run_destroy(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "destroy " + options.file, parse_duration(options.lock_timeout));
  if (!inventory->farm(ir.farm)) throw CommandError(fmt::format("the inventory has no farm named '{}'", ir.farm));
  plan::Plan empty;
  empty.farm = ir.farm;
  empty.fml_version = ir.fml_version;
  ReconcilePlan plan = plan_farm(*inventory, empty, {true, true});
  return execute(*inventory, plan, options, "destroy");
}

int run_graph(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  ReconcilePlan plan = plan_farm(*inventory, ir, {options.allow_replace, false});
  std::cout << reconcile::to_dot(plan);
  return 0;
}

}  // namespace farmctl::cli
