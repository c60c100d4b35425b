#pragma once
// The sim driver's imperfections: how long each operation takes (latency) and
// which actions fail or kill the process (fault injection). Both are read from
// text settings, so that tests and benchmarks can set them from outside:
//
//   latency  device attribute `latency`, env FARMCTL_SIM_LATENCY
//            "allocate=5,bind=2,*=1"        milliseconds per op, `*` for the rest
//            "bind@sym1=20"                 (env) only on device sym1
//   faults   env FARMCTL_SIM_FAULTS
//            "bind#3=permanent,map#1-2=transient,allocate@sym2=permanent,*#17=crash"
//
// See docs/drivers.md, "The sim driver", for the full syntax. Nothing here
// touches a device or the store.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver.h"

namespace farmctl::runtime {

// Per-operation latency. Keys are op names as to_string(Op) spells them, plus
// "discover" and "*"; a key may carry "@device".
class SimLatency {
 public:
  // Throws DeviceError naming `origin` (e.g. "FARMCTL_SIM_LATENCY") on bad syntax.
  static SimLatency parse(std::string_view text, std::string_view origin);

  // The latency of `op` ("bind", "discover", ...) on `device`, if this setting
  // says anything about it: op@device, then *@device, then op, then *.
  std::optional<std::chrono::microseconds> lookup(std::string_view op, std::string_view device) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string op;      // "*" for any
    std::string device;  // empty for any
    std::chrono::microseconds latency{0};
  };
  std::vector<Entry> entries_;
};

// What an injected fault does to one action.
enum class SimFaultEffect {
  none,
  transient,    // the action fails with a transient failure; the device is unchanged
  permanent,    // the action fails with a permanent failure; the device is unchanged
  crash,        // the process exits (_exit(137)) before the action is applied
  crash_after,  // the action is applied and logged, then the process exits (_exit(137))
};

struct SimFaultDecision {
  SimFaultEffect effect = SimFaultEffect::none;
  std::string rule;  // the rule's text, for the failure message
};

// The rules of FARMCTL_SIM_FAULTS. Counting is per process: "bind#3" is the
// third bind any sim driver of this process runs (retries count).
class SimFaults {
 public:
  // Throws DeviceError on bad syntax, naming the rule.
  static SimFaults parse(std::string_view text);

  // Counts the action (always, even with no rules) and returns the effect of
  // the first rule, in the order written, that matches it.
  SimFaultDecision next(Op op, std::string_view device) const;

  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string text;
    std::string op;      // "*" for any op
    std::string device;  // empty for any device
    std::int64_t first = 1, last = INT64_MAX;  // the ordinals it hits; all if no '#'
    SimFaultEffect effect = SimFaultEffect::none;
  };
  std::vector<Rule> rules_;
};

// Forgets the per-process counts (FOR TESTS: each test case starts from zero).
void reset_sim_fault_counts();

}  // namespace farmctl::runtime
