// `farmctl plan | apply | destroy | graph`: a farm file against the inventory.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "reconciler/action_graph.h"
#include "reconciler/apply.h"
#include "reconciler/backup_engine.h"
#include "reconciler/connection_info.h"
#include "reconciler/plan_markdown.h"
#include "reconciler/plan_render.h"
#include "reconciler/plan_summary.h"
#include "reconciler/planner.h"
#include "reconciler/recovery.h"
#include "runtime/driver_set.h"
#include "runtime/inventory_lock.h"
#include "runtime/phase_timer.h"

namespace farmctl::cli {
namespace {

using reconcile::ReconcilePlan;

// The hardware and its drivers, made once per command: recovery, discovery
// and the apply share the drivers (and whatever connections they hold).
struct Estate {
  explicit Estate(runtime::Inventory& inventory)
      : topology(inventory.topology()), drivers(topology, runtime::DriverContext{inventory.path()}) {}
  runtime::Topology topology;
  runtime::DriverSet drivers;
};

// Discovery and the planner; refusals become one error listing each reason.
// Discovery runs on a second thread while the planner reads the farm's
// records from the inventory (the devices and the inventory are different
// connections, and a plan of a large farm spends much of its time in each).
ReconcilePlan plan_farm(runtime::Inventory& inventory, Estate& estate, const plan::Plan& ir,
                        const reconcile::PlanOptions& options) {
  const runtime::Topology& topology = estate.topology;
  auto scope = inventory.farm_volume_scope(ir.farm);
  std::future<reconcile::Discovery> discovering = std::async(std::launch::async, [&estate, &scope] {
    runtime::PhaseTimer timer("discovery");
    return estate.drivers.discover_all(&scope);
  });
  reconcile::Discovery discovery;
  auto wait_for_discovery = [&]() -> const reconcile::Discovery& {
    runtime::PhaseTimer timer("plan: waiting for discovery");
    discovery = discovering.get();
    return discovery;
  };
  try {
    runtime::PhaseTimer timer("plan");
    return reconcile::make_plan(ir, inventory, topology, reconcile::PendingDiscovery(wait_for_discovery), options);
  } catch (const runtime::DeviceError& e) {
    throw CommandError(e.what());
  } catch (const reconcile::PlanRefused& refused) {
    // A farm far beyond the estate fails the same way thousands of times: show a screenful.
    constexpr std::size_t kShown = 12;
    const auto& reasons = refused.reasons();
    for (std::size_t i = 0; i < reasons.size() && i < kShown; ++i)
      std::cerr << "farmctl: cannot plan: " << reasons[i] << "\n";
    if (reasons.size() > kShown)
      std::cerr << fmt::format("farmctl: ... and {} more problems like these\n", reasons.size() - kShown);
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

std::atomic<bool> g_stop{false};

// The first SIGINT or SIGTERM stops new actions (running ones finish and are
// journalled); a second one ends the process at once.
void on_signal(int) {
  if (g_stop.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
}

class StopOnSignal {
 public:
  StopOnSignal() {
    previous_int_ = std::signal(SIGINT, on_signal);
    previous_term_ = std::signal(SIGTERM, on_signal);
  }
  ~StopOnSignal() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

// Finishes what an interrupted apply left in flight (the journal's open
// intents). Expects the lock to be held.
void recover(runtime::Inventory& inventory, Estate& estate, bool quiet) {
  if (inventory.open_journal_entries().empty()) return;
  reconcile::RecoveryReport report = reconcile::recover_interrupted_actions(inventory, estate.drivers);
  if (quiet) return;
  fmt::print(stderr, "farmctl: an earlier apply was interrupted; {} of its actions in flight were finished now{}\n",
             report.recovered, report.failed > 0 ? fmt::format(", {} failed", report.failed) : "");
  for (const std::string& line : report.lines) fmt::print(stderr, "  {}\n", line);
}

// Once a farm file is applied, the copies its backup policies no longer keep
// (a policy removed, a retain lowered) are scrubbed and freed
// (docs/backups.md). Expects the lock to be held.
void free_copies_beyond_retention(runtime::Inventory& inventory, Estate& estate, const std::string& farm, bool quiet) {
  auto row = inventory.farm(farm);
  if (!row) return;
  reconcile::SystemClock clock;
  reconcile::ApplyEvents events;
  reconcile::BackupEngine engine(inventory, estate.drivers, clock, events);
  reconcile::BackupReport report = engine.enforce_retention(*row);
  if (quiet) return;
  for (const auto& c : report.freed)
    fmt::print("backup copy {} of {} (taken {}) freed: the farm's policies no longer keep it\n", c.id, c.source,
               c.taken_at);
  for (const auto& f : report.failures) fmt::print(stderr, "farmctl: freeing backup copies: {}\n", f);
}

// Shows the plan, asks, executes, reports. Expects the lock to be held.
int execute(runtime::Inventory& inventory, Estate& estate, const ReconcilePlan& plan, const FarmOptions& options,
            std::string_view verb) {
  if (!options.json) std::cout << reconcile::render_plan_text(plan, stdout_is_terminal());
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
  if (!options.json) std::cout << "\n";
  runtime::DriverSet& drivers = estate.drivers;
  ProgressStyle style = options.json ? ProgressStyle::json
                        : stdout_is_terminal() ? ProgressStyle::live
                                               : ProgressStyle::lines;
  auto progress = make_progress(style, static_cast<int>(plan.actions.size()));
  StopOnSignal signals;
  reconcile::ApplyOptions apply_options;
  apply_options.parallelism = options.parallelism;
  apply_options.stop = &g_stop;
  reconcile::ApplyResult result = reconcile::apply_plan(plan, inventory, drivers, *progress, apply_options);
  progress.reset();
  std::string_view noun = verb == "destroy" ? "Destroy" : "Apply";
  if (result.ok()) {
    fmt::print("\n{} complete: {} actions done.\n", noun, result.done);
    return 0;
  }
  fmt::print(stderr, "\n{} incomplete: {} done, {} failed, {} skipped{}.\n", noun, result.done, result.failed,
             result.skipped,
             result.not_started > 0 ? fmt::format(", {} not started (interrupted)", result.not_started) : "");
  for (const std::string& f : result.failures) fmt::print(stderr, "  failed: {}\n", f);
  for (const std::string& r : result.rolled_back) fmt::print(stderr, "  rolled back: {}\n", r);
  fmt::print(stderr, "What succeeded elsewhere stays. Run farmctl plan to see the work that remains.\n");
  return 1;
}

}  // namespace

int run_plan(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  Estate estate(*inventory);
  if (!inventory->open_journal_entries().empty()) {
    try {
      runtime::InventoryLock lock(inventory->path(), "plan (recovery) " + options.file, std::chrono::milliseconds(0));
      recover(*inventory, estate, options.json);
    } catch (const runtime::LockBusy& busy) {
      fmt::print(stderr, "farmctl: warning: an apply is running (pid {}); this plan shows the inventory as it is now\n",
                 busy.holder().pid);
    }
  }
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, {options.allow_replace, false});
  if (!options.out.empty()) {
    std::ofstream out(options.out, std::ios::binary | std::ios::trunc);
    if (!(out << reconcile::to_plan_file(plan)) || !out.flush())
      throw CommandError(fmt::format("cannot write the plan to {}", options.out));
  }
  bool markdown = options.format == "markdown";
  if (options.json)
    std::cout << reconcile::render_plan_json(plan);
  else if (markdown)
    std::cout << reconcile::render_plan_markdown(plan);
  else if (options.summary)
    std::cout << reconcile::render_plan_summary(plan);
  else
    std::cout << reconcile::render_plan_text(plan, stdout_is_terminal());
  if (!options.out.empty() && !options.json)  // stderr under markdown, to keep the comment clean
    fmt::print(markdown ? stderr : stdout, "\nSaved the plan to {}; apply exactly it with: farmctl apply {}\n",
               options.out, options.out);
  return options.detailed_exitcode && !plan.empty() ? 2 : 0;
}

int run_apply(const FarmOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "apply " + options.file, parse_duration(options.lock_timeout));
  Estate estate(*inventory);
  if (looks_like_plan_file(options.file)) {
    if (!inventory->open_journal_entries().empty())
      throw CommandError("an earlier apply was interrupted; run farmctl plan (or apply the farm file) to finish its "
                         "actions in flight, then make a new plan");
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
    return execute(*inventory, estate, plan, options, "apply");
  }
  plan::Plan ir = compile_or_fail(options.file);
  recover(*inventory, estate, options.json);
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, {options.allow_replace, false});
  int code = execute(*inventory, estate, plan, options, "apply");
  if (code == 0) free_copies_beyond_retention(*inventory, estate, ir.farm, options.json);
  return code;
}

int run_destroy(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "destroy " + options.file, parse_duration(options.lock_timeout));
  Estate estate(*inventory);
  recover(*inventory, estate, options.json);
  if (!inventory->farm(ir.farm)) throw CommandError(fmt::format("the inventory has no farm named '{}'", ir.farm));
  plan::Plan empty;
  empty.farm = ir.farm;
  empty.fml_version = ir.fml_version;
  ReconcilePlan plan = plan_farm(*inventory, estate, empty, {true, true});
  return execute(*inventory, estate, plan, options, "destroy");
}

// Plans the move of one server (and whatever else the farm file asks for);
// without --plan-only applies it like apply does.
int run_migrate(const MigrateOptions& m) {
  const FarmOptions& options = m.farm;
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  reconcile::PlanOptions plan_options{options.allow_replace, false};
  plan_options.move_to[m.server] = m.to;
  if (m.plan_only) {
    Estate estate(*inventory);
    ReconcilePlan plan = plan_farm(*inventory, estate, ir, plan_options);
    std::cout << (options.json ? reconcile::render_plan_json(plan) : reconcile::render_plan_text(plan, stdout_is_terminal()));
    return 0;
  }
  runtime::InventoryLock lock(inventory->path(), "migrate " + options.file, parse_duration(options.lock_timeout));
  Estate estate(*inventory);
  recover(*inventory, estate, options.json);
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, plan_options);
  return execute(*inventory, estate, plan, options, "apply");
}

int run_connection_info(const ConnectionInfoOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  std::string why;
  auto info = reconcile::connection_info(*inventory, ir.farm, options.server, why);
  if (!info) throw CommandError(why);
  std::cout << (options.json ? reconcile::render_connection_info_json(*info)
                             : reconcile::render_connection_info_text(*info));
  return 0;
}

int run_graph(const FarmOptions& options) {
  plan::Plan ir = compile_or_fail(options.file);
  auto inventory = open_inventory(options.db);
  Estate estate(*inventory);
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, {options.allow_replace, false});
  std::cout << reconcile::to_dot(plan);
  return 0;
}

}  // namespace farmctl::cli
