// A migrated SQLite database, a blob store and a job queue in a temporary
// directory, and a way to run one `clips` job through RunClips as a worker
// would (claim, run, succeed or fail).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "analysis/clips/clips_stage.h"
#include "analysis/transcribe/transcript_store.h"
#include "core/fake_env.h"
#include "db/migrations.h"
#include "db/tables.h"
#include "jobs/events.h"
#include "jobs/job_queue.h"
#include "storage/blob_store.h"
#include "support/test_support.h"

namespace cutroom::analysis::testing {

struct JobRun {
  Status status;
  db::JobRow job;  // as stored after the run
};

class ClipsStageFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = Config::Defaults();
    ASSERT_OK(config_.Set("storage.data_dir", dir_.path()));
    auto db = db::Database::Open("sqlite://" + dir_.File("cutroom.db"), &env_, {});
    ASSERT_OK(db.status());
    db_ = std::move(db).value();
    ASSERT_OK(db::Migrate(*db_, &env_).status());
    auto blobs = storage::BlobStore::Open("file://" + dir_.File("blobs"), &env_);
    ASSERT_OK(blobs.status());
    blobs_ = std::move(blobs).value();
    events_ = std::make_unique<jobs::EventLog>(db_.get(), &env_);
    queue_ = std::make_unique<jobs::JobQueue>(db_.get(), &env_, &ids_, events_.get());
    repos_ = std::make_unique<db::Repositories>(*db_, &env_, &ids_);
  }

  // A ready video whose file is `path` (or none), lasting duration_s.
  db::MediaRow AddVideo(const std::string& path, double duration_s) {
    db::MediaRow m;
    m.owner_id = db::kLocalOwnerId;
    m.media_type = "video";
    m.status = "ready";
    m.duration_s = duration_s;
    m.fps = 25;
    if (!path.empty()) {
      m.storage_key = "media/" + ids_.Next("vid") + "/source";
      EXPECT_OK(blobs_->Put(*m.storage_key, cutroom::testing::ReadFile(path)));
    }
    auto r = repos_->media.Insert(m);
    EXPECT_OK(r.status());
    env_.AdvanceMs(1);
    return r.value_or(m);
  }

  // A succeeded processing run of kind, for rows that need one.
  std::string SucceededRun(const std::string& video_id, const std::string& kind) {
    db::VideoProcessingRow p;
    p.video_id = video_id;
    p.kind = kind;
    p.status = "succeeded";
    auto r = repos_->video_processing.Insert(p);
    EXPECT_OK(r.status());
    env_.AdvanceMs(1);
    return r.value_or(p).processing_id;
  }

  void StoreTranscriptFor(const std::string& video_id, const Transcript& t) {
    std::string run = SucceededRun(video_id, "transcription");
    EXPECT_OK(StoreTranscript(*db_, &env_, &ids_, video_id, run, t).status());
    env_.AdvanceMs(1);
  }

  void StoreScenes(const std::string& video_id, const std::vector<double>& cuts, double duration_s) {
    std::string run = SucceededRun(video_id, "scenes");
    std::vector<double> starts = {0};
    starts.insert(starts.end(), cuts.begin(), cuts.end());
    for (size_t i = 0; i < starts.size(); ++i) {
      db::SceneRow s;
      s.video_id = video_id;
      s.processing_id = run;
      s.scene_no = static_cast<int64_t>(i);
      s.start_s = starts[i];
      s.end_s = i + 1 < starts.size() ? starts[i + 1] : duration_s;
      s.transition = i == 0 ? "start" : "cut";
      EXPECT_OK(repos_->scenes.Insert(s).status());
    }
  }

  // Frames every step seconds; faces(t) of them show a face.
  void StoreFrames(const std::string& video_id, double duration_s, double step, bool (*face)(double)) {
    std::string run = SucceededRun(video_id, "frames");
    for (double t = 0; t < duration_s; t += step) {
      db::FrameRow f;
      f.video_id = video_id;
      f.processing_id = run;
      f.ts_s = t;
      bool yes = face(t);
      f.features = {{"brightness", 0.5},
                    {"faces", {{"count", yes ? 1 : 0},
                               {"boxes", yes ? nlohmann::json::array({{0.4, 0.2, 0.1, 0.2}})
                                             : nlohmann::json::array()}}}};
      EXPECT_OK(repos_->frames.Insert(f).status());
    }
  }

  // Enqueues a clips job, claims it and runs RunClips on this thread.
  JobRun RunClipsJob(const std::string& video_id, const nlohmann::json& params = nlohmann::json::object()) {
    jobs::EnqueueRequest req;
    req.kind = "clips";
    req.video_id = video_id;
    req.owner_id = db::kLocalOwnerId;
    req.params = params;
    req.processing_kind = "clips";
    req.max_attempts = 1;
    JobRun run;
    auto queued = queue_->Enqueue(req);
    EXPECT_OK(queued.status());
    auto claimed = queue_->Claim("test-worker", {"clips"}, 60'000);
    EXPECT_OK(claimed.status());
    if (!claimed.ok() || !*claimed) {
      run.status = Status::Internal("no job to claim");
      return run;
    }
    jobs::CancelToken token;
    jobs::JobContext ctx(**claimed, queue_.get(),
                         jobs::JobServices{&env_, db_.get(), blobs_.get(), &ids_, &config_}, "test-worker", &token);
    run.status = RunClips(ctx);
    if (run.status.ok()) {
      EXPECT_OK(queue_->Succeed(ctx.job(), "test-worker", ctx.result()));
    } else {
      EXPECT_OK(queue_->Fail(ctx.job(), "test-worker", run.status).status());
    }
    auto stored = queue_->Get(ctx.job().job_id);
    EXPECT_OK(stored.status());
    run.job = stored.value_or(ctx.job());
    env_.AdvanceMs(1);
    return run;
  }

  std::vector<db::ClipCandidateRow> Candidates(const std::string& video_id) {
    db::ListQuery q{.limit = 1000};
    q.where = {{"video_id", video_id}};
    auto page = repos_->clip_candidates.List(q);
    EXPECT_OK(page.status());
    return page.ok() ? page->items : std::vector<db::ClipCandidateRow>{};
  }

  std::vector<std::string> LogMessages(const std::string& job_id) {
    std::vector<std::string> out;
    auto rows = db_->Query("SELECT message FROM processing_logs WHERE job_id = ? ORDER BY log_id", {job_id});
    EXPECT_OK(rows.status());
    for (size_t i = 0; rows.ok() && i < rows->size(); ++i) out.push_back(rows->Text(i, "message").value_or(""));
    return out;
  }

  cutroom::testing::TempDir dir_;
  FakeEnv env_;
  IdGenerator ids_{&env_};
  Config config_ = Config::Defaults();
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<jobs::EventLog> events_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<db::Repositories> repos_;
};

}  // namespace cutroom::analysis::testing
