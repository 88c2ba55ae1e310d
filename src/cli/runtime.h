// Runtime: what every subcommand needs, opened from the configuration in
// one place: logging, the database (migrated), the blob store and the id
// generator. Errors come back as Status for the command to print.
#pragma once

#include <memory>

#include "core/config.h"
#include "core/ids.h"
#include "db/database.h"
#include "storage/blob_store.h"

namespace cutroom::cli {

struct Runtime {
  Env* env = Env::Default();
  Config config = Config::Defaults();
  std::unique_ptr<IdGenerator> ids;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<storage::BlobStore> blobs;
};

// Opens the database (running migrations) and the blob store.
Status OpenRuntime(Runtime& rt);

}  // namespace cutroom::cli
