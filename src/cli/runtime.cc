#include "cli/runtime.h"

#include <spdlog/spdlog.h>

#include "db/migrations.h"

namespace cutroom::cli {

Status OpenRuntime(Runtime& rt) {
  rt.ids = std::make_unique<IdGenerator>(rt.env);
  db::DatabaseOptions options;
  options.busy_timeout_ms = static_cast<int>(rt.config.GetInt("database.busy_timeout_ms"));
  std::string url = rt.config.GetString("database.url");
  CUTROOM_ASSIGN_OR_RETURN(rt.db, db::Database::Open(url, rt.env, options));
  CUTROOM_ASSIGN_OR_RETURN(auto report, db::Migrate(*rt.db, rt.env));
  for (const auto& name : report.applied) spdlog::info("applied migration {}", name);
  CUTROOM_ASSIGN_OR_RETURN(rt.blobs, storage::BlobStore::Open(rt.config.GetString("storage.blob_url"), rt.env));
  return Status::Ok();
}

}  // namespace cutroom::cli
