#pragma once
// Loads a wiring map into the inventory, declaratively: afterwards the
// inventory's hardware is exactly what the map declares. Idempotent —
// importing the same map twice changes nothing. All or nothing — a map that
// would remove or change hardware a farm uses is refused whole, naming the
// farms, and the inventory is left as it was.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
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

// Devices handed from a parse that is still running (one thread) to the
// import (another), so that the inventory takes each device while the next
// is read: the parse was half of the import's time.
class DeviceFeed {
 public:
  void add(const WiredDevice& device);  // must stay where it is: it is the map's own
  // The parse is over: `map` is the whole map, whose devices begin with
  // those added; null when the map has errors (nothing is to be imported).
  void close(const WiringMap* map);
  // Import side: the next device, waiting for it; null once closed and all taken.
  const WiredDevice* next();
  const WiringMap* map();  // once next() has returned null

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<const WiredDevice*> waiting_;
  bool closed_ = false;
  const WiringMap* map_ = nullptr;
};

// The import of a map as `feed` hands it over. The transaction starts at
// once and takes each device as it comes; it commits only if the feed closes
// with a map, and nothing is changed (the report says why) if it closes
// without one. `expected_volumes` (how many <volume> the map's text holds):
// whether this is a first import of a large estate, which is loaded with the
// free-volume index made afterwards.
ImportReport import_wiring_map(Inventory& inventory, DeviceFeed& feed, const DriverContext& context,
                               std::size_t expected_volumes);

}  // namespace farmctl::runtime
