#pragma once
// How a reconcile plan is shown: for people (grouped by server and volume,
// +/~/-/-+ marks, a one-line summary; colour only when asked) and for
// machines (JSON, docs/plan-format.md).
#include <string>

#include "reconciler/action.h"

namespace farmctl::reconcile {

std::string render_plan_text(const ReconcilePlan& plan, bool color);
std::string render_plan_json(const ReconcilePlan& plan);
std::string summary_line(const ReconcilePlan& plan);

}  // namespace farmctl::reconcile
