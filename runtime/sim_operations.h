#pragma once
// What each sim operation does to the simulated devices (the tables of
// sim_store.cpp), and when a device refuses it. See docs/drivers.md,
// "The sim driver", for the table of operations.
#include <functional>
#include <string_view>

#include "runtime/driver.h"
#include "runtime/sqlite.h"

namespace farmctl::runtime {

// Gives the statement for `sql`, prepared once and reset for this use.
using SimSql = std::function<Statement&(std::string_view sql)>;

// Applies `action` inside the caller's transaction. Validates before it
// writes, so a refused action (a permanent failure naming device and volume)
// writes nothing. Throws SqliteError when the store fails.
ActionOutcome apply_sim_action(const SimSql& sql, const DeviceAction& action);

}  // namespace farmctl::runtime
