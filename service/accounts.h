#pragma once
// Accounts: the service's customers (and the provider's own administrators),
// each with a permission level, an optional storage quota and one API token
// of which only a salted hash is kept (api_token.h).
//
// Levels, from least to most: viewer (reads its own farms, orders and bills),
// server-admin (orders on its servers' existing storage), customer-admin
// (every customer order type) and provider-admin (everything, every tenant;
// closes and retries failed orders). work_order_types.cpp says which order
// types each level may submit.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sqlite.h"

namespace farmctl::service {

enum class Level { viewer, server_admin, customer_admin, provider_admin };
std::string_view to_string(Level level);  // "viewer", "server-admin", ...
std::optional<Level> level_from(std::string_view text);

struct Account {
  std::int64_t id = 0;
  std::string name;
  Level level = Level::viewer;
  std::optional<std::uint64_t> quota_mb;  // nullopt: no quota
  std::string created_at;
  bool is_provider() const { return level == Level::provider_admin; }
};

class AccountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and writes the accounts table through one connection (not thread-safe:
// callers own the connection).
class AccountStore {
 public:
  explicit AccountStore(runtime::Database& db) : db_(db) {}

  // Creates the account and returns it with its token, the only time the token
  // exists in clear. Throws AccountError for a bad or taken name.
  std::pair<Account, std::string> create(std::string_view name, Level level, std::optional<std::uint64_t> quota_mb);
  // The account a bearer token belongs to; nullopt for any token that does not
  // match (malformed, unknown id, wrong secret): the caller cannot tell which.
  std::optional<Account> authenticate(std::string_view token);
  std::optional<Account> by_id(std::int64_t id);
  std::optional<Account> by_name(std::string_view name);
  std::vector<Account> all();

 private:
  runtime::Database& db_;
};

// Account and farm names: 1-63 of [a-z0-9-], starting with a letter or digit.
bool valid_account_name(std::string_view name);

}  // namespace farmctl::service
