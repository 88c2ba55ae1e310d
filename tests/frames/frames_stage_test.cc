// The frames stage end to end: a real SQLite database and blob store in a
// temporary directory, media stored through the blob store, and jobs run
// by a WorkerPool exactly as the server runs them.
#include "analysis/frames/frames_stage.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "analysis/frames/features.h"
#include "core/subprocess.h"
#include "db/migrations.h"
#include "db/tables.h"
#include "fake_vision_server.h"
#include "frame_images.h"
#include "jobs/worker_pool.h"
#include "storage/blob_store.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;
using testing::ChatCompletion;
using testing::FakeVisionServer;
using testing::ImagesOf;
using testing::PromptOf;

class FramesStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(config_.Set("storage.data_dir", dir_.path()));
    auto db = db::Database::Open(config_.GetString("database.url"), env_, {});
    ASSERT_OK(db.status());
    db_ = std::move(db).value();
    ASSERT_OK(db::Migrate(*db_, env_).status());
    auto blobs = storage::BlobStore::Open(config_.GetString("storage.blob_url"), env_);
    ASSERT_OK(blobs.status());
    blobs_ = std::move(blobs).value();
    events_ = std::make_unique<jobs::EventLog>(db_.get(), env_);
    queue_ = std::make_unique<jobs::JobQueue>(db_.get(), env_, &ids_, events_.get(), jobs::RetryPolicy{20, 100, 0.2});
  }

  void TearDown() override {
    if (pool_) pool_->Stop();
  }

  // Starts the workers; after any change to config_.
  void StartPool() {
    jobs::WorkerPoolOptions o;
    o.workers = 1;
    o.poll_ms = 20;
    pool_ = std::make_unique<jobs::WorkerPool>(queue_.get(),
                                               jobs::JobServices{env_, db_.get(), blobs_.get(), &ids_, &config_}, o);
    pool_->Register("frames", RunFrames);
    pool_->Start();
  }

  // A ready media row whose file is a copy of path in the blob store.
  db::MediaRow AddMedia(const std::string& path, const std::string& type = "video") {
    db::MediaRow m;
    m.video_id = ids_.Next(kVideoIdPrefix);
    m.owner_id = db::kLocalOwnerId;
    m.status = "ready";
    m.media_type = type;
    m.storage_key = storage::MakeKey("media", m.video_id, "source");
    EXPECT_OK(blobs_->Put(*m.storage_key, ReadFile(path)));
    db::Repositories repos(*db_, env_, &ids_);
    auto r = repos.media.Insert(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value_or(m);
  }

  // Runs one frames job to its end and returns the finished row.
  db::JobRow RunJob(const std::string& video_id, const nlohmann::json& params) {
    if (!pool_) StartPool();
    jobs::EnqueueRequest r;
    r.kind = "frames";
    r.video_id = video_id;
    r.owner_id = db::kLocalOwnerId;
    r.params = params;
    r.processing_kind = "frames";
    r.max_attempts = 1;
    auto job = queue_->Enqueue(r);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (!job.ok()) return {};
    pool_->Notify();
    for (int i = 0; i < 12000; ++i) {
      auto now = queue_->Get(job->job_id);
      if (now.ok() && (now->status == "succeeded" || now->status == "failed" || now->status == "cancelled")) {
        return *now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "job " << job->job_id << " did not finish";
    return *job;
  }

  std::vector<db::FrameRow> Frames(const std::string& video_id) {
    db::Repositories repos(*db_, env_, &ids_);
    db::ListQuery q;
    q.where = {{"video_id", video_id}};
    q.limit = db::kMaxPageSize;
    auto page = repos.frames.List(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return {};
    auto rows = page->items;
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.ts_s < b.ts_s; });
    return rows;
  }

  db::VideoAssetRow Asset(const std::string& asset_id) {
    db::Repositories repos(*db_, env_, &ids_);
    auto a = repos.video_assets.Get(asset_id);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.value_or(db::VideoAssetRow{});
  }

  std::string AssetPath(const db::VideoAssetRow& asset) {
    auto path = blobs_->LocalPath(asset.storage_key);
    EXPECT_TRUE(path.ok());
    return path.value_or("");
  }

  int64_t Count(const std::string& sql, const std::vector<db::DbValue>& params) {
    auto rows = db_->Query(sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->Int(0, "n").value_or(-1) : -1;
  }

  std::vector<std::string> LogMessages(const std::string& job_id, const std::string& level) {
    auto rows = db_->Query("SELECT message FROM processing_logs WHERE job_id = ? AND level = ? ORDER BY log_id",
                           {job_id, level});
    std::vector<std::string> out;
    if (!rows.ok()) return out;
    for (size_t i = 0; i < rows->size(); ++i) out.push_back(rows->Text(i, "message").value_or(""));
    return out;
  }

  size_t FilesUnder(const std::string& relative) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir_.File(relative), ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }

  // A video made by ffmpeg from lavfi or image inputs, in the temp dir.
  std::string MakeVideo(const std::string& name, const std::vector<std::string>& input_and_codec_args) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-v", "error", "-y"};
    argv.insert(argv.end(), input_and_codec_args.begin(), input_and_codec_args.end());
    argv.push_back(work_.File(name));
    EXPECT_OK(RunProcess(argv));
    return work_.File(name);
  }

  // Checks what every stored frame must satisfy.
  void ExpectWellFormed(const db::FrameRow& f, const std::string& video_id, const std::string& processing_id,
                        int width, int height, bool faces) {
    SCOPED_TRACE("frame at " + std::to_string(f.ts_s));
    EXPECT_EQ(f.video_id, video_id);
    EXPECT_EQ(f.processing_id, processing_id);
    ASSERT_TRUE(f.asset_id.has_value());
    EXPECT_EQ(f.width.value_or(0), width);
    EXPECT_EQ(f.height.value_or(0), height);
    ASSERT_TRUE(f.phash.has_value());
    EXPECT_OK(ParsePerceptualHash(*f.phash).status());
    for (const char* key : {"brightness", "contrast", "sharpness"}) {
      ASSERT_TRUE(f.features.contains(key)) << f.features.dump();
      EXPECT_TRUE(f.features[key].is_number()) << key;
    }
    EXPECT_GE(f.features["brightness"].get<double>(), 0);
    EXPECT_LE(f.features["brightness"].get<double>(), 1);
    EXPECT_TRUE(f.features.contains("motion"));
    EXPECT_EQ(f.features.contains("faces"), faces);
    if (faces) {
      EXPECT_EQ(f.features["faces"]["count"].get<size_t>(), f.features["faces"]["boxes"].size());
    }
    db::VideoAssetRow asset = Asset(*f.asset_id);
    EXPECT_EQ(asset.kind, "frame");
    EXPECT_EQ(asset.video_id, video_id);
    EXPECT_EQ(asset.mime_type.value_or(""), "image/jpeg");
    EXPECT_EQ(asset.width.value_or(0), width);
    EXPECT_EQ(asset.height.value_or(0), height);
    std::string path = AssetPath(asset);
    EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(path)), asset.size_bytes.value_or(-1));
    cv::Mat jpeg = cv::imread(path);
    ASSERT_FALSE(jpeg.empty()) << path;
    EXPECT_EQ(jpeg.cols, width);
    EXPECT_EQ(jpeg.rows, height);
  }

  TempDir dir_;
  TempDir work_;
  Env* env_ = Env::Default();  // the pool's leases need the real clock
  IdGenerator ids_{env_};
  Config config_ = Config::Defaults();
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<jobs::EventLog> events_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<jobs::WorkerPool> pool_;
};

TEST_F(FramesStageTest, IntervalModeStoresEveryKeptFrameWithItsAssetAndFeatures) {
  std::string talk = TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "make_test_video.py output (shared tools)");
  auto media = AddMedia(talk);
  auto job = RunJob(media.video_id, {{"interval_s", 2}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  // 39.4 s at 2 s: samples at 0, 2, ..., 38. The video is a row of still
  // scenes, so most samples repeat the one before.
  EXPECT_EQ(job.result["sampled"], 20);
  int kept = job.result["kept"], skipped = job.result["duplicates_skipped"];
  EXPECT_EQ(kept + skipped, 20);
  EXPECT_GT(skipped, 5);
  EXPECT_EQ(job.result["interval_s"], 2.0);
  auto frames = Frames(media.video_id);
  ASSERT_EQ(static_cast<int>(frames.size()), kept);
  std::set<std::string> assets;
  for (size_t i = 0; i < frames.size(); ++i) {
    ExpectWellFormed(frames[i], media.video_id, *job.processing_id, 320, 180, true);
    // Exact frames at multiples of the interval (25 fps: no rounding).
    EXPECT_NEAR(std::fmod(frames[i].ts_s, 2.0), 0.0, 1e-6) << frames[i].ts_s;
    assets.insert(*frames[i].asset_id);
    if (i > 0) {
      EXPECT_GT(PerceptualHashDistance(*ParsePerceptualHash(*frames[i - 1].phash), *ParsePerceptualHash(*frames[i].phash)),
                kNearDuplicateDistance);
    }
  }
  EXPECT_EQ(assets.size(), frames.size());
  EXPECT_EQ(frames.front().ts_s, 0.0);
  EXPECT_TRUE(frames.front().features["motion"].is_null());
  EXPECT_FALSE(frames.front().ocr_text.has_value());
  EXPECT_FALSE(frames.front().description.has_value());
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM video_processing WHERE processing_id = ? AND status = 'succeeded'",
                  {*job.processing_id}),
            1);
  EXPECT_FALSE(LogMessages(job.job_id, "info").empty());
}

TEST_F(FramesStageTest, WideVideosAreAnalysedAndStoredAt640PixelsWide) {
  std::string wide = MakeVideo("wide.mp4", {"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "2",
                                            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"});
  auto media = AddMedia(wide);
  auto job = RunJob(media.video_id, {{"interval_s", 0.5}, {"dedupe", false}, {"faces", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(job.result["sampled"], 4);
  EXPECT_EQ(job.result["duplicates_skipped"], 0);
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 4u);
  for (const auto& f : frames) ExpectWellFormed(f, media.video_id, *job.processing_id, 640, 360, false);
  // Motion against the previous sample: testsrc2 moves.
  EXPECT_GT(frames[1].features["motion"].get<double>(), 0.0);
}

TEST_F(FramesStageTest, AStaticVideoKeepsOneFrameAndCountsTheRestAsDuplicates) {
  std::string still = MakeVideo("still.mp4", {"-loop", "1", "-i", TestMedia("still.png"), "-t", "6", "-r", "25",
                                              "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"});
  auto media = AddMedia(still);
  auto job = RunJob(media.video_id, {{"interval_s", 1}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(job.result["sampled"], 6);
  EXPECT_EQ(job.result["kept"], 1);
  EXPECT_EQ(job.result["duplicates_skipped"], 5);
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].ts_s, 0.0);
  EXPECT_EQ(frames[0].features["faces"]["count"], 0);

  // Without dedupe every sample is stored.
  job = RunJob(media.video_id, {{"interval_s", 1}, {"dedupe", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(Frames(media.video_id).size(), 6u);
}

TEST_F(FramesStageTest, MaxFramesWidensTheIntervalToSpanTheVideo) {
  auto media = AddMedia(TestMedia("small.mp4"));
  auto job = RunJob(media.video_id, {{"interval_s", 0.1}, {"max_frames", 4}, {"dedupe", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(job.result["sampled"], 4);
  EXPECT_DOUBLE_EQ(job.result["interval_s"].get<double>(), 1.0);
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_NEAR(frames[3].ts_s, 3.0, 1e-6);
}

TEST_F(FramesStageTest, KeyframesModeSamplesTheIntraFrames) {
  auto media = AddMedia(TestMedia("small.mp4"));
  auto job = RunJob(media.video_id, {{"mode", "keyframes"}, {"dedupe", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(frames[static_cast<size_t>(i)].ts_s, i, 1e-6);
  for (const auto& f : frames) ExpectWellFormed(f, media.video_id, *job.processing_id, 320, 180, true);

  // Thinned evenly to max_frames, ends included.
  job = RunJob(media.video_id, {{"mode", "keyframes"}, {"dedupe", false}, {"max_frames", 2}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_NEAR(frames[0].ts_s, 0, 1e-6);
  EXPECT_NEAR(frames[1].ts_s, 3, 1e-6);
}

TEST_F(FramesStageTest, ScenesModeTakesTheMiddleOfEachSceneOfTheNewestRun) {
  std::string talk = TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "make_test_video.py output (shared tools)");
  auto truth = nlohmann::json::parse(ReadFile(talk + ".truth.json"));
  auto media = AddMedia(talk);

  auto job = RunJob(media.video_id, {{"mode", "scenes"}});
  ASSERT_EQ(job.status, "failed");
  EXPECT_NE(job.error.value_or("").find("has no scenes yet"), std::string::npos) << job.error.value_or("");

  // An older scenes run with one scene, then the newest with the truth's
  // scenes; a failed run after both is ignored.
  db::Repositories repos(*db_, env_, &ids_);
  auto add_run = [&](const std::string& status, const std::vector<std::pair<double, double>>& spans) {
    db::VideoProcessingRow run;
    run.video_id = media.video_id;
    run.kind = "scenes";
    run.status = status;
    auto stored = repos.video_processing.Insert(run);
    ASSERT_OK(stored.status());
    for (size_t i = 0; i < spans.size(); ++i) {
      db::SceneRow s;
      s.video_id = media.video_id;
      s.processing_id = stored->processing_id;
      s.scene_no = static_cast<int64_t>(i);
      s.start_s = spans[i].first;
      s.end_s = spans[i].second;
      ASSERT_OK(repos.scenes.Insert(s).status());
    }
  };
  std::vector<std::pair<double, double>> spans;
  for (const auto& s : truth["scenes"]) spans.emplace_back(s["start_s"].get<double>(), s["end_s"].get<double>());
  add_run("succeeded", {{0, 39.4}});
  add_run("succeeded", spans);
  add_run("failed", {{1, 2}});

  job = RunJob(media.video_id, {{"mode", "scenes"}, {"dedupe", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    double middle = (spans[i].first + spans[i].second) / 2;
    // The frame shown at the middle: at most one frame (1/25 s) before it.
    EXPECT_LE(frames[i].ts_s, middle + 1e-6);
    EXPECT_GT(frames[i].ts_s, middle - 0.04 - 1e-6);
    ExpectWellFormed(frames[i], media.video_id, *job.processing_id, 320, 180, true);
  }
}

TEST_F(FramesStageTest, ARerunReplacesThePreviousFramesOnlyWhenItSucceeds) {
  auto media = AddMedia(TestMedia("small.mp4"));
  auto first = RunJob(media.video_id, {{"interval_s", 1}, {"dedupe", false}});
  ASSERT_EQ(first.status, "succeeded") << first.error.value_or("");
  auto old_frames = Frames(media.video_id);
  ASSERT_EQ(old_frames.size(), 4u);
  std::vector<std::string> old_paths;
  for (const auto& f : old_frames) old_paths.push_back(AssetPath(Asset(*f.asset_id)));

  // A run that fails (no scenes yet) leaves them alone.
  auto failed = RunJob(media.video_id, {{"mode", "scenes"}});
  ASSERT_EQ(failed.status, "failed");
  EXPECT_EQ(Frames(media.video_id).size(), 4u);
  for (const auto& p : old_paths) EXPECT_TRUE(std::filesystem::exists(p)) << p;

  auto second = RunJob(media.video_id, {{"interval_s", 2}, {"dedupe", false}});
  ASSERT_EQ(second.status, "succeeded") << second.error.value_or("");
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 2u);
  for (const auto& f : frames) EXPECT_EQ(f.processing_id, *second.processing_id);
  for (const auto& p : old_paths) EXPECT_FALSE(std::filesystem::exists(p)) << p;
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM video_assets WHERE video_id = ? AND kind = 'frame'", {media.video_id}), 2);
  EXPECT_EQ(FilesUnder("blobs/assets"), 2u);
}

TEST_F(FramesStageTest, AudioOnlyMediaHasNoVideoStream) {
  auto audio = AddMedia(TestMedia("tone.wav"), "audio");
  auto job = RunJob(audio.video_id, {});
  ASSERT_EQ(job.status, "failed");
  EXPECT_NE(job.error.value_or("").find("has no video stream"), std::string::npos) << job.error.value_or("");
  EXPECT_EQ(job.error.value_or("").rfind("invalid_argument", 0), 0u) << job.error.value_or("");
  EXPECT_EQ(job.attempts, 1);

  // Labelled as video but holding only audio: the decoder finds out.
  auto mislabelled = AddMedia(TestMedia("tone.wav"), "video");
  job = RunJob(mislabelled.video_id, {});
  ASSERT_EQ(job.status, "failed");
  EXPECT_NE(job.error.value_or("").find("has no video stream"), std::string::npos) << job.error.value_or("");
  EXPECT_EQ(job.error.value_or("").rfind("invalid_argument", 0), 0u) << job.error.value_or("");
  EXPECT_TRUE(Frames(mislabelled.video_id).empty());
}

TEST_F(FramesStageTest, ACorruptStreamFailsWithAnErrorLogAndStoresNothing) {
  // The index up front, then noise where the coded frames were.
  std::string fast = MakeVideo("fast.mp4", {"-i", TestMedia("small.mp4"), "-c", "copy", "-movflags", "+faststart"});
  std::string bytes = ReadFile(fast);
  size_t mdat = bytes.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  uint32_t seed = 7;
  for (size_t i = mdat + 4; i < bytes.size(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    bytes[i] = static_cast<char>(seed >> 24);
  }
  cutroom::testing::WriteFile(work_.File("corrupt.mp4"), bytes);
  auto media = AddMedia(work_.File("corrupt.mp4"));
  auto job = RunJob(media.video_id, {{"interval_s", 1}});
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.error.value_or("").rfind("invalid_argument", 0), 0u) << job.error.value_or("");
  EXPECT_FALSE(LogMessages(job.job_id, "error").empty());
  EXPECT_TRUE(Frames(media.video_id).empty());
  EXPECT_EQ(FilesUnder("blobs/assets"), 0u);
}

TEST_F(FramesStageTest, BadParamsAreRefusedNamingTheFieldAndLimit) {
  struct Case {
    nlohmann::json params;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {{{"mode", "everything"}}, "mode"},
      {{{"mode", 3}}, "mode"},
      {{{"interval_s", 0}}, "interval_s"},
      {{{"interval_s", -1}}, "interval_s"},
      {{{"interval_s", 3600.5}}, "3600"},
      {{{"interval_s", "5"}}, "interval_s"},
      {{{"max_frames", 0}}, "max_frames"},
      {{{"max_frames", 5001}}, "5000"},
      {{{"max_frames", 2.5}}, "max_frames"},
      {{{"describe", "yes"}}, "describe"},
      {{{"ocr", 1}}, "ocr"},
      {{{"faces", nullptr}}, "faces"},
      {{{"dedupe", "no"}}, "dedupe"},
      {{{"prompt", 7}}, "prompt"},
      {{{"prompt", std::string(4001, 'x')}}, "4000"},
      {{{"frames", 3}}, "'frames'"},
      {nlohmann::json::array(), "object"},
  };
  for (const auto& c : cases) {
    Status st = ValidateFramesParams(c.params);
    EXPECT_TRUE(st.IsInvalidArgument()) << c.params.dump();
    EXPECT_NE(st.message().find(c.mentions), std::string::npos) << c.params.dump() << ": " << st.ToString();
  }
  // Limits themselves are fine, and a prompt counts characters, not bytes.
  std::string long_prompt;
  for (int i = 0; i < 4000; ++i) long_prompt += "\xc3\xa9";  // é
  EXPECT_OK(ValidateFramesParams({{"interval_s", 3600}, {"max_frames", 5000}, {"prompt", long_prompt}}));
  EXPECT_OK(ValidateFramesParams({{"max_frames", 1.0}, {"mode", "keyframes"}, {"describe", false}}));
  EXPECT_OK(ValidateFramesParams(nlohmann::json::object()));
  auto defaults = ParseFramesParams(nlohmann::json::object());
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->mode, "interval");
  EXPECT_EQ(defaults->interval_s, 5);
  EXPECT_EQ(defaults->max_frames, 300);
  EXPECT_TRUE(defaults->faces);
  EXPECT_FALSE(defaults->ocr);
  EXPECT_FALSE(defaults->describe);

  // A job with bad params fails at once, without retries.
  auto media = AddMedia(TestMedia("small.mp4"));
  auto job = RunJob(media.video_id, {{"interval_s", 0}});
  ASSERT_EQ(job.status, "failed");
  EXPECT_NE(job.error.value_or("").find("interval_s"), std::string::npos);
}

TEST_F(FramesStageTest, OcrStoresTheTextOfEachFrame) {
  std::string png = std::string(testing::kOpenCvData) + "imageTextN.png";
  REQUIRE_FILE(png, "opencv-doc example image");
  // Two seconds of a flat grey card, then two of the page of text.
  std::string page = MakeVideo(
      "page.mp4", {"-f", "lavfi", "-i", "color=c=gray:size=560x256:rate=25:duration=2", "-loop", "1", "-t", "2", "-r",
                   "25", "-i", png, "-filter_complex", "[1]scale=560:256,setsar=1[p];[0][p]concat=n=2:v=1",
                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"});
  auto media = AddMedia(page);
  auto job = RunJob(media.video_id, {{"interval_s", 2}, {"ocr", true}, {"faces", false}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(job.result["ocr"], 1);
  auto frames = Frames(media.video_id);
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_TRUE(frames[0].ocr_text.has_value());
  EXPECT_EQ(*frames[0].ocr_text, "");
  ASSERT_TRUE(frames[1].ocr_text.has_value());
  EXPECT_NE(frames[1].ocr_text->find("computer vision problems"), std::string::npos) << *frames[1].ocr_text;
  EXPECT_GT(frames[1].features["ocr_confidence"].get<double>(), 80);
  // The full-text index sees it.
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM frames WHERE video_id = ? AND ocr_text LIKE '%implementation%'",
                  {media.video_id}),
            1);
}

TEST_F(FramesStageTest, DescribeStoresEachFramesDescriptionAndModel) {
  FakeVisionServer server;
  server.Configure(config_);
  std::atomic<int> answered{0};
  server.Respond([&](int, const nlohmann::json& request) {
    ++answered;
    // The frame's own JPEG comes with the job's prompt.
    auto images = ImagesOf(request);
    bool jpeg = images.size() == 1 && images[0].rfind("\xff\xd8\xff", 0) == 0;
    return ChatCompletion(jpeg && PromptOf(request) == "Name the pattern." ? "Colour test pattern." : "wrong request");
  });
  auto media = AddMedia(TestMedia("small.mp4"));
  auto job = RunJob(media.video_id, {{"interval_s", 1}, {"dedupe", false}, {"describe", true},
                                     {"prompt", "Name the pattern."}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(answered.load(), 4);
  EXPECT_EQ(job.result["described"], 4);
  EXPECT_EQ(job.result["usage"]["total_tokens"], 440);
  for (const auto& f : Frames(media.video_id)) {
    EXPECT_EQ(f.description.value_or(""), "Colour test pattern.");
    EXPECT_EQ(f.description_model.value_or(""), "fake-vision-1");
  }
  bool usage_logged = false;
  for (const auto& m : LogMessages(job.job_id, "info")) usage_logged |= m.find("440 tokens") != std::string::npos;
  EXPECT_TRUE(usage_logged);
}

TEST_F(FramesStageTest, AnEmptyDescriptionIsLoggedAndStoredAsNone) {
  FakeVisionServer server;
  server.Configure(config_);
  auto media = AddMedia(TestMedia("small.mp4"));
  // The second request (whichever frame it is for) gets an empty reply.
  std::atomic<int> n{0};
  server.Respond([&](int, const nlohmann::json&) { return ChatCompletion(++n == 2 ? "" : "A frame."); });
  auto job = RunJob(media.video_id, {{"interval_s", 1}, {"dedupe", false}, {"describe", true}});
  ASSERT_EQ(job.status, "succeeded") << job.error.value_or("");
  EXPECT_EQ(job.result["described"], 3);
  EXPECT_EQ(job.result["description_failures"], 1);
  int without = 0;
  for (const auto& f : Frames(media.video_id)) {
    if (!f.description) {
      ++without;
      EXPECT_FALSE(f.description_model.has_value());
    } else {
      EXPECT_EQ(*f.description, "A frame.");
    }
  }
  EXPECT_EQ(without, 1);
  auto warnings = LogMessages(job.job_id, "warning");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no description"), std::string::npos) << warnings[0];
}

TEST_F(FramesStageTest, DescribeWithoutAnLlmIsRefusedBeforeDecoding) {
  auto media = AddMedia(TestMedia("small.mp4"));
  auto job = RunJob(media.video_id, {{"describe", true}});
  ASSERT_EQ(job.status, "failed");
  EXPECT_NE(job.error.value_or("").find("llm_not_configured"), std::string::npos) << job.error.value_or("");
  EXPECT_EQ(FilesUnder("blobs/assets"), 0u);
}

TEST_F(FramesStageTest, CancellingMidRunRemovesTheFilesItWrote) {
  FakeVisionServer server;
  server.Configure(config_);
  StartPool();
  auto media = AddMedia(TestMedia("small.mp4"));
  std::string job_id;
  std::mutex mu;
  // The first description request cancels the job: by then every frame's
  // JPEG is in the store. The others are slow, so the job sees the
  // cancellation (the pool looks four times a second) long before it has
  // asked about every frame.
  server.Respond([&](int n, const nlohmann::json&) {
    if (n == 1) {
      std::lock_guard lock(mu);
      EXPECT_OK(queue_->Cancel(job_id, db::kLocalOwnerId).status());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return ChatCompletion("A frame.");
  });
  jobs::EnqueueRequest r;
  r.kind = "frames";
  r.video_id = media.video_id;
  r.owner_id = db::kLocalOwnerId;
  r.params = {{"interval_s", 0.5}, {"dedupe", false}, {"describe", true}};
  r.processing_kind = "frames";
  {
    std::lock_guard lock(mu);
    auto job = queue_->Enqueue(r);
    ASSERT_OK(job.status());
    job_id = job->job_id;
  }
  pool_->Notify();
  std::string status;
  for (int i = 0; i < 3000 && status != "cancelled" && status != "failed" && status != "succeeded"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = queue_->Get(job_id)->status;
  }
  EXPECT_EQ(status, "cancelled");
  pool_->Stop();  // the handler has returned
  EXPECT_TRUE(Frames(media.video_id).empty());
  EXPECT_EQ(FilesUnder("blobs/assets"), 0u);
  EXPECT_LT(server.requests().size(), 8u);
}

}  // namespace
}  // namespace cutroom::analysis
