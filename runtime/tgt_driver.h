#pragma once
// The tgt driver: a disk array that is one Linux SCSI target daemon (tgtd,
// Debian's `tgt`) serving iSCSI, with its volumes as files in a directory.
// See docs/drivers.md, "The tgt driver", for the wiring-map attributes, the
// naming scheme (one target per host, FML target N = LUN N+1) and what each
// operation does to tgtd.
//
//   <array name="tgt1" driver="tgt" portal="127.0.0.1:3260" dir="/var/lib/farmctl/tgt"
//          control-port="0" protocols="iscsi">
//     <port id="p0" iqn="iqn.2026-11.org.example:tgt1"/>
//     <pool name="p0" size="100GB"/>
//   </array>
//
// It talks to tgtd through its management socket (tgt_admin_client.h): one
// full show per discovery, and only the requests an action needs. What tgtd
// holds is cached between actions of one process and read again when tgtd
// says the cache was wrong (a target or LUN made or removed behind its back).
#include <memory>

#include "runtime/driver.h"

namespace farmctl::runtime {

std::unique_ptr<Driver> make_tgt_driver(const DriverContext& context);

}  // namespace farmctl::runtime
