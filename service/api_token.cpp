#include "service/api_token.h"

#include <array>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <sodium.h>

namespace farmctl::service {
namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = crypto_generichash_BYTES;  // 32: BLAKE2b-256

void ensure_sodium() {
  // sodium_init is thread-safe and idempotent; < 0 means no usable randomness.
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::optional<std::string> from_hex(std::string_view hex, std::size_t n) {
  std::string out(n, '\0');
  std::size_t len = 0;
  if (hex.size() != n * 2) return std::nullopt;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), n, hex.data(), hex.size(), nullptr, &len,
                     nullptr) != 0 ||
      len != n)
    return std::nullopt;
  return out;
}

std::array<unsigned char, kHashBytes> hash_of(std::string_view salt, std::string_view secret) {
  std::array<unsigned char, kHashBytes> out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(salt.data()), salt.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace

IssuedToken issue_token(std::int64_t account_id) {
  ensure_sodium();
  std::array<unsigned char, kSecretBytes> secret{};
  std::array<unsigned char, kSaltBytes> salt{};
  randombytes_buf(secret.data(), secret.size());
  randombytes_buf(salt.data(), salt.size());
  auto hash = hash_of({reinterpret_cast<const char*>(salt.data()), salt.size()},
                      {reinterpret_cast<const char*>(secret.data()), secret.size()});
  IssuedToken issued;
  issued.token = fmt::format("fct_{}_{}", account_id, to_hex(secret.data(), secret.size()));
  issued.salt_hex = to_hex(salt.data(), salt.size());
  issued.hash_hex = to_hex(hash.data(), hash.size());
  sodium_memzero(secret.data(), secret.size());
  return issued;
}

std::optional<TokenParts> parse_token(std::string_view token) {
  if (!token.starts_with("fct_")) return std::nullopt;
  token.remove_prefix(4);
  std::size_t sep = token.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 18) return std::nullopt;
  TokenParts parts;
  auto [end, ec] = std::from_chars(token.data(), token.data() + sep, parts.account_id);
  if (ec != std::errc() || end != token.data() + sep || parts.account_id <= 0) return std::nullopt;
  auto secret = from_hex(token.substr(sep + 1), kSecretBytes);
  if (!secret) return std::nullopt;
  parts.secret = std::move(*secret);
  return parts;
}

bool token_matches(const TokenParts& parts, std::string_view salt_hex, std::string_view hash_hex) {
  ensure_sodium();
  auto salt = from_hex(salt_hex, kSaltBytes);
  auto stored = from_hex(hash_hex, kHashBytes);
  if (!salt || !stored) return false;
  auto computed = hash_of(*salt, parts.secret);
  return sodium_memcmp(computed.data(), stored->data(), kHashBytes) == 0;
}

}  // namespace farmctl::service
