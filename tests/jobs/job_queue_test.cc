// The queue's state machine with a fake clock: claims, leases, retries with
// backoff, cancellation, dependencies, fencing.
#include "jobs/job_queue.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../db/db_fixture.h"

namespace cutroom::jobs {
namespace {

class JobQueueTest : public db::DbFixture {
 public:
  void SetUp() override {
    DbFixture::SetUp();
    events_ = std::make_unique<EventLog>(db_.get(), &env_);
    queue_ = std::make_unique<JobQueue>(db_.get(), &env_, &ids_, events_.get(), RetryPolicy{1000, 60'000, 0.2});
    video_ = NewMedia().video_id;
  }

  db::JobRow Enqueue(const std::string& kind, int priority = 0, std::vector<std::string> deps = {},
                     int max_attempts = 3) {
    EnqueueRequest r;
    r.kind = kind;
    r.video_id = video_;
    r.owner_id = db::kLocalOwnerId;
    r.priority = priority;
    r.depends_on = std::move(deps);
    r.max_attempts = max_attempts;
    r.processing_kind = "scenes";
    auto job = queue_->Enqueue(r);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.value_or(db::JobRow{});
  }

  std::optional<db::JobRow> Claim(const std::string& worker, std::vector<std::string> kinds = {"a", "b"},
                                  int64_t lease_ms = 10'000) {
    auto c = queue_->Claim(worker, kinds, lease_ms);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::nullopt;
  }

  std::unique_ptr<EventLog> events_;
  std::unique_ptr<JobQueue> queue_;
  std::string video_;
};

TEST_F(JobQueueTest, ClaimsByPriorityThenAgeOnlyKindsItWasAskedFor) {
  auto low = Enqueue("a", 0);
  auto high = Enqueue("a", 5);
  auto other = Enqueue("c", 9);
  auto first = Claim("w1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job_id, high.job_id);
  EXPECT_EQ(first->status, "running");
  EXPECT_EQ(first->locked_by, "w1");
  EXPECT_EQ(first->attempts, 1);
  auto second = Claim("w2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job_id, low.job_id);
  EXPECT_FALSE(Claim("w3"));  // "c" was never asked for
  EXPECT_EQ(queue_->Get(other.job_id)->status, "queued");
}

TEST_F(JobQueueTest, ExpiredLeasesAreReclaimedAndTheOldWorkerIsFencedOff) {
  auto job = Enqueue("a");
  auto claimed = Claim("w1", {"a"}, 1000);
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(Claim("w2", {"a"}, 1000));  // still leased
  env_.AdvanceMs(1001);
  auto reclaimed = Claim("w2", {"a"}, 1000);
  ASSERT_TRUE(reclaimed);
  EXPECT_EQ(reclaimed->job_id, job.job_id);
  EXPECT_EQ(reclaimed->attempts, 2);
  // The first worker comes back and tries to finish: refused.
  EXPECT_EQ(queue_->Succeed(*claimed, "w1", {}).code(), StatusCode::kFailedPrecondition);
  bool cancel = false;
  EXPECT_FALSE(*queue_->Heartbeat(job.job_id, "w1", 1000, &cancel));
  EXPECT_OK(queue_->Succeed(*reclaimed, "w2", {{"ok", true}}));
  EXPECT_EQ(queue_->Get(job.job_id)->status, "succeeded");
  // Each claim logged its start in the claim's own transaction, so the
  // attempt w1 never got to run is on record too.
  auto started = db_->Query("SELECT data FROM processing_logs WHERE job_id = ? AND message = 'started' "
                            "ORDER BY log_id",
                            {job.job_id});
  ASSERT_OK(started.status());
  ASSERT_EQ(started->size(), 2u);
  auto first = nlohmann::json::parse(*started->Text(0, "data"));
  auto second = nlohmann::json::parse(*started->Text(1, "data"));
  EXPECT_EQ(first["attempt"], 1);
  EXPECT_EQ(first["worker"], "w1");
  EXPECT_EQ(second["attempt"], 2);
  EXPECT_EQ(second["worker"], "w2");
}

TEST_F(JobQueueTest, HeartbeatsKeepTheLease) {
  Enqueue("a");
  auto claimed = Claim("w1", {"a"}, 1000);
  for (int i = 0; i < 5; ++i) {
    env_.AdvanceMs(600);
    bool cancel = true;
    ASSERT_TRUE(*queue_->Heartbeat(claimed->job_id, "w1", 1000, &cancel));
    EXPECT_FALSE(cancel);
  }
  EXPECT_FALSE(Claim("w2", {"a"}, 1000));
}

TEST_F(JobQueueTest, FailuresRetryWithExponentialBackoffAndJitterThenFail) {
  auto job = Enqueue("a", 0, {}, 3);
  int64_t expected_base = 1000;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = Claim("w", {"a"});
    ASSERT_TRUE(claimed) << "attempt " << attempt;
    EXPECT_EQ(claimed->attempts, attempt);
    auto outcome = queue_->Fail(*claimed, "w", Status::IOError("disk hiccup"));
    ASSERT_TRUE(outcome.ok());
    if (attempt == 3) {
      EXPECT_EQ(*outcome, "failed");
      break;
    }
    EXPECT_EQ(*outcome, "queued");
    auto after = queue_->Get(job.job_id);
    int64_t delay = *ParseTimestamp(after->run_after) - env_.NowMs();
    EXPECT_GE(delay, expected_base * 8 / 10) << "attempt " << attempt;
    EXPECT_LE(delay, expected_base * 12 / 10) << "attempt " << attempt;
    EXPECT_FALSE(Claim("w", {"a"}));  // not before run_after
    env_.AdvanceMs(delay);
    expected_base *= 2;
  }
  auto failed = queue_->Get(job.job_id);
  EXPECT_EQ(failed->status, "failed");
  EXPECT_NE(failed->error->find("disk hiccup"), std::string::npos);
  EXPECT_TRUE(failed->finished_at.has_value());
  auto run = repos_->video_processing.Get(*failed->processing_id);
  EXPECT_EQ(run->status, "failed");
}

TEST_F(JobQueueTest, BadInputFailsWithoutRetrying) {
  Enqueue("a");
  auto claimed = Claim("w", {"a"});
  EXPECT_EQ(*queue_->Fail(*claimed, "w", Status::InvalidArgument("not a video")), "failed");
}

TEST_F(JobQueueTest, CancellingAQueuedJobIsImmediateAndARunningOneIsFlagged) {
  auto queued = Enqueue("a");
  auto running = Enqueue("b");
  auto claimed = Claim("w", {"b"});
  auto c1 = queue_->Cancel(queued.job_id, db::kLocalOwnerId);
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->status, "cancelled");
  auto c2 = queue_->Cancel(running.job_id, db::kLocalOwnerId);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->status, "running");
  EXPECT_TRUE(c2->cancel_requested);
  bool cancel = false;
  ASSERT_TRUE(*queue_->Heartbeat(running.job_id, "w", 1000, &cancel));
  EXPECT_TRUE(cancel);
  EXPECT_OK(queue_->MarkCancelled(*claimed, "w", "cancelled by request"));
  EXPECT_EQ(queue_->Cancel(running.job_id, db::kLocalOwnerId).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(queue_->Cancel(queued.job_id, "own_someoneelse").status().IsNotFound());
}

TEST_F(JobQueueTest, DependentsWaitForTheirInputsAndFailWithThem) {
  auto scenes = Enqueue("a");
  auto clips = Enqueue("b", 10, {scenes.job_id});
  auto first = Claim("w");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job_id, scenes.job_id);  // clips has higher priority but must wait
  EXPECT_FALSE(Claim("w"));
  ASSERT_OK(queue_->Succeed(*first, "w", {}));
  auto second = Claim("w");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job_id, clips.job_id);

  auto a = Enqueue("a", 0, {}, 1);
  auto b = Enqueue("b", 0, {a.job_id});
  auto c = Enqueue("b", 0, {b.job_id});
  auto ca = Claim("w", {"a"});
  ASSERT_EQ(*queue_->Fail(*ca, "w", Status::Internal("boom")), "failed");
  EXPECT_EQ(queue_->Get(b.job_id)->status, "failed");
  EXPECT_EQ(queue_->Get(c.job_id)->status, "failed");  // transitively
  EXPECT_NE(queue_->Get(b.job_id)->error->find(a.job_id), std::string::npos);
}

TEST_F(JobQueueTest, ReleaseGivesTheJobBackWithoutCountingTheAttempt) {
  auto job = Enqueue("a");
  auto claimed = Claim("w");
  ASSERT_OK(queue_->Release(*claimed, "w"));
  auto after = queue_->Get(job.job_id);
  EXPECT_EQ(after->status, "queued");
  EXPECT_EQ(after->attempts, 0);
  EXPECT_TRUE(Claim("w2"));
}

TEST_F(JobQueueTest, EventsRecordEveryTransitionInOrderPerOwner) {
  int64_t before = *events_->LatestId();
  auto job = Enqueue("a");
  auto claimed = Claim("w");
  ASSERT_OK(queue_->SetProgress(job.job_id, "w", 0.5));
  ASSERT_OK(queue_->Succeed(*claimed, "w", {}));
  auto seen = events_->Since(before, db::kLocalOwnerId, video_);
  ASSERT_TRUE(seen.ok());
  std::vector<std::string> statuses;
  for (const auto& e : *seen) statuses.push_back(e.type + ":" + e.data["status"].get<std::string>());
  EXPECT_EQ(statuses, (std::vector<std::string>{"status:queued", "status:running", "progress:running",
                                                "status:succeeded"}));
  EXPECT_TRUE(events_->Since(before, "own_other", "")->empty());
}

TEST_F(JobQueueTest, GlobalLimitsHoldAcrossClaimantsAndFreeOnFinishOrExpiredLease) {
  queue_->SetGlobalLimits({{"a", 1}});
  auto first_a = Enqueue("a");
  auto second_a = Enqueue("a");
  auto b = Enqueue("b");
  // Another process's queue on the same database sees the same count.
  JobQueue other(db_.get(), &env_, &ids_, events_.get());
  other.SetGlobalLimits({{"a", 1}});
  auto c1 = Claim("w1");
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->job_id, first_a.job_id);
  auto c2 = other.Claim("w2", {"a", "b"}, 10'000);
  ASSERT_OK(c2.status());
  ASSERT_TRUE(c2->has_value());
  EXPECT_EQ((*c2)->job_id, b.job_id) << "the second 'a' waits: one runs already";
  auto none = other.Claim("w3", {"a"}, 10'000);
  ASSERT_OK(none.status());
  EXPECT_FALSE(none->has_value());
  ASSERT_OK(queue_->Succeed(*c1, "w1", {}));
  auto next = other.Claim("w3", {"a"}, 10'000);
  ASSERT_OK(next.status());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->job_id, second_a.job_id);
  // A worker that died holds its slot only until its lease runs out.
  Enqueue("a");
  EXPECT_FALSE(Claim("w4", {"a"}));
  env_.AdvanceMs(11'000);
  EXPECT_TRUE(Claim("w4", {"a"}));
}

TEST(JobQueueLimits, ParseKindEqualsCount) {
  auto ok = JobQueue::ParseLimits(" render=1, transcription = 2 ,");
  ASSERT_OK(ok.status());
  EXPECT_EQ(ok->at("render"), 1);
  EXPECT_EQ(ok->at("transcription"), 2);
  EXPECT_TRUE(JobQueue::ParseLimits("")->empty());
  for (const char* bad : {"render", "render=0", "render=x", "=2", "render=2x"}) {
    auto r = JobQueue::ParseLimits(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("jobs.global_limits"), std::string::npos);
    }
  }
}

// PostgreSQL: a job enqueued through one connection wakes a listener on
// another at once (LISTEN/NOTIFY), rather than at the next poll.
// (OnPostgres/OnSqlite: discovered for that database's run only,
// tests/CMakeLists.txt.)
TEST_F(JobQueueTest, OnPostgresEnqueueWakesListenersInOtherProcesses) {
  ASSERT_EQ(db_->dialect(), db::Dialect::kPostgres);
  auto listener = db_->Listen(JobQueue::kWakeChannel);
  ASSERT_OK(listener.status());
  auto quiet = (*listener)->Wait(100);
  ASSERT_OK(quiet.status());
  EXPECT_FALSE(*quiet);
  Enqueue("a");
  auto woken = (*listener)->Wait(5000);
  ASSERT_OK(woken.status());
  EXPECT_TRUE(*woken);
}

// SQLite has no notifications: one process, whose workers poll.
TEST_F(JobQueueTest, OnSqliteListeningIsNotSupported) {
  ASSERT_EQ(db_->dialect(), db::Dialect::kSqlite);
  EXPECT_EQ(db_->Listen(JobQueue::kWakeChannel).status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace cutroom::jobs
