// WorkerPool: threads that claim jobs from the JobQueue and run handlers.
//
// Each job kind has a handler (registered before Start) and an optional
// concurrency limit for this process (one render at a time on two cores).
// A monitor thread extends the lease of every running job and looks for
// cancellation requests four times a second, so a cancelled job's handler
// sees its CancelToken within a second. Stop() stops claiming, gives running
// jobs a grace period to finish, then cancels them and releases them to the
// queue for another worker (the attempt is not counted).
// Handlers must be idempotent: a re-run replaces the output of its own
// processing run (processing_id) instead of adding to it.
// Thread-safety: Register before Start; everything else is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "jobs/job_queue.h"
#include "storage/blob_store.h"

namespace cutroom::jobs {

enum class StopReason { kNone, kUserCancel, kShutdown, kLeaseLost };

// Set by the pool; polled by handlers at convenient points.
class CancelToken {
 public:
  void Cancel(StopReason reason);
  bool cancelled() const { return reason_.load() != StopReason::kNone; }
  StopReason reason() const { return reason_.load(); }

 private:
  std::atomic<StopReason> reason_{StopReason::kNone};
};

// What handlers may use.
struct JobServices {
  Env* env;
  db::Database* db;
  storage::BlobStore* blobs;
  IdGenerator* ids;
  const Config* config;
};

class JobContext {
 public:
  JobContext(db::JobRow job, JobQueue* queue, JobServices services, std::string worker_id, const CancelToken* token);

  const db::JobRow& job() const { return job_; }
  const JobServices& services() const { return services_; }
  // For handlers that queue follow-up jobs (an AI edit queues its renders).
  JobQueue& queue() const { return *queue_; }
  const std::string& processing_id() const;

  bool cancelled() const { return token_->cancelled(); }
  // Cancelled (with why) once the job should stop; OK otherwise.
  Status CheckCancelled() const;

  // 0..1; written at most every 1% or half second.
  void SetProgress(double progress);
  // A processing_logs row for this job's video and stage.
  void Log(const std::string& level, const std::string& message, const nlohmann::json& data = nlohmann::json::object());

  void set_result(nlohmann::json result) { result_ = std::move(result); }
  const nlohmann::json& result() const { return result_; }

 private:
  db::JobRow job_;
  JobQueue* queue_;
  JobServices services_;
  std::string worker_id_;
  const CancelToken* token_;
  nlohmann::json result_ = nlohmann::json::object();
  double last_progress_ = -1;
  int64_t last_progress_us_ = 0;
};

using JobHandler = std::function<Status(JobContext&)>;

struct WorkerPoolOptions {
  int workers = 2;
  int64_t lease_ms = 30'000;
  int64_t poll_ms = 500;
  int64_t shutdown_grace_ms = 10'000;
};

class WorkerPool {
 public:
  WorkerPool(JobQueue* queue, JobServices services, WorkerPoolOptions options);
  ~WorkerPool();

  // concurrency: most jobs of this kind running at once here (0: no limit).
  void Register(const std::string& kind, JobHandler handler, int concurrency = 0);
  std::set<std::string> kinds() const;

  void Start();
  void Stop();
  // Wakes idle workers (a job was just enqueued in this process).
  void Notify();

  const std::string& id() const { return id_; }
  // Jobs finished by this pool (any outcome), for tests and the CLI.
  int64_t finished() const { return finished_.load(); }

 private:
  struct Registered {
    JobHandler handler;
    int concurrency = 0;
  };
  struct Running {
    db::JobRow job;
    std::shared_ptr<CancelToken> token;
    int64_t last_heartbeat_us = 0;
  };

  void WorkLoop(int index);
  void MonitorLoop();
  // Wakes idle work loops when another process signals new work
  // (PostgreSQL LISTEN/NOTIFY); polling every poll_ms stays the fallback.
  void ListenLoop();
  // REQUIRES: job is registered in running_ (by WorkLoop).
  void Execute(const db::JobRow& job, const std::string& worker_id, const std::shared_ptr<CancelToken>& token);
  std::vector<std::string> ClaimableKinds();

  JobQueue* queue_;
  JobServices services_;
  WorkerPoolOptions options_;
  std::string id_;
  std::map<std::string, Registered> handlers_;

  std::mutex claim_mu_;  // serialises claims (see WorkLoop)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, int> running_by_kind_;
  std::map<std::string, Running> running_;  // by job id
  std::vector<std::thread> threads_;
  std::thread monitor_;
  std::thread listener_;
  uint64_t wake_seq_ = 0;  // guarded by mu_; bumped by Notify()
  std::atomic<int64_t> finished_{0};
};

}  // namespace cutroom::jobs
