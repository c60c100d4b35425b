// The tgt naming scheme and its reverse: see tgt_naming.h.
#include "runtime/tgt_naming.h"

#include <sys/stat.h>

#include <map>
#include <unordered_map>

namespace farmctl::runtime {

std::string tgt_host_label(std::string_view host) {
  std::string out;
  out.reserve(host.size());
  for (char c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out.push_back(keep ? c : '-');
  }
  return out;
}

std::string tgt_unit_serial(std::string_view volume) {
  std::string out;
  for (char c : volume.substr(0, 36)) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-';
    out.push_back(keep ? c : '-');
  }
  return out;
}

TgtNaming::TgtNaming(std::string prefix, const std::map<std::string, std::string>& initiator_hosts)
    : prefix_(std::move(prefix)), initiator_hosts_(initiator_hosts) {
  for (const auto& [initiator, host] : initiator_hosts_) hosts_by_label_.emplace(tgt_host_label(host), host);
}

std::string TgtNaming::target_of_host(std::string_view host) const {
  // A host name discovery made up for a target outside the prefix is that target's name.
  bool known = hosts_by_label_.count(tgt_host_label(host)) > 0;
  if (!known && is_initiator_name(host)) return std::string(host);
  return prefix_ + ":" + tgt_host_label(host);
}

std::optional<std::string> TgtNaming::host_of_target(std::string_view target) const {
  if (target.size() <= prefix_.size() + 1 || target.substr(0, prefix_.size()) != prefix_ ||
      target[prefix_.size()] != ':')
    return std::nullopt;
  std::string_view label = target.substr(prefix_.size() + 1);
  auto it = hosts_by_label_.find(label);
  return it != hosts_by_label_.end() ? it->second : std::string(label);
}

std::optional<std::string> TgtNaming::host_of_initiator(std::string_view initiator) const {
  auto it = initiator_hosts_.find(std::string(initiator));
  if (it == initiator_hosts_.end()) return std::nullopt;
  return it->second;
}

const TgtVolumeFile* tgt_volume_of(const TgtLogicalUnit& lu, const std::vector<TgtVolumeFile>& volumes) {
  if (lu.backing_path.empty()) return nullptr;
  for (const TgtVolumeFile& v : volumes)
    if (v.path == lu.backing_path) return &v;
  struct stat st {};
  if (::stat(lu.backing_path.c_str(), &st) != 0) return nullptr;
  for (const TgtVolumeFile& v : volumes)
    if (v.dev == st.st_dev && v.ino == st.st_ino) return &v;
  return nullptr;
}

DeviceState tgt_device_state(const std::string& device, const std::string& port_id, const TgtShow& show,
                             const std::vector<TgtVolumeFile>& volumes, const std::vector<std::string>& pools,
                             const TgtNaming& naming) {
  DeviceState state;
  state.device = device;
  state.system = {std::string(kTgtScsiVendor), std::string(kTgtScsiProduct), ""};
  for (const std::string& pool : pools) state.pools.push_back({pool, 0, ""});
  for (const TgtVolumeFile& v : volumes)
    state.volumes.push_back({v.id, v.size_bytes / (1024 * 1024), v.pool, {}, false, ""});

  std::unordered_map<std::string, std::size_t> volume_index;
  for (std::size_t i = 0; i < state.volumes.size(); ++i) volume_index.emplace(state.volumes[i].id, i);
  std::unordered_map<std::string, const TgtVolumeFile*> by_path;
  for (const TgtVolumeFile& v : volumes) by_path.emplace(v.path, &v);
  auto volume_of = [&](const TgtLogicalUnit& lu) -> const TgtVolumeFile* {
    auto it = by_path.find(lu.backing_path);
    return it != by_path.end() ? it->second : tgt_volume_of(lu, volumes);
  };

  for (const TgtTarget& t : show.targets) {
    std::string host = naming.host_of_target(t.name).value_or(t.name);
    for (const TgtLogicalUnit& lu : t.luns) {
      if (lu.lun == 0) continue;
      const TgtVolumeFile* v = volume_of(lu);
      if (v == nullptr) continue;
      int fml_target = TgtNaming::fml_target(lu.lun);
      if (std::string& serial = state.volumes[volume_index.at(v->id)].serial; serial.empty()) serial = lu.serial;
      state.mappings.push_back({host, device, v->id, fml_target, fml_target});
      for (const std::string& name : t.acl_names) state.maskings.push_back({v->id, name, port_id, fml_target});
      for (const std::string& rule : t.acl_addresses)
        state.maskings.push_back({v->id, std::string(kTgtAddressRule) + rule, port_id, fml_target});
    }
  }
  return state;
}

}  // namespace farmctl::runtime
