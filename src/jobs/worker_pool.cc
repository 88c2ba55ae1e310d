#include "jobs/worker_pool.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/metrics.h"
#include "db/tables.h"

namespace cutroom::jobs {
namespace {

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "host";
  return buf;
}

std::string ReasonText(StopReason r) {
  switch (r) {
    case StopReason::kUserCancel: return "cancelled by request";
    case StopReason::kShutdown: return "the worker is shutting down";
    case StopReason::kLeaseLost: return "the job's lease was lost to another worker";
    case StopReason::kNone: break;
  }
  return "";
}

}  // namespace

void CancelToken::Cancel(StopReason reason) {
  StopReason expected = StopReason::kNone;
  reason_.compare_exchange_strong(expected, reason);  // the first reason wins
}

JobContext::JobContext(db::JobRow job, JobQueue* queue, JobServices services, std::string worker_id,
                       const CancelToken* token)
    : job_(std::move(job)), queue_(queue), services_(services), worker_id_(std::move(worker_id)), token_(token) {}

const std::string& JobContext::processing_id() const {
  static const std::string kNone;
  return job_.processing_id ? *job_.processing_id : kNone;
}

Status JobContext::CheckCancelled() const {
  if (!token_->cancelled()) return Status::Ok();
  return Status::Cancelled(ReasonText(token_->reason()));
}

void JobContext::SetProgress(double progress) {
  int64_t now = services_.env->MonotonicMicros();
  if (progress < 1.0 && progress - last_progress_ < 0.01 && now - last_progress_us_ < 500'000) return;
  last_progress_ = progress;
  last_progress_us_ = now;
  Status st = queue_->SetProgress(job_.job_id, worker_id_, progress);
  if (!st.ok()) spdlog::debug("progress of {}: {}", job_.job_id, st.ToString());
}

void JobContext::Log(const std::string& level, const std::string& message, const nlohmann::json& data) {
  db::Repositories repos(*services_.db, services_.env, services_.ids);
  db::ProcessingLogRow row;
  row.video_id = job_.video_id;
  row.job_id = job_.job_id;
  row.stage = job_.kind;
  row.level = level;
  row.message = message;
  row.data = data.is_object() ? data : nlohmann::json::object();
  row.ts = FormatTimestamp(services_.env->NowMs());
  auto inserted = repos.processing_logs.Insert(row);
  if (!inserted.ok()) spdlog::warn("could not write a log line for {}: {}", job_.job_id, inserted.status().ToString());
}

WorkerPool::WorkerPool(JobQueue* queue, JobServices services, WorkerPoolOptions options)
    : queue_(queue), services_(services), options_(options) {
  id_ = HostName() + ":" + std::to_string(::getpid());
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Register(const std::string& kind, JobHandler handler, int concurrency) {
  handlers_[kind] = Registered{std::move(handler), concurrency};
}

std::set<std::string> WorkerPool::kinds() const {
  std::set<std::string> out;
  for (const auto& [k, _] : handlers_) out.insert(k);
  return out;
}

void WorkerPool::Start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this, i] { WorkLoop(i); });
  monitor_ = std::thread([this] { MonitorLoop(); });
  if (services_.db->dialect() == db::Dialect::kPostgres) listener_ = std::thread([this] { ListenLoop(); });
}

void WorkerPool::ListenLoop() {
  std::unique_ptr<db::ChannelListener> listener;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (!listener) {
      auto opened = services_.db->Listen(JobQueue::kWakeChannel);
      if (!opened.ok()) {
        spdlog::warn("workers: cannot listen for new jobs ({}); polling every {} ms", opened.status().ToString(),
                     options_.poll_ms);
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; });
        continue;
      }
      listener = std::move(opened).value();
    }
    auto signalled = listener->Wait(250);  // short, so Stop() is not kept waiting
    if (!signalled.ok()) {
      listener.reset();  // the connection broke: listen again on a new one
    } else if (*signalled) {
      Notify();
    }
  }
}

void WorkerPool::Notify() {
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
}

void WorkerPool::Stop() {
  {
    std::unique_lock lock(mu_);
    if (threads_.empty()) return;
    stopping_ = true;
    cv_.notify_all();
    // Grace period: let running jobs finish on their own.
    cv_.wait_for(lock, std::chrono::milliseconds(options_.shutdown_grace_ms), [this] { return running_.empty(); });
    for (auto& [id, r] : running_) r.token->Cancel(StopReason::kShutdown);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  {
    std::lock_guard lock(mu_);
    threads_.clear();
  }
  cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  if (listener_.joinable()) listener_.join();
}

std::vector<std::string> WorkerPool::ClaimableKinds() {
  std::vector<std::string> kinds;
  for (const auto& [kind, reg] : handlers_) {
    if (reg.concurrency > 0 && running_by_kind_[kind] >= reg.concurrency) continue;
    kinds.push_back(kind);
  }
  return kinds;
}

void WorkerPool::WorkLoop(int index) {
  std::string worker_id = id_ + ":" + std::to_string(index);
  while (true) {
    // One claim at a time in this process, so two threads cannot both take
    // the last free slot of a kind with a concurrency limit.
    std::unique_lock claim_lock(claim_mu_);
    std::vector<std::string> kinds;
    uint64_t seen_wake = 0;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      kinds = ClaimableKinds();
      seen_wake = wake_seq_;
    }
    auto claimed = queue_->Claim(worker_id, kinds, options_.lease_ms);
    if (!claimed.ok()) {
      spdlog::warn("worker {}: claim failed: {}", worker_id, claimed.status().ToString());
    } else if (claimed->has_value()) {
      const db::JobRow& job = **claimed;
      auto token = std::make_shared<CancelToken>();
      bool stopping;
      {
        std::lock_guard lock(mu_);
        stopping = stopping_;
        if (!stopping) {
          running_by_kind_[job.kind]++;
          running_[job.job_id] = Running{job, token, services_.env->MonotonicMicros()};
        }
      }
      claim_lock.unlock();
      if (stopping) {  // claimed while Stop() began: hand it straight back
        queue_->Release(job, worker_id).IgnoreError();
        return;
      }
      Execute(job, worker_id, token);
      continue;
    }
    claim_lock.unlock();
    // Nothing to do: sleep until the next poll, or until Notify() says new
    // work may have arrived since this claim began (a job finishing here
    // frees a slot without notifying: the poll covers it).
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [this, seen_wake] { return stopping_ || wake_seq_ != seen_wake; });
  }
}

void WorkerPool::Execute(const db::JobRow& job, const std::string& worker_id,
                         const std::shared_ptr<CancelToken>& token) {
  const Registered* reg = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = handlers_.find(job.kind);
    if (it != handlers_.end()) reg = &it->second;
  }
  JobContext ctx(job, queue_, services_, worker_id, token.get());
  Status st;
  if (job.attempts > job.max_attempts) {
    // Claimed again after its worker died on every attempt: stop trying.
    st = Status::Internal("gave up after " + std::to_string(job.max_attempts) +
                          " attempts (the worker running it stopped responding)");
  } else if (!reg) {
    st = Status::NotSupported("no handler for job kind '" + job.kind + "'");
  } else {
    int64_t start = services_.env->MonotonicMicros();
    try {
      st = reg->handler(ctx);
    } catch (const std::exception& e) {
      st = Status::Internal(std::string("handler threw: ") + e.what());
    }
    double secs = static_cast<double>(services_.env->MonotonicMicros() - start) / 1e6;
    MetricLabels labels = {{"kind", job.kind}, {"outcome", st.ok() ? "ok" : std::string(StatusCodeName(st.code()))}};
    Metrics::Global().Observe("cutroom_job_run_seconds", labels, secs);
    if (st.ok()) {
      ctx.Log("info", "finished", {{"seconds", secs}});
    } else {
      ctx.Log("error", st.message(), {{"code", std::string(StatusCodeName(st.code()))}, {"seconds", secs}});
    }
  }
  {
    std::lock_guard lock(mu_);
    running_.erase(job.job_id);
    running_by_kind_[job.kind]--;
  }
  cv_.notify_all();

  Status recorded;
  switch (token->reason()) {
    case StopReason::kUserCancel:
      recorded = queue_->MarkCancelled(job, worker_id, "cancelled by request");
      break;
    case StopReason::kShutdown:
      recorded = queue_->Release(job, worker_id);
      break;
    case StopReason::kLeaseLost:
      spdlog::warn("job {}: lease lost; its result is discarded", job.job_id);
      break;
    case StopReason::kNone:
      if (st.ok()) {
        recorded = queue_->Succeed(job, worker_id, ctx.result());
      } else {
        auto outcome = queue_->Fail(job, worker_id, st);
        recorded = outcome.status();
        if (outcome.ok()) {
          spdlog::log(*outcome == "failed" ? spdlog::level::warn : spdlog::level::info, "job {} ({}) {}: {}",
                      job.job_id, job.kind, *outcome == "failed" ? "failed" : "will retry", st.ToString());
        }
      }
      break;
  }
  if (!recorded.ok()) spdlog::warn("job {}: could not record the outcome: {}", job.job_id, recorded.ToString());
  finished_++;
}

void WorkerPool::MonitorLoop() {
  const int64_t heartbeat_us = options_.lease_ms * 1000 / 3;
  struct Check {
    std::string job_id;
    std::string worker;
    std::shared_ptr<CancelToken> token;
    bool heartbeat;
  };
  std::unique_lock lock(mu_);
  while (!(stopping_ && running_.empty() && threads_.empty())) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    std::vector<Check> checks;
    int64_t now = services_.env->MonotonicMicros();
    for (auto& [id, r] : running_) {
      bool due = now - r.last_heartbeat_us >= heartbeat_us;
      if (due) r.last_heartbeat_us = now;
      checks.push_back({id, r.job.locked_by.value_or(""), r.token, due});
    }
    bool done = stopping_ && running_.empty();
    lock.unlock();
    for (auto& c : checks) {
      if (c.heartbeat) {
        // Extends the lease and reads the cancel flag in one statement.
        bool cancel = false;
        auto held = queue_->Heartbeat(c.job_id, c.worker, options_.lease_ms, &cancel);
        if (held.ok() && !*held) c.token->Cancel(StopReason::kLeaseLost);
        if (held.ok() && cancel) c.token->Cancel(StopReason::kUserCancel);
        continue;
      }
      auto job = queue_->Get(c.job_id);
      if (!job.ok()) continue;
      if (job->status != "running" || job->locked_by.value_or("") != c.worker) {
        c.token->Cancel(StopReason::kLeaseLost);
      } else if (job->cancel_requested) {
        c.token->Cancel(StopReason::kUserCancel);
      }
    }
    lock.lock();
    if (done) break;
  }
}

}  // namespace cutroom::jobs
