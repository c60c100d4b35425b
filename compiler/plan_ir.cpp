#include "compiler/plan_ir.h"

#include <fmt/format.h>
#include "compiler/json_writer.h"

namespace farmctl::plan {

void write_item(json::Writer& w, const Server& s) {
  w.begin_object();
  w.field("name", s.name);
  w.field("tier", s.tier);
  w.field("role", s.role);
  w.field("hw", s.hw);
  if (s.npiv) w.field("npiv", true);
  w.end_object();
}

void write_item(json::Writer& w, const Export& e) {
  w.begin_object();
  w.field("volume", e.volume);
  w.field("server", e.server);
  w.field("target", e.target);
  w.field("protocol", e.protocol);
  w.end_object();
}

void write_item(json::Writer& w, const Volume& v) {
  w.begin_object();
  w.field("id", v.id);
  w.field("size_mb", v.size_mb);
  w.field("shared", v.shared);
  w.field("class", v.cls);
  w.key("raid");
  if (v.raid) w.value(*v.raid);
  else w.null();
  w.key("image");
  if (v.image) {
    w.begin_object();
    w.field("type", v.image->type);
    w.field("name", v.image->name);
    w.end_object();
  } else {
    w.null();
  }
  w.key("backup");
  w.begin_array();
  for (const fml::BackupPolicy& b : v.backup) {
    w.begin_object();
    w.field("level", b.level);
    w.field("schedule", fml::to_string(b.schedule));
    w.field("retain", b.retain);
    w.end_object();
  }
  w.end_array();
  w.key("drivename");
  if (v.drivename) w.value(*v.drivename);
  else w.null();
  w.key("attributes");
  w.begin_object();
  for (const auto& [name, value] : v.attributes) w.field(name, value);
  w.end_object();
  w.end_object();
}

std::string to_json(const Plan& plan) {
  std::string out;
  out.reserve(256 + plan.volumes.size() * 300 + plan.exports.size() * 120 + plan.servers.size() * 120);
  json::Writer w(out);
  w.begin_object();
  w.field("format_version", kFormatVersion);
  w.field("farm", plan.farm);
  w.field("fml_version", plan.fml_version);
  w.key("servers");
  w.begin_array();
  for (const Server& s : plan.servers) write_item(w, s);
  w.end_array();
  w.key("volumes");
  w.begin_array();
  for (const Volume& v : plan.volumes) write_item(w, v);
  w.end_array();
  w.key("exports");
  w.begin_array();
  for (const Export& e : plan.exports) write_item(w, e);
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

std::string to_text(const Plan& plan) {
  std::string out = fmt::format("farm {} fml {}\n", plan.farm, plan.fml_version);
  for (const Server& s : plan.servers)
    out += fmt::format("server {} tier={} role={} hw={}{}\n", s.name, s.tier, s.role, s.hw, s.npiv ? " npiv" : "");
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
