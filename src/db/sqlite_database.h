// Internal to db/: the SQLite backend's factory, used by Database::Open.
#pragma once

#include "db/database.h"

namespace cutroom::db {

// path: a file path or ":memory:" (one shared in-memory database).
Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path, Env* env,
                                                     const DatabaseOptions& options);

}  // namespace cutroom::db
