#pragma once
// Loads a wiring map into the inventory, declaratively: afterwards the
// inventory's hardware is exactly what the map declares. Idempotent —
// importing the same map twice changes nothing. All or nothing — a map that
// would remove or change hardware a farm uses is refused whole, naming the
// farms, and the inventory is left as it was.
#include <string>
#include <vector>

#include "runtime/inventory.h"
#include "runtime/wiring_map.h"

namespace farmctl::runtime {

struct ImportReport {
  int added = 0;
  int changed = 0;
  int removed = 0;
  std::vector<std::string> refusals;  // non-empty: nothing was imported
  bool ok() const { return refusals.empty(); }
};

// Every declared device is announced to its driver (Driver::declare_all, on
// a thread per driver while the inventory transaction runs), which lets the
// sim create it; the drivers' work takes effect only if the import succeeds.
ImportReport import_wiring_map(Inventory& inventory, const WiringMap& map, const DriverContext& context);

}  // namespace farmctl::runtime
