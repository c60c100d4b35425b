#pragma once
// The sim driver: a stateful simulated SAN (arrays, gateways, fabrics) for
// tests and benchmarks. See docs/drivers.md ("sim") for its store, latency
// and fault-injection settings.
#include <memory>

#include "runtime/driver.h"

namespace farmctl::runtime {

std::unique_ptr<Driver> make_sim_driver(const DriverContext& context);

}  // namespace farmctl::runtime
