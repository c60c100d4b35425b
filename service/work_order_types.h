#pragma once
// The work-order types the service offers and who may submit each: what
// GET /v1/work-order-types lists for a task screen (name, title, parameters
// with name, type and whether required), filtered by the caller's level.
//
//   type             parameters                                       levels
//   allocate-storage farm?, name, size, class?, raid?                 customer-admin, provider-admin
//   connect-storage  farm, disk, server, target?, protocol?           server-admin and up
//   grow-disk        farm, disk, size                                 server-admin and up
//   migrate-server   farm, server, host                               customer-admin, provider-admin
//   scale-tier       farm, tier, servers                              customer-admin, provider-admin
//   take-snapshot    farm, disk, name?                                server-admin and up
//
// take-snapshot is accepted and recorded, and then fails: no driver takes
// snapshots yet (docs/service.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "service/accounts.h"

namespace farmctl::service {

enum class ParamType { string, size, integer };
std::string_view to_string(ParamType type);  // "string", "size", "integer"

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  bool required = true;
  std::string description;
  std::int64_t min = 0, max = 0;  // integer: the allowed range
};

struct OrderType {
  std::string name;
  std::string title;
  std::string description;
  std::vector<ParamSpec> params;
  Level least_level = Level::customer_admin;  // this level and the ones above may submit it
  const ParamSpec* param(std::string_view name) const;
  bool allowed_for(Level level) const { return level >= least_level; }
};

const std::vector<OrderType>& order_types();
const OrderType* order_type(std::string_view name);

// The largest size any order may ask for: 1 PB (2^30 MB).
inline constexpr std::uint64_t kMaxSizeMb = std::uint64_t{1} << 30;

}  // namespace farmctl::service
