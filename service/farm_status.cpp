#include "service/farm_status.h"

#include "service/timestamps.h"

namespace farmctl::service {
namespace {

constexpr std::string_view kSelect =
    "SELECT farm, status, reason, message, observed_revision, failures, next_attempt_at, last_transition_at FROM "
    "farm_status";

FarmStatus read_status(const runtime::Statement& s) {
  FarmStatus f;
  f.farm = s.text(0);
  f.status = s.text(1);
  f.reason = s.text(2);
  f.message = s.text(3);
  f.observed_revision = s.int32(4);
  f.failures = s.int32(5);
  f.next_attempt_at = s.optional_text(6);
  f.last_transition_at = s.text(7);
  return f;
}

}  // namespace

std::optional<FarmStatus> FarmStatusStore::get(std::string_view farm) {
  auto s = db_.prepare(std::string(kSelect) + " WHERE farm = ?");
  s.bind(1, farm);
  if (!s.step()) return std::nullopt;
  return read_status(s);
}

std::vector<FarmStatus> FarmStatusStore::all() {
  auto s = db_.prepare(std::string(kSelect) + " ORDER BY farm");
  std::vector<FarmStatus> out;
  while (s.step()) out.push_back(read_status(s));
  return out;
}

void FarmStatusStore::save(FarmStatus status) {
  auto before = get(status.farm);
  status.last_transition_at =
      before && before->status == status.status ? before->last_transition_at : now_text();
  if (before && before->status == status.status && before->reason == status.reason &&
      before->message == status.message && before->observed_revision == status.observed_revision &&
      before->failures == status.failures && before->next_attempt_at == status.next_attempt_at)
    return;
  db_.prepare(
         "INSERT INTO farm_status (farm, status, reason, message, observed_revision, failures, next_attempt_at, "
         "last_transition_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (farm) DO UPDATE SET status = "
         "excluded.status, reason = excluded.reason, message = excluded.message, observed_revision = "
         "excluded.observed_revision, failures = excluded.failures, next_attempt_at = excluded.next_attempt_at, "
         "last_transition_at = excluded.last_transition_at")
      .bind_all(status.farm, status.status, status.reason, status.message, status.observed_revision, status.failures,
                status.next_attempt_at, status.last_transition_at)
      .run();
}

}  // namespace farmctl::service
