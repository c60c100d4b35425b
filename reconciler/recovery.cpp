#include "reconciler/recovery.h"

#include <fmt/format.h>

#include "reconciler/action.h"
#include "reconciler/recorder.h"

namespace farmctl::reconcile {

RecoveryReport recover_interrupted_actions(runtime::Inventory& inventory, runtime::DriverSet& drivers) {
  RecoveryReport report;
  for (const runtime::Inventory::JournalEntry& entry : inventory.open_journal_entries()) {
    Action action;
    runtime::ActionOutcome outcome;
    try {
      action = action_from_json(entry.action_json);
      outcome = drivers.driver_for(action.device).run(drivers.config(action.device), action.device_action);
    } catch (const std::exception& e) {
      outcome = runtime::ActionOutcome::permanent(e.what());
    }
    inventory.write([&] {
      if (outcome.ok()) {
        runtime::RowId farm_id = inventory.ensure_farm(entry.farm);
        record_success(inventory, farm_id, entry.farm, action);
      }
      inventory.journal_outcome(entry.id, outcome.ok() ? "done" : "failed",
                                outcome.ok() ? "finished by recovery after an interrupted apply"
                                             : "recovery failed: " + outcome.message);
    });
    (outcome.ok() ? report.recovered : report.failed)++;
    report.lines.push_back(fmt::format("{} {} ({}) of farm {}, interrupted in run {}: {}", entry.op, action.detail,
                                       entry.device, entry.farm, entry.run_id,
                                       outcome.ok() ? "finished now" : "failed: " + outcome.message));
  }
  return report;
}

}  // namespace farmctl::reconcile
