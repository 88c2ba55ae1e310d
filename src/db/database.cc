#include "db/database.h"

#include "db/postgres_database.h"
#include "db/sqlite_database.h"

namespace cutroom::db {

int DbRows::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::optional<std::string> DbRows::Text(size_t row, std::string_view column) const {
  int i = ColumnIndex(column);
  if (i < 0 || row >= rows.size()) return std::nullopt;
  const DbValue& v = rows[row][static_cast<size_t>(i)];
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return std::nullopt;
}

std::optional<int64_t> DbRows::Int(size_t row, std::string_view column) const {
  int i = ColumnIndex(column);
  if (i < 0 || row >= rows.size()) return std::nullopt;
  const DbValue& v = rows[row][static_cast<size_t>(i)];
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<double> DbRows::Real(size_t row, std::string_view column) const {
  int i = ColumnIndex(column);
  if (i < 0 || row >= rows.size()) return std::nullopt;
  const DbValue& v = rows[row][static_cast<size_t>(i)];
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  return std::nullopt;
}

Result<std::unique_ptr<ChannelListener>> Database::Listen(const std::string&) {
  return Status::NotSupported(Describe() + " has no notifications; poll");
}

Status Database::Signal(DbSession& session, const std::string& channel) {
  if (session.dialect() != Dialect::kPostgres) return Status::Ok();
  // Channel names are cutroom's own identifiers, never user input.
  return session.Execute("NOTIFY " + channel).status();
}

std::string JsonArrayElements(Dialect dialect, std::string_view column, std::string_view alias) {
  if (dialect == Dialect::kPostgres) {
    return "jsonb_array_elements_text(" + std::string(column) + "::jsonb) AS " + std::string(alias) + "(value)";
  }
  return "json_each(" + std::string(column) + ") " + std::string(alias);
}

namespace {
constexpr std::string_view kDatabaseCorrupt = "database_corrupt: ";
}  // namespace

bool IsDatabaseCorrupt(const Status& status) {
  return status.IsCorruption() && status.message().find(kDatabaseCorrupt) != std::string::npos;
}

Status DatabaseCorrupt(const std::string& file, const std::string& detail) {
  return Status::Corruption(std::string(kDatabaseCorrupt) + "the database " + file + " is damaged (" + detail +
                            "); stop cutroom and restore it from a backup (docs/deploy.md); `cutroom fsck` "
                            "reports the damage");
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, Env* env, const DatabaseOptions& options) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url == "sqlite::memory:") return OpenSqliteDatabase(":memory:", env, options);
  if (url.rfind(kSqlite, 0) == 0) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) return Status::InvalidArgument("database URL '" + url + "' has no path");
    return OpenSqliteDatabase(path, env, options);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgresDatabase(url, options);
  }
  return Status::InvalidArgument("unsupported database URL '" + url +
                                 "' (expected sqlite://PATH or postgresql://USER:PASSWORD@HOST:PORT/DB)");
}

}  // namespace cutroom::db
