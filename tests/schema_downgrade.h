#pragma once
// SQL that takes a current inventory back to an earlier schema version, for
// tests of the migrations that bring it forward again. Each undoes one
// version, newest first; a test going back further runs them in turn.

namespace farmctl::testing {

// Version 9 moved each journal entry's action to journal_actions.
inline constexpr const char* kUndoSchema9 =
    "ALTER TABLE journal ADD COLUMN action_json TEXT NOT NULL DEFAULT '';"
    "UPDATE journal SET action_json = (SELECT action_json FROM journal_actions WHERE entry_id = journal.id);"
    "DROP TABLE journal_actions;";

}  // namespace farmctl::testing
