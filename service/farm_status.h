#pragma once
// Each stored farm's status as the reconcile loop last found it, kept in the
// inventory so that the API, the CLI and a restarted service read the same:
//   Ready        the devices match the farm's newest revision
//   Reconciling  changes are being applied
//   Failed       the last reconcile failed; `reason` is a CamelCase word
//                (InvalidFarm, PlanRefused, DeviceUnreachable, ApplyFailed,
//                InventoryLocked, Interrupted), `message` the details
// The last transition time changes only when the status does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sqlite.h"

namespace farmctl::service {

struct FarmStatus {
  std::string farm;
  std::string status = "Reconciling";
  std::string reason;
  std::string message;
  int observed_revision = 0;  // the revision last applied in full
  int failures = 0;           // consecutive failed reconciles (the backoff's exponent)
  std::optional<std::string> next_attempt_at;
  std::string last_transition_at;
};

class FarmStatusStore {
 public:
  explicit FarmStatusStore(runtime::Database& db) : db_(db) {}
  std::optional<FarmStatus> get(std::string_view farm);
  std::vector<FarmStatus> all();
  // Writes `status`; keeps the stored transition time unless the status
  // changed, and writes nothing when nothing changed (every write waits for
  // the disk, and the loop saves every farm's status every pass).
  void save(FarmStatus status);

 private:
  runtime::Database& db_;
};

}  // namespace farmctl::service
