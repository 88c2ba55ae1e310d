#include "jobs/job_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "db/tables.h"

namespace cutroom::jobs {
namespace {

std::string JobColumns() {
  std::string cols;
  for (const auto& c : db::JobsTable().columns) {
    if (!cols.empty()) cols += ", ";
    cols += "\"" + c.name + "\"";
  }
  return cols;
}

// A job that waits for others only runs once all of them succeeded.
std::string DependenciesMet(db::Dialect dialect) {
  return "NOT EXISTS (SELECT 1 FROM " + db::JsonArrayElements(dialect, "j.depends_on", "d") +
         " JOIN jobs dj ON dj.job_id = d.value WHERE dj.status != 'succeeded')";
}

}  // namespace

Result<std::map<std::string, int>> JobQueue::ParseLimits(const std::string& text) {
  std::map<std::string, int> limits;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string kind = item.substr(0, eq);
    kind.erase(kind.find_last_not_of(" \t") + 1);
    char* rest = nullptr;
    long n = eq == std::string::npos ? -1 : std::strtol(item.c_str() + eq + 1, &rest, 10);
    if (kind.empty() || n < 1 || n > 10000 || (rest && *rest && !std::isspace(static_cast<unsigned char>(*rest)))) {
      return Status::InvalidArgument("jobs.global_limits: '" + item + "' is not KIND=N with N from 1 to 10000");
    }
    limits[kind] = static_cast<int>(n);
  }
  return limits;
}

void JobQueue::Wake() { db::Database::Signal(*db_, kWakeChannel).IgnoreError(); }

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kNotSupported:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:  // a refused credential (a hosted engine's key) stays refused
    case StatusCode::kCorruption:
    case StatusCode::kCancelled:
      return false;
    default:
      return true;
  }
}

Result<db::JobRow> JobQueue::Enqueue(const EnqueueRequest& request) {
  if (request.kind.empty()) return Status::InvalidArgument("a job needs a kind");
  if (request.max_attempts < 1 || request.max_attempts > 100) {
    return Status::InvalidArgument("max_attempts must be 1 to 100");
  }
  db::JobRow inserted;
  Status st = db_->Transaction([&](db::DbSession& tx) -> Status {
    db::Repositories repos(tx, env_, ids_);
    db::JobRow job;
    job.job_id = ids_->Next(kJobIdPrefix);
    if (!request.video_id.empty()) job.video_id = request.video_id;
    if (!request.owner_id.empty()) job.owner_id = request.owner_id;
    job.kind = request.kind;
    job.params = request.params.is_object() ? request.params : nlohmann::json::object();
    job.priority = request.priority;
    job.max_attempts = request.max_attempts;
    job.run_after = FormatTimestamp(request.run_after ? request.run_after : env_->NowMs());
    job.depends_on = request.depends_on;
    if (!request.processing_kind.empty()) {
      db::VideoProcessingRow run;
      run.video_id = request.video_id;
      run.kind = request.processing_kind;
      run.params = job.params;
      run.status = "queued";
      run.job_id = job.job_id;
      if (!request.engine.empty()) run.engine = request.engine;
      CUTROOM_ASSIGN_OR_RETURN(run, repos.video_processing.Insert(run));
      job.processing_id = run.processing_id;
    }
    CUTROOM_ASSIGN_OR_RETURN(inserted, repos.jobs.Insert(job));
    return Status::Ok();
  });
  CUTROOM_RETURN_IF_ERROR(st);
  Emit(inserted, "status", {});
  Wake();
  return inserted;
}

Result<std::optional<db::JobRow>> JobQueue::Claim(const std::string& worker_id, const std::vector<std::string>& kinds,
                                                  int64_t lease_ms) {
  if (kinds.empty()) return std::optional<db::JobRow>();
  std::string now = FormatTimestamp(env_->NowMs());
  std::string until = FormatTimestamp(env_->NowMs() + lease_ms);
  std::string in;
  std::vector<db::DbValue> params = {worker_id, until, now, now, now, now};
  for (const auto& k : kinds) {
    in += in.empty() ? "?" : ", ?";
    params.push_back(k);
  }
  // Kinds with a global limit: claimable only while fewer of them hold a
  // live lease than the limit allows.
  std::string limited;
  for (const auto& [kind, limit] : global_limits_) {
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
    limited += " AND (j.kind != ? OR (SELECT COUNT(*) FROM jobs r WHERE r.kind = ? AND r.status = 'running' "
               "AND r.locked_until >= ?) < ?)";
    params.insert(params.end(), {kind, kind, now, int64_t{limit}});
  }
  // SQLite's write lock makes the statement atomic. PostgreSQL runs it under
  // READ COMMITTED, where two workers could pick the same row: the
  // sub-select locks its row and skips rows other claims hold (FOR UPDATE
  // SKIP LOCKED), so each claim gets a different job without waiting.
  const bool pg = db_->dialect() == db::Dialect::kPostgres;
  std::string sql =
      "UPDATE jobs SET status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1, "
      "started_at = COALESCE(started_at, ?), updated_at = ?, cancel_requested = cancel_requested "
      "WHERE job_id = (SELECT j.job_id FROM jobs j WHERE "
      "((j.status = 'queued' AND j.run_after <= ?) OR (j.status = 'running' AND j.locked_until < ?)) "
      "AND j.kind IN (" + in + ")" + limited + " AND " + DependenciesMet(db_->dialect()) +
      " ORDER BY j.priority DESC, j.job_id LIMIT 1" + (pg ? " FOR UPDATE OF j SKIP LOCKED" : "") +
      ") RETURNING " + JobColumns();
  // The claim, its video_processing row and the "started" log line commit
  // together: a worker killed right after claiming still leaves a record of
  // the attempt it took (and the next attempt's takeover reads as a second
  // start, not as a job that ran once).
  std::optional<db::JobRow> claimed;
  CUTROOM_RETURN_IF_ERROR(db_->Transaction([&](db::DbSession& tx) -> Status {
    if (pg && !limited.empty()) {
      // Counting and claiming must not interleave between processes: under
      // READ COMMITTED two claims could both count one free slot. A
      // transaction-scoped advisory lock serialises limited claims (they
      // are short); unlimited ones stay lock-free.
      CUTROOM_RETURN_IF_ERROR(tx.Query("SELECT pg_advisory_xact_lock(7212300002)").status());
    }
    CUTROOM_ASSIGN_OR_RETURN(db::DbRows rows, tx.Query(sql, params));
    if (rows.empty()) return Status::Ok();
    db::Repositories repos(tx, env_, ids_);
    CUTROOM_ASSIGN_OR_RETURN(db::JobRow job, repos.jobs.Decode(rows.rows[0]));
    if (job.processing_id) {
      CUTROOM_RETURN_IF_ERROR(tx.Execute("UPDATE video_processing SET status = 'running', started_at = "
                                         "COALESCE(started_at, ?), updated_at = ? WHERE processing_id = ?",
                                         {now, now, *job.processing_id})
                                  .status());
    }
    db::ProcessingLogRow started;
    started.video_id = job.video_id;
    started.job_id = job.job_id;
    started.stage = job.kind;
    started.level = "info";
    started.message = "started";
    started.data = {{"attempt", job.attempts}, {"worker", worker_id}};
    // Read the clock again: `now` was taken before the claim may have
    // waited (for the advisory lock, or for the job a limited kind waits
    // on to finish), and a start logged before the moment the claim could
    // happen would put it before the end of the run it waited for.
    started.ts = FormatTimestamp(env_->NowMs());
    CUTROOM_RETURN_IF_ERROR(repos.processing_logs.Insert(started).status());
    claimed = std::move(job);
    return Status::Ok();
  }));
  if (claimed) Emit(*claimed, "status", {});
  return claimed;
}

Result<bool> JobQueue::Heartbeat(const std::string& job_id, const std::string& worker_id, int64_t lease_ms,
                                 bool* cancel_requested) {
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_ASSIGN_OR_RETURN(
      auto rows, db_->Query("UPDATE jobs SET locked_until = ?, updated_at = ? WHERE job_id = ? AND locked_by = ? "
                            "AND status = 'running' RETURNING cancel_requested",
                            {FormatTimestamp(env_->NowMs() + lease_ms), now, job_id, worker_id}));
  if (rows.empty()) return false;
  if (cancel_requested) *cancel_requested = rows.Int(0, "cancel_requested").value_or(0) != 0;
  return true;
}

Status JobQueue::SetProgress(const std::string& job_id, const std::string& worker_id, double progress) {
  progress = std::clamp(progress, 0.0, 1.0);
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_ASSIGN_OR_RETURN(auto rows,
                           db_->Query("UPDATE jobs SET progress = ?, updated_at = ? WHERE job_id = ? AND "
                                      "locked_by = ? AND status = 'running' RETURNING " + JobColumns(),
                                      {progress, now, job_id, worker_id}));
  if (rows.empty()) return Status::FailedPrecondition("job " + job_id + " is no longer held by " + worker_id);
  db::Repositories repos(*db_, env_, ids_);
  CUTROOM_ASSIGN_OR_RETURN(auto job, repos.jobs.Decode(rows.rows[0]));
  if (job.processing_id) {
    db_->Execute("UPDATE video_processing SET progress = ?, updated_at = ? WHERE processing_id = ?",
                 {progress, now, *job.processing_id})
        .status()
        .IgnoreError();
  }
  Emit(job, "progress", {});
  return Status::Ok();
}

Status JobQueue::UpdateProcessing(db::DbSession& session, const db::JobRow& job, const std::string& status,
                                  const std::string& error) {
  if (!job.processing_id) return Status::Ok();
  std::string now = FormatTimestamp(env_->NowMs());
  bool terminal = status == "succeeded" || status == "failed" || status == "cancelled";
  return session
      .Execute("UPDATE video_processing SET status = ?, error = ?, finished_at = ?, progress = CASE WHEN ? = "
                "'succeeded' THEN 1 ELSE progress END, updated_at = ? WHERE processing_id = ?",
                {status, error.empty() ? db::DbValue() : db::DbValue(error),
                 terminal ? db::DbValue(now) : db::DbValue(), status, now, *job.processing_id})
      .status();
}

Status JobQueue::Succeed(const db::JobRow& job, const std::string& worker_id, const nlohmann::json& result) {
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_RETURN_IF_ERROR(db_->Transaction([&](db::DbSession& tx) -> Status {
    CUTROOM_ASSIGN_OR_RETURN(
        int64_t n, tx.Execute("UPDATE jobs SET status = 'succeeded', progress = 1, result = ?, error = NULL, "
                              "locked_by = NULL, locked_until = NULL, finished_at = ?, updated_at = ? "
                              "WHERE job_id = ? AND locked_by = ? AND status = 'running'",
                              {result.is_null() ? std::string("{}") : db::JsonText(result), now, now,
                               job.job_id, worker_id}));
    if (n == 0) return Status::FailedPrecondition("job " + job.job_id + " is no longer held by " + worker_id);
    return UpdateProcessing(tx, job, "succeeded", "");
  }));
  db::JobRow done = job;
  done.status = "succeeded";
  done.progress = 1;
  done.result = result;
  Emit(done, "status", {});
  Wake();  // jobs waiting on this one may run now
  return Status::Ok();
}

int64_t JobQueue::BackoffMs(int64_t attempt) {
  double base = static_cast<double>(retry_.base_ms) * std::pow(2.0, static_cast<double>(std::max<int64_t>(0, attempt - 1)));
  base = std::min(base, static_cast<double>(retry_.max_ms));
  uint32_t r = 0;
  env_->RandomBytes(&r, sizeof r);
  double unit = static_cast<double>(r) / 4294967295.0;  // [0, 1]
  double factor = 1.0 + retry_.jitter * (2.0 * unit - 1.0);
  return static_cast<int64_t>(base * factor);
}

Result<std::string> JobQueue::Fail(const db::JobRow& job, const std::string& worker_id, const Status& error) {
  std::string now = FormatTimestamp(env_->NowMs());
  bool retry = IsRetryable(error) && job.attempts < job.max_attempts;
  std::string message = error.ToString();
  const std::string run_after = retry ? FormatTimestamp(env_->NowMs() + BackoffMs(job.attempts)) : "";
  std::string status = retry ? "queued" : "failed";
  CUTROOM_RETURN_IF_ERROR(db_->Transaction([&](db::DbSession& tx) -> Status {
    int64_t n;
    if (retry) {
      CUTROOM_ASSIGN_OR_RETURN(n, tx.Execute("UPDATE jobs SET status = 'queued', error = ?, run_after = ?, "
                                             "locked_by = NULL, locked_until = NULL, updated_at = ? "
                                             "WHERE job_id = ? AND locked_by = ? AND status = 'running'",
                                             {message, run_after, now, job.job_id, worker_id}));
    } else {
      CUTROOM_ASSIGN_OR_RETURN(n, tx.Execute("UPDATE jobs SET status = 'failed', error = ?, locked_by = NULL, "
                                             "locked_until = NULL, finished_at = ?, updated_at = ? "
                                             "WHERE job_id = ? AND locked_by = ? AND status = 'running'",
                                             {message, now, now, job.job_id, worker_id}));
    }
    if (n == 0) return Status::FailedPrecondition("job " + job.job_id + " is no longer held by " + worker_id);
    return UpdateProcessing(tx, job, status, message);
  }));
  db::JobRow after = job;
  after.status = status;
  after.error = message;
  Emit(after, "status", {});
  if (!retry) FailOrphans().status().IgnoreError();
  return status;
}

Status JobQueue::MarkCancelled(const db::JobRow& job, const std::string& worker_id, const std::string& why) {
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_RETURN_IF_ERROR(db_->Transaction([&](db::DbSession& tx) -> Status {
    CUTROOM_ASSIGN_OR_RETURN(int64_t n, tx.Execute("UPDATE jobs SET status = 'cancelled', error = ?, locked_by = "
                                                   "NULL, locked_until = NULL, finished_at = ?, updated_at = ? "
                                                   "WHERE job_id = ? AND locked_by = ? AND status = 'running'",
                                                   {why, now, now, job.job_id, worker_id}));
    if (n == 0) return Status::FailedPrecondition("job " + job.job_id + " is no longer held by " + worker_id);
    return UpdateProcessing(tx, job, "cancelled", why);
  }));
  db::JobRow after = job;
  after.status = "cancelled";
  after.error = why;
  Emit(after, "status", {});
  FailOrphans().status().IgnoreError();
  return Status::Ok();
}

Status JobQueue::Release(const db::JobRow& job, const std::string& worker_id) {
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_RETURN_IF_ERROR(db_->Transaction([&](db::DbSession& tx) -> Status {
    CUTROOM_ASSIGN_OR_RETURN(
        int64_t n, tx.Execute("UPDATE jobs SET status = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 "
                              "ELSE 0 END, locked_by = NULL, locked_until = NULL, run_after = ?, updated_at = ? "
                              "WHERE job_id = ? AND locked_by = ? AND status = 'running'",
                              {now, now, job.job_id, worker_id}));
    if (n == 0) return Status::FailedPrecondition("job " + job.job_id + " is no longer held by " + worker_id);
    return UpdateProcessing(tx, job, "queued", "");
  }));
  db::JobRow after = job;
  after.status = "queued";
  Emit(after, "status", {});
  Wake();
  return Status::Ok();
}

Result<db::JobRow> JobQueue::Cancel(const std::string& job_id, const std::string& owner_id) {
  db::Repositories repos(*db_, env_, ids_);
  auto job = repos.jobs.Get(job_id);
  if (!job.ok() || job->owner_id.value_or("") != owner_id) {
    return Status::NotFound("job " + job_id + " does not exist");
  }
  std::string now = FormatTimestamp(env_->NowMs());
  CUTROOM_ASSIGN_OR_RETURN(int64_t queued, db_->Execute("UPDATE jobs SET status = 'cancelled', error = 'cancelled "
                                                        "by request', finished_at = ?, updated_at = ? WHERE "
                                                        "job_id = ? AND status = 'queued'",
                                                        {now, now, job_id}));
  if (queued) {
    CUTROOM_ASSIGN_OR_RETURN(auto after, repos.jobs.Get(job_id));
    UpdateProcessing(after, "cancelled", "cancelled by request").IgnoreError();
    Emit(after, "status", {});
    FailOrphans().status().IgnoreError();
    return after;
  }
  CUTROOM_ASSIGN_OR_RETURN(int64_t running, db_->Execute("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE "
                                                         "job_id = ? AND status = 'running'",
                                                         {now, job_id}));
  if (!running) {
    return Status::FailedPrecondition("job " + job_id + " already finished (" + job->status + ")");
  }
  return repos.jobs.Get(job_id);
}

Result<db::JobRow> JobQueue::Get(const std::string& job_id) {
  db::Repositories repos(*db_, env_, ids_);
  return repos.jobs.Get(job_id);
}

Result<int> JobQueue::FailOrphans() {
  CUTROOM_ASSIGN_OR_RETURN(
      auto rows, db_->Query("SELECT j.job_id, dj.job_id AS dep, dj.status AS dep_status FROM jobs j CROSS JOIN " +
                                db::JsonArrayElements(db_->dialect(), "j.depends_on", "d") +
                                " JOIN jobs dj ON dj.job_id = d.value "
                            "WHERE j.status = 'queued' AND dj.status IN ('failed', 'cancelled')",
                            {}));
  int failed = 0;
  std::string now = FormatTimestamp(env_->NowMs());
  db::Repositories repos(*db_, env_, ids_);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string id = *rows.Text(i, "job_id");
    std::string why = "a stage it depends on (" + *rows.Text(i, "dep") + ") " + *rows.Text(i, "dep_status");
    CUTROOM_ASSIGN_OR_RETURN(int64_t n, db_->Execute("UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, "
                                                     "updated_at = ? WHERE job_id = ? AND status = 'queued'",
                                                     {why, now, now, id}));
    if (!n) continue;
    ++failed;
    if (auto job = repos.jobs.Get(id); job.ok()) {
      UpdateProcessing(*job, "failed", why).IgnoreError();
      Emit(*job, "status", {});
    }
  }
  if (failed) FailOrphans().status().IgnoreError();  // dependents of dependents
  return failed;
}

void JobQueue::Emit(const db::JobRow& job, const std::string& type, nlohmann::json data) {
  if (!events_) return;
  JobEvent e;
  e.job_id = job.job_id;
  e.video_id = job.video_id.value_or("");
  e.owner_id = job.owner_id.value_or("");
  e.type = type;
  data["job_id"] = job.job_id;
  data["kind"] = job.kind;
  data["status"] = job.status;
  data["progress"] = job.progress;
  data["attempts"] = job.attempts;
  if (job.error) data["error"] = *job.error;
  if (job.video_id) data["video_id"] = *job.video_id;
  e.data = std::move(data);
  Status st = events_->Append(e);
  if (!st.ok()) spdlog::warn("could not record event for {}: {}", job.job_id, st.ToString());
}

}  // namespace cutroom::jobs
