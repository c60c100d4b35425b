// `farmctl plan | apply | destroy | graph`: a farm file against the inventory.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "compiler/farm_name_hint.h"
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
      : topology(read_topology(inventory)), drivers(make_drivers(topology, inventory)) {}
  static runtime::DriverSet make_drivers(const runtime::Topology& topology, runtime::Inventory& inventory) {
    runtime::PhaseTimer timer("devices: drivers");
    return runtime::DriverSet(topology, runtime::DriverContext{inventory.path()});
  }
  static runtime::Topology read_topology(runtime::Inventory& inventory) {
    runtime::PhaseTimer timer("inventory: topology");
    return inventory.topology();
  }
  runtime::Topology topology;
  runtime::DriverSet drivers;
};

// What a plan needs that depends only on the farm's name, not on its file:
// the farm's records in the inventory, and discovery of its devices (on a
// second thread: the devices and the inventory are different connections).
// The discovery's scope, the farm's volumes, is read on that thread too,
// through an inventory connection of its own, while the caller's reads the
// farm's record: both read the farm's volume rows, neither waits for the
// other. `farmctl plan` and `apply` gather it while the farm file compiles.
class FarmReading {
 public:
  FarmReading(runtime::Inventory& inventory, Estate& estate, const std::string& farm) {
    discovering_ = std::async(std::launch::async, [&estate, path = inventory.path(), farm] {
      std::map<std::string, runtime::VolumeScope> scope = runtime::Inventory(path).farm_volume_scope(farm);
      runtime::PhaseTimer timer("discovery");
      return estate.drivers.discover_all(&scope);
    });
    snapshot_.name = farm;
    {
      runtime::PhaseTimer timer("inventory: farm row");
      snapshot_.row = inventory.farm_for_plan(farm);
    }
    if (snapshot_.row) snapshot_.record = inventory.farm_record(*snapshot_.row);
  }
  // Joins discovery, should the plan never ask for it.
  ~FarmReading() {
    if (discovering_.valid()) discovering_.wait();
  }

  const std::string& farm() const { return snapshot_.name; }
  reconcile::FarmSnapshot& snapshot() { return snapshot_; }
  const reconcile::Discovery& discovery() {
    if (discovering_.valid()) {
      runtime::PhaseTimer timer("plan: waiting for discovery");
      discovery_ = discovering_.get();
    }
    return discovery_;
  }

 private:
  std::future<reconcile::Discovery> discovering_;
  reconcile::Discovery discovery_;
  reconcile::FarmSnapshot snapshot_;
};

// The farm file, compiled on a second thread while the caller opens the
// inventory and reads what the plan needs under the farm name the file's
// root tag gives (fml::farm_name_hint; checked against the compiled name).
class BackgroundCompile {
 public:
  explicit BackgroundCompile(const std::string& file)
      : name_hint_(name_hint_of(file)), compiling_(std::async(std::launch::async, [file] {
          return compile_or_fail(file);
        })) {}

  const std::optional<std::string>& name_hint() const { return name_hint_; }
  // Joins the compile (the first call): the plan, or CommandError with the
  // file's diagnostics printed. Called before anything that writes, it keeps
  // a file with errors from changing anything.
  plan::Plan& plan() {
    if (!compiled_) compiled_ = compiling_.get();
    return *compiled_;
  }

 private:
  static std::optional<std::string> name_hint_of(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    char head[4096];
    in.read(head, sizeof head);
    return fml::farm_name_hint(std::string_view(head, static_cast<std::size_t>(in.gcount())), file);
  }

  std::optional<std::string> name_hint_;
  std::future<plan::Plan> compiling_;
  std::optional<plan::Plan> compiled_;
};

// Discovery and the planner; refusals become one error listing each reason.
// `early`, when it is of this farm, is what was read while the file compiled.
ReconcilePlan plan_farm(runtime::Inventory& inventory, Estate& estate, const plan::Plan& ir,
                        const reconcile::PlanOptions& options, std::unique_ptr<FarmReading> early = nullptr) {
  const runtime::Topology& topology = estate.topology;
  if (early && early->farm() != ir.farm) early.reset();
  if (!early) early = std::make_unique<FarmReading>(inventory, estate, ir.farm);
  FarmReading& reading = *early;
  auto wait_for_discovery = [&]() -> const reconcile::Discovery& { return reading.discovery(); };
  try {
    runtime::PhaseTimer timer("plan");
    return reconcile::make_plan(ir, inventory, topology, reconcile::PendingDiscovery(wait_for_discovery), options,
                                &reading.snapshot());
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
  auto row = inventory.farm_for_plan(farm);  // the id is all it needs first
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

// What `plan` and `apply` read while the farm file compiles, under the name
// the file's root tag gives; nothing when there is no guess, or when the
// journal shows an interrupted apply (recovery changes the inventory, and
// only once the file is known to compile).
std::unique_ptr<FarmReading> read_while_compiling(runtime::Inventory& inventory, Estate& estate,
                                                  BackgroundCompile& compiling) {
  if (!compiling.name_hint() || !inventory.open_journal_entries().empty()) return nullptr;
  return std::make_unique<FarmReading>(inventory, estate, *compiling.name_hint());
}

// The inventory, opened while the farm file compiles when it already exists;
// a new one is made only once the file compiled.
std::unique_ptr<runtime::Inventory> open_inventory_for(const FarmOptions& options, BackgroundCompile& compiling) {
  std::error_code ec;
  if (!std::filesystem::exists(runtime::resolve_inventory_path(options.db), ec)) compiling.plan();
  return open_inventory(options.db);
}

}  // namespace

int run_plan(const FarmOptions& options) {
  runtime::PhaseTimer whole("plan command, to its end");
  BackgroundCompile compiling(options.file);
  auto inventory = open_inventory_for(options, compiling);
  Estate estate(*inventory);
  auto early = read_while_compiling(*inventory, estate, compiling);
  const plan::Plan& ir = compiling.plan();
  if (!inventory->open_journal_entries().empty()) {
    try {
      runtime::InventoryLock lock(inventory->path(), "plan (recovery) " + options.file, std::chrono::milliseconds(0));
      recover(*inventory, estate, options.json);
    } catch (const runtime::LockBusy& busy) {
      fmt::print(stderr, "farmctl: warning: an apply is running (pid {}); this plan shows the inventory as it is now\n",
                 busy.holder().pid);
    }
  }
  reconcile::PlanOptions plan_options{options.allow_replace, false};
  plan_options.ir_text = !options.out.empty();  // only a saved plan carries the IR on
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, plan_options, std::move(early));
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

// `farmctl apply PLANFILE`: exactly the saved plan, if the inventory is
// still as it was when the plan was made.
int apply_saved_plan(const FarmOptions& options) {
  auto inventory = open_inventory(options.db);
  runtime::InventoryLock lock(inventory->path(), "apply " + options.file, parse_duration(options.lock_timeout));
  Estate estate(*inventory);
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

int run_apply(const FarmOptions& options) {
  if (looks_like_plan_file(options.file)) return apply_saved_plan(options);
  BackgroundCompile compiling(options.file);
  auto inventory = open_inventory_for(options, compiling);
  runtime::InventoryLock lock(inventory->path(), "apply " + options.file, parse_duration(options.lock_timeout));
  Estate estate(*inventory);
  auto early = read_while_compiling(*inventory, estate, compiling);
  const plan::Plan& ir = compiling.plan();
  recover(*inventory, estate, options.json);
  ReconcilePlan plan = plan_farm(*inventory, estate, ir, {options.allow_replace, false}, std::move(early));
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
    plan_options.ir_text = false;  // shown, never applied
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
