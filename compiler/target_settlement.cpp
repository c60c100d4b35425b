#include "compiler/target_settlement.h"

#include <algorithm>
#include <bitset>

#include <fmt/format.h>

namespace farmctl::fml {
namespace {

constexpr int kTargets = 256;

// One disk or shared disk of the role, seen the same way by all three passes.
struct Claim {
  Position pos;
  std::optional<int> explicit_target;
  bool system_image = false;
  int* target = nullptr;
  const PrivateDisk* disk = nullptr;   // one of these two
  const SharedDisk* shared = nullptr;

  // For messages: "disk '/home'", "shared disk 'db'". Made only for a message:
  // a large farm settles hundreds of thousands of claims without one.
  std::string what() const {
    if (shared != nullptr) return fmt::format("shared disk '{}'", shown(shared->global_name));
    return disk->drivename ? fmt::format("disk '{}'", shown(*disk->drivename)) : std::string("disk");
  }
};

std::vector<Claim> claims_in_document_order(ServerRole& role) {
  std::vector<Claim> claims;
  claims.reserve(role.disks.size() + role.shared.size());
  for (PrivateDisk& d : role.disks) {
    bool system = d.spec.image && d.spec.image->type == "system";
    claims.push_back({d.spec.pos, d.explicit_target, system, &d.target, &d, nullptr});
  }
  for (SharedDisk& s : role.shared) claims.push_back({s.pos, s.explicit_target, false, &s.target, nullptr, &s});
  std::stable_sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
    return std::pair(a.pos.line, a.pos.col) < std::pair(b.pos.line, b.pos.col);
  });
  return claims;
}

}  // namespace

void settle_targets(ServerRole& role, DiagnosticList& diags) {
  std::vector<Claim> claims = claims_in_document_order(role);
  // Which targets are taken; the claim holding one is looked up only for a
  // message. (256 owner slots per role were 2 KB cleared for each of a large
  // farm's 100,000 roles.)
  std::bitset<kTargets> taken;
  auto owner = [&](int t) -> const Claim& {
    return *std::find_if(claims.begin(), claims.end(), [&](const Claim& c) { return *c.target == t; });
  };

  for (Claim& c : claims) {
    if (!c.explicit_target) continue;
    int t = *c.explicit_target;
    if (taken.test(static_cast<std::size_t>(t))) {
      const Claim& other = owner(t);
      diags.error(Code::target_collision, c.pos,
                  fmt::format("target {} of server-role '{}' is already used by the {} at line {}", t, shown(role.name),
                              other.what(), other.pos.line));
      continue;
    }
    taken.set(static_cast<std::size_t>(t));
    *c.target = t;
  }
  for (Claim& c : claims) {
    if (c.explicit_target || !c.system_image) continue;
    if (taken.test(0)) {
      const Claim& other = owner(0);
      diags.error(Code::system_disk_target_taken, c.pos,
                  fmt::format("this system disk has no target and target 0 (the boot target) is already used by the "
                              "{} at line {}: give one of them an explicit target",
                              other.what(), other.pos.line));
      continue;
    }
    taken.set(0);
    *c.target = 0;
  }
  for (Claim& c : claims) {
    if (*c.target >= 0 || c.explicit_target || c.system_image) continue;
    if (taken.all()) {
      diags.error(Code::no_free_target, c.pos,
                  fmt::format("server-role '{}' has no free target left (0-255) for this {}", shown(role.name),
                              c.what()));
      continue;
    }
    std::size_t free = 0;
    while (taken.test(free)) ++free;
    taken.set(free);
    *c.target = static_cast<int>(free);
  }
}

}  // namespace farmctl::fml
