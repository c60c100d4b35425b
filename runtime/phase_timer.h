#pragma once
// Where a command's time goes, for operators and for us: with
// FARMCTL_TIMINGS=1 in the environment, each timed phase prints one line to
// stderr when it ends ("timing: planner: settle exports   12.3 ms"); without
// it a phase costs one branch. Phases nest; inner ones print first.
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace farmctl::runtime {

class PhaseTimer {
 public:
  explicit PhaseTimer(const char* name) : name_(enabled() ? name : nullptr) {
    if (name_ != nullptr) started_ = std::chrono::steady_clock::now();
  }
  ~PhaseTimer() {
    if (name_ == nullptr) return;
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started_;
    std::fprintf(stderr, "timing: %-36s %9.1f ms\n", name_, took.count());
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  static bool enabled() {
    static const bool on = [] {
      const char* v = std::getenv("FARMCTL_TIMINGS");
      return v != nullptr && *v != '\0' && *v != '0';
    }();
    return on;
  }

 private:
  const char* name_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace farmctl::runtime
