#include "service/work_order_types.h"

namespace farmctl::service {
namespace {

ParamSpec farm_param(bool required = true) {
  return {"farm", ParamType::string, required,
          required ? "the farm" : "the farm to put the storage in (default: ACCOUNT-storage, created when missing)"};
}

ParamSpec disk_param(std::string description) { return {"disk", ParamType::string, true, std::move(description)}; }

std::vector<OrderType> make_types() {
  std::vector<OrderType> types;
  types.push_back({"allocate-storage",
                   "Allocate storage to the account",
                   "A new global disk in one of the account's farms, for servers to share once connected.",
                   {farm_param(false),
                    {"name", ParamType::string, true, "the new global disk's name"},
                    {"size", ParamType::size, true, "its size: MB as a number, or text such as \"20GB\""},
                    {"class", ParamType::string, false, "quality class: std, raid, performance, spindle, bandwidth, other"},
                    {"raid", ParamType::string, false, "RAID level: 0, 1, 5, 6, 10, 0+1"}},
                   Level::customer_admin});
  types.push_back({"connect-storage",
                   "Connect storage to a server",
                   "Make a global disk visible to a server, and to every server of the same role.",
                   {farm_param(),
                    disk_param("the global disk"),
                    {"server", ParamType::string, true, "a server (TIER-N) or a tier"},
                    {"target", ParamType::integer, false, "SCSI target (default: the lowest free from 1)", 0, 255},
                    {"protocol", ParamType::string, false, "scsi, fc or iscsi (default: what the server uses)"}},
                   Level::server_admin});
  types.push_back({"grow-disk",
                   "Grow a disk",
                   "Make a disk larger: a global disk, or a server's disk (on every server of its role).",
                   {farm_param(), disk_param("global/NAME (or NAME) for a global disk, SERVER/tN for a server's disk"),
                    {"size", ParamType::size, true, "the new size, larger than now"}},
                   Level::server_admin});
  types.push_back({"migrate-server",
                   "Move a server to another host",
                   "Move one server's storage to an idle host of its hardware class, over a protocol the host and "
                   "the storage share; the new host gets access before the old one loses it.",
                   {farm_param(),
                    {"server", ParamType::string, true, "the server (TIER-N)"},
                    {"host", ParamType::string, true, "the idle host to move it to"}},
                   Level::customer_admin});
  types.push_back({"scale-tier",
                   "Scale a tier",
                   "Set how many servers a tier runs; each new server gets its own disks.",
                   {farm_param(),
                    {"tier", ParamType::string, true, "the tier's name"},
                    {"servers", ParamType::integer, true, "the number of servers", 0, 1000}},
                   Level::customer_admin});
  types.push_back({"take-snapshot",
                   "Take a snapshot of a volume",
                   "A point-in-time copy of a disk, now. It is kept as the disk's backup copies are: the disk needs "
                   "a backup-policy, and the copy ages out with its lowest-level policy's copies.",
                   {farm_param(), disk_param("the disk, as for grow-disk"),
                    {"name", ParamType::string, false, "a name for the snapshot"}},
                   Level::server_admin});
  types.push_back({"restore-disk",
                   "Restore a disk from a backup copy",
                   "The disk becomes what one of its copies holds (what it holds now is lost); its servers lose "
                   "the disk while the copy is written back.",
                   {farm_param(), disk_param("the disk, as for grow-disk"),
                    {"copy", ParamType::integer, true, "the copy's number (GET /v1/farms/NAME/backups)", 1,
                     1'000'000'000},
                    {"into", ParamType::string, false,
                     "in-place (default: the disk becomes the copy) or new-volume (the copy into a new volume the "
                     "disk's servers see at a free target; the disk is left alone)"}},
                   Level::customer_admin});
  return types;
}

}  // namespace

std::string_view to_string(ParamType type) {
  switch (type) {
    case ParamType::string: return "string";
    case ParamType::size: return "size";
    case ParamType::integer: return "integer";
  }
  return "string";
}

const ParamSpec* OrderType::param(std::string_view param_name) const {
  for (const ParamSpec& p : params)
    if (p.name == param_name) return &p;
  return nullptr;
}

const std::vector<OrderType>& order_types() {
  static const std::vector<OrderType> types = make_types();
  return types;
}

const OrderType* order_type(std::string_view name) {
  for (const OrderType& t : order_types())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace farmctl::service
