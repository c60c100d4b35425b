#include "service/service_json.h"

namespace farmctl::service {
namespace {

template <class T>
Json or_null(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

Json to_json(const WorkOrder& o) {
  return {{"id", o.id},
          {"account", o.account},
          {"account_id", o.account_id},
          {"submitted_by", o.submitted_by},
          {"type", o.type},
          {"parameters", o.parameters},
          {"description", o.description},
          {"farm", o.farm},
          {"state", o.state},
          {"farm_revision", or_null(o.farm_revision)},
          {"quantity", o.quantity},
          {"unit", o.unit},
          {"attempts", o.attempts},
          {"reason", o.reason},
          {"comment", o.comment},
          {"created_at", o.created_at},
          {"opened_at", or_null(o.opened_at)},
          {"finished_at", or_null(o.finished_at)},
          {"updated_at", o.updated_at}};
}

Json to_json(const BillableEvent& e) {
  return {{"id", e.id},
          {"account", e.account},
          {"account_id", e.account_id},
          {"work_order", e.work_order_id != 0 ? Json(e.work_order_id) : Json(nullptr)},
          {"backup_copy", or_null(e.backup_id)},
          {"type", e.type},
          {"quantity", e.quantity},
          {"unit", e.unit},
          {"comment", e.comment},
          {"time", e.created_at}};
}

Json to_json(const FarmStatus& s) {
  return {{"status", s.status},
          {"reason", s.reason},
          {"message", s.message},
          {"observed_revision", s.observed_revision},
          {"failures", s.failures},
          {"next_attempt_at", or_null(s.next_attempt_at)},
          {"last_transition_at", s.last_transition_at}};
}

Json to_json(const Account& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"level", to_string(a.level)},
          {"quota_mb", or_null(a.quota_mb)},
          {"created_at", a.created_at}};
}

Json to_json(const OrderType& t) {
  Json params = Json::array();
  for (const ParamSpec& p : t.params) {
    Json j{{"name", p.name}, {"type", to_string(p.type)}, {"required", p.required},
                     {"description", p.description}};
    if (p.type == ParamType::integer) {
      j["min"] = p.min;
      j["max"] = p.max;
    }
    params.push_back(std::move(j));
  }
  return {{"name", t.name}, {"title", t.title}, {"description", t.description}, {"parameters", params}};
}

}  // namespace farmctl::service
