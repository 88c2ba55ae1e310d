// JobQueue: the durable, database-backed job queue.
//
// Jobs are rows of `jobs`. A worker claims one atomically with a lease
// (locked_by, locked_until): the claim is a single UPDATE ... WHERE job_id =
// (SELECT ... LIMIT 1) RETURNING in a write transaction on SQLite, and is
// shaped so PostgreSQL can use FOR UPDATE SKIP LOCKED in the sub-select.
// Heartbeats extend the lease; a job whose lease ran out (its worker died)
// is claimable again. Every state change after the claim is fenced by
// locked_by, so a worker that lost its lease cannot overwrite the new
// owner's result. Failures retry with exponential backoff and jitter until
// max_attempts; errors that retrying cannot fix (bad input) fail at once.
// A job waits until every job in its depends_on has succeeded, and fails
// when one of them fails or is cancelled.
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"
#include "jobs/events.h"

namespace cutroom::jobs {

struct EnqueueRequest {
  std::string kind;
  std::string video_id;  // may be empty for jobs not about one video
  std::string owner_id;
  nlohmann::json params = nlohmann::json::object();
  int priority = 0;                // higher runs first
  TimestampMs run_after = 0;       // 0: now
  int max_attempts = 3;
  std::vector<std::string> depends_on;
  // Also create a video_processing row of this kind ("thumbnails",
  // "scenes", ...) that the job's handler fills; empty for none.
  std::string processing_kind;
  std::string engine;
};

struct RetryPolicy {
  int64_t base_ms = 2000;       // first retry after about this long
  int64_t max_ms = 5 * 60'000;  // cap
  double jitter = 0.2;          // +-20%
};

class JobQueue {
 public:
  JobQueue(db::Database* db, Env* env, IdGenerator* ids, EventLog* events, RetryPolicy retry = {})
      : db_(db), env_(env), ids_(ids), events_(events), retry_(retry) {}

  Result<db::JobRow> Enqueue(const EnqueueRequest& request);

  // Most jobs of a kind running at once across every process sharing the
  // database ({"render": 1}): counted in the database at claim time (jobs
  // whose lease has run out do not count). Config: jobs.global_limits.
  void SetGlobalLimits(std::map<std::string, int> limits) { global_limits_ = std::move(limits); }
  // "render=1, transcription=2" -> {"render": 1, "transcription": 2}.
  static Result<std::map<std::string, int>> ParseLimits(const std::string& text);

  // The channel signalled (PostgreSQL NOTIFY) whenever a job may have
  // become runnable: enqueued, released, or a job others depend on
  // succeeded. Idle workers in other processes LISTEN on it.
  static constexpr const char* kWakeChannel = "cutroom_jobs";

  // Claims the best runnable job of one of kinds (never of excluded ones),
  // or returns nullopt. lease_ms: how long the claim holds without a
  // heartbeat.
  Result<std::optional<db::JobRow>> Claim(const std::string& worker_id, const std::vector<std::string>& kinds,
                                          int64_t lease_ms);

  // Extends the lease. Returns false when the lease is no longer ours.
  // cancel_requested reports a pending cancellation.
  Result<bool> Heartbeat(const std::string& job_id, const std::string& worker_id, int64_t lease_ms,
                         bool* cancel_requested);

  Status SetProgress(const std::string& job_id, const std::string& worker_id, double progress);

  // Terminal transitions; each fenced by worker_id. FailedPrecondition when
  // the lease was lost.
  Status Succeed(const db::JobRow& job, const std::string& worker_id, const nlohmann::json& result);
  // Retries with backoff when retryable and attempts remain; otherwise
  // fails. Returns the new status ("queued" or "failed").
  Result<std::string> Fail(const db::JobRow& job, const std::string& worker_id, const Status& error);
  Status MarkCancelled(const db::JobRow& job, const std::string& worker_id, const std::string& why);
  // Gives a running job back without counting the attempt (shutdown).
  Status Release(const db::JobRow& job, const std::string& worker_id);

  // Cancels a queued job at once; asks a running one to stop (its worker
  // sees the request within a second). NotFound for another owner's job;
  // FailedPrecondition when it already finished.
  Result<db::JobRow> Cancel(const std::string& job_id, const std::string& owner_id);

  Result<db::JobRow> Get(const std::string& job_id);

  // Fails queued jobs whose dependencies failed or were cancelled.
  Result<int> FailOrphans();

  EventLog* events() const { return events_; }

 private:
  int64_t BackoffMs(int64_t attempt);
  // The job's video_processing row follows the job's status. Callers that
  // change the job's own row pass their transaction, so no reader sees a
  // finished job whose results the processing row does not yet show.
  Status UpdateProcessing(db::DbSession& session, const db::JobRow& job, const std::string& status,
                          const std::string& error);
  Status UpdateProcessing(const db::JobRow& job, const std::string& status, const std::string& error) {
    return UpdateProcessing(*db_, job, status, error);
  }
  void Emit(const db::JobRow& job, const std::string& type, nlohmann::json data);
  void Wake();

  db::Database* db_;
  Env* env_;
  IdGenerator* ids_;
  EventLog* events_;
  RetryPolicy retry_;
  std::map<std::string, int> global_limits_;
};

// Whether retrying can help: bad input, missing things, unsupported
// formats and refused credentials fail at once.
bool IsRetryable(const Status& status);

}  // namespace cutroom::jobs
