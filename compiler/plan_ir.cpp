#include "compiler/plan_ir.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace farmctl::plan {
namespace {

using Json = nlohmann::ordered_json;

Json backup_json(const fml::BackupPolicy& b) {
  return Json{{"level", b.level}, {"schedule", fml::to_string(b.schedule)}, {"retain", b.retain}};
}

Json volume_json(const Volume& v) {
  Json j;
  j["id"] = v.id;
  j["size_mb"] = v.size_mb;
  j["shared"] = v.shared;
  j["class"] = v.cls;
  j["raid"] = v.raid ? Json(*v.raid) : Json(nullptr);
  j["image"] = v.image ? Json{{"type", v.image->type}, {"name", v.image->name}} : Json(nullptr);
  Json backup = Json::array();
  for (const fml::BackupPolicy& b : v.backup) backup.push_back(backup_json(b));
  j["backup"] = std::move(backup);
  j["drivename"] = v.drivename ? Json(*v.drivename) : Json(nullptr);
  Json attributes = Json::object();
  for (const auto& [name, value] : v.attributes) attributes[name] = value;
  j["attributes"] = std::move(attributes);
  return j;
}

}  // namespace

std::string to_json(const Plan& plan) {
  Json j;
  j["format_version"] = kFormatVersion;
  j["farm"] = plan.farm;
  j["fml_version"] = plan.fml_version;
  Json servers = Json::array();
  for (const Server& s : plan.servers)
    servers.push_back(Json{{"name", s.name}, {"tier", s.tier}, {"role", s.role}, {"hw", s.hw}});
  j["servers"] = std::move(servers);
  Json volumes = Json::array();
  for (const Volume& v : plan.volumes) volumes.push_back(volume_json(v));
  j["volumes"] = std::move(volumes);
  Json exports = Json::array();
  for (const Export& e : plan.exports)
    exports.push_back(Json{{"volume", e.volume}, {"server", e.server}, {"target", e.target}, {"protocol", e.protocol}});
  j["exports"] = std::move(exports);
  return j.dump(2) + "\n";
}

std::string to_text(const Plan& plan) {
  std::string out = fmt::format("farm {} fml {}\n", plan.farm, plan.fml_version);
  for (const Server& s : plan.servers)
    out += fmt::format("server {} tier={} role={} hw={}\n", s.name, s.tier, s.role, s.hw);
  for (const Volume& v : plan.volumes) {
    std::string backup;
    for (const fml::BackupPolicy& b : v.backup)
      backup += fmt::format("{}{}:{}:{}", backup.empty() ? "" : ",", b.level, fml::to_string(b.schedule), b.retain);
    out += fmt::format("volume {} {}MB {}{} raid={} image={} backup=[{}]", v.id, v.size_mb, v.cls,
                       v.shared ? " shared" : "", v.raid.value_or("-"),
                       v.image ? v.image->type + ":" + v.image->name : "-", backup);
    if (v.drivename) out += fmt::format(" drivename={}", *v.drivename);
    for (const auto& [name, value] : v.attributes) out += fmt::format(" {}={}", name, value);
    out += "\n";
  }
  for (const Export& e : plan.exports)
    out += fmt::format("export {} -> {} t{} {}\n", e.volume, e.server, e.target, e.protocol);
  return out;
}

}  // namespace farmctl::plan
