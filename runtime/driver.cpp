#include "runtime/driver.h"

#include <array>
#include <set>

#include "runtime/sim_driver.h"
#include "runtime/tgt_driver.h"

namespace farmctl::runtime {

void Driver::declare_all(const std::vector<DeviceConfig>& devices,
                         const std::function<DeviceState(std::size_t)>& declared,
                         const std::function<bool()>& go_ahead) {
  if (!go_ahead()) return;
  for (std::size_t i = 0; i < devices.size(); ++i) declare(devices[i], declared(i));
}
namespace {

constexpr std::array<std::pair<Op, std::string_view>, 16> kOpNames{{
    {Op::allocate, "allocate"},
    {Op::meta, "meta"},
    {Op::grow, "grow"},
    {Op::copy, "copy"},
    {Op::bind, "bind"},
    {Op::map, "map"},
    {Op::zone, "zone"},
    {Op::unmap, "unmap"},
    {Op::unbind, "unbind"},
    {Op::unzone, "unzone"},
    {Op::scrub, "scrub"},
    {Op::break_meta, "break"},
    {Op::deallocate, "deallocate"},
    {Op::snap, "snap"},
    {Op::restore, "restore"},
    {Op::vport, "vport"},
}};

}  // namespace

std::string_view to_string(Op op) {
  for (const auto& [o, name] : kOpNames)
    if (o == op) return name;
  return "?";
}

std::optional<Op> op_from_string(std::string_view name) {
  for (const auto& [o, n] : kOpNames)
    if (n == name) return o;
  return std::nullopt;
}

std::optional<Op> compensation_of(Op op) {
  switch (op) {
    case Op::allocate: return Op::deallocate;
    case Op::meta: return Op::break_meta;
    case Op::copy: return Op::scrub;
    case Op::bind: return Op::unbind;
    case Op::map: return Op::unmap;
    case Op::zone: return Op::unzone;
    case Op::deallocate: return Op::allocate;
    case Op::break_meta: return Op::meta;
    case Op::unbind: return Op::bind;
    case Op::unmap: return Op::map;
    case Op::unzone: return Op::zone;
    case Op::snap: return Op::deallocate;  // a half-taken copy is freed (scrubbed first: rollback.cpp)
    case Op::vport: return Op::vport;
    case Op::grow:
    case Op::restore:  // what the disk held before is gone: only another restore brings it back
    case Op::scrub: return std::nullopt;
  }
  return std::nullopt;
}

std::string_view to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::array: return "array";
    case DeviceKind::gateway: return "gateway";
    case DeviceKind::fabric: return "fabric";
  }
  return "?";
}

void complete_discovery(const DeviceConfig& device, DeviceState& state) {
  if (state.target_ports.empty() && device.kind == DeviceKind::array)
    for (const DevicePort& p : device.ports) state.target_ports.push_back({p.id, p.wwn, p.iqn});
  std::set<std::string> initiators(state.initiator_ports.begin(), state.initiator_ports.end());
  for (const DeviceMasking& m : state.maskings) initiators.insert(m.initiator);
  for (const DeviceZone& z : state.zones) initiators.insert(z.initiator);
  state.initiator_ports.assign(initiators.begin(), initiators.end());
}

std::unique_ptr<Driver> make_driver(std::string_view family, const DriverContext& context) {
  if (family == "sim") return make_sim_driver(context);
  if (family == "tgt") return make_tgt_driver(context);
  throw DeviceError("unknown driver '" + std::string(family) + "' (farmctl has: sim, tgt)");
}

}  // namespace farmctl::runtime
