#pragma once
// The sim driver's device side: every simulated array, gateway and fabric of
// one inventory, in one SQLite file, and what each operation does to them.
// Not thread-safe: the driver serializes calls. Processes may share a file
// (SQLite's locks and a busy timeout keep them apart).
//
// apply_batch() runs several actions in ONE transaction (group commit: one
// commit instead of one per action), each in its own savepoint with its log
// entry; an action that fails (refused by the device, or failed by an
// injected fault) leaves the devices exactly as they were, and no outcome is
// known to the caller before the batch has committed.
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
  // Commits what apply_unsynced left open (a device keeps what it did;
  // only a crash loses it), if it can.
  ~SimStore();
  SimStore(const SimStore&) = delete;
  SimStore& operator=(const SimStore&) = delete;

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

  // One action for apply_batch: run `action` (or, with `injected`, only log
  // that outcome); apply_batch fills in `outcome`. Until it does, the
  // outcome is a transient failure, so an action is never acknowledged by
  // default.
  struct Request {
    const DeviceAction* action = nullptr;
    const std::optional<ActionOutcome>* injected = nullptr;
    std::int64_t started_us = 0;
    ActionOutcome outcome = ActionOutcome::transient("sim store: the action was not stored");
  };

  // Runs and logs each request in order, all in one transaction. An action
  // the store fails on (SqliteError) is rolled back alone and gets a
  // transient outcome; when the commit itself fails, every request does.
  // Never throws.
  void apply_batch(const std::vector<Request*>& batch);

  // Runs and logs one request as apply_batch does, in the store's open
  // transaction (begun if there is none), and leaves it open: the outcome
  // is known before it is durable (Driver::run_unsynced). sync() commits
  // it; so does any other use of the store first (a batch, a discovery, a
  // declaration), so a request is never stored in two transactions' way.
  // Never throws: a failure to begin the transaction is a transient outcome.
  void apply_unsynced(Request& request);
  // Commits what apply_unsynced stored, if anything. Throws DeviceError when
  // the commit fails; the transaction is then rolled back, the requests lost.
  void sync();

  std::vector<SimLogEntry> read_log();
  void exec(std::string_view sql) { db_.exec(sql); }

 private:
  Statement& sql(std::string_view text);  // prepared once, reset before each use
  void reset_all();                        // every prepared statement, so none holds a read open
  void apply_one(Request& request);
  void undo_one();
  void add_device(std::string_view device, DeviceKind kind, const DeviceState& declared);  // in a transaction

  Database db_;
  std::optional<Transaction> unsynced_;  // open while apply_unsynced's requests wait for sync()
};

}  // namespace farmctl::runtime
