#pragma once
// The farms the service keeps converged, each with every revision of its
// source (FML text) — uploaded with `farmctl farm put` or PUT /v1/farms/NAME,
// read from a --farms directory, or made by a work order's edit. The newest
// revision is what the reconcile loop applies; older ones stay for history.
//
// Not thread-safe: one store per connection.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sqlite.h"

namespace farmctl::service {

struct StoredFarm {
  std::string name;
  std::optional<std::int64_t> owner_id;  // the customer account; nullopt: the provider's own
  int revision = 0;
  std::string origin;  // where revisions come from: "dir:PATH" for a --farms file, else ""
  std::string updated_at;
};

struct FarmRevision {
  std::string farm;
  int revision = 0;
  std::string fml;
  std::string origin;  // "cli", "api:ACCOUNT", "dir:PATH", "work-order:ID"
  std::optional<std::int64_t> work_order_id;
  std::string created_at;
};

class FarmStore {
 public:
  explicit FarmStore(runtime::Database& db) : db_(db) {}

  // Stores `fml` as the farm's next revision (creating the farm, owned by
  // `owner`, when it is new) and returns its number; text identical to the
  // newest revision stores nothing and returns that revision. Must run inside
  // a transaction the caller holds (so that it can commit more with it).
  int put(std::string_view farm, std::string_view fml, std::string_view origin,
          std::optional<std::int64_t> owner_for_new, std::optional<std::int64_t> work_order_id = std::nullopt);

  std::optional<StoredFarm> farm(std::string_view name);
  std::vector<StoredFarm> farms();  // by name
  std::vector<StoredFarm> farms_of(std::int64_t owner_id);
  std::optional<FarmRevision> current(std::string_view name);
  std::optional<FarmRevision> revision(std::string_view name, int revision);
  std::vector<FarmRevision> history(std::string_view name);  // without the text, newest first
  void set_origin(std::string_view name, std::string_view origin);
  // Forgets the farm and its revisions and status (in the caller's
  // transaction): the service stops reconciling it. Its storage stays until
  // `farmctl destroy`. False when there was no such farm.
  bool remove(std::string_view name);
  // The largest revision number of any farm plus the farm count: changes
  // whenever any farm gets a revision, even from another process.
  std::int64_t change_stamp();

 private:
  runtime::Database& db_;
};

}  // namespace farmctl::service
