// BackupStore: see backup_store.h.
#include "runtime/backup_store.h"

namespace farmctl::runtime {
namespace {

constexpr const char* kColumns = "id, farm_id, volume_id, source, level, schedule, taken_at, size_mb, manual";

BackupRow read_row(const Statement& s) {
  return BackupRow{s.int64(0), s.int64(1), s.int64(2), s.text(3), s.int32(4), s.text(5), s.text(6),
                   static_cast<std::uint64_t>(s.int64(7)), s.int64(8) != 0};
}

std::vector<BackupRow> read_rows(Statement& s) {
  std::vector<BackupRow> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

}  // namespace

std::vector<BackupRow> BackupStore::of_farm(RowId farm_id) {
  auto s = db_.prepare(std::string("SELECT ") + kColumns +
                       " FROM backups WHERE farm_id = ? ORDER BY source, taken_at, id");
  s.bind(1, farm_id);
  return read_rows(s);
}

std::optional<BackupRow> BackupStore::by_id(RowId id) {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM backups WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::optional<BackupRow> BackupStore::of_volume(RowId volume_id) {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM backups WHERE volume_id = ?");
  s.bind(1, volume_id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::set<RowId> BackupStore::volume_ids(RowId farm_id) {
  auto s = db_.prepare("SELECT volume_id FROM backups WHERE farm_id = ?");
  s.bind(1, farm_id);
  std::set<RowId> out;
  while (s.step()) out.insert(s.int64(0));
  return out;
}

std::vector<BackupRow> BackupStore::all() {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM backups ORDER BY id");
  return read_rows(s);
}

std::uint64_t BackupStore::total_mb(RowId farm_id) {
  auto s = db_.prepare("SELECT IFNULL(SUM(size_mb), 0) FROM backups WHERE farm_id = ?");
  s.bind(1, farm_id);
  s.step();
  return static_cast<std::uint64_t>(s.int64(0));
}

RowId BackupStore::insert(const BackupRow& r) {
  auto s = db_.prepare(
      "INSERT INTO backups (farm_id, volume_id, source, level, schedule, taken_at, size_mb, manual) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind_all(r.farm_id, r.volume_id, r.source, r.level, r.schedule, r.taken_at, r.size_mb, r.manual ? 1 : 0);
  s.run();
  return db_.last_insert_rowid();
}

void BackupStore::forget_volume(RowId volume_id) {
  for (const char* sql : {"DELETE FROM backups WHERE volume_id = ?", "DELETE FROM restored_volumes WHERE volume_id = ?"}) {
    auto s = db_.prepare(sql);
    s.bind(1, volume_id);
    s.run();
  }
}

namespace {

constexpr const char* kRestoredColumns = "id, farm_id, volume_id, source, copy_taken_at, restored_at";

RestoredRow read_restored(const Statement& s) {
  return RestoredRow{s.int64(0), s.int64(1), s.int64(2), s.text(3), s.text(4), s.text(5)};
}

}  // namespace

std::vector<RestoredRow> BackupStore::restored_of_farm(RowId farm_id) {
  auto s = db_.prepare(std::string("SELECT ") + kRestoredColumns + " FROM restored_volumes WHERE farm_id = ? ORDER BY id");
  s.bind(1, farm_id);
  std::vector<RestoredRow> out;
  while (s.step()) out.push_back(read_restored(s));
  return out;
}

std::optional<RestoredRow> BackupStore::restored_of_volume(RowId volume_id) {
  auto s = db_.prepare(std::string("SELECT ") + kRestoredColumns + " FROM restored_volumes WHERE volume_id = ?");
  s.bind(1, volume_id);
  if (!s.step()) return std::nullopt;
  return read_restored(s);
}

std::set<RowId> BackupStore::restored_volume_ids(RowId farm_id) {
  auto s = db_.prepare("SELECT volume_id FROM restored_volumes WHERE farm_id = ?");
  s.bind(1, farm_id);
  std::set<RowId> out;
  while (s.step()) out.insert(s.int64(0));
  return out;
}

RowId BackupStore::insert_restored(const RestoredRow& r) {
  auto s = db_.prepare(
      "INSERT INTO restored_volumes (farm_id, volume_id, source, copy_taken_at, restored_at) VALUES (?, ?, ?, ?, ?)");
  s.bind_all(r.farm_id, r.volume_id, r.source, r.copy_taken_at, r.restored_at);
  s.run();
  return db_.last_insert_rowid();
}

}  // namespace farmctl::runtime
