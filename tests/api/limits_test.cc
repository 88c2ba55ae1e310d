// Per-owner limits: request rate (429 + Retry-After), jobs queued per owner,
// and the longest and largest media accepted (422).
#include "api/auth.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

class RateLimits : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.requests_per_minute", "40")); }
  KeyService keys() { return KeyService(db_.get(), env_, &ids_); }
  httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }
};

TEST_F(RateLimits, AnOwnerOverTheRateIsToldWhenToComeBackAndOthersAreNotSlowed) {
  auto alice = keys().CreateKey("alice", "");
  auto bob = keys().CreateKey("bob", "");
  ASSERT_TRUE(alice.ok() && bob.ok());
  // 40 a minute: a burst of 10, then one every 1.5 s.
  int passed = 0;
  std::optional<httplib::Result> refused;
  for (int i = 0; i < 20; ++i) {
    auto r = client_->Get("/api/videos", Bearer(alice->key));
    ASSERT_TRUE(r);
    if (r->status == 200) {
      ++passed;
    } else {
      refused.emplace(std::move(r));
      break;
    }
  }
  EXPECT_EQ(passed, 10);
  ASSERT_TRUE(refused.has_value());
  const httplib::Result& refusal = *refused;
  EXPECT_EQ(refusal->status, 429);
  EXPECT_EQ(ErrorCode(refusal), "rate_limited");
  int retry = std::stoi(refusal->get_header_value("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 2);
  EXPECT_EQ(client_->Get("/api/videos", Bearer(bob->key))->status, 200);
  // Health checks and the UI are never limited.
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

class LocalModeRate : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.requests_per_minute", "40")); }
};

TEST_F(LocalModeRate, OnePersonOnTheirOwnMachineIsNotLimited) {
  for (int i = 0; i < 30; ++i) ASSERT_EQ(client_->Get("/api/videos")->status, 200);
}

class QueueLimits : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.max_queued_jobs", "2")); }
};

TEST_F(QueueLimits, AnOwnerMayHaveOnlySoManyJobsWaiting) {
  auto m = AddMedia(db::kLocalOwnerId);
  // No workers here: jobs stay queued.
  for (int i = 0; i < 2; ++i) {
    auto r = client_->Post("/api/videos/" + m.video_id + "/process/scenes", "", "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
  }
  auto r = client_->Post("/api/videos/" + m.video_id + "/process/scenes", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(ErrorCode(r), "queue_limit");
  EXPECT_NE(r->body.find("limits.max_queued_jobs"), std::string::npos);
  EXPECT_EQ(CountRows("jobs"), 2);
}

class MediaLimits : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.max_duration_s", "2")); }
};

TEST_F(MediaLimits, MediaLongerThanTheLimitIsRefusedAndNothingIsKept) {
  std::string small = TestMedia("small.mp4");  // 4 s
  httplib::MultipartFormDataItems items = {{"file", ReadFile(small), "small.mp4", "video/mp4"}};
  auto r = client_->Post("/api/videos/upload", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_EQ(ErrorCode(r), "media_limit_exceeded");
  EXPECT_NE(r->body.find("limits.max_duration_s"), std::string::npos);
  EXPECT_EQ(CountRows("media"), 0);
  EXPECT_EQ(FilesUnder(dir_.File("blobs/media")), 0u);
}

class PixelLimits : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.max_pixels", "50000")); }
};

TEST_F(PixelLimits, PicturesLargerThanTheLimitAreRefused) {
  httplib::MultipartFormDataItems items = {{"file", ReadFile(TestMedia("small.mp4")), "small.mp4", "video/mp4"}};
  auto r = client_->Post("/api/videos/upload", items);  // 320x180 = 57600 pixels
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_EQ(ErrorCode(r), "media_limit_exceeded");
  EXPECT_NE(r->body.find("320x180"), std::string::npos);
}

}  // namespace
}  // namespace cutroom::api
