// Reconcile plans: summaries and the saved-plan file (JSON).
#include "reconciler/action.h"

#include "reconciler/applied_volumes.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace farmctl::reconcile {
namespace {

using Json = nlohmann::ordered_json;
constexpr int kPlanFileVersion = 1;

template <class T>
void put_optional(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <class T>
std::optional<T> get_optional(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
}

Json to_json(const runtime::DeviceAction& a) {
  Json j;
  j["op"] = runtime::to_string(a.op);
  j["device"] = a.device;
  j["volume"] = a.volume;
  j["pool"] = a.pool;
  j["size_mb"] = a.size_mb;
  j["members"] = a.members;
  j["image"] = a.image;
  j["initiator"] = a.initiator;
  j["port"] = a.port;
  j["host"] = a.host;
  j["array"] = a.array;
  j["lun"] = a.lun;
  j["target"] = a.target;
  j["farm"] = a.farm;
  if (!a.source.empty()) j["source"] = a.source;
  if (a.level != 0) j["level"] = a.level;
  return j;
}

runtime::DeviceAction device_action_from(const Json& j) {
  runtime::DeviceAction a;
  auto op = runtime::op_from_string(j.at("op").get<std::string>());
  if (!op) throw std::runtime_error("unknown op " + j.at("op").get<std::string>());
  a.op = *op;
  a.device = j.at("device");
  a.volume = j.at("volume");
  a.pool = j.at("pool");
  a.size_mb = j.at("size_mb");
  a.members = j.at("members").get<std::vector<std::string>>();
  a.image = j.at("image");
  a.initiator = j.at("initiator");
  a.port = j.at("port");
  a.host = j.at("host");
  a.array = j.at("array");
  a.lun = j.at("lun");
  a.target = j.at("target");
  a.farm = j.at("farm");
  a.source = j.value("source", std::string());
  a.level = j.value("level", 0);
  return a;
}

Json to_json(const runtime::VolumeRow& v) {
  Json j{{"id", v.id},       {"device_id", v.device_id}, {"device_volume", v.device_volume},
         {"size_mb", v.size_mb}, {"class", v.cls},      {"origin", v.origin},
         {"member_order", v.member_order}, {"state", runtime::to_string(v.state)}};
  put_optional(j, "raid", v.raid);
  put_optional(j, "pool_id", v.pool_id);
  put_optional(j, "parent_id", v.parent_id);
  put_optional(j, "farm_id", v.farm_id);
  put_optional(j, "plan_volume", v.plan_volume);
  put_optional(j, "image", v.image);
  put_optional(j, "dirty_farm", v.dirty_farm);
  return j;
}

runtime::VolumeRow volume_row_from(const Json& j) {
  runtime::VolumeRow v;
  v.id = j.at("id");
  v.device_id = j.at("device_id");
  v.device_volume = j.at("device_volume");
  v.size_mb = j.at("size_mb");
  v.cls = j.at("class");
  v.origin = j.at("origin");
  v.member_order = j.at("member_order");
  v.state = runtime::volume_state_from(j.at("state").get<std::string>());
  v.raid = get_optional<std::string>(j, "raid");
  v.pool_id = get_optional<RowId>(j, "pool_id");
  v.parent_id = get_optional<RowId>(j, "parent_id");
  v.farm_id = get_optional<RowId>(j, "farm_id");
  v.plan_volume = get_optional<std::string>(j, "plan_volume");
  v.image = get_optional<std::string>(j, "image");
  v.dirty_farm = get_optional<std::string>(j, "dirty_farm");
  return v;
}

Json to_json(const runtime::BindingRow& b) {
  Json j{{"id", b.id},         {"farm_id", b.farm_id},     {"volume_id", b.volume_id}, {"host_id", b.host_id},
         {"server", b.server}, {"target", b.target},       {"lun", b.lun},             {"protocol", b.protocol},
         {"initiator", b.initiator}, {"port_id", b.port_id}, {"bound", b.bound},       {"mapped", b.mapped}};
  put_optional(j, "gateway_id", b.gateway_id);
  return j;
}

runtime::BindingRow binding_row_from(const Json& j) {
  runtime::BindingRow b;
  b.id = j.at("id");
  b.farm_id = j.at("farm_id");
  b.volume_id = j.at("volume_id");
  b.host_id = j.at("host_id");
  b.server = j.at("server");
  b.target = j.at("target");
  b.lun = j.at("lun");
  b.protocol = j.at("protocol");
  b.initiator = j.at("initiator");
  b.port_id = j.at("port_id");
  b.bound = j.at("bound");
  b.mapped = j.at("mapped");
  b.gateway_id = get_optional<RowId>(j, "gateway_id");
  return b;
}

Json to_json(const Effect& e) {
  Json j;
  j["volume_row"] = e.volume_row;
  if (e.slice) j["slice"] = to_json(*e.slice);
  put_optional(j, "plan_volume", e.plan_volume);
  if (e.state_after) j["state_after"] = runtime::to_string(*e.state_after);
  j["members"] = e.members;
  if (e.binding) j["binding"] = to_json(*e.binding);
  if (e.zone)
    j["zone"] = Json{{"id", e.zone->id},
                     {"farm_id", e.zone->farm_id},
                     {"fabric_id", e.zone->fabric_id},
                     {"initiator", e.zone->initiator},
                     {"port_wwn", e.zone->port_wwn}};
  j["teardown"] = e.teardown;
  j["drop_binding"] = e.drop_binding;
  if (e.backup)
    j["backup"] = Json{{"farm_id", e.backup->farm_id}, {"volume_id", e.backup->volume_id},
                       {"source", e.backup->source},   {"level", e.backup->level},
                       {"schedule", e.backup->schedule}, {"taken_at", e.backup->taken_at},
                       {"size_mb", e.backup->size_mb}, {"manual", e.backup->manual}};
  if (e.restored)
    j["restored"] = Json{{"farm_id", e.restored->farm_id},
                         {"volume_id", e.restored->volume_id},
                         {"source", e.restored->source},
                         {"copy_taken_at", e.restored->copy_taken_at},
                         {"restored_at", e.restored->restored_at}};
  if (e.vport) {
    Json v{{"wwpn", e.vport->wwpn},
           {"fabric_id", e.vport->fabric_id},
           {"farm_id", e.vport->farm_id},
           {"server", e.vport->server},
           {"from_host", e.vport_from_host},
           {"release", e.release_vport}};
    put_optional(v, "host_id", e.vport->host_id);
    put_optional(v, "from_host_id", e.vport_from_host_id);
    j["vport"] = std::move(v);
  }
  return j;
}

Effect effect_from(const Json& j) {
  Effect e;
  e.volume_row = j.at("volume_row");
  if (j.contains("slice")) e.slice = volume_row_from(j["slice"]);
  e.plan_volume = get_optional<std::string>(j, "plan_volume");
  if (j.contains("state_after")) e.state_after = runtime::volume_state_from(j["state_after"].get<std::string>());
  e.members = j.at("members").get<std::vector<RowId>>();
  if (j.contains("binding")) e.binding = binding_row_from(j["binding"]);
  if (j.contains("zone")) {
    const Json& z = j["zone"];
    e.zone = runtime::ZoneRow{z.at("id"), z.at("farm_id"), z.at("fabric_id"), z.at("initiator"), z.at("port_wwn")};
  }
  e.teardown = j.at("teardown");
  e.drop_binding = j.value("drop_binding", false);
  if (j.contains("backup")) {
    const Json& b = j["backup"];
    runtime::BackupRow r;
    r.farm_id = b.at("farm_id");
    r.volume_id = b.at("volume_id");
    r.source = b.at("source");
    r.level = b.at("level");
    r.schedule = b.at("schedule");
    r.taken_at = b.at("taken_at");
    r.size_mb = b.at("size_mb");
    r.manual = b.at("manual");
    e.backup = r;
  }
  if (j.contains("restored")) {
    const Json& b = j["restored"];
    e.restored = runtime::RestoredRow{0, b.at("farm_id"), b.at("volume_id"), b.at("source"), b.at("copy_taken_at"),
                                      b.at("restored_at")};
  }
  if (j.contains("vport")) {
    const Json& v = j["vport"];
    e.vport = runtime::VirtualPortRow{v.at("wwpn"), v.at("fabric_id"), v.at("farm_id"), v.at("server"),
                                      get_optional<RowId>(v, "host_id")};
    e.vport_from_host = v.value("from_host", std::string());
    e.vport_from_host_id = get_optional<RowId>(v, "from_host_id");
    e.release_vport = v.value("release", false);
  }
  return e;
}

Json action_json(const Action& a) {
  return Json{{"id", a.id},
              {"op", runtime::to_string(a.op)},
              {"volume", a.volume},
              {"server", a.server},
              {"device", a.device},
              {"depends_on", a.depends_on},
              {"device_action", to_json(a.device_action)},
              {"effect", to_json(a.effect)},
              {"detail", a.detail}};
}

Action action_from(const Json& a) {
  Action action;
  action.id = a.at("id");
  auto op = runtime::op_from_string(a.at("op").get<std::string>());
  if (!op) throw std::runtime_error("unknown op " + a.at("op").dump());
  action.op = *op;
  action.volume = a.at("volume");
  action.server = a.at("server");
  action.device = a.at("device");
  action.depends_on = a.at("depends_on").get<std::vector<int>>();
  action.device_action = device_action_from(a.at("device_action"));
  action.effect = effect_from(a.at("effect"));
  action.detail = a.at("detail");
  return action;
}

}  // namespace

std::string action_to_json(const Action& action) { return action_json(action).dump(); }

Action action_from_json(const std::string& text) {
  try {
    return action_from(Json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("a damaged journal entry (") + e.what() + ")");
  }
}

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::create: return "create";
    case ChangeKind::update: return "update";
    case ChangeKind::destroy: return "destroy";
    case ChangeKind::replace: return "replace";
  }
  return "?";
}

std::string_view symbol(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::create: return "+";
    case ChangeKind::update: return "~";
    case ChangeKind::destroy: return "-";
    case ChangeKind::replace: return "-/+";
  }
  return "?";
}

ReconcilePlan::Summary ReconcilePlan::summary() const {
  Summary s;
  for (const Change& c : changes) {
    switch (c.kind) {
      case ChangeKind::create: ++s.create; break;
      case ChangeKind::update: ++s.update; break;
      case ChangeKind::destroy: ++s.destroy; break;
      case ChangeKind::replace: ++s.create, ++s.destroy; break;
    }
  }
  return s;
}

std::string to_plan_file(const ReconcilePlan& plan) {
  Json j;
  j["plan_file_version"] = kPlanFileVersion;
  j["farm"] = plan.farm;
  j["generation"] = plan.generation;
  j["destroy"] = plan.destroy;
  j["plan_ir"] = plan.plan_json;
  j["volumes_applied"] = plan.volumes_applied;
  Json placements = Json::array();
  for (const NewPlacement& p : plan.placements)
    placements.push_back(Json{{"server", p.server}, {"host_id", p.host_id}, {"host", p.host}});
  j["placements"] = std::move(placements);
  j["released_servers"] = plan.released_servers;
  Json moves = Json::array();
  for (const NewPlacement& p : plan.moves)
    moves.push_back(Json{{"server", p.server}, {"host_id", p.host_id}, {"host", p.host},
                         {"from_host_id", p.from_host_id}, {"from_host", p.from_host}});
  j["moves"] = std::move(moves);
  Json actions = Json::array();
  for (const Action& a : plan.actions) actions.push_back(action_json(a));
  j["actions"] = std::move(actions);
  Json changes = Json::array();
  for (const Change& c : plan.changes)
    changes.push_back(Json{{"kind", to_string(c.kind)},
                           {"subject", c.subject},
                           {"server", c.server},
                           {"reason", c.reason},
                           {"actions", c.actions}});
  j["changes"] = std::move(changes);
  return j.dump(1) + "\n";
}

ReconcilePlan from_plan_file(const std::string& text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not a farmctl plan file (") + e.what() + ")");
  }
  try {
    if (j.at("plan_file_version") != kPlanFileVersion)
      throw std::runtime_error("plan file version " + j.at("plan_file_version").dump() + " is not supported");
    ReconcilePlan plan;
    plan.farm = j.at("farm");
    plan.generation = j.at("generation");
    plan.destroy = j.at("destroy");
    plan.plan_json = j.at("plan_ir");
    // Plan files saved before the entries were part of a plan: read them from the IR.
    plan.volumes_applied = j.contains("volumes_applied") ? j.at("volumes_applied").get<std::string>()
                           : plan.destroy                ? std::string()
                                                         : applied_volumes_text_of_plan_json(plan.plan_json);
    for (const Json& p : j.at("placements")) plan.placements.push_back({p.at("server"), p.at("host_id"), p.at("host")});
    plan.released_servers = j.at("released_servers").get<std::vector<std::string>>();
    if (j.contains("moves"))
      for (const Json& p : j.at("moves"))
        plan.moves.push_back({p.at("server"), p.at("host_id"), p.at("host"), p.at("from_host_id"), p.at("from_host")});
    for (const Json& a : j.at("actions")) plan.actions.push_back(action_from(a));
    for (const Json& c : j.at("changes")) {
      Change change;
      std::string kind = c.at("kind");
      change.kind = kind == "create"    ? ChangeKind::create
                    : kind == "update"  ? ChangeKind::update
                    : kind == "destroy" ? ChangeKind::destroy
                                        : ChangeKind::replace;
      change.subject = c.at("subject");
      change.server = c.at("server");
      change.reason = c.at("reason");
      change.actions = c.at("actions").get<std::vector<int>>();
      plan.changes.push_back(std::move(change));
    }
    return plan;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("the plan file is damaged (") + e.what() + ")");
  }
}

}  // namespace farmctl::reconcile
