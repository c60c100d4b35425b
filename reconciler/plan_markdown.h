#pragma once
// A reconcile plan as Markdown for a pull-request comment (`farmctl plan
// --format markdown`): a heading and the plan's summary line, a table of the
// destructive changes (a volume destroyed or replaced, a server released),
// then, collapsed in <details> blocks, the device actions per server
// (plan_summary.h) and the other changes. Under markdown::kBudget bytes
// however large the plan: rows that do not fit are counted, not shown.
#include <string>

#include "reconciler/action.h"

namespace farmctl::reconcile {

std::string render_plan_markdown(const ReconcilePlan& plan);

}  // namespace farmctl::reconcile
