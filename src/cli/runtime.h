// Runtime: what every subcommand needs, opened from the configuration in
// one place: logging, the database (migrated), the blob store and the id
// generator. Errors come back as Status for the command to print.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/config.h"
#include "core/ids.h"
#include "db/database.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/blob_store.h"

namespace cutroom::cli {

struct Runtime {
  Env* env = Env::Default();
  Config config = Config::Defaults();
  std::unique_ptr<IdGenerator> ids;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<jobs::EventLog> events;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<jobs::WorkerPool> workers;  // made by MakeWorkers
};

// Opens the database (running migrations), the blob store and the queue.
Status OpenRuntime(Runtime& rt);

// A worker pool with every built-in stage registered; count <= 0 means
// workers.count. Not started.
jobs::WorkerPool& MakeWorkers(Runtime& rt, int count = 0);

// For a job that succeeded, the jobs it queued that should be waited for too.
using FollowJobs = std::function<std::vector<std::string>(const db::JobRow& job)>;

// Runs a local worker pool until every job in job_ids (and every job
// `follow` adds) has finished, showing progress on a terminal. Returns how
// many did not succeed.
Result<int> RunJobsToCompletion(Runtime& rt, const std::vector<std::string>& job_ids, const FollowJobs& follow = {});

}  // namespace cutroom::cli
