#pragma once
// Creates and upgrades the inventory's schema (inventory_schema.cpp holds the
// migrations and what each table means).
#include <stdexcept>

#include "runtime/sqlite.h"

namespace farmctl::runtime {

class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int latest_schema_version();
// Brings the database up to the latest version; refuses a newer one.
void migrate(Database& db);
// Throws SchemaError when SQLite finds the file corrupt.
void check_schema(Database& db);

// The allocator's index of free pre-carved volumes (schema version 3). A
// bulk import drops it and makes it again once the rows are in: sorting a
// million entries once is many times faster than inserting them one by one.
void drop_free_volumes_index(Database& db);
void create_free_volumes_index(Database& db);

}  // namespace farmctl::runtime
