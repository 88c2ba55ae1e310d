// Clips and edit jobs through the API with real workers: candidates from a
// transcribed talk, their exports, and a rendered 9:16 clip probed back.
#include <gtest/gtest.h>

#include "analysis/frames/faces.h"
#include "core/subprocess.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::TestMedia;
using cutroom::testing::WriteFile;

class ClipsApi : public ServerWithWorkers {
 protected:
  // talk.mp4 transcribed, with scenes and clip candidates.
  std::string TalkWithClips() {
    std::string video = Upload(TestMedia("talk.mp4"), "talk.mp4");
    EXPECT_EQ(Process(video, "transcription")["status"], "succeeded");
    EXPECT_EQ(Process(video, "scenes")["status"], "succeeded");
    auto clips = Process(video, "clips", R"({"min_s": 6, "max_s": 20, "count": 3})");
    EXPECT_EQ(clips["status"], "succeeded") << clips.dump();
    return video;
  }
};

TEST_F(ClipsApi, CandidatesExportsAndARenderedVerticalClip) {
  std::string talk = TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "synthetic talk video");
  auto truth = nlohmann::json::parse(ReadFile(talk + ".truth.json"));
  std::string video = TalkWithClips();
  auto list = Json(client_->Get("/api/videos/" + video + "/clips"));
  ASSERT_FALSE(list["clips"].empty()) << list.dump();
  double previous = 2;
  for (const auto& c : list["clips"]) {
    EXPECT_LE(c["score"].get<double>(), previous);
    previous = c["score"].get<double>();
    EXPECT_GE(c["start_s"].get<double>(), 0);
    EXPECT_LE(c["end_s"].get<double>(), truth["duration_s"].get<double>() + 1e-6);
    EXPECT_FALSE(c["reason"].get<std::string>().empty());
  }
  const auto& best = list["clips"][0];
  std::string clip_id = best["clip_id"];
  double clip_len = best["end_s"].get<double>() - best["start_s"].get<double>();

  // Exports.
  auto otio = client_->Get("/api/videos/" + video + "/clips/" + clip_id + "/export?format=otio");
  ASSERT_EQ(otio->status, 200) << otio->body;
  auto timeline = nlohmann::json::parse(otio->body);
  EXPECT_EQ(timeline["OTIO_SCHEMA"], "Timeline.1");
  auto srt = client_->Get("/api/videos/" + video + "/clips/" + clip_id + "/export?format=srt");
  ASSERT_EQ(srt->status, 200);
  EXPECT_EQ(srt->body.rfind("1\n00:00:0", 0), 0u) << srt->body;
  auto edl = client_->Get("/api/videos/" + video + "/clips/" + clip_id + "/export?format=edl");
  EXPECT_NE(edl->body.find("TITLE:"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/clips/" + clip_id + "/export?format=doc")->status, 400);
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/clips/clp_nope/export")->status, 404);

  // Render it 9:16 with captions, small.
  auto r = client_->Post("/api/edit-jobs",
                         nlohmann::json{{"clip_id", clip_id}, {"aspect", "9:16"}, {"reframe", "face"},
                                        {"output", {{"width", 180}, {"height", 320}}}}
                             .dump(),
                         "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  auto created = Json(r);
  EXPECT_EQ(created["spec"]["crop"]["height"], 180);
  EXPECT_TRUE(created["spec"]["captions"].is_object()) << created.dump();
  auto job = WaitJob(created["job_id"]);
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto edit = Json(client_->Get("/api/edit-jobs/" + created["edit_job_id"].get<std::string>()));
  EXPECT_EQ(edit["status"], "succeeded");
  ASSERT_TRUE(edit["output_url"].is_string()) << edit.dump();
  auto partial = client_->Get(edit["output_url"].get<std::string>(), {{"Range", "bytes=0-99"}});
  EXPECT_EQ(partial->status, 206);
  EXPECT_EQ(partial->body.size(), 100u);
  auto whole = client_->Get(edit["output_url"].get<std::string>());
  ASSERT_EQ(whole->status, 200);
  TempDir dir;
  WriteFile(dir.File("clip.mp4"), whole->body);
  auto probe = media::ProbeMedia(dir.File("clip.mp4"));
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_EQ(probe->width.value_or(0), 180);
  EXPECT_EQ(probe->height.value_or(0), 320);
  EXPECT_NEAR(probe->duration_s.value_or(0), clip_len, 0.1);
  EXPECT_TRUE(probe->audio_codec.has_value());
  auto clips_after = Json(client_->Get("/api/videos/" + video + "/clips?status=rendered"));
  EXPECT_EQ(clips_after["clips"].size(), 1u);
  // The video lists its renders (the web UI's renders panel).
  auto renders = Json(client_->Get("/api/videos/" + video + "/edit-jobs"));
  ASSERT_EQ(renders["edit_jobs"].size(), 1u) << renders.dump();
  EXPECT_EQ(renders["edit_jobs"][0]["edit_job_id"], created["edit_job_id"]);
  EXPECT_EQ(renders["edit_jobs"][0]["output"]["height"], 320);
  EXPECT_EQ(client_->Get("/api/videos/vid_nope/edit-jobs")->status, 404);
  // The encoder's throughput is exported.
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\ncutroom_encoded_frames_total "), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("\ncutroom_encode_seconds_total "), std::string::npos);
}

TEST_F(ClipsApi, BadEditRequestsAreRefusedWithTheReason) {
  std::string small = TestMedia("small.mp4");
  REQUIRE_FILE(small, "test media");
  std::string video = Upload(small, "small.mp4");
  struct Case {
    nlohmann::json body;
    int status;
    std::string mentions;
  };
  std::vector<Case> cases = {
      {{{"video_id", video}, {"ranges", {{1.0, 9.0}}}}, 400, "after the end of the media"},
      {{{"video_id", video}, {"ranges", {{3.0, 1.0}}}}, 400, "empty or reversed"},
      {{{"video_id", video}, {"ranges", nlohmann::json::array()}}, 400, "ranges"},
      {{{"video_id", video}, {"ranges", {{-1.0, 1.0}}}}, 400, "before the media"},
      {{{"video_id", video}, {"ranges", {{0.0, 1.0}}}, {"aspect", "4:3"}}, 400, "aspect"},
      {{{"video_id", video}, {"ranges", {{0.0, 1.0}}}, {"output", {{"width", 181}, {"height", 320}}}}, 400, "even"},
      {{{"video_id", video}, {"ranges", {{0.0, 1.0}}}, {"output", {{"width", 100000}, {"height", 320}}}}, 400, "4096"},
      {{{"video_id", video}, {"ranges", {{0.0, 1.0}}}, {"captions", {{"position", "sideways"}}}}, 400, "position"},
      {{{"clip_id", "clp_00000000000000000000000000"}}, 404, "does not exist"},
      {{{"video_id", "vid_00000000000000000000000000"}, {"ranges", {{0.0, 1.0}}}}, 404, "does not exist"},
  };
  for (const auto& c : cases) {
    auto r = client_->Post("/api/edit-jobs", c.body.dump(), "application/json");
    EXPECT_EQ(r->status, c.status) << c.body.dump() << " -> " << r->body;
    EXPECT_NE(r->body.find(c.mentions), std::string::npos) << c.body.dump() << " -> " << r->body;
  }
  // No transcript: the clip renders without captions, and says so.
  auto r = client_->Post("/api/edit-jobs",
                         nlohmann::json{{"video_id", video}, {"ranges", {{0.5, 2.0}, {3.0, 3.5}}}, {"aspect", "1:1"},
                                        {"reframe", "center"}}
                             .dump(),
                         "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  auto created = Json(r);
  EXPECT_EQ(created["spec"]["captions"], false);
  EXPECT_NE(created["spec"]["notes"].dump().find("no transcript"), std::string::npos);
  EXPECT_EQ(created["spec"]["output"]["width"], 720);  // 1:1 platform size for a source under 1080p
  auto job = WaitJob(created["job_id"]);
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto edit = Json(client_->Get("/api/edit-jobs/" + created["edit_job_id"].get<std::string>()));
  EXPECT_NEAR(edit["output"]["duration_s"].get<double>(), 2.0, 0.05);
}

// A face (opencv-doc's messi5.jpg, enlarged so the Haar cascade finds it
// in every frame) slides across a 2400x598 frame; the 9:16
// render that follows faces keeps it in the picture, the centred one does
// not.
TEST_F(ClipsApi, FaceReframeKeepsAMovingFaceInTheCrop) {
  const std::string face = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
  REQUIRE_FILE(face, "opencv-doc example image");
  TempDir dir;
  std::string wide = dir.File("wide.mp4");
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "color=c=0x303030:s=2400x598:r=25:d=8", "-loop", "1", "-i", face, "-filter_complex",
                        "[1:v]scale=-2:598[m];[0:v][m]overlay=x='t*180':y=0:shortest=1",
                        "-t", "8", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", wide}));
  std::string video = Upload(wide, "wide.mp4");
  // Share of output frames (sampled at 4 per second) where a face is found.
  auto faces_in_render = [&](const std::string& reframe) {
    auto r = client_->Post("/api/edit-jobs",
                           nlohmann::json{{"video_id", video}, {"ranges", {{0.0, 8.0}}}, {"aspect", "9:16"},
                                          {"reframe", reframe}, {"captions", false}, {"output", {{"size", "native"}}}}
                               .dump(),
                           "application/json");
    EXPECT_EQ(r->status, 202) << r->body;
    auto created = Json(r);
    auto job = WaitJob(created["job_id"]);
    EXPECT_EQ(job["status"], "succeeded") << job.dump();
    auto edit = Json(client_->Get("/api/edit-jobs/" + created["edit_job_id"].get<std::string>()));
    auto body = client_->Get(edit["output_url"].get<std::string>())->body;
    std::string file = dir.File(reframe + ".mp4");
    WriteFile(file, body);
    auto decoder = media::VideoDecoder::Open(file, {});
    auto detector = analysis::FaceDetector::Open();
    EXPECT_TRUE(decoder.ok() && detector.ok());
    if (!decoder.ok() || !detector.ok()) return 0.0;
    EXPECT_EQ((*decoder)->info().display_width, 336);
    EXPECT_EQ((*decoder)->info().display_height, 598);
    int found = 0, total = 0;
    for (double t = 0.1; t < 7.9; t += 0.25, ++total) {
      auto frame = (*decoder)->FrameAt(t);
      if (!frame.ok()) continue;
      auto boxes = (*detector)->Detect(*frame);
      found += boxes.ok() && !boxes->empty();
    }
    return static_cast<double>(found) / total;
  };
  double followed = faces_in_render("face");
  double centred = faces_in_render("center");
  EXPECT_GE(followed, 0.9);
  EXPECT_LE(centred, 0.4);
}

}  // namespace
}  // namespace cutroom::api
