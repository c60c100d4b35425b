#pragma once
// The checked farm: what the analyzer (analyzer.h) makes of an XML document —
// names resolved, values parsed, targets settled — with the source position
// of everything a later message may need. Lowering turns it into the Plan IR.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics.h"
#include "compiler/plan_ir.h"
#include "compiler/values.h"

namespace farmctl::fml {

// What <disk> and <global-disk> share.
struct DiskSpec {
  Position pos;
  std::uint64_t size_mb = 0;
  QualityClass cls = QualityClass::std_;
  std::optional<AccessPath> access;  // drivetype given as an access path
  std::optional<RaidLevel> raid;
  std::optional<plan::Image> image;
  std::vector<BackupPolicy> backup;
  std::map<std::string, std::string> attributes;
};

struct PrivateDisk {
  DiskSpec spec;
  std::optional<std::string> drivename;
  std::optional<int> explicit_target;
  int target = -1;  // settled by the analyzer
};

struct SharedDisk {
  Position pos;
  std::string global_name;
  std::optional<AccessPath> access;
  std::optional<int> explicit_target;
  int target = -1;  // settled by the analyzer
};

struct GlobalDisk {
  std::string global_name;
  DiskSpec spec;
};

struct ServerRole {
  Position pos;
  std::string id;
  std::string name;
  std::string hw;
  bool npiv = false;  // npiv="true": virtual FC ports that move with the server
  std::vector<PrivateDisk> disks;
  std::vector<SharedDisk> shared;
};

struct Tier {
  Position pos;
  std::string id;
  std::string name;
  std::string role_id;
  // The role in Farm::roles, settled by the analyzer (the first role with
  // role_id); SIZE_MAX when there is none, in a farm with errors.
  std::size_t role = SIZE_MAX;
  int min_servers = 0;
  int max_servers = 0;
  int init_servers = 0;
};

struct Farm {
  std::string name;
  std::string fml_version;
  std::vector<GlobalDisk> globals;
  std::vector<Tier> tiers;
  std::vector<ServerRole> roles;
};

}  // namespace farmctl::fml
