#include "service/farm_store.h"

#include <fmt/format.h>

#include "service/timestamps.h"

namespace farmctl::service {
namespace {

constexpr std::string_view kFarmColumns = "name, owner_id, revision, origin, updated_at";

StoredFarm read_farm(const runtime::Statement& s) {
  return StoredFarm{s.text(0), s.optional_int64(1), s.int32(2), s.text(3), s.text(4)};
}

FarmRevision read_revision(const runtime::Statement& s) {
  return FarmRevision{s.text(0), s.int32(1), s.text(2), s.text(3), s.optional_int64(4), s.text(5)};
}

}  // namespace

int FarmStore::put(std::string_view farm, std::string_view fml, std::string_view origin,
                   std::optional<std::int64_t> owner_for_new, std::optional<std::int64_t> work_order_id) {
  std::string now = now_text();
  auto existing = this->farm(farm);
  int next = 1;
  if (existing) {
    auto head = current(farm);
    if (head && head->fml == fml) return head->revision;
    next = existing->revision + 1;
    db_.prepare("UPDATE stored_farms SET revision = ?2, updated_at = ?3 WHERE name = ?1").bind_all(farm, next, now).run();
  } else {
    db_.prepare("INSERT INTO stored_farms (name, owner_id, revision, origin, updated_at) VALUES (?, ?, 1, '', ?)")
        .bind_all(farm, owner_for_new, now)
        .run();
  }
  db_.prepare(
         "INSERT INTO farm_revisions (farm, revision, fml, origin, work_order_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind_all(farm, next, fml, origin, work_order_id, now)
      .run();
  return next;
}

std::optional<StoredFarm> FarmStore::farm(std::string_view name) {
  auto s = db_.prepare(fmt::format("SELECT {} FROM stored_farms WHERE name = ?", kFarmColumns));
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_farm(s);
}

std::vector<StoredFarm> FarmStore::farms() {
  auto s = db_.prepare(fmt::format("SELECT {} FROM stored_farms ORDER BY name", kFarmColumns));
  std::vector<StoredFarm> out;
  while (s.step()) out.push_back(read_farm(s));
  return out;
}

std::vector<StoredFarm> FarmStore::farms_of(std::int64_t owner_id) {
  auto s = db_.prepare(fmt::format("SELECT {} FROM stored_farms WHERE owner_id = ? ORDER BY name", kFarmColumns));
  s.bind(1, owner_id);
  std::vector<StoredFarm> out;
  while (s.step()) out.push_back(read_farm(s));
  return out;
}

std::optional<FarmRevision> FarmStore::current(std::string_view name) {
  auto s = db_.prepare(
      "SELECT r.farm, r.revision, r.fml, r.origin, r.work_order_id, r.created_at FROM farm_revisions r "
      "JOIN stored_farms f ON f.name = r.farm AND f.revision = r.revision WHERE f.name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_revision(s);
}

std::optional<FarmRevision> FarmStore::revision(std::string_view name, int revision) {
  auto s = db_.prepare(
      "SELECT farm, revision, fml, origin, work_order_id, created_at FROM farm_revisions WHERE farm = ? AND "
      "revision = ?");
  s.bind_all(name, revision);
  if (!s.step()) return std::nullopt;
  return read_revision(s);
}

std::vector<FarmRevision> FarmStore::history(std::string_view name) {
  auto s = db_.prepare(
      "SELECT farm, revision, '', origin, work_order_id, created_at FROM farm_revisions WHERE farm = ? ORDER BY "
      "revision DESC");
  s.bind(1, name);
  std::vector<FarmRevision> out;
  while (s.step()) out.push_back(read_revision(s));
  return out;
}

void FarmStore::set_origin(std::string_view name, std::string_view origin) {
  db_.prepare("UPDATE stored_farms SET origin = ?2 WHERE name = ?1").bind_all(name, origin).run();
}

bool FarmStore::remove(std::string_view name) {
  db_.prepare("DELETE FROM farm_status WHERE farm = ?").bind(1, name).run();
  db_.prepare("DELETE FROM farm_revisions WHERE farm = ?").bind(1, name).run();
  db_.prepare("DELETE FROM stored_farms WHERE name = ?").bind(1, name).run();
  return db_.changes() == 1;
}

std::int64_t FarmStore::change_stamp() {
  auto s = db_.prepare("SELECT COALESCE(SUM(revision), 0) * 1000 + COUNT(*) FROM stored_farms");
  s.step();
  return s.int64(0);
}

}  // namespace farmctl::service
