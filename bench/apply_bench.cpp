// Benchmark (not a test): the parallel executor's makespan against the
// critical-path lower bound and against the serial reference executor.
//
// A farm of 220 volumes on 4 arrays (behind a gateway, and over a fabric) is
// applied through the sim driver with a latency per operation. The lower
// bound is max(longest dependency chain weighted by latency, for each device
// its total work divided by its concurrency limit). Target: makespan within
// 1.15 x the lower bound.
//
//   build/bench/apply_bench [--servers N] [--parallelism P]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "compiler/compiler.h"
#include "reconciler/apply.h"
#include "reconciler/planner.h"
#include "runtime/driver_set.h"
#include "runtime/inventory.h"
#include "runtime/wiring_import.h"

using namespace farmctl;
namespace fs = std::filesystem;

namespace {

// Milliseconds per operation, as the sim sleeps them.
const std::map<std::string, int> kLatency{{"allocate", 20}, {"meta", 15}, {"copy", 60}, {"bind", 10},
                                          {"map", 10},      {"zone", 5},  {"grow", 10}};
constexpr int kArrays = 4;
constexpr int kDeviceLimit = 4;

std::string latency_setting() {
  std::string out;
  for (const auto& [op, ms] : kLatency) out += fmt::format("{}{}={}", out.empty() ? "" : ",", op, ms);
  return out + ",*=5";
}

int latency_of(runtime::Op op) {
  auto it = kLatency.find(std::string(runtime::to_string(op)));
  return it != kLatency.end() ? it->second : 5;
}

std::string wiring(int servers) {
  std::string out = "<wiring-map>\n";
  for (int a = 0; a < kArrays; ++a) {
    out += fmt::format(
        "<array name=\"arr{}\" driver=\"sim\" protocols=\"fc iscsi\">\n"
        "  <port id=\"FA\" wwn=\"50:06:04:8a:cc:c8:3b:{:02x}\" san=\"fab\"/>\n"
        "  <pool name=\"p\" size=\"100TB\"/>\n",
        a, a);
    for (int v = 0; v < servers / kArrays + 2; ++v) out += fmt::format("  <volume id=\"v{}\" size=\"8GB\"/>\n", v);
    out += "</array>\n";
  }
  out += "<image name=\"os\" size=\"4GB\"/>\n<gateway name=\"gw\" driver=\"sim\" san=\"fab\"/>\n"
         "<fabric name=\"fab\" driver=\"sim\"/>\n";
  for (int h = 0; h < servers; ++h) out += fmt::format("<host name=\"h{:04}\" hw=\"x\" gateway=\"gw\"/>\n", h);
  return out + "</wiring-map>\n";
}

std::string farm(int servers) {
  return fmt::format(
      "<farm fmlversion=\"1.2\" name=\"bench\">\n"
      "  <farm-global-disks><global-disk global-name=\"shared\" drivesize=\"20GB\"/></farm-global-disks>\n"
      "  <tier id=\"t\" name=\"web\"><role>r</role><init-servers>{}</init-servers></tier>\n"
      "  <server-role id=\"r\" name=\"r\"><hw>x</hw>\n"
      "    <disk target=\"0\" drivesize=\"8GB\"><diskimage type=\"system\">os</diskimage></disk>\n"
      "    <disk target=\"1\" drivesize=\"2GB\"/>\n"
      "    <shared-disk global-name=\"shared\" target=\"2\"/>\n"
      "  </server-role>\n</farm>\n",
      servers);
}

// max(longest chain by latency, the busiest device's work / its limit), in ms.
double lower_bound_ms(const reconcile::ReconcilePlan& plan) {
  std::map<int, double> finish;  // earliest finish with unlimited devices
  std::map<std::string, double> work;
  double chain = 0;
  for (const reconcile::Action& a : plan.actions) {  // dependencies come first
    double start = 0;
    for (int d : a.depends_on) start = std::max(start, finish[d]);
    finish[a.id] = start + latency_of(a.op);
    chain = std::max(chain, finish[a.id]);
    work[a.device] += latency_of(a.op);
  }
  double device = 0;
  for (const auto& [name, ms] : work) device = std::max(device, ms / kDeviceLimit);
  return std::max(chain, device);
}

class Quiet : public reconcile::ApplyEvents {};

struct Measured {
  double ms = 0;
  int actions = 0;
  double bound = 0;
};

Measured run_once(const fs::path& dir, int servers, int parallelism) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string db = (dir / "farm.db").string();
  runtime::Inventory inventory(db);
  auto map = runtime::parse_wiring_map_source(wiring(servers), "bench-wiring.xml");
  if (!map.map) throw std::runtime_error(map.rendered_diagnostics());
  auto report = runtime::import_wiring_map(inventory, *map.map, runtime::DriverContext{db});
  if (!report.ok()) throw std::runtime_error(report.refusals.front());
  auto compiled = fml::compile_source(farm(servers), "bench.fml");
  if (!compiled.plan) throw std::runtime_error(compiled.rendered_diagnostics());
  runtime::Topology topology = inventory.topology();
  runtime::DriverSet drivers(topology, runtime::DriverContext{db});
  auto discovery = drivers.discover_all();
  reconcile::ReconcilePlan plan = reconcile::make_plan(*compiled.plan, inventory, topology, discovery, {});
  Quiet quiet;
  reconcile::ApplyOptions options;
  options.parallelism = parallelism;
  auto start = std::chrono::steady_clock::now();
  reconcile::ApplyResult result = reconcile::apply_plan(plan, inventory, drivers, quiet, options);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) throw std::runtime_error("the benchmark apply failed: " + result.failures.front());
  return {ms, static_cast<int>(plan.actions.size()), lower_bound_ms(plan)};
}

}  // namespace

int main(int argc, char** argv) {
  int servers = 100;
  int parallelism = 64;
  bool with_serial = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--servers" && i + 1 < argc) servers = std::atoi(argv[++i]);
    else if (arg == "--parallelism" && i + 1 < argc) parallelism = std::atoi(argv[++i]);
    else if (arg == "--no-serial") with_serial = false;
    else {
      std::cerr << "usage: apply_bench [--servers N] [--parallelism P] [--no-serial]\n";
      return 2;
    }
  }
  if (!std::getenv("FARMCTL_SIM_LATENCY")) setenv("FARMCTL_SIM_LATENCY", latency_setting().c_str(), 1);
  fs::path dir = std::getenv("FARMCTL_BENCH_DIR") ? fs::path(std::getenv("FARMCTL_BENCH_DIR"))
                                                  : fs::temp_directory_path() / fmt::format("farmctl-apply-bench-{}", getpid());
  Measured parallel = run_once(dir, servers, parallelism);
  Measured serial;
  if (with_serial) serial = run_once(dir, servers, 1);
  if (!std::getenv("FARMCTL_BENCH_DIR")) fs::remove_all(dir);
  int volumes = servers * 2 + 1;
  fmt::print("apply makespan, sim driver, {} volumes on {} arrays, {} device actions\n", volumes, kArrays,
             parallel.actions);
  fmt::print("latency per op (ms): {}; per-device limit {}\n\n", latency_setting(), kDeviceLimit);
  fmt::print("{:<36} {:>10}\n", "figure", "ms");
  fmt::print("{:<36} {:>10.0f}\n", "lower bound (critical path, devices)", parallel.bound);
  fmt::print("{:<36} {:>10.0f}\n", fmt::format("parallel executor (parallelism {})", parallelism), parallel.ms);
  if (with_serial) fmt::print("{:<36} {:>10.0f}\n", "serial executor", serial.ms);
  double ratio = parallel.ms / parallel.bound;
  fmt::print("\nparallel / lower bound = {:.3f} (target <= 1.15): {}\n", ratio, ratio <= 1.15 ? "MET" : "MISSED");
  if (with_serial) fmt::print("serial / parallel = {:.1f}x\n", serial.ms / parallel.ms);
  return 0;
}
