#include "service/order_edit.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "compiler/values.h"
#include "service/work_order_request.h"

namespace farmctl::service {
namespace {

std::string text_of(const nlohmann::json& params, const char* name) {
  auto it = params.find(name);
  return it != params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_of(const nlohmann::json& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

[[noreturn]] void reject(const char* parameter, const std::string& message) {
  throw OrderRejected(400, fmt::format("parameter {}: {}", parameter, message), parameter);
}

bool valid_disk_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '_' || c == '-' || c == ','))
      return false;
  return true;
}

const plan::Volume& find_disk(const FarmSource& farm, const std::string& disk) {
  const plan::Volume* v = farm.volume(disk);
  if (v == nullptr) {
    std::string known;
    int n = 0;
    for (const plan::Volume& each : farm.plan().volumes) {
      if (n++ == 8) {
        known += ", ...";
        break;
      }
      known += (known.empty() ? "" : ", ") + each.id;
    }
    reject("disk", fmt::format("farm {} has no disk '{}'{}", farm.plan().farm, disk,
                               known.empty() ? "" : fmt::format(" (it has {})", known)));
  }
  return *v;
}

std::shared_ptr<const FarmSource> compile_edit(std::string fml, std::string_view farm) {
  try {
    return FarmSource::parse(std::move(fml), farm);
  } catch (const FarmSourceError& e) {
    std::string first(e.what());
    first = first.substr(0, first.find('\n'));
    throw OrderRejected(400, fmt::format("farm {} would not compile after this change: {}", farm, first));
  }
}

OrderEdit allocate(const nlohmann::json& params, std::string_view farm, const FarmSource* current) {
  std::string name = text_of(params, "name");
  if (!valid_disk_name(name))
    reject("name", fmt::format("'{}' is not a disk name: use up to 64 letters, digits, spaces and . _ - ,", name));
  std::uint64_t size = static_cast<std::uint64_t>(*int_of(params, "size"));
  std::string cls = text_of(params, "class");
  if (!cls.empty()) {
    auto parsed = fml::parse_drivetype(cls);
    if (!parsed || !std::holds_alternative<fml::QualityClass>(*parsed))
      reject("class", fmt::format("'{}' is not a quality class (std, raid, performance, spindle, bandwidth, other)", cls));
  }
  std::optional<std::string> raid;
  if (std::string r = text_of(params, "raid"); !r.empty()) {
    if (!fml::parse_raid_level(r)) reject("raid", fmt::format("'{}' is not a RAID level (0, 1, 5, 6, 10, 0+1)", r));
    raid = r;
  }
  std::shared_ptr<const FarmSource> base;
  if (current == nullptr) {
    base = compile_edit(FarmSource::new_storage_farm(farm), farm);
    current = base.get();
  }
  if (current->global_disk(name) != nullptr)
    reject("name", fmt::format("farm {} has a global disk named '{}' already", farm, name));
  OrderEdit edit;
  try {
    edit.result = compile_edit(current->with_global_disk(name, size, cls, raid), farm);
  } catch (const FarmEditError& e) {
    throw OrderRejected(400, e.what(), "farm");
  }
  edit.quantity = static_cast<std::int64_t>(size);
  edit.unit = "MB";
  return edit;
}

OrderEdit connect(const nlohmann::json& params, const FarmSource& farm) {
  std::string disk = text_of(params, "disk");
  if (disk.starts_with("global/")) disk = disk.substr(7);
  if (farm.global_disk(disk) == nullptr)
    reject("disk", fmt::format("farm {} has no global disk '{}'", farm.plan().farm, disk));
  std::string server = text_of(params, "server");
  const fml::ServerRole* role = farm.role_of_server(server);
  if (role == nullptr) {
    if (const fml::Tier* tier = farm.tier(server))
      for (const fml::ServerRole& r : farm.model().roles)
        if (r.id == tier->role_id) role = &r;
  }
  if (role == nullptr) reject("server", fmt::format("farm {} has no server or tier '{}'", farm.plan().farm, server));
  for (const fml::SharedDisk& s : role->shared)
    if (s.global_name == disk)
      reject("disk", fmt::format("global disk '{}' is connected to role {} already (at target {})", disk, role->name,
                                 s.target));
  int target = static_cast<int>(int_of(params, "target").value_or(farm.free_target(*role)));
  if (target < 0) reject("target", fmt::format("role {} has no free SCSI target", role->name));
  for (const fml::PrivateDisk& d : role->disks)
    if (d.target == target) reject("target", fmt::format("target {} is taken on role {}", target, role->name));
  for (const fml::SharedDisk& s : role->shared)
    if (s.target == target) reject("target", fmt::format("target {} is taken on role {}", target, role->name));
  std::string protocol = text_of(params, "protocol");
  if (protocol.empty()) protocol = farm.protocol_of(*role);
  if (protocol != "scsi" && protocol != "fc" && protocol != "iscsi")
    reject("protocol", fmt::format("'{}' is not scsi, fc or iscsi", protocol));
  OrderEdit edit;
  try {
    edit.result = compile_edit(farm.with_shared_disk(*role, disk, target, protocol), farm.plan().farm);
  } catch (const FarmEditError& e) {
    throw OrderRejected(400, e.what(), "farm");
  }
  edit.quantity = 1;
  edit.unit = "connection";
  return edit;
}

OrderEdit grow(const nlohmann::json& params, const FarmSource& farm) {
  const plan::Volume& volume = find_disk(farm, text_of(params, "disk"));
  std::uint64_t size = static_cast<std::uint64_t>(*int_of(params, "size"));
  if (size < volume.size_mb)
    reject("size", fmt::format("{} MB is smaller than disk {}'s {} MB: disks only grow", size, volume.id,
                               volume.size_mb));
  OrderEdit edit;
  try {
    edit.result = compile_edit(farm.with_disk_size(volume, size), farm.plan().farm);
  } catch (const FarmEditError& e) {
    throw OrderRejected(400, e.what(), "disk");
  }
  edit.quantity = static_cast<std::int64_t>(size - volume.size_mb) * farm.copies(volume);
  edit.unit = "MB";
  return edit;
}

OrderEdit scale(const nlohmann::json& params, const FarmSource& farm) {
  std::string tier_name = text_of(params, "tier");
  const fml::Tier* tier = farm.tier(tier_name);
  if (tier == nullptr) reject("tier", fmt::format("farm {} has no tier '{}'", farm.plan().farm, tier_name));
  int servers = static_cast<int>(*int_of(params, "servers"));
  if (servers < tier->min_servers)
    reject("servers", fmt::format("tier {} runs at least {} servers (min-servers)", tier_name, tier->min_servers));
  if (servers > tier->max_servers && farm.tier_declares_max(*tier))
    reject("servers", fmt::format("tier {} runs at most {} servers (max-servers)", tier_name, tier->max_servers));
  OrderEdit edit;
  try {
    edit.result = compile_edit(farm.with_tier_servers(*tier, servers), farm.plan().farm);
  } catch (const FarmEditError& e) {
    throw OrderRejected(400, e.what(), "tier");
  }
  edit.quantity = servers - tier->init_servers;
  edit.unit = "servers";
  return edit;
}

}  // namespace

OrderEdit plan_order_edit(const OrderType& type, const nlohmann::json& params, std::string_view farm,
                          const std::shared_ptr<const FarmSource>& current) {
  if (type.name != "allocate-storage" && current == nullptr)
    reject("farm", fmt::format("there is no farm '{}'", farm));
  OrderEdit edit;
  if (type.name == "allocate-storage") {
    edit = allocate(params, farm, current.get());
  } else if (type.name == "connect-storage") {
    edit = connect(params, *current);
  } else if (type.name == "grow-disk") {
    edit = grow(params, *current);
  } else if (type.name == "scale-tier") {
    edit = scale(params, *current);
  } else if (type.name == "migrate-server") {
    std::string server = text_of(params, "server");
    const auto& servers = current->plan().servers;
    if (std::none_of(servers.begin(), servers.end(), [&](const plan::Server& s) { return s.name == server; }))
      reject("server", fmt::format("farm {} has no server '{}'", farm, server));
    edit.result = current;
    edit.quantity = 1;
    edit.unit = "move";
  } else if (type.name == "take-snapshot" || type.name == "restore-disk") {
    // Carried out by the backup engine once the farm has converged
    // (farm_backups.h); the farm file does not change.
    const plan::Volume& volume = find_disk(*current, text_of(params, "disk"));
    if (type.name == "restore-disk" && params.contains("into") && text_of(params, "into") != "in-place" &&
        text_of(params, "into") != "new-volume")
      reject("into", fmt::format("'{}' is neither in-place nor new-volume", text_of(params, "into").substr(0, 40)));
    if (volume.backup.empty() && type.name == "take-snapshot")
      reject("disk", fmt::format("disk {} has no backup-policy: a snapshot needs one to say how long it is kept",
                                 volume.id));
    edit.result = current;
    edit.quantity = type.name == "take-snapshot" ? static_cast<std::int64_t>(volume.size_mb) : 1;
    edit.unit = type.name == "take-snapshot" ? "MB" : "restore";
  } else {
    throw OrderRejected(400, fmt::format("work-order type {} cannot be carried out", type.name));
  }
  std::uint64_t before = current != nullptr ? current->total_mb() : 0;
  edit.added_mb = static_cast<std::int64_t>(edit.result->total_mb()) - static_cast<std::int64_t>(before);
  edit.changes = current == nullptr || edit.result->text() != current->text();
  if (type.name == "take-snapshot") edit.added_mb = edit.quantity;  // a copy is storage too (quota)
  return edit;
}

}  // namespace farmctl::service
