#pragma once
// A thin RAII layer over the SQLite C API, the one place farmctl includes
// <sqlite3.h>. Errors throw SqliteError carrying SQLite's message; statements
// are prepared once and reused (bind, step, reset), which is what keeps bulk
// inventory work fast.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace farmctl::runtime {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  bool busy() const;  // SQLITE_BUSY / SQLITE_LOCKED: another writer holds the database

 private:
  int code_;
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  // Binding is 1-based as in SQLite; returns *this so calls chain.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::uint64_t value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  // Binds without SQLite taking a copy: `value` must stay alive and unchanged
  // until the statement is reset (run() resets). For bulk inserts, where the
  // copies were a large part of the time.
  Statement& bind_static(int index, std::string_view value);
  Statement& bind_static(int index, const std::string& value) { return bind_static(index, std::string_view(value)); }
  Statement& bind_static(int index, const std::optional<std::string>& value) {
    return value ? bind_static(index, *value) : bind_null(index);
  }
  Statement& bind_null(int index);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds every argument in order, starting at 1.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  bool step();  // true: a row is ready; false: done
  void run();   // step to completion, then reset (for writes)
  void reset();

  std::int64_t int64(int column) const;
  int int32(int column) const { return static_cast<int>(int64(column)); }
  double real(int column) const;
  std::string text(int column) const;
  std::string_view text_view(int column) const;  // valid until the next step
  std::optional<std::string> optional_text(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // SQLite checkpoints the WAL every this many pages (32 MB), not its 1,000:
  // an apply commits hundreds of pages at a time, and each checkpoint copies
  // every page it finds (once, however often the WAL holds it) and, with
  // synchronous=FULL, waits for two fsyncs.
  static constexpr int kWalAutocheckpointPages = 8000;

  // Opens (creating if needed) the file with WAL, foreign keys on and
  // synchronous=FULL, so a committed transaction survives power loss.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);  // one or more statements, no results
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  // For statements run many times (per action, per row): prepared on first
  // use, kept for the connection's life, reset before each hand-out.
  Statement& cached(std::string_view sql);
  void reset_cached();  // every cached statement handed out, so that none holds a read open
  std::int64_t last_insert_rowid() const;
  int changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::map<std::string, Statement, std::less<>> cached_;
  // Handed out by cached() since the last reset_cached(), unless there were
  // more hand-outs than statements (a connection never reset): then all.
  std::vector<Statement*> handed_out_;
  bool reset_all_ = false;
};

// Inserts `rows` rows with multi-row INSERT statements of up to kRows rows:
// one statement per row spent most of its time starting and finishing the
// statement (a cursor on every index of the table), not inserting.
//   BatchInsert insert(db, "INSERT INTO t (a, b, c) VALUES ", "(?, ?, 'x')", 2, n);
//   for (n rows) { insert.bind(1, a).bind_static(2, b); insert.end_row(); }
// Each end_row() that completes a statement's rows runs it. Values bound
// static must stay alive until the row's statement has run.
class BatchInsert {
 public:
  static constexpr int kRows = 64;
  BatchInsert(Database& db, std::string_view head, std::string_view row, int params_per_row, std::size_t rows);

  // Parameter `column` (1-based) of the row being added.
  template <class T>
  BatchInsert& bind(int column, const T& value) {
    current().bind(pending_ * params_ + column, value);
    return *this;
  }
  template <class T>
  BatchInsert& bind_static(int column, const T& value) {
    current().bind_static(pending_ * params_ + column, value);
    return *this;
  }
  void end_row();

 private:
  Statement& current() { return left_ < kRows && last_ ? *last_ : full_; }
  int statement_rows() const;

  Database& db_;
  std::string head_;
  std::string row_;
  int params_;
  std::size_t left_;  // rows not yet inserted, pending ones included
  Statement full_;    // kRows rows
  std::optional<Statement> last_;  // the rows % kRows left at the end
  int pending_ = 0;   // rows bound in the current statement
};

// Many multi-row writes of varying sizes on one long-lived connection (an
// apply's journal rows and bindings, commit after commit), where BatchInsert
// serves one bulk insert of a known size: statements for 1 to 8 rows, then
// 16, 24, ... kMaxRows, each prepared on first use and kept, so that n rows
// run as kMaxRows-row statements and at most two more. `sql(rows)` makes the
// text of a statement of that many rows (an INSERT, or an UPDATE by a CASE).
//   MultiRowWrite write(db, intents_sql);
//   write.run(n, [&](Statement& s, std::size_t first, std::size_t count) { bind rows first..first+count });
class MultiRowWrite {
 public:
  static constexpr std::size_t kMaxRows = 64;
  using Sql = std::string (*)(std::size_t rows);
  MultiRowWrite(Database& db, Sql sql) : db_(db), sql_(sql) {}

  // Writes `rows` rows: for each statement, bind(statement, first, count)
  // binds rows [first, first + count), and any parameter all rows share;
  // then the statement runs.
  template <class Bind>
  void run(std::size_t rows, const Bind& bind) {
    for (std::size_t done = 0; done < rows;) {
      std::size_t count = next(rows - done);
      Statement& s = of(count);
      bind(s, done, count);
      s.run();
      done += count;
    }
  }

 private:
  static std::size_t next(std::size_t left);  // the rows of the next statement
  Statement& of(std::size_t rows);

  Database& db_;
  Sql sql_;
  std::array<std::optional<Statement>, 8 + kMaxRows / 8 - 1> statements_;  // 1..8, 16..kMaxRows rows
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
// Immediate, so that a second writer fails at the start rather than midway.
class Transaction {
 public:
  // write: BEGIN IMMEDIATE, the write lock taken at once (no deadlock
  // between two writers upgrading). read: a plain BEGIN, one consistent
  // snapshot that in WAL mode never waits for a writer.
  enum class Kind { write, read };
  explicit Transaction(Database& db, Kind kind = Kind::write);
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace farmctl::runtime
