// Internal to db/: the PostgreSQL backend's factory, used by Database::Open.
#pragma once

#include "db/database.h"

namespace cutroom::db {

// url: a libpq connection URI, "postgresql://user:password@host:port/db?...".
Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url, const DatabaseOptions& options);

// "?" placeholders to "$1", "$2", ... outside quoted strings and
// identifiers (exposed for tests).
std::string PostgresPlaceholders(std::string_view sql);

}  // namespace cutroom::db
