#pragma once
// Reads tgtd's answer to a full target show (the text `tgtadm --lld iscsi
// --mode target --op show` prints) into plain structs: targets, their
// sessions, logical units, accounts and ACL rules. What those mean to farmctl
// (hosts, volumes, maskings) is tgt_naming.h's business.
//
// The format, tgt 1.0.x (usr/target.c, tgt_target_show_all), indented by 4:
//   Target 1: iqn.2026-11.org.example:tgt1:x01
//       I_T nexus information:
//           I_T nexus: 3
//               Initiator: iqn.2026-11.org.example:x01 alias: none
//               Connection: 0
//       LUN information:
//           LUN: 1
//               Type: disk
//               SCSI ID: IET     00010001
//               SCSI SN: beaf11
//               Backing store path: /var/lib/farmctl/tgt/pools/p0/f1a2b3c4-7
//       Account information:
//       ACL information:
//           iqn.2026-11.org.example:x01
// ACL entries are initiator names and address rules (ALL, 10.0.0.1,
// 10.0.0.0/24) in one list; names are told apart by their iqn./eui./naa.
// prefix. Lines the parser does not know are skipped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace farmctl::runtime {

struct TgtSession {
  std::uint64_t sid = 0;  // tgt's "I_T nexus" number
  std::string initiator;
  std::vector<std::uint32_t> connections;
};

struct TgtLogicalUnit {
  int lun = 0;
  std::string type;          // "controller" (LUN 0), "disk", ...
  std::string backing_path;  // empty when tgt says "None"
  std::string serial = {};   // "SCSI SN": the unit serial number hosts read (VPD page 0x80)
};

struct TgtTarget {
  int tid = 0;
  std::string name;
  std::vector<TgtSession> sessions;
  std::vector<TgtLogicalUnit> luns;  // LUN 0, the controller, included
  std::vector<std::string> accounts;
  std::vector<std::string> acl_names;      // initiator-name rules
  std::vector<std::string> acl_addresses;  // initiator-address rules ("ALL", an address, a network)

  const TgtLogicalUnit* lun(int number) const;
  bool admits_name(std::string_view initiator) const;
  bool has_disks() const;  // any LUN besides the controller
};

struct TgtShow {
  std::vector<TgtTarget> targets;  // in tgtd's order

  TgtTarget* find(std::string_view name);
  const TgtTarget* find(std::string_view name) const;
  int next_free_tid() const;  // one past the highest tid in use
};

// Does an ACL entry name an initiator (rather than an address rule)?
bool is_initiator_name(std::string_view acl_entry);

// Throws DeviceError, naming the line, for a target header it cannot read.
TgtShow parse_tgt_show(std::string_view text);

// One target's connections, as `--mode conn --op show --tid N` prints them:
//   Session: 3
//       Connection: 0
//           Initiator: iqn.2026-11.org.example:x01
//           IP Address: 127.0.0.1
std::vector<TgtSession> parse_tgt_connections(std::string_view text);

}  // namespace farmctl::runtime
