#pragma once
// The sim driver's device side: every simulated array, gateway and fabric of
// one inventory, in one SQLite file, and what each operation does to them.
// Not thread-safe: the driver serializes calls. Processes may share a file
// (SQLite's locks and a busy timeout keep them apart).
//
// Every apply() is one transaction that also writes the log entry; an action
// that fails (refused by the device, or failed by an injected fault) leaves
// the devices exactly as they were.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver.h"
#include "runtime/sim_driver.h"
#include "runtime/sqlite.h"

namespace farmctl::runtime {

class SimStore {
 public:
  // Opens or creates the store: WAL, synchronous=OFF (a simulation: a killed
  // farmctl loses nothing the OS has; a power cut may lose the last actions).
  explicit SimStore(const std::string& path);

  // Creates the device with what `declared` holds, if missing: pools, volumes
  // (pre-carved, pool slices, metas), maskings, mappings, zones. Adds what is
  // missing and never removes or changes anything. Throws DeviceError if the
  // store knows the device as another kind.
  void declare(std::string_view device, DeviceKind kind, const DeviceState& declared);
  // Declares each device as declare() does, all in one transaction that is
  // committed only if go_ahead() (Driver::declare_all) returns true.
  void declare_all(const std::vector<DeviceConfig>& devices,
                   const std::function<DeviceState(std::size_t)>& declared,
                   const std::function<bool()>& go_ahead);

  // The whole state of one device; nullopt when it was never declared.
  // With `only`: of the volumes, just those named (looked up one by one).
  std::optional<DeviceState> discover(std::string_view device, const VolumeScope* only = nullptr);

  // Runs `action` (or, with `injected`, only logs that outcome) and logs it.
  ActionOutcome apply(const DeviceAction& action, const std::optional<ActionOutcome>& injected,
                      std::int64_t started_us);

  std::vector<SimLogEntry> read_log();
  void exec(std::string_view sql) { db_.exec(sql); }

 private:
  Statement& sql(std::string_view text);  // prepared once, reset before each use
  void add_device(std::string_view device, DeviceKind kind, const DeviceState& declared);  // in a transaction

  Database db_;
  std::map<std::string, Statement, std::less<>> statements_;
};

}  // namespace farmctl::runtime
