#include "cli/runtime.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "analysis/stages.h"
#include "edit/ai_edit_jobs.h"
#include "api/import_job.h"
#include "db/migrations.h"
#include "ingest/remote_source.h"

namespace cutroom::cli {

Status OpenRuntime(Runtime& rt) {
  rt.ids = std::make_unique<IdGenerator>(rt.env);
  db::DatabaseOptions options;
  options.busy_timeout_ms = static_cast<int>(rt.config.GetInt("database.busy_timeout_ms"));
  std::string url = rt.config.GetString("database.url");
  CUTROOM_ASSIGN_OR_RETURN(rt.db, db::Database::Open(url, rt.env, options));
  CUTROOM_ASSIGN_OR_RETURN(auto report, db::Migrate(*rt.db, rt.env));
  for (const auto& name : report.applied) spdlog::info("applied migration {}", name);
  // The store gets the whole config: S3 needs its endpoint, region and staging dir.
  CUTROOM_ASSIGN_OR_RETURN(rt.blobs, storage::BlobStore::Open(rt.config, rt.env));
  rt.events = std::make_unique<jobs::EventLog>(rt.db.get(), rt.env);
  rt.queue = std::make_unique<jobs::JobQueue>(rt.db.get(), rt.env, rt.ids.get(), rt.events.get());
  CUTROOM_ASSIGN_OR_RETURN(auto limits, jobs::JobQueue::ParseLimits(rt.config.GetString("jobs.global_limits")));
  rt.queue->SetGlobalLimits(std::move(limits));
  ingest::SetRemoteCacheBytes(
      static_cast<uint64_t>(std::max<int64_t>(0, rt.config.GetInt("ingest.reference_cache_mb"))) << 20);
  return Status::Ok();
}

jobs::WorkerPool& MakeWorkers(Runtime& rt, int count) {
  jobs::WorkerPoolOptions options;
  options.workers = count > 0 ? count : static_cast<int>(std::max<int64_t>(1, rt.config.GetInt("workers.count")));
  options.lease_ms = std::clamp<int64_t>(rt.config.GetInt("workers.lease_ms"), 1000, 3'600'000);
  rt.workers = std::make_unique<jobs::WorkerPool>(
      rt.queue.get(), jobs::JobServices{rt.env, rt.db.get(), rt.blobs.get(), rt.ids.get(), &rt.config}, options);
  analysis::RegisterStages(*rt.workers);
  edit::RegisterEditJobs(*rt.workers);
  api::ServerDeps deps{rt.env, &rt.config, rt.db.get(), rt.blobs.get(), rt.ids.get(), rt.queue.get(), {}};
  Status imports = api::RegisterImportJobs(*rt.workers, deps);
  if (!imports.ok()) spdlog::warn("URL imports will not run here: {}", imports.ToString());
  return *rt.workers;
}

Result<int> RunJobsToCompletion(Runtime& rt, const std::vector<std::string>& first_ids, const FollowJobs& follow) {
  if (first_ids.empty()) return 0;
  std::vector<std::string> job_ids = first_ids;
  std::set<std::string> followed;
  jobs::WorkerPool& pool = MakeWorkers(rt);
  pool.Start();
  bool tty = ::isatty(STDERR_FILENO);
  std::map<std::string, std::string> last_line;
  int not_succeeded = 0;
  while (true) {
    bool all_done = true;
    not_succeeded = 0;
    for (size_t k = 0; k < job_ids.size(); ++k) {
      const std::string id = job_ids[k];
      CUTROOM_ASSIGN_OR_RETURN(auto job, rt.queue->Get(id));
      bool done = job.status == "succeeded" || job.status == "failed" || job.status == "cancelled";
      // Jobs this one queued (an AI edit's renders) are waited for by the
      // same pool, which would otherwise be stopped under them.
      if (done && job.status == "succeeded" && follow && followed.insert(id).second) {
        for (auto& more : follow(job)) {
          if (std::find(job_ids.begin(), job_ids.end(), more) == job_ids.end()) {
            job_ids.push_back(more);
            all_done = false;
          }
        }
      }
      all_done &= done;
      if (done && job.status != "succeeded") ++not_succeeded;
      int pct = static_cast<int>(job.progress * 100);
      std::string line = job.kind + " " + job.status + (done ? "" : " " + std::to_string(pct) + "%");
      if (job.error && done && job.status != "succeeded") line += ": " + *job.error;
      if (line != last_line[id]) {
        last_line[id] = line;
        if (tty && !done) {
          int filled = pct / 4;
          std::fprintf(stderr, "\r%-14s [%s%s] %3d%%", job.kind.c_str(),
                       std::string(static_cast<size_t>(filled), '#').c_str(),
                       std::string(static_cast<size_t>(25 - filled), '.').c_str(), pct);
        } else {
          std::fprintf(stderr, "%s%s\n", tty ? "\r" : "", line.c_str());
        }
      }
    }
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  pool.Stop();
  return not_succeeded;
}

}  // namespace cutroom::cli
