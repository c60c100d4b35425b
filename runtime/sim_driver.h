#pragma once
// The sim driver: a stateful simulated SAN (arrays, gateways, fabrics) for
// tests and benchmarks. See docs/drivers.md ("The sim driver") for its store,
// latency and fault-injection settings.
//
// The device side lives in its own SQLite file beside the inventory
// (<inventory>.sim), so the devices can drift from what the inventory
// believes, and so a second farmctl process sees what the first one did.
// Every action the driver runs is logged there with its outcome.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver.h"

namespace farmctl::runtime {

// Reads FARMCTL_SIM_LATENCY and FARMCTL_SIM_FAULTS now (throws DeviceError if
// either is malformed) and opens or creates the store sim_store_path(...).
std::unique_ptr<Driver> make_sim_driver(const DriverContext& context);

// Where the sim keeps the devices of an inventory: inventory_path + ".sim";
// ":memory:" (private to one driver) when inventory_path is empty or ":memory:".
std::string sim_store_path(const std::string& inventory_path);

// ---- test and operator tools: not for the reconciler ------------------------

// One action the sim ran (table sim_log), in the order it ran.
struct SimLogEntry {
  std::int64_t seq = 0;
  std::int64_t started_us = 0;   // when run() was called, microseconds since the Unix epoch
  std::int64_t finished_us = 0;  // when the outcome was decided (after the latency)
  DeviceAction action;           // as run() received it (device filled from the config if empty)
  ActionOutcome outcome;
};

// The whole operation log of the inventory's sim store, oldest first.
std::vector<SimLogEntry> read_sim_log(const std::string& inventory_path);

// Runs `sql` against the sim store, behind farmctl's back: makes drift for
// tests (e.g. "DELETE FROM sim_maskings WHERE volume='0A1'"). Tables are
// described in docs/drivers.md. Not logged.
void sim_tamper(const std::string& inventory_path, std::string_view sql);

}  // namespace farmctl::runtime
