#pragma once
// What a work order does to its farm: the edit of the farm's source each
// type makes, checked against the farm as it is now. The API runs it when an
// order arrives (to refuse what cannot be done: an unknown disk, server or
// tier, a disk that would shrink, a farm that would no longer compile); the
// automation runs it again when it carries the order out, against the farm as
// it is then, and stores the result as the farm's next revision.
//
//   allocate-storage  adds <global-disk> (creating the farm when missing)
//   connect-storage   adds <shared-disk> to the server's role, at a free target
//   grow-disk         sets the disk's drivesize (a server's disk: its role's <disk>)
//   scale-tier        sets the tier's <init-servers>
//   migrate-server    changes nothing in the source: the move is made by the
//                     reconcile while the order is open (work_order_automation.h)
//   take-snapshot     changes nothing (not supported yet; the automation fails it)
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "service/farm_source.h"
#include "service/work_order_types.h"

namespace farmctl::service {

struct OrderEdit {
  std::shared_ptr<const FarmSource> result;  // the farm after the edit, compiled
  bool changes = false;                      // false: the farm already is what the order asks
  std::int64_t quantity = 0;                 // for the billable event
  std::string unit;                          // "MB", "servers", "connection", "snapshot", "move"
  std::int64_t added_mb = 0;                 // storage the farm asks for after, minus before
};

// `current` is nullptr when the farm does not exist (only allocate-storage
// creates one). Throws OrderRejected (400, naming the parameter at fault).
OrderEdit plan_order_edit(const OrderType& type, const nlohmann::json& params, std::string_view farm,
                          const std::shared_ptr<const FarmSource>& current);

}  // namespace farmctl::service
