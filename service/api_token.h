#pragma once
// API tokens: the one file that includes libsodium.
//
// A token is "fct_<account id>_<64 hex digits>": 32 random bytes the account
// holder keeps, prefixed by the account id so that checking a token costs one
// row lookup and one hash. The inventory keeps only a per-account random salt
// and BLAKE2b-256(salt || secret). A slow password hash (crypto_pwhash) would
// cost ~100 ms per request; it is not needed because the secret is 256 random
// bits, not something a person chose, so it cannot be guessed from its hash.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace farmctl::service {

struct IssuedToken {
  std::string token;  // give to the account holder once
  std::string salt_hex;
  std::string hash_hex;
};

// A new random token for the account with this id.
IssuedToken issue_token(std::int64_t account_id);

struct TokenParts {
  std::int64_t account_id = 0;
  std::string secret;  // 32 bytes
};
// nullopt: not of the token's shape (so certainly no account's token).
std::optional<TokenParts> parse_token(std::string_view token);

// Whether `secret` hashes with `salt_hex` to `hash_hex`, compared in constant time.
bool token_matches(const TokenParts& parts, std::string_view salt_hex, std::string_view hash_hex);

}  // namespace farmctl::service
