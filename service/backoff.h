#pragma once
// How long a failing farm waits before its next reconcile: doubling from
// `first` after each consecutive failure, never more than `cap`. A farm that
// fails does not make the others wait — the loop just skips it until then.
#include <chrono>

namespace farmctl::service {

struct BackoffPolicy {
  std::chrono::milliseconds first{1000};
  std::chrono::milliseconds cap{std::chrono::minutes(5)};
  // The wait after `failures` consecutive failures (>= 1); zero for none.
  std::chrono::milliseconds delay(int failures) const {
    if (failures <= 0) return std::chrono::milliseconds(0);
    auto d = first;
    for (int i = 1; i < failures && d < cap; ++i) d *= 2;
    return d < cap ? d : cap;
  }
};

}  // namespace farmctl::service
