// LoggedApply: see logged_apply.h.
#include "service/logged_apply.h"

namespace farmctl::service {
namespace {

std::string_view outcome_name(const runtime::ActionOutcome& o) {
  switch (o.status) {
    case runtime::ActionOutcome::Status::ok: return "ok";
    case runtime::ActionOutcome::Status::transient_failure: return "transient_failure";
    case runtime::ActionOutcome::Status::permanent_failure: return "permanent_failure";
  }
  return "ok";
}

}  // namespace

void LoggedApply::started(const reconcile::Action& a) {
  log_.info("action.started", {{"farm", farm_},
                               {"action", a.id},
                               {"op", runtime::to_string(a.op)},
                               {"device", a.device},
                               {"detail", a.detail}});
}

void LoggedApply::finished(const reconcile::Action& a, const runtime::ActionOutcome& o, int attempts) {
  metrics_.action_finished(runtime::to_string(a.op), outcome_name(o));
  nlohmann::json fields{{"farm", farm_},     {"action", a.id},          {"op", runtime::to_string(a.op)},
                        {"device", a.device}, {"outcome", outcome_name(o)}, {"attempts", attempts}};
  if (!o.message.empty()) fields["message"] = o.message;
  if (o.ok())
    log_.info("action.finished", std::move(fields));
  else
    log_.warn("action.finished", std::move(fields));
}

void LoggedApply::skipped(const reconcile::Action& a, int because_of) {
  log_.warn("action.skipped", {{"farm", farm_}, {"action", a.id}, {"op", runtime::to_string(a.op)},
                               {"because_of", because_of}});
}

void LoggedApply::rolling_back(int compensations) {
  log_.warn("apply.rolling_back", {{"farm", farm_}, {"compensations", compensations}});
}

}  // namespace farmctl::service
