#include "runtime/sqlite.h"

#include <sqlite3.h>

namespace farmctl::runtime {
namespace {

[[noreturn]] void fail(sqlite3* db, int code, std::string_view context) {
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw SqliteError(std::string(context) + ": " + message, code);
}

// SQLite binds a null pointer as NULL; an empty view is the empty text (a
// default-constructed string_view has no data pointer).
const char* text_of(std::string_view value) { return value.data() == nullptr ? "" : value.data(); }

}  // namespace

bool SqliteError::busy() const {
  int primary = code_ & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "cannot prepare '" + std::string(sql.substr(0, 80)) + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text(stmt_, index, text_of(value), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view value) {
  int rc = sqlite3_bind_text(stmt_, index, text_of(value), static_cast<int>(value.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  fail(db_, rc, "step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::string_view Statement::text_view(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string Statement::text(int column) const { return std::string(text_view(column)); }

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

Database::Database(const std::string& path) : path_(path) {
  // SQLite counts every allocation under a global mutex for
  // sqlite3_memory_used(), which farmctl never asks; a bulk import makes
  // millions. Settable only before SQLite starts: once, before the first open.
  static const bool no_memory_counts = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)no_memory_counts;
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError("cannot open database " + path + ": " + message, rc);
  }
  sqlite3_busy_timeout(db_, 5000);
  // A 64 MB page cache: bulk imports and plans over a million volumes
  // otherwise spend their time re-reading index pages. Temporary files in
  // memory: each multi-row statement inside a transaction keeps a statement
  // journal, which SQLite otherwise makes as a file in /var/tmp (an apply
  // of 90,000 actions wrote 93,000 times to such files, strace).
  exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; "
       "PRAGMA temp_store=MEMORY;");
  sqlite3_wal_autocheckpoint(db_, kWalAutocheckpointPages);
}

Database::~Database() {
  cached_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

Statement& Database::cached(std::string_view sql) {
  auto it = cached_.find(sql);
  if (it == cached_.end()) it = cached_.emplace(std::string(sql), prepare(sql)).first;
  it->second.reset();
  if (handed_out_.size() < cached_.size()) handed_out_.push_back(&it->second);
  else reset_all_ = true;
  return it->second;
}

// Only what was handed out since the last call can hold a read open: the
// sim resets after every action, and it keeps dozens of statements.
void Database::reset_cached() {
  if (reset_all_)
    for (auto& [_, statement] : cached_) statement.reset();
  else
    for (Statement* statement : handed_out_) statement->reset();
  handed_out_.clear();
  reset_all_ = false;
}

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqliteError(message, rc);
  }
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

namespace {

std::string rows_sql(std::string_view head, std::string_view row, int rows) {
  std::string sql(head);
  for (int i = 0; i < rows; ++i) {
    if (i > 0) sql += ", ";
    sql += row;
  }
  return sql;
}

}  // namespace

BatchInsert::BatchInsert(Database& db, std::string_view head, std::string_view row, int params_per_row,
                         std::size_t rows)
    : db_(db), head_(head), row_(row), params_(params_per_row), left_(rows),
      full_(db.prepare(rows_sql(head, row, kRows))) {
  // Both statements now, so that both are prepared under the connection's
  // settings of this moment (see Importer::sync_volumes).
  if (int tail = static_cast<int>(rows % kRows); tail > 0) last_.emplace(db_.prepare(rows_sql(head_, row_, tail)));
}

int BatchInsert::statement_rows() const { return left_ < kRows ? static_cast<int>(left_) : kRows; }

void BatchInsert::end_row() {
  if (++pending_ < statement_rows()) return;
  current().run();
  left_ -= static_cast<std::size_t>(pending_);
  pending_ = 0;
}

std::size_t MultiRowWrite::next(std::size_t left) {
  if (left >= kMaxRows) return kMaxRows;
  return left >= 8 ? left / 8 * 8 : left;
}

Statement& MultiRowWrite::of(std::size_t rows) {
  std::size_t slot = rows <= 8 ? rows - 1 : 8 + rows / 8 - 2;
  if (!statements_[slot]) statements_[slot].emplace(db_.prepare(sql_(rows)));
  return *statements_[slot];
}

Transaction::Transaction(Database& db, Kind kind) : db_(db) { db_.exec(kind == Kind::write ? "BEGIN IMMEDIATE" : "BEGIN"); }

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // a failed rollback leaves SQLite to roll back on close; nothing better to do in a destructor
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace farmctl::runtime
