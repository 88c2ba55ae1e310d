#include <gtest/gtest.h>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

class Http : public ServerFixture {};

TEST_F(Http, HealthAndReadiness) {
  auto h = client_->Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(Json(h)["status"], "ok");
  auto r = client_->Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r)["checks"]["database"], "ok");
  EXPECT_EQ(Json(r)["checks"]["storage"], "ok");
}

TEST_F(Http, EveryResponseCarriesARequestIdAndEchoesASaneOne) {
  auto r = client_->Get("/healthz");
  EXPECT_EQ(r->get_header_value("X-Request-Id").rfind("req_", 0), 0u);
  auto echoed = client_->Get("/healthz", {{"X-Request-Id", "trace-abc-123"}});
  EXPECT_EQ(echoed->get_header_value("X-Request-Id"), "trace-abc-123");
  auto replaced = client_->Get("/healthz", {{"X-Request-Id", "bad id\twith junk"}});
  EXPECT_EQ(replaced->get_header_value("X-Request-Id").rfind("req_", 0), 0u);
}

TEST_F(Http, UnknownRoutesAnswer404InTheErrorShape) {
  auto r = client_->Get("/api/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorCode(r), "not_found");
  EXPECT_FALSE(Json(r)["error"]["details"]["request_id"].get<std::string>().empty());
}

TEST_F(Http, WrongMethodsAnswer405WithAllow) {
  auto r = client_->Put("/api/videos", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(ErrorCode(r), "method_not_allowed");
  EXPECT_NE(r->get_header_value("Allow").find("GET"), std::string::npos);
}

TEST_F(Http, MalformedJsonAnswers400) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto r = client_->Patch("/api/videos/" + m.video_id, "{\"title\": ", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_argument");
  auto not_object = client_->Patch("/api/videos/" + m.video_id, "[1,2]", "application/json");
  EXPECT_EQ(not_object->status, 400);
  auto wrong_type = client_->Patch("/api/videos/" + m.video_id, "{\"title\": 5}", "application/json");
  EXPECT_EQ(wrong_type->status, 400);
}

TEST_F(Http, BodiesOverTheLimitAnswer413) {
  auto m = AddMedia(db::kLocalOwnerId);
  std::string big = "{\"title\": \"" + std::string(8000, 'x') + "\"}";
  auto r = client_->Patch("/api/videos/" + m.video_id, big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(ErrorCode(r), "payload_too_large");
}

TEST_F(Http, PatchRenamesAVideo) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto r = client_->Patch("/api/videos/" + m.video_id, R"({"title": "Keynote"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r)["title"], "Keynote");
  EXPECT_EQ(Json(client_->Get("/api/videos/" + m.video_id))["title"], "Keynote");
}

TEST_F(Http, GetsOneVideoInTheDocumentedShape) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto r = client_->Get("/api/videos/" + m.video_id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto j = Json(r);
  for (const char* field : {"video_id", "media_type", "source_type", "source_url", "status", "original_filename",
                            "mime_type", "size_bytes", "sha256", "duration_s", "width", "height", "fps",
                            "video_codec", "audio_codec", "error", "created_at", "updated_at", "id"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["video_id"], m.video_id);
  EXPECT_EQ(j["id"], m.video_id);
  auto missing = client_->Get("/api/videos/vid_00000000000000000000000000");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing), "not_found");
}

TEST_F(Http, ListsVideosNewestFirstWithPagingAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(AddMedia(db::kLocalOwnerId).video_id);
  AddMedia(db::kLocalOwnerId, "failed");
  AddMedia(db::kLocalOwnerId, "ready", "audio");

  auto first = Json(client_->Get("/api/videos?limit=3"));
  ASSERT_EQ(first["videos"].size(), 3u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  std::vector<std::string> seen;
  nlohmann::json page = first;
  while (true) {
    for (const auto& v : page["videos"]) seen.push_back(v["video_id"]);
    if (page["next_cursor"].is_null()) break;
    page = Json(client_->Get("/api/videos?limit=3&cursor=" + page["next_cursor"].get<std::string>()));
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));

  auto failed = Json(client_->Get("/api/videos?status=failed"));
  ASSERT_EQ(failed["videos"].size(), 1u);
  EXPECT_EQ(failed["videos"][0]["status"], "failed");
  auto audio = Json(client_->Get("/api/videos?media_type=audio"));
  ASSERT_EQ(audio["videos"].size(), 1u);

  EXPECT_EQ(client_->Get("/api/videos?status=bogus")->status, 400);
  EXPECT_EQ(client_->Get("/api/videos?media_type=pdf")->status, 400);
  EXPECT_EQ(client_->Get("/api/videos?limit=0")->status, 400);
  EXPECT_EQ(client_->Get("/api/videos?limit=abc")->status, 400);
  EXPECT_EQ(client_->Get("/api/videos?cursor=../../x")->status, 400);
}

TEST_F(Http, DeleteRemovesTheRowItsChildrenAndItsFiles) {
  auto m = AddMedia(db::kLocalOwnerId);
  db::Repositories repos(*db_, env_, &ids_);
  db::VideoAssetRow asset;
  asset.video_id = m.video_id;
  asset.kind = "thumbnail";
  asset.storage_key = "assets/" + m.video_id + "/thumb.jpg";
  ASSERT_OK(blobs_->Put(asset.storage_key, "jpeg"));
  ASSERT_OK(repos.video_assets.Insert(asset).status());

  auto r = client_->Delete("/api/videos/" + m.video_id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(client_->Get("/api/videos/" + m.video_id)->status, 404);
  EXPECT_FALSE(blobs_->Exists(*m.storage_key));
  EXPECT_FALSE(blobs_->Exists(asset.storage_key));
  EXPECT_EQ(*repos.video_assets.Count({{"video_id", m.video_id}}), 0);
  EXPECT_EQ(client_->Delete("/api/videos/" + m.video_id)->status, 404);
}

TEST_F(Http, ServesAnOpenApiDocumentListingTheRoutes) {
  auto j = Json(client_->Get("/api/openapi.json"));
  EXPECT_EQ(j["openapi"], "3.0.3");
  EXPECT_TRUE(j["paths"].contains("/api/videos/{video_id}"));
  EXPECT_TRUE(j["paths"]["/api/videos/{video_id}"].contains("delete"));
}

TEST_F(Http, StopLetsTheServerReturnCleanly) {
  server_->Stop();
  thread_.join();
  EXPECT_OK(run_status_);
  EXPECT_FALSE(client_->Get("/healthz"));
}

}  // namespace
}  // namespace cutroom::api
