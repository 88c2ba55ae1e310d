// Per-owner limits: request rate (429 + Retry-After), jobs queued per owner,
// and the longest and largest media accepted (422).
#include <sys/socket.h>
#include <unistd.h>

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

class UploadLimits : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("limits.concurrent_uploads", "1")); }
  KeyService keys() { return KeyService(db_.get(), env_, &ids_); }

  std::string CreateUpload(const std::string& key) {
    auto r = client_->Post("/api/uploads",
                           {{"Authorization", "Bearer " + key}, {"Tus-Resumable", "1.0.0"}, {"Upload-Length", "200000"}},
                           "", "application/offset+octet-stream");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? r->get_header_value("Location") : "";
  }
  httplib::Result Patch(const std::string& key, const std::string& location, const std::string& bytes) {
    return client_->Patch(location,
                          {{"Authorization", "Bearer " + key}, {"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}},
                          bytes, "application/offset+octet-stream");
  }
};

TEST_F(UploadLimits, AnOwnerSendsOnlySoManyBodiesAtOnce) {
  auto alice = keys().CreateKey("alice", "");
  ASSERT_TRUE(alice.ok());
  std::string first = CreateUpload(alice->key);
  std::string second = CreateUpload(alice->key);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  // The first PATCH sends 10 of its 200000 bytes and stalls, holding the
  // slot. (Bodies up to 64 KiB are received whole before a handler runs,
  // so only a larger one can stall inside the route.)
  int fd = ConnectRaw();
  ASSERT_GE(fd, 0);
  std::string head = "PATCH " + first + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice->key +
                     "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: "
                     "application/offset+octet-stream\r\nContent-Length: 200000\r\n\r\n0123456789";
  ASSERT_GT(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto refused = Patch(alice->key, second, std::string(1000, 'x'));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(ErrorCode(refused), "too_many_uploads");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "5");
  // The stalled client goes away: its slot frees.
  ::close(fd);
  int status = 429;
  for (int i = 0; i < 100 && status == 429; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = Patch(alice->key, second, "0123456789");
    status = r ? r->status : 0;
  }
  EXPECT_EQ(status, 204);
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
