#pragma once
// The inventory's record of backup copies (table `backups`, schema v3): which
// volume of a farm is a point-in-time copy of which of its disks, taken under
// which policy, when. The copy's storage is an ordinary volume row of the
// farm; this is what tells the planner to leave it alone and the backup
// engine what it may restore, keep or free. docs/design/backups.md.
//
// Reads work anywhere; writes belong inside Inventory::write().
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/inventory.h"

namespace farmctl::runtime {

struct BackupRow {
  RowId id = 0;
  RowId farm_id = 0;
  RowId volume_id = 0;  // the copy's own volume row
  std::string source;   // the Plan IR id of the disk copied
  int level = 0;
  std::string schedule;  // the policy's schedule, canonical
  std::string taken_at;  // UTC, "YYYY-MM-DDTHH:MM:SSZ"
  std::uint64_t size_mb = 0;
  bool manual = false;
};

// A copy restored into a new volume of the farm (farmctl restore --to-new).
struct RestoredRow {
  RowId id = 0;
  RowId farm_id = 0;
  RowId volume_id = 0;
  std::string source;
  std::string copy_taken_at;
  std::string restored_at;
};

class BackupStore {
 public:
  explicit BackupStore(Inventory& inventory) : db_(inventory.database()) {}
  explicit BackupStore(Database& db) : db_(db) {}  // the service's API connections

  // A farm's copies, by source, then oldest first.
  std::vector<BackupRow> of_farm(RowId farm_id);
  std::optional<BackupRow> by_id(RowId id);
  std::optional<BackupRow> of_volume(RowId volume_id);
  // The volume rows that are copies (what the planner must not touch).
  std::set<RowId> volume_ids(RowId farm_id);
  // Every copy of every farm (inventory check).
  std::vector<BackupRow> all();
  // MB of copies held by each farm (quota, account list).
  std::uint64_t total_mb(RowId farm_id);

  RowId insert(const BackupRow& row);
  // The volume is gone: it is neither a copy nor a restored volume any more.
  void forget_volume(RowId volume_id);

  std::vector<RestoredRow> restored_of_farm(RowId farm_id);
  std::optional<RestoredRow> restored_of_volume(RowId volume_id);
  std::set<RowId> restored_volume_ids(RowId farm_id);
  RowId insert_restored(const RestoredRow& row);

 private:
  Database& db_;
};

}  // namespace farmctl::runtime
