// Numbered schema migrations, one list per SQL dialect.
//
// Migrate() applies, in order and each in its own transaction, every
// migration whose version is not yet recorded in schema_migrations. It is
// idempotent. A database whose recorded version is newer than the newest
// this binary knows is refused (FailedPrecondition) before anything is
// touched, so an old binary never writes to a schema it does not understand.
// Thread-safety: run once at start-up; concurrent runs from two processes
// are serialised by the database's write lock.
#pragma once

#include <string>
#include <vector>

#include "db/database.h"

namespace cutroom::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& MigrationsFor(Dialect dialect);
int LatestSchemaVersion(Dialect dialect);

// 0 for an empty database.
Result<int> CurrentSchemaVersion(DbSession& db);

struct MigrateReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  // "0001_initial"
};

Result<MigrateReport> Migrate(Database& db, Env* env);

}  // namespace cutroom::db
