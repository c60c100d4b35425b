#pragma once
// The tgt driver's naming scheme (docs/drivers.md, "The tgt driver"), both
// ways: which iSCSI target and LUN a host sees for a farm disk, and what a
// tgtd's targets mean in the inventory's terms.
//
//   one target per host:   <port IQN>:<host>   (the array's iSCSI port; the
//                          host name lower-cased, other than [a-z0-9.-] -> '-')
//   its ACL:               the host's initiator name (IQN), nothing else
//   a disk at FML target N: LUN N+1 of that target (LUN 0 is tgt's controller)
//
// A target per host makes an initiator-name ACL exactly right: a host that
// logs in sees its own disks and no other's, a shared disk is one LUN in each
// sharing host's target (same backing file), and taking a host's access away
// is removing one ACL entry.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/driver.h"
#include "runtime/tgt_backing_store.h"
#include "runtime/tgt_show_parser.h"

namespace farmctl::runtime {

class TgtNaming {
 public:
  // prefix: the IQN of the array's iSCSI port. initiator_hosts: initiator ->
  // host name, every host of the wiring map (DriverContext).
  TgtNaming(std::string prefix, const std::map<std::string, std::string>& initiator_hosts);

  const std::string& prefix() const { return prefix_; }
  std::string target_of_host(std::string_view host) const;
  // The host a target is named after; nullopt for a target outside the prefix.
  std::optional<std::string> host_of_target(std::string_view target) const;
  std::optional<std::string> host_of_initiator(std::string_view initiator) const;

  static int tgt_lun(int fml_target) { return fml_target + 1; }
  static int fml_target(int tgt_lun) { return tgt_lun - 1; }

 private:
  std::string prefix_;
  const std::map<std::string, std::string>& initiator_hosts_;
  std::map<std::string, std::string, std::less<>> hosts_by_label_;  // sanitized -> host name
};

// The part of a target name after "<prefix>:" for a host.
std::string tgt_host_label(std::string_view host);

// The unit serial number (tgt's scsi_sn, also its scsi_id) of every LUN that
// presents `volume`: the volume id, other than [A-Za-z0-9._-] -> '-', at most
// 36 characters (tgt's limit). So a disk reads the same on every host, and its
// storage node identifier (translations/tgt.ids) is what hosts see.
std::string tgt_unit_serial(std::string_view volume);
// What tgt's LUNs report in SCSI INQUIRY (tgt's defaults, which farmctl keeps).
inline constexpr std::string_view kTgtScsiVendor = "IET";
inline constexpr std::string_view kTgtScsiProduct = "VIRTUAL-DISK";

// An address rule in a masking's initiator field: "address:ALL". farmctl
// never binds one; discovery reports one so the planner takes it away.
inline constexpr std::string_view kTgtAddressRule = "address:";

// What tgtd shows plus the backing files, as DeviceState: the storage system
// as its LUNs name it (vendor, product); pools and volumes from the files,
// each with the SCSI serial of a LUN presenting it; for each disk LU of a target whose backing file is one of
// the volumes, a mapping (host = the target's host, or the whole target name
// for a target outside the prefix; target = lun = LUN - 1) and a masking per
// ACL entry (initiator names, and address rules as "address:RULE").
DeviceState tgt_device_state(const std::string& device, const std::string& port_id, const TgtShow& show,
                             const std::vector<TgtVolumeFile>& volumes, const std::vector<std::string>& pools,
                             const TgtNaming& naming);

// The volume a logical unit presents, if its backing file is one of `volumes`
// (by path, else by device and inode).
const TgtVolumeFile* tgt_volume_of(const TgtLogicalUnit& lu, const std::vector<TgtVolumeFile>& volumes);

}  // namespace farmctl::runtime
