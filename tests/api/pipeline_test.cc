// The thumbnails stage end to end inside a server with workers: an upload
// gets a poster and a sprite sheet; a corrupt file fails its job with a
// clear log line and the server carries on.
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

class Pipeline : public ServerWithWorkers {
 protected:
  nlohmann::json WaitJob(const std::string& video_id) {
    nlohmann::json job;
    for (int i = 0; i < 1000; ++i) {
      auto list = Json(client_->Get("/api/jobs?video_id=" + video_id));
      if (!list["jobs"].empty()) {
        job = list["jobs"][0];
        std::string s = job["status"];
        if (s == "succeeded" || s == "failed" || s == "cancelled") break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return job;
  }

};

TEST_F(Pipeline, AnUploadGetsAPosterASpriteSheetAndAThumbnailTrack) {
  httplib::MultipartFormDataItems items = {{"file", ReadFile(TestMedia("small.mp4")), "small.mp4", "video/mp4"}};
  auto up = Json(client_->Post("/api/videos/upload", items));
  std::string video_id = up["video_id"];
  auto job = WaitJob(video_id);
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  EXPECT_EQ(job["kind"], "thumbnails");

  auto assets = Json(client_->Get("/api/videos/" + video_id + "/assets"));
  std::map<std::string, nlohmann::json> by_kind;
  for (const auto& a : assets["assets"]) by_kind[a["kind"]] = a;
  ASSERT_TRUE(by_kind.count("thumbnail") && by_kind.count("sprite") && by_kind.count("vtt")) << assets.dump();
  auto poster = client_->Get("/api/videos/" + video_id + "/thumbnail");
  ASSERT_EQ(poster->status, 200);
  EXPECT_EQ(poster->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(poster->body.substr(0, 2), "\xff\xd8");
  auto vtt = client_->Get(by_kind["vtt"]["url"].get<std::string>());
  ASSERT_EQ(vtt->status, 200);
  EXPECT_EQ(vtt->body.rfind("WEBVTT", 0), 0u);
  EXPECT_NE(vtt->body.find(by_kind["sprite"]["url"].get<std::string>() + "#xywh="), std::string::npos) << vtt->body;
  // Byte ranges of stored files.
  auto part = client_->Get("/api/videos/" + video_id + "/stream", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body.size(), 10u);
  // Regression: a start past the end underflowed inside cpp-httplib into a
  // 206 with a Content-Length near 2^64; it is 416 with the real size.
  auto full = client_->Get("/api/videos/" + video_id + "/stream");
  ASSERT_EQ(full->status, 200);
  const size_t size = full->body.size();
  auto past = client_->Get("/api/videos/" + video_id + "/stream", {{"Range", "bytes=999999999-"}});
  EXPECT_EQ(past->status, 416);
  EXPECT_EQ(past->get_header_value("Content-Range"), "bytes */" + std::to_string(size));
  // An end past the last byte is clamped; a suffix longer than the file is the file.
  auto tail = client_->Get("/api/videos/" + video_id + "/stream",
                           {{"Range", "bytes=" + std::to_string(size - 5) + "-99999999999"}});
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, full->body.substr(size - 5));
  auto suffix = client_->Get("/api/videos/" + video_id + "/stream", {{"Range", "bytes=-99999999"}});
  EXPECT_EQ(suffix->status, 206);
  EXPECT_EQ(suffix->body.size(), size);
  // JSON answers ignore ranges rather than being cut (or underflowing).
  auto listed = client_->Get("/api/videos", {{"Range", "bytes=999999999-"}});
  EXPECT_EQ(listed->status, 200);
  EXPECT_TRUE(nlohmann::json::parse(listed->body, nullptr, false).is_object());

  // Running the stage again replaces the assets instead of adding more.
  ASSERT_EQ(client_->Post("/api/videos/" + video_id + "/process/thumbnails", "", "application/json")->status, 202);
  for (int i = 0; i < 500; ++i) {
    auto list = Json(client_->Get("/api/jobs?video_id=" + video_id + "&status=succeeded"));
    if (list["jobs"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Json(client_->Get("/api/videos/" + video_id + "/assets"))["assets"].size(), 3u);
  EXPECT_EQ(FilesUnder(dir_.File("blobs/assets")), 3u);
}

TEST_F(Pipeline, ACorruptFileFailsItsJobWithAClearLogAndTheServerCarriesOn) {
  auto media = AddMedia(db::kLocalOwnerId);  // its stored bytes are not a video
  ASSERT_EQ(client_->Post("/api/videos/" + media.video_id + "/process/thumbnails", "", "application/json")->status,
            202);
  auto job = WaitJob(media.video_id);
  EXPECT_EQ(job["status"], "failed") << job.dump();
  EXPECT_EQ(job["attempts"], 1) << "bad input is not retried";
  auto logs = Json(client_->Get("/api/videos/" + media.video_id + "/logs"));
  bool logged_error = false;
  for (const auto& l : logs["logs"]) logged_error |= l["level"] == "error";
  EXPECT_TRUE(logged_error) << logs.dump();
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

}  // namespace
}  // namespace cutroom::api
