#include "service/accounts.h"

#include <array>

#include <fmt/format.h>

#include "service/api_token.h"
#include "service/timestamps.h"

namespace farmctl::service {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames{"viewer", "server-admin", "customer-admin", "provider-admin"};

constexpr std::string_view kColumns = "id, name, level, quota_mb, created_at";

Account read_account(const runtime::Statement& s) {
  Account a;
  a.id = s.int64(0);
  a.name = s.text(1);
  a.level = level_from(s.text_view(2)).value_or(Level::viewer);
  if (auto q = s.optional_int64(3)) a.quota_mb = static_cast<std::uint64_t>(*q);
  a.created_at = s.text(4);
  return a;
}

}  // namespace

std::string_view to_string(Level level) { return kLevelNames[static_cast<std::size_t>(level)]; }

std::optional<Level> level_from(std::string_view text) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == text) return static_cast<Level>(i);
  return std::nullopt;
}

bool valid_account_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::pair<Account, std::string> AccountStore::create(std::string_view name, Level level,
                                                     std::optional<std::uint64_t> quota_mb) {
  if (!valid_account_name(name))
    throw AccountError(fmt::format("bad account name '{}': use 1-63 of a-z, 0-9 and '-', not starting with '-'", name));
  runtime::Transaction tx(db_);
  if (by_name(name)) throw AccountError(fmt::format("an account named '{}' exists already", name));
  // The id is part of the token, so insert first (with a placeholder hash),
  // then store the hash of the token made for that id, in one transaction.
  auto insert = db_.prepare(
      "INSERT INTO accounts (name, level, quota_mb, token_salt, token_hash, created_at) VALUES (?, ?, ?, '', '', ?)");
  std::optional<std::int64_t> quota;
  if (quota_mb) quota = static_cast<std::int64_t>(*quota_mb);
  insert.bind_all(name, to_string(level), quota, now_text()).run();
  std::int64_t id = db_.last_insert_rowid();
  IssuedToken issued = issue_token(id);
  db_.prepare("UPDATE accounts SET token_salt = ?2, token_hash = ?3 WHERE id = ?1")
      .bind_all(id, issued.salt_hex, issued.hash_hex)
      .run();
  tx.commit();
  return {*by_id(id), issued.token};
}

std::optional<Account> AccountStore::authenticate(std::string_view token) {
  auto parts = parse_token(token);
  if (!parts) return std::nullopt;
  auto s = db_.prepare(fmt::format("SELECT {}, token_salt, token_hash FROM accounts WHERE id = ?", kColumns));
  s.bind(1, parts->account_id);
  if (!s.step()) return std::nullopt;
  if (!token_matches(*parts, s.text_view(5), s.text_view(6))) return std::nullopt;
  return read_account(s);
}

std::optional<Account> AccountStore::by_id(std::int64_t id) {
  auto s = db_.prepare(fmt::format("SELECT {} FROM accounts WHERE id = ?", kColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_account(s);
}

std::optional<Account> AccountStore::by_name(std::string_view name) {
  auto s = db_.prepare(fmt::format("SELECT {} FROM accounts WHERE name = ?", kColumns));
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_account(s);
}

std::vector<Account> AccountStore::all() {
  auto s = db_.prepare(fmt::format("SELECT {} FROM accounts ORDER BY id", kColumns));
  std::vector<Account> out;
  while (s.step()) out.push_back(read_account(s));
  return out;
}

}  // namespace farmctl::service
