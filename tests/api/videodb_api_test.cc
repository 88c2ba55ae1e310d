// VideoDB as a hosted engine through the API, against the local VideoDB
// fake (tests/fakes/videodb_server.py): a VideoDB transcript and VideoDB
// scenes of the shared testvideo.mp4 stored in the unified tables and read
// back through the usual GET routes, search with engine=videodb in cutroom's
// shape, and every failure (no key, bad key, quota, unreachable host) a
// clear refusal or failed job with nothing half-stored.
#include <gtest/gtest.h>

#include "api/server_fixture.h"
#include "fakes/videodb_fake.h"

namespace cutroom::api {
namespace {

using cutroom::testing::FakeVideoDb;

const bool kKeysSet = [] {
  cutroom::testing::SetVideoDbTestKeys();
  return true;
}();

class VideoDbApiTest : public ServerWithWorkers {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.running()) << "the VideoDB fake did not start (python3 missing?)";
    ServerWithWorkers::SetUp();
  }
  void ConfigureExtra(Config& c) override {
    fake_.Configure(c, key_env_);
    // The fake serves VideoDB's frame URLs on loopback.
    ASSERT_OK(c.Set("ingest.allow_private_urls", "true"));
  }

  std::string UploadTestVideo() {
    std::string path = cutroom::testing::SharedData("video/testvideo.mp4");
    if (path.empty()) return "";
    return Upload(path, "testvideo.mp4");
  }

  // Queues a stage and waits for its job through the queue's retries: the
  // queue's clock is the fixture's fake one, moved past each retry's wait.
  nlohmann::json ProcessThroughRetries(const std::string& video_id, const std::string& stage,
                                       const std::string& body) {
    auto r = client_->Post("/api/videos/" + video_id + "/process/" + stage, body, "application/json");
    EXPECT_EQ(r->status, 202) << r->body;
    std::string job_id = Json(r)["job_id"];
    nlohmann::json job;
    for (int i = 0; i < 3000; ++i) {
      job = Json(client_->Get("/api/jobs/" + job_id));
      if (job["status"] == "succeeded" || job["status"] == "failed") break;
      if (job["status"] == "queued" && job["attempts"].get<int>() > 0) fake_env_.AdvanceMs(60'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return job;
  }

  nlohmann::json Metadata(const std::string& video_id) {
    db::Repositories repos(*db_, env_, &ids_);
    auto m = repos.media.Get(video_id);
    return m.ok() ? m->metadata : nlohmann::json();
  }

  FakeVideoDb fake_;
  std::string key_env_ = cutroom::testing::kVideoDbGoodKeyEnv;
};

TEST_F(VideoDbApiTest, StoresAVideoDbTranscriptAndScenesOfTheTestVideoAndSearchesThem) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  std::string id = Upload(path, "testvideo.mp4");

  auto job = Process(id, "transcription", R"({"engine": "videodb", "language": "en"})");
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  EXPECT_EQ(job["result"]["engine"], "videodb");
  auto t = Json(client_->Get("/api/videos/" + id + "/transcription"));
  EXPECT_EQ(t["engine"], "videodb");
  EXPECT_EQ(t["language"], "en");
  // Cut at sentence ends and at the pause after "video".
  ASSERT_EQ(t["segments"].size(), 4u) << t.dump();
  EXPECT_EQ(t["segments"][0]["text"], "Welcome to cutroom.");
  EXPECT_EQ(t["segments"][1]["text"], "This is a test video");
  EXPECT_EQ(t["segments"][2]["text"], "after a pause we talk about rockets!");
  EXPECT_DOUBLE_EQ(t["segments"][2]["start_s"].get<double>(), 5.0);
  EXPECT_EQ(t["segments"][3]["words"].size(), 3u);
  EXPECT_DOUBLE_EQ(t["segments"][3]["words"][2]["end_s"].get<double>(), 9.2);
  auto srt = client_->Get("/api/videos/" + id + "/transcription?format=srt");
  ASSERT_EQ(srt->status, 200);
  EXPECT_NE(srt->body.find("Welcome to cutroom."), std::string::npos);

  auto scenes_job = Process(id, "scenes",
                            R"({"detector": "videodb", "extraction": "shot", "threshold": 20, "frame_count": 3,
                                "prompt": "What is on screen?"})");
  ASSERT_EQ(scenes_job["status"], "succeeded") << scenes_job.dump();
  auto sc = Json(client_->Get("/api/videos/" + id + "/scenes"));
  EXPECT_EQ(sc["detector"], "videodb");
  EXPECT_EQ(sc["params"]["extraction"], "shot");
  ASSERT_EQ(sc["scenes"].size(), 3u) << sc.dump();
  for (size_t i = 0; i < 3; ++i) {
    const auto& s = sc["scenes"][i];
    EXPECT_EQ(s["scene_no"], i + 1);
    EXPECT_EQ(s["transition"], i == 0 ? "start" : "cut");
    EXPECT_NE(s["description"].get<std::string>().find("What is on screen?"), std::string::npos) << s.dump();
    EXPECT_EQ(s["description_model"], "videodb");
    ASSERT_EQ(s["frame_times"].size(), 3u) << s.dump();
    EXPECT_GE(s["frame_times"][0].get<double>(), s["start_s"].get<double>());
    EXPECT_LE(s["frame_times"][2].get<double>(), s["end_s"].get<double>());
    ASSERT_TRUE(s["keyframe_url"].is_string()) << s.dump();
    auto image = client_->Get(s["keyframe_url"].get<std::string>());
    ASSERT_EQ(image->status, 200);
    EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
  }
  EXPECT_NEAR(sc["scenes"][2]["end_s"].get<double>(), 24.02, 0.01);
  EXPECT_EQ(sc["transitions"].size(), 2u);
  EXPECT_EQ(CountRows("scene_index"), 3);

  // Uploaded once (through the signed URL) and remembered for both stages.
  EXPECT_EQ(fake_.RequestsTo("POST", "/collection/default/upload").size(), 1u);
  EXPECT_EQ(fake_.RequestsTo("POST", "/_upload/").size(), 1u);
  auto meta = Metadata(id)["videodb"];
  EXPECT_EQ(meta["video_id"].get<std::string>().rfind("m-", 0), 0u) << meta.dump();
  EXPECT_EQ(meta["uploaded_via"], "file");
  EXPECT_EQ(meta["spoken_word_index"], true);
  EXPECT_TRUE(meta["scene_index_id"].is_string());

  // Re-running a stage reuses the upload and the spoken index.
  auto again = Process(id, "transcription", R"({"engine": "videodb"})");
  ASSERT_EQ(again["status"], "succeeded") << again.dump();
  EXPECT_EQ(fake_.RequestsTo("POST", "/collection/default/upload").size(), 1u);

  auto keyword = client_->Get("/api/search?engine=videodb&type=keyword&index=spoken_word&q=rockets");
  ASSERT_EQ(keyword->status, 200) << keyword->body;
  auto k = Json(keyword);
  EXPECT_EQ(k["query"], "rockets");
  ASSERT_EQ(k["hits"].size(), 2u) << k.dump();
  for (const auto& h : k["hits"]) {
    EXPECT_EQ(h["video_id"], id);
    EXPECT_EQ(h["source"], "transcript");
    EXPECT_TRUE(h["start_s"].is_number());
    EXPECT_TRUE(h["end_s"].is_number());
    EXPECT_NE(h["text"].get<std::string>().find("rockets"), std::string::npos);
    EXPECT_TRUE(h["score"].is_number());
  }
  auto semantic =
      Json(client_->Get("/api/search?engine=videodb&type=semantic&index=scene&q=rocket%20launch&video_id=" + id));
  ASSERT_FALSE(semantic["hits"].empty()) << semantic.dump();
  EXPECT_EQ(semantic["hits"][0]["source"], "scene");
  EXPECT_EQ(semantic["hits"][0]["video_id"], id);
  EXPECT_EQ(semantic["engine"], "videodb");
}

TEST_F(VideoDbApiTest, AUrlReferenceIsUploadedByUrl) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  httplib::Server media;
  std::string bytes = cutroom::testing::ReadFile(path);
  media.Get("/talk.mp4", [&](const httplib::Request&, httplib::Response& res) { res.set_content(bytes, "video/mp4"); });
  int port = media.bind_to_any_port("127.0.0.1");
  std::thread served([&] { media.listen_after_bind(); });
  db::Repositories repos(*db_, env_, &ids_);
  db::MediaRow m;
  m.owner_id = db::kLocalOwnerId;
  m.status = "ready";
  m.media_type = "video";
  m.source_type = "reference";
  m.source_url = "http://127.0.0.1:" + std::to_string(port) + "/talk.mp4";
  m.duration_s = 24.02;
  auto row = repos.media.Insert(m);
  ASSERT_TRUE(row.ok()) << row.status().ToString();

  auto job = Process(row->video_id, "transcription", R"({"engine": "videodb"})");
  media.stop();
  served.join();
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  EXPECT_TRUE(fake_.RequestsTo("GET", "/collection/default/upload_url").empty());
  auto registered = fake_.RequestsTo("POST", "/collection/default/upload");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["body"]["url"], *m.source_url);
  EXPECT_EQ(Metadata(row->video_id)["videodb"]["uploaded_via"], "url");
}

TEST_F(VideoDbApiTest, DeletingAVideoLeavesItsVideoDbCopyUnlessConfigured) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  std::string kept = Upload(path, "kept.mp4");
  ASSERT_EQ(Process(kept, "transcription", R"({"engine": "videodb"})")["status"], "succeeded");
  ASSERT_EQ(client_->Delete("/api/videos/" + kept)->status, 204);
  EXPECT_TRUE(fake_.RequestsTo("DELETE", "/video/").empty());

  ASSERT_OK(config_.Set("videodb.delete_remote", "true"));
  std::string gone = Upload(path, "gone.mp4");
  ASSERT_EQ(Process(gone, "transcription", R"({"engine": "videodb"})")["status"], "succeeded");
  std::string remote = Metadata(gone)["videodb"]["video_id"];
  ASSERT_EQ(client_->Delete("/api/videos/" + gone)->status, 204);
  auto deletes = fake_.RequestsTo("DELETE", "/video/");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0]["path"], "/video/" + remote);
}

class VideoDbNotConfiguredTest : public VideoDbApiTest {
 protected:
  VideoDbNotConfiguredTest() { key_env_ = cutroom::testing::kVideoDbUnsetKeyEnv; }
};

TEST_F(VideoDbNotConfiguredTest, RefusesWith422NamingTheSettingsBeforeQueueing) {
  db::MediaRow m = AddMedia(db::kLocalOwnerId);
  for (const auto& [stage, body] : std::vector<std::pair<std::string, std::string>>{
           {"transcription", R"({"engine": "videodb"})"}, {"scenes", R"({"detector": "videodb"})"}}) {
    auto r = client_->Post("/api/videos/" + m.video_id + "/process/" + stage, body, "application/json");
    ASSERT_EQ(r->status, 422) << stage << ": " << r->body;
    EXPECT_EQ(ErrorCode(r), "videodb_not_configured");
    auto e = Json(r)["error"];
    EXPECT_NE(e["message"].get<std::string>().find(cutroom::testing::kVideoDbUnsetKeyEnv), std::string::npos);
    EXPECT_EQ(e["details"]["settings"][0], "videodb.api_key_env");
  }
  auto s = client_->Get("/api/search?engine=videodb&q=rockets");
  ASSERT_EQ(s->status, 422) << s->body;
  EXPECT_EQ(ErrorCode(s), "videodb_not_configured");
  EXPECT_EQ(CountRows("jobs"), 0);
  // transcribe.engine = "videodb" without a key is refused the same way.
  ASSERT_OK(config_.Set("transcribe.engine", "videodb"));
  auto r = client_->Post("/api/videos/" + m.video_id + "/process/transcription", "", "application/json");
  ASSERT_EQ(r->status, 422) << r->body;
  EXPECT_EQ(ErrorCode(r), "videodb_not_configured");
  EXPECT_TRUE(fake_.Requests().empty());
}

TEST_F(VideoDbApiTest, BadSceneParametersAreRefusedWithTheirLimits) {
  db::MediaRow m = AddMedia(db::kLocalOwnerId);
  auto r = client_->Post("/api/videos/" + m.video_id + "/process/scenes",
                         R"({"detector": "videodb", "extraction": "time", "threshold": 30})", "application/json");
  ASSERT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("interval_s"), std::string::npos) << r->body;
  r = client_->Post("/api/videos/" + m.video_id + "/process/scenes", R"({"detector": "videodb", "frame_count": 50})",
                    "application/json");
  ASSERT_EQ(r->status, 400) << r->body;
  auto s = client_->Get("/api/search?engine=videodb&type=fuzzy&q=x");
  ASSERT_EQ(s->status, 400) << s->body;
  s = client_->Get("/api/search?engine=videodb&q=x&video_id=" + m.video_id);
  ASSERT_EQ(s->status, 409) << s->body;
  EXPECT_EQ(ErrorCode(s), "videodb_not_indexed");
}

class VideoDbBadKeyTest : public VideoDbApiTest {
 protected:
  VideoDbBadKeyTest() { key_env_ = cutroom::testing::kVideoDbBadKeyEnv; }
};

TEST_F(VideoDbBadKeyTest, ARefusedKeyFailsTheJobClearlyAndStoresNothing) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  std::string id = Upload(path, "testvideo.mp4");
  auto job = Process(id, "transcription", R"({"engine": "videodb"})");
  ASSERT_EQ(job["status"], "failed") << job.dump();
  EXPECT_NE(job["error"].get<std::string>().find("videodb_unauthorized"), std::string::npos) << job.dump();
  EXPECT_EQ(job["attempts"], 1) << "a refused key is not retried";
  EXPECT_EQ(CountRows("transcriptions"), 0);
  EXPECT_FALSE(Metadata(id).contains("videodb"));
  auto s = client_->Get("/api/search?engine=videodb&q=rockets");
  ASSERT_EQ(s->status, 200) << s->body;  // nothing of this owner is indexed: nothing asked
}

class VideoDbQuotaTest : public VideoDbApiTest {
 protected:
  VideoDbQuotaTest() { key_env_ = cutroom::testing::kVideoDbQuotaKeyEnv; }
};

TEST_F(VideoDbQuotaTest, AQuotaAnswerFailsTheJobClearlyAndStoresNothing) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  std::string id = Upload(path, "testvideo.mp4");
  auto job = ProcessThroughRetries(id, "scenes", R"({"detector": "videodb"})");
  ASSERT_EQ(job["status"], "failed") << job.dump();
  EXPECT_NE(job["error"].get<std::string>().find("videodb_quota"), std::string::npos) << job.dump();
  EXPECT_NE(job["error"].get<std::string>().find("no credits left"), std::string::npos) << job.dump();
  EXPECT_EQ(CountRows("scene_index"), 0);
  EXPECT_EQ(Json(client_->Get("/api/videos/" + id + "/scenes"))["error"]["code"], "not_found");
}

class VideoDbUnreachableTest : public VideoDbApiTest {
 protected:
  void ConfigureExtra(Config& c) override {
    VideoDbApiTest::ConfigureExtra(c);
    ASSERT_OK(c.Set("videodb.base_url", "http://127.0.0.1:1"));
    ASSERT_OK(c.Set("videodb.max_attempts", "2"));
  }
};

TEST_F(VideoDbUnreachableTest, AnUnreachableHostFailsTheJobWithTheLastReason) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  std::string id = Upload(path, "testvideo.mp4");
  auto job = ProcessThroughRetries(id, "transcription", R"({"engine": "videodb"})");
  ASSERT_EQ(job["status"], "failed") << job.dump();
  EXPECT_EQ(job["attempts"], 3) << "the queue retries an unreachable service";
  const std::string error = job["error"];
  EXPECT_NE(error.find("videodb_unavailable"), std::string::npos) << error;
  EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;
  EXPECT_NE(error.find("after 2 tries"), std::string::npos) << error;
  EXPECT_EQ(CountRows("transcriptions"), 0);
  EXPECT_FALSE(Metadata(id).contains("videodb"));
}

}  // namespace
}  // namespace cutroom::api
