#pragma once
// The inventory's invariants (farmctl inventory check; asserted after every
// step of the scenario tests):
//   - every disk unit is in exactly one state of the diagram, consistent with
//     its owner (Free units have no farm, no plan id, no binding);
//   - meta members agree with their head (same farm, state Member);
//   - no LUN is bound or mapped to a host outside the farm that owns it;
//   - a disk that belonged to a farm is scrubbed before it is Free;
//   - no host is placed twice;
//   - when devices are given: they agree with the inventory (every recorded
//     masking, mapping, zone and carved volume exists; nothing of a farm is
//     masked or mapped that the inventory does not record).
#include <map>
#include <string>
#include <vector>

#include "runtime/driver.h"
#include "runtime/inventory.h"

namespace farmctl::reconcile {

// Each violation is one sentence naming what is wrong. Empty: all hold.
std::vector<std::string> check_invariants(runtime::Inventory& inventory,
                                          const std::map<std::string, runtime::DeviceState>* devices);

}  // namespace farmctl::reconcile
