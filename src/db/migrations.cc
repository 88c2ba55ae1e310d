#include "db/migrations.h"

#include <cstdio>

namespace cutroom::db {

const std::vector<Migration>& SqliteMigrations();    // sqlite_schema.cc
const std::vector<Migration>& PostgresMigrations();  // postgres_schema.cc

const std::vector<Migration>& MigrationsFor(Dialect dialect) {
  static const std::vector<Migration> kNone;
  switch (dialect) {
    case Dialect::kSqlite: return SqliteMigrations();
    case Dialect::kPostgres: return PostgresMigrations();
  }
  return kNone;
}

int LatestSchemaVersion(Dialect dialect) {
  const auto& m = MigrationsFor(dialect);
  return m.empty() ? 0 : m.back().version;
}

Result<int> CurrentSchemaVersion(DbSession& db) {
  // Processes that start together migrate one at a time: SQLite's write
  // lock does this by itself; PostgreSQL gets a transaction-scoped
  // advisory lock (a no-op outside a transaction).
  if (db.dialect() == Dialect::kPostgres) {
    CUTROOM_RETURN_IF_ERROR(db.Query("SELECT pg_advisory_xact_lock(7212300001)").status());
  }
  CUTROOM_RETURN_IF_ERROR(db.ExecuteScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"));
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations"));
  return static_cast<int>(rows.Int(0, "v").value_or(0));
}

Result<MigrateReport> Migrate(Database& db, Env* env) {
  MigrateReport report;
  CUTROOM_ASSIGN_OR_RETURN(report.from_version, CurrentSchemaVersion(db));
  report.to_version = report.from_version;
  int latest = LatestSchemaVersion(db.dialect());
  if (report.from_version > latest) {
    return Status::FailedPrecondition("database " + db.Describe() + " has schema version " +
                                      std::to_string(report.from_version) + ", newer than this cutroom binary knows (" +
                                      std::to_string(latest) +
                                      "); it was left untouched. Run a newer cutroom, or restore a backup made for "
                                      "this version.");
  }
  for (const Migration& m : MigrationsFor(db.dialect())) {
    char label[16];
    std::snprintf(label, sizeof label, "%04d", m.version);
    std::string name = std::string(label) + "_" + m.name;
    Status st = db.Transaction([&](DbSession& tx) -> Status {
      // Re-check inside the write lock: another process may have applied it.
      CUTROOM_ASSIGN_OR_RETURN(int current, CurrentSchemaVersion(tx));
      if (current >= m.version) return Status::Ok();
      CUTROOM_RETURN_IF_ERROR(tx.ExecuteScript(m.sql).WithContext("migration " + name));
      CUTROOM_RETURN_IF_ERROR(tx.Execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                                         {int64_t{m.version}, m.name, FormatTimestamp(env->NowMs())})
                                  .status());
      report.applied.push_back(name);
      report.to_version = m.version;
      return Status::Ok();
    });
    CUTROOM_RETURN_IF_ERROR(st);
  }
  CUTROOM_ASSIGN_OR_RETURN(report.to_version, CurrentSchemaVersion(db));
  return report;
}

}  // namespace cutroom::db
