// Scenes and frames through the API with real workers: the jobs, the
// stored rows and keyframes, re-runs, and the errors callers get at once.
#include <gtest/gtest.h>

#include <atomic>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

class ScenesApi : public ServerWithWorkers {};

TEST_F(ScenesApi, ScenesOfASyntheticVideoMatchItsCuts) {
  std::string path = TestMedia("scenes-a.mp4");
  REQUIRE_FILE(path, "synthetic scene video");
  auto truth = nlohmann::json::parse(ReadFile(path + ".truth.json"));
  std::string video = Upload(path, "scenes-a.mp4");
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/scenes")->status, 404);

  auto job = Process(video, "scenes");
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto r = client_->Get("/api/videos/" + video + "/scenes");
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = Json(r);
  EXPECT_EQ(body["detector"], "content");
  EXPECT_EQ(body["processing_id"], job["processing_id"]);
  const auto& scenes = body["scenes"];
  ASSERT_EQ(scenes.size(), truth["cuts_frame"].size() + 1) << body.dump();
  EXPECT_EQ(scenes[0]["transition"], "start");
  for (size_t i = 1; i < scenes.size(); ++i) {
    EXPECT_EQ(scenes[i]["transition"], "cut");
    EXPECT_NEAR(scenes[i]["start_s"].get<double>(), truth["cuts_s"][i - 1].get<double>(), 1.01 / 30);
    EXPECT_DOUBLE_EQ(scenes[i]["start_s"].get<double>(), scenes[i - 1]["end_s"].get<double>());
  }
  EXPECT_NEAR(scenes.back()["end_s"].get<double>(), truth["duration_s"].get<double>(), 0.05);
  EXPECT_EQ(body["transitions"].size(), truth["cuts_frame"].size());
  // Each keyframe is a JPEG served from the asset route.
  auto key = client_->Get(scenes[1]["keyframe_url"].get<std::string>());
  ASSERT_EQ(key->status, 200);
  EXPECT_EQ(key->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(key->body.substr(0, 2), "\xFF\xD8");

  // A re-run replaces the scenes and their keyframes.
  int64_t keyframes = CountRows("video_assets WHERE kind = 'keyframe'");
  EXPECT_EQ(keyframes, static_cast<int64_t>(scenes.size()));
  auto again = Process(video, "scenes", R"({"detector":"adaptive","min_scene_len":"1s"})");
  ASSERT_EQ(again["status"], "succeeded") << again.dump();
  EXPECT_EQ(CountRows("scene_index"), static_cast<int64_t>(scenes.size()));
  EXPECT_EQ(CountRows("video_assets WHERE kind = 'keyframe'"), keyframes);
  auto second = Json(client_->Get("/api/videos/" + video + "/scenes"));
  EXPECT_EQ(second["detector"], "adaptive");
  EXPECT_EQ(second["processing_id"], again["processing_id"]);
}

TEST_F(ScenesApi, FramesAreSampledStoredAndServed) {
  std::string path = TestMedia("talk.mp4");
  REQUIRE_FILE(path, "synthetic talk video");
  std::string video = Upload(path, "talk.mp4");
  auto job = Process(video, "frames", R"({"interval_s": 4, "max_frames": 20})");
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto body = Json(client_->Get("/api/videos/" + video + "/frames"));
  ASSERT_FALSE(body["frames"].empty()) << body.dump();
  EXPECT_LE(body["frames"].size(), 20u);
  double previous = -1;
  for (const auto& f : body["frames"]) {
    EXPECT_GT(f["ts_s"].get<double>(), previous);
    previous = f["ts_s"].get<double>();
    EXPECT_TRUE(f["features"].contains("sharpness")) << f.dump();
  }
  auto image = client_->Get(body["frames"][0]["image_url"].get<std::string>());
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->body.substr(0, 2), "\xFF\xD8");
}

TEST_F(ScenesApi, ErrorsComeAtOnceWithPreciseCodes) {
  std::string tone = TestMedia("tone.wav");
  std::string small = TestMedia("small.mp4");
  REQUIRE_FILE(small, "test media");
  std::string audio = Upload(tone, "tone.wav");
  for (const char* stage : {"scenes", "frames"}) {
    auto r = client_->Post("/api/videos/" + audio + "/process/" + stage, "", "application/json");
    EXPECT_EQ(r->status, 422) << r->body;
    EXPECT_EQ(Json(r)["error"]["code"], "no_video_stream") << r->body;
  }
  std::string video = Upload(small, "small.mp4");
  auto bad = client_->Post("/api/videos/" + video + "/process/scenes", R"({"threshold": -3})", "application/json");
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(Json(bad)["error"]["message"].get<std::string>().find("threshold"), std::string::npos) << bad->body;
  auto huge = client_->Post("/api/videos/" + video + "/process/frames", R"({"max_frames": 1000000000})",
                            "application/json");
  EXPECT_EQ(huge->status, 400) << huge->body;
  EXPECT_NE(Json(huge)["error"]["message"].get<std::string>().find("5000"), std::string::npos) << huge->body;
  for (const char* stage : {"scenes", "frames"}) {
    auto r = client_->Post("/api/videos/" + video + "/process/" + stage, R"({"describe": true})", "application/json");
    EXPECT_EQ(r->status, 422) << r->body;
    EXPECT_EQ(Json(r)["error"]["code"], "llm_not_configured") << r->body;
  }
  // process/all on audio-only media skips what needs a picture.
  auto all = client_->Post("/api/videos/" + audio + "/process/all", "", "application/json");
  ASSERT_EQ(all->status, 202) << all->body;
  auto planned = Json(all);
  for (const auto& s : planned["stages"]) {
    if (s["stage"] == "scenes" || s["stage"] == "frames") {
      EXPECT_EQ(s["skipped"], "the media has no video stream");
    }
  }
}

// Scene descriptions from a local OpenAI-compatible server: one request
// per scene carrying its frames; an empty reply leaves no description.
TEST_F(ScenesApi, ScenesAreDescribedByTheVisionModel) {
  std::string path = TestMedia("scenes-b.mkv");
  REQUIRE_FILE(path, "synthetic scene video");
  httplib::Server llm;
  std::atomic<int> requests{0};
  llm.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    auto body = nlohmann::json::parse(req.body);
    int images = 0;
    for (const auto& part : body["messages"][0]["content"]) images += part["type"] == "image_url";
    int n = ++requests;
    std::string text = n == 2 ? "" : "A scene with " + std::to_string(images) + " frames";
    res.set_content(nlohmann::json{{"model", "fake-vision"},
                                   {"choices", {{{"message", {{"role", "assistant"}, {"content", text}}},
                                                 {"finish_reason", "stop"}}}},
                                   {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}}
                        .dump(),
                    "application/json");
  });
  int port = llm.bind_to_any_port("127.0.0.1");
  std::thread t([&] { llm.listen_after_bind(); });
  ASSERT_OK(config_.Set("llm.base_url", "http://127.0.0.1:" + std::to_string(port) + "/v1"));
  ASSERT_OK(config_.Set("llm.model", "fake-vision"));
  ASSERT_OK(config_.Set("llm.concurrency", "1"));
  std::string video = Upload(path, "scenes-b.mkv");
  auto job = Process(video, "scenes", R"({"describe": true})");
  llm.stop();
  t.join();
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto body = Json(client_->Get("/api/videos/" + video + "/scenes"));
  ASSERT_GE(body["scenes"].size(), 3u);
  EXPECT_EQ(requests.load(), static_cast<int>(body["scenes"].size()));
  int described = 0;
  for (const auto& s : body["scenes"]) {
    if (s["description"].is_null()) continue;
    ++described;
    EXPECT_EQ(s["description"], "A scene with 3 frames");
    EXPECT_EQ(s["description_model"], "fake-vision");
  }
  EXPECT_EQ(described, static_cast<int>(body["scenes"].size()) - 1);
}

}  // namespace
}  // namespace cutroom::api
