// Reconcile plans: summaries and the saved-plan file (JSON).
#include "reconciler/action.h"

#include "reconciler/applied_volumes.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "compiler/json_writer.h"

namespace farmctl::reconcile {
namespace {

using Json = nlohmann::ordered_json;
constexpr int kPlanFileVersion = 1;

// ---- writing: streamed (json::Writer), as the journal writes one record per
// action it runs; the fields in the order the readers below expect ----------

template <class T>
void optional_field(json::Writer& w, std::string_view key, const std::optional<T>& v) {
  if (v) w.field(key, *v);
}

void write(json::Writer& w, const runtime::DeviceAction& a) {
  w.begin_object();
  w.field("op", runtime::to_string(a.op));
  w.field("device", a.device);
  w.field("volume", a.volume);
  w.field("pool", a.pool);
  w.field("size_mb", a.size_mb);
  w.field("members", a.members);
  w.field("image", a.image);
  w.field("initiator", a.initiator);
  w.field("port", a.port);
  w.field("host", a.host);
  w.field("array", a.array);
  w.field("lun", a.lun);
  w.field("target", a.target);
  w.field("farm", a.farm);
  if (!a.source.empty()) w.field("source", a.source);
  if (a.level != 0) w.field("level", a.level);
  w.end_object();
}

void write(json::Writer& w, const runtime::VolumeRow& v) {
  w.begin_object();
  w.field("id", v.id);
  w.field("device_id", v.device_id);
  w.field("device_volume", v.device_volume);
  w.field("size_mb", v.size_mb);
  w.field("class", v.cls);
  w.field("origin", v.origin);
  w.field("member_order", v.member_order);
  w.field("state", runtime::to_string(v.state));
  optional_field(w, "raid", v.raid);
  optional_field(w, "pool_id", v.pool_id);
  optional_field(w, "parent_id", v.parent_id);
  optional_field(w, "farm_id", v.farm_id);
  optional_field(w, "plan_volume", v.plan_volume);
  optional_field(w, "image", v.image);
  optional_field(w, "dirty_farm", v.dirty_farm);
  w.end_object();
}

void write(json::Writer& w, const runtime::BindingRow& b) {
  w.begin_object();
  w.field("id", b.id);
  w.field("farm_id", b.farm_id);
  w.field("volume_id", b.volume_id);
  w.field("host_id", b.host_id);
  w.field("server", b.server);
  w.field("target", b.target);
  w.field("lun", b.lun);
  w.field("protocol", b.protocol);
  w.field("initiator", b.initiator);
  w.field("port_id", b.port_id);
  w.field("bound", b.bound);
  w.field("mapped", b.mapped);
  optional_field(w, "gateway_id", b.gateway_id);
  w.end_object();
}

void write(json::Writer& w, const runtime::ZoneRow& z) {
  w.begin_object();
  w.field("id", z.id);
  w.field("farm_id", z.farm_id);
  w.field("fabric_id", z.fabric_id);
  w.field("initiator", z.initiator);
  w.field("port_wwn", z.port_wwn);
  w.end_object();
}

void write(json::Writer& w, const runtime::BackupRow& b) {
  w.begin_object();
  w.field("farm_id", b.farm_id);
  w.field("volume_id", b.volume_id);
  w.field("source", b.source);
  w.field("level", b.level);
  w.field("schedule", b.schedule);
  w.field("taken_at", b.taken_at);
  w.field("size_mb", b.size_mb);
  w.field("manual", b.manual);
  w.end_object();
}

void write(json::Writer& w, const runtime::RestoredRow& r) {
  w.begin_object();
  w.field("farm_id", r.farm_id);
  w.field("volume_id", r.volume_id);
  w.field("source", r.source);
  w.field("copy_taken_at", r.copy_taken_at);
  w.field("restored_at", r.restored_at);
  w.end_object();
}

// After the writers of the rows it may hold (they are found where it is defined).
template <class Optional>  // std::optional or HeapOptional
void optional_object(json::Writer& w, std::string_view key, const Optional& v) {
  if (!v) return;
  w.key(key);
  write(w, *v);
}

void write_vport(json::Writer& w, const Effect& e) {
  w.begin_object();
  w.field("wwpn", e.vport->wwpn);
  w.field("fabric_id", e.vport->fabric_id);
  w.field("farm_id", e.vport->farm_id);
  w.field("server", e.vport->server);
  w.field("from_host", e.vport_from_host);
  w.field("release", e.release_vport);
  optional_field(w, "host_id", e.vport->host_id);
  optional_field(w, "from_host_id", e.vport_from_host_id);
  w.end_object();
}

void write(json::Writer& w, const Effect& e) {
  w.begin_object();
  w.field("volume_row", e.volume_row);
  optional_object(w, "slice", e.slice);
  optional_field(w, "plan_volume", e.plan_volume);
  if (e.state_after) w.field("state_after", runtime::to_string(*e.state_after));
  w.field("members", e.members);
  optional_object(w, "binding", e.binding);
  optional_object(w, "zone", e.zone);
  w.field("teardown", e.teardown);
  w.field("drop_binding", e.drop_binding);
  optional_object(w, "backup", e.backup);
  optional_object(w, "restored", e.restored);
  if (e.vport) {
    w.key("vport");
    write_vport(w, e);
  }
  w.end_object();
}

void write(json::Writer& w, const Action& a) {
  w.begin_object();
  w.field("id", a.id);
  w.field("op", runtime::to_string(a.op));
  w.field("volume", a.volume);
  w.field("server", a.server);
  w.field("device", a.device);
  w.field("depends_on", a.depends_on);
  w.key("device_action");
  write(w, a.device_action);
  w.key("effect");
  write(w, a.effect);
  w.field("detail", a.detail);
  w.end_object();
}

// ---- reading ----------------------------------------------------------------

template <class T>
std::optional<T> get_optional(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<T>();
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

std::string action_to_json(const Action& action) {
  std::string out;
  json::Writer w(out, json::Writer::Layout::compact);
  write(w, action);
  return out;
}

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

void write_changes(json::Writer& w, const std::vector<Change>& changes) {
  w.begin_array();
  for (const Change& c : changes) {
    w.begin_object();
    w.field("kind", to_string(c.kind));
    w.field("subject", c.subject);
    w.field("server", c.server);
    w.field("reason", c.reason);
    w.field("actions", c.actions);
    w.end_object();
  }
  w.end_array();
}

// Streamed: a plan of 90,000 actions is 100 MB of JSON, which a document
// tree took seconds to build and dump. The same bytes as that tree's dump(1).
std::string to_plan_file(const ReconcilePlan& plan) {
  std::string out;
  out.reserve(1100 * plan.actions.size() + 2 * plan.plan_json.size() + plan.volumes_applied.size() + 4096);
  json::Writer w(out, json::Writer::Layout::pretty, 1);
  w.begin_object();
  w.field("plan_file_version", kPlanFileVersion);
  w.field("farm", plan.farm);
  w.field("generation", plan.generation);
  w.field("destroy", plan.destroy);
  w.field("plan_ir", plan.plan_json);
  w.field("volumes_applied", plan.volumes_applied);
  w.key("placements");
  w.begin_array();
  for (const NewPlacement& p : plan.placements) {
    w.begin_object();
    w.field("server", p.server);
    w.field("host_id", p.host_id);
    w.field("host", p.host);
    w.end_object();
  }
  w.end_array();
  w.field("released_servers", plan.released_servers);
  w.key("moves");
  w.begin_array();
  for (const NewPlacement& p : plan.moves) {
    w.begin_object();
    w.field("server", p.server);
    w.field("host_id", p.host_id);
    w.field("host", p.host);
    w.field("from_host_id", p.from_host_id);
    w.field("from_host", p.from_host);
    w.end_object();
  }
  w.end_array();
  w.key("actions");
  w.begin_array();
  for (const Action& a : plan.actions) write(w, a);  // as the journal writes them
  w.end_array();
  w.key("changes");
  write_changes(w, plan.changes);
  w.end_object();
  out += '\n';
  return out;
}

namespace {

// Reads a plan file as a document tree would, except that each element of
// the top-level "actions" array becomes an Action as soon as it is read and
// leaves the tree: the tree of a 90,000-action plan took seconds to build
// and most of a gigabyte. Only once the file said it is of the version read
// here (its first key, as to_plan_file writes it); otherwise the actions stay
// in the tree for the version check to refuse first.
class PlanFileReader : public nlohmann::json_sax<Json> {
 public:
  Json& document() { return root_; }
  std::vector<Action>& actions() { return actions_; }
  // Whether the actions were read as Actions (else they are in the tree).
  bool actions_taken() const { return actions_array_ != nullptr; }

  bool null() override { return add(Json(nullptr)); }
  bool boolean(bool b) override { return add(Json(b)); }
  bool number_integer(number_integer_t n) override { return add(Json(n)); }
  bool number_unsigned(number_unsigned_t n) override { return add(Json(n)); }
  bool number_float(number_float_t n, const string_t&) override { return add(Json(n)); }
  bool string(string_t& s) override { return add(Json(std::move(s))); }
  bool binary(binary_t& b) override { return add(Json::binary(std::move(b))); }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    if (open_.size() == 2 && open_[1] == actions_array_) {  // an action, complete
      actions_.push_back(action_from(actions_array_->back()));
      actions_array_->erase(actions_array_->size() - 1);
    }
    return true;
  }
  bool end_array() override {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw std::runtime_error(std::string("not a farmctl plan file (") + e.what() + ")");
  }

 private:
  // Places a value where the parser is: the root, the next element of an
  // array, or the current key of an object.
  Json* place(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& slot = parent[key_];
    slot = std::move(value);
    if (open_.size() == 1 && key_ == "plan_file_version") version_ok_ = slot == kPlanFileVersion;
    return &slot;
  }
  bool add(Json value) {
    place(std::move(value));
    return true;
  }
  bool open(Json container) {
    bool actions = open_.size() == 1 && key_ == "actions" && version_ok_;
    Json* opened = place(std::move(container));
    if (actions) actions_array_ = opened;
    open_.push_back(opened);
    return true;
  }

  Json root_;
  std::vector<Json*> open_;  // the containers being read, outermost first
  std::string key_;
  bool version_ok_ = false;
  Json* actions_array_ = nullptr;
  std::vector<Action> actions_;
};

}  // namespace

ReconcilePlan from_plan_file(const std::string& text) {
  PlanFileReader reader;
  try {
    nlohmann::json_sax<Json>* sax = &reader;
    Json::sax_parse(text, sax);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("the plan file is damaged (") + e.what() + ")");
  }
  Json& j = reader.document();
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
    if (reader.actions_taken()) {
      j.at("actions");  // present, if emptied as it was read
      plan.actions = std::move(reader.actions());
    } else {
      for (const Json& a : j.at("actions")) plan.actions.push_back(action_from(a));
    }
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
