// The worker pool with real threads and the real clock.
#include "jobs/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../db/db_fixture.h"

namespace cutroom::jobs {
namespace {

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = db::Database::Open(cutroom::testing::TestDatabaseUrl(dir_), env_, {});
    ASSERT_OK(db.status());
    db_ = std::move(db).value();
    ASSERT_OK(db::Migrate(*db_, env_).status());
    events_ = std::make_unique<EventLog>(db_.get(), env_);
    queue_ = std::make_unique<JobQueue>(db_.get(), env_, &ids_, events_.get(), RetryPolicy{20, 100, 0.2});
    db::Repositories repos(*db_, env_, &ids_);
    db::MediaRow m;
    m.owner_id = db::kLocalOwnerId;
    m.status = "ready";
    video_ = repos.media.Insert(m)->video_id;
  }

  std::unique_ptr<WorkerPool> MakePool(int workers, int64_t grace_ms = 5000) {
    WorkerPoolOptions o;
    o.workers = workers;
    o.poll_ms = 20;
    o.lease_ms = 3000;
    o.shutdown_grace_ms = grace_ms;
    return std::make_unique<WorkerPool>(queue_.get(), JobServices{env_, db_.get(), nullptr, &ids_, &config_}, o);
  }

  std::string Enqueue(const std::string& kind, int max_attempts = 3) {
    EnqueueRequest r;
    r.kind = kind;
    r.video_id = video_;
    r.owner_id = db::kLocalOwnerId;
    r.max_attempts = max_attempts;
    return queue_->Enqueue(r)->job_id;
  }

  std::string WaitStatus(const std::string& job_id, const std::set<std::string>& wanted, int timeout_ms = 10000) {
    std::string status;
    for (int i = 0; i < timeout_ms / 10; ++i) {
      status = queue_->Get(job_id)->status;
      if (wanted.count(status)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status;
  }

  cutroom::testing::TempDir dir_;
  Env* env_ = Env::Default();
  IdGenerator ids_{env_};
  Config config_ = Config::Defaults();
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<EventLog> events_;
  std::unique_ptr<JobQueue> queue_;
  std::string video_;
};

TEST_F(WorkerPoolTest, RunsEveryJobOnceAndLogsIt) {
  std::atomic<int> runs{0};
  auto pool = MakePool(2);
  pool->Register("count", [&](JobContext& ctx) {
    ++runs;
    ctx.SetProgress(0.5);
    ctx.set_result({{"n", 1}});
    return Status::Ok();
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(Enqueue("count"));
  pool->Start();
  for (const auto& id : ids) EXPECT_EQ(WaitStatus(id, {"succeeded", "failed"}), "succeeded");
  pool->Stop();
  EXPECT_EQ(runs.load(), 20);
  auto logs = db_->Query("SELECT COUNT(*) AS n FROM processing_logs WHERE message IN ('started', 'finished')", {});
  EXPECT_EQ(*logs->Int(0, "n"), 40);
  EXPECT_EQ(queue_->Get(ids[0])->result["n"], 1);
}

TEST_F(WorkerPoolTest, RespectsPerKindConcurrencyLimits) {
  std::atomic<int> now{0}, peak{0};
  auto pool = MakePool(3);
  pool->Register("render", [&](JobContext&) {
    int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    --now;
    return Status::Ok();
  }, 1);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Enqueue("render"));
  pool->Start();
  for (const auto& id : ids) EXPECT_EQ(WaitStatus(id, {"succeeded"}), "succeeded");
  pool->Stop();
  EXPECT_EQ(peak.load(), 1);
}

TEST_F(WorkerPoolTest, ARunningJobStopsWithinASecondOfBeingCancelled) {
  std::atomic<bool> started{false};
  auto pool = MakePool(1);
  pool->Register("long", [&](JobContext& ctx) {
    started = true;
    for (int i = 0; i < 3000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return ctx.CheckCancelled();
  });
  std::string id = Enqueue("long");
  pool->Start();
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(queue_->Cancel(id, db::kLocalOwnerId).status());
  EXPECT_EQ(WaitStatus(id, {"cancelled", "failed", "succeeded"}, 3000), "cancelled");
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, std::chrono::milliseconds(1200));
  pool->Stop();
}

TEST_F(WorkerPoolTest, FailingHandlersAreRetriedThenFail) {
  std::atomic<int> runs{0};
  auto pool = MakePool(1);
  pool->Register("flaky", [&](JobContext&) {
    ++runs;
    return Status::Unavailable("upstream down");
  });
  std::string id = Enqueue("flaky", 3);
  pool->Start();
  EXPECT_EQ(WaitStatus(id, {"failed"}), "failed");
  pool->Stop();
  EXPECT_EQ(runs.load(), 3);
  EXPECT_NE(queue_->Get(id)->error->find("upstream down"), std::string::npos);
}

TEST_F(WorkerPoolTest, StopReleasesJobsThatDoNotFinishInTheGracePeriod) {
  std::atomic<bool> started{false};
  auto pool = MakePool(1, 100);
  pool->Register("stubborn", [&](JobContext& ctx) {
    started = true;
    while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return ctx.CheckCancelled();
  });
  std::string id = Enqueue("stubborn");
  pool->Start();
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool->Stop();
  auto job = queue_->Get(id);
  EXPECT_EQ(job->status, "queued");
  EXPECT_EQ(job->attempts, 0);
  EXPECT_FALSE(job->locked_by.has_value());
}

TEST_F(WorkerPoolTest, ExceptionsFromHandlersBecomeFailures) {
  auto pool = MakePool(1);
  pool->Register("throws", [](JobContext&) -> Status { throw std::runtime_error("oops"); });
  std::string id = Enqueue("throws", 1);
  pool->Start();
  EXPECT_EQ(WaitStatus(id, {"failed"}), "failed");
  pool->Stop();
  EXPECT_NE(queue_->Get(id)->error->find("oops"), std::string::npos);
}

}  // namespace
}  // namespace cutroom::jobs
