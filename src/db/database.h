// Database: cutroom's relational store, behind an interface.
//
// Callers write SQL with '?' placeholders in the subset SQLite and PostgreSQL
// share (backends translate placeholders), pass parameters as DbValue and get
// DbRows back; no driver type leaves db/. Database::Open picks the backend
// from the URL (sqlite://PATH, or postgresql://USER:PASSWORD@HOST:PORT/DB).
// Where the dialects differ (full-text search, JSON arrays) callers branch
// on dialect() or use the helpers at the end of this file.
//
// Errors are mapped in one place per backend: unique violations become
// AlreadyExists, foreign-key violations FailedPrecondition, lock timeouts
// Unavailable, a file that is not a database Corruption.
//
// Thread-safety: a Database is safe to use from many threads; each call
// borrows a pooled connection. A DbSession handed to a Transaction callback
// belongs to that callback's thread for the callback's duration.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/env.h"
#include "core/result.h"

namespace cutroom::db {

// NULL, INTEGER, REAL or TEXT.
using DbValue = std::variant<std::monostate, int64_t, double, std::string>;

inline bool IsNull(const DbValue& v) { return std::holds_alternative<std::monostate>(v); }

// A query result, materialised. Queries that may return many rows page with
// LIMIT, so results stay small.
struct DbRows {
  std::vector<std::string> columns;
  std::vector<std::vector<DbValue>> rows;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  // Index of a column by name, or -1.
  int ColumnIndex(std::string_view name) const;
  std::optional<std::string> Text(size_t row, std::string_view column) const;
  std::optional<int64_t> Int(size_t row, std::string_view column) const;
  std::optional<double> Real(size_t row, std::string_view column) const;
};

enum class Dialect { kSqlite, kPostgres };

// Something SQL runs on: the pooled Database, or one connection inside a
// transaction.
class DbSession {
 public:
  virtual ~DbSession() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement; returns the number of rows it changed.
  virtual Result<int64_t> Execute(std::string_view sql, const std::vector<DbValue>& params = {}) = 0;
  virtual Result<DbRows> Query(std::string_view sql, const std::vector<DbValue>& params = {}) = 0;
  // Runs several ';'-separated statements without parameters (migrations).
  virtual Status ExecuteScript(std::string_view sql) = 0;
};

struct DatabaseOptions {
  int busy_timeout_ms = 5000;
  // When false, opening a database that does not exist yet fails.
  bool create_if_missing = true;
};

// Wakes a waiter when another process signals a channel (PostgreSQL
// LISTEN/NOTIFY), so idle workers pick up new jobs at once rather than at
// their next poll.
class ChannelListener {
 public:
  virtual ~ChannelListener() = default;
  // Waits up to timeout_ms; true when the channel was signalled (one or
  // more times) since the last call. Unavailable when the connection broke
  // (the caller may Listen again later).
  virtual Result<bool> Wait(int timeout_ms) = 0;
};

class Database : public DbSession {
 public:
  // url: "sqlite://PATH", "sqlite::memory:" or "postgresql://...".
  static Result<std::unique_ptr<Database>> Open(const std::string& url, Env* env, const DatabaseOptions& options);

  // Runs fn in a transaction on one connection. Commits when fn returns OK;
  // rolls back and returns fn's status otherwise. Write transactions take
  // the write lock at BEGIN so two writers never deadlock on upgrade.
  virtual Status Transaction(const std::function<Status(DbSession&)>& fn) = 0;

  // Cheap reachability check for /readyz.
  virtual Status Ping() = 0;

  // A listener on channel on its own connection; NotSupported where the
  // backend has no notifications (SQLite: one process, callers poll).
  virtual Result<std::unique_ptr<ChannelListener>> Listen(const std::string& channel);
  // Signals channel (delivered when the surrounding transaction commits);
  // a no-op where there are no notifications.
  static Status Signal(DbSession& session, const std::string& channel);

  // A human description without credentials ("sqlite:///data/cutroom.db").
  virtual std::string Describe() const = 0;
};

// A FROM item with one row per element of a JSON array column, the element
// as text in <alias>.value: json_each in SQLite, jsonb_array_elements_text
// in PostgreSQL.
std::string JsonArrayElements(Dialect dialect, std::string_view column, std::string_view alias);

// Whether a status says the database file itself is damaged (SQLite's
// SQLITE_CORRUPT, "database_corrupt: ..." naming the file and what to do):
// the API's 500 database_corrupt, a problem for `cutroom fsck`.
bool IsDatabaseCorrupt(const Status& status);
Status DatabaseCorrupt(const std::string& file, const std::string& detail);

}  // namespace cutroom::db
