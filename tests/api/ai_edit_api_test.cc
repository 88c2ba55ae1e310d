// AI edit jobs over HTTP with real workers: a dry run of silence removal on
// the planted-silence talk, its plan and exports, and the errors a client
// gets for bad requests and for instructions that need an LLM.
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::TestMedia;

class AiEditApi : public ServerWithWorkers {};

TEST_F(AiEditApi, ADryRunStoresAPlanThatExportsForEditors) {
  std::string talk = TestMedia("edit-talk.mp4");
  REQUIRE_FILE(talk, "synthetic talk with planted silences");
  std::string video = Upload(talk, "edit-talk.mp4");
  auto r = client_->Post("/api/ai-edit-jobs",
                         nlohmann::json{{"video_id", video}, {"instruction", "remove the silences"}, {"render", false}}
                             .dump(),
                         "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  auto created = Json(r);
  EXPECT_EQ(created["planner"], "rules");
  EXPECT_EQ(WaitJob(created["job_id"])["status"], "succeeded");
  auto shown = Json(client_->Get("/api/ai-edit-jobs/" + created["ai_edit_job_id"].get<std::string>()));
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  EXPECT_EQ(shown["plan"]["version"], "cutroom.plan/1");
  EXPECT_TRUE(shown["edit_job_ids"].empty());
  double planned = shown["outputs"][0]["duration_s"].get<double>();
  EXPECT_GT(planned, 20);
  EXPECT_LT(planned, 40);
  std::string base = "/api/ai-edit-jobs/" + created["ai_edit_job_id"].get<std::string>() + "/export?format=";
  auto otio = client_->Get(base + "otio");
  ASSERT_EQ(otio->status, 200) << otio->body;
  EXPECT_EQ(nlohmann::json::parse(otio->body)["OTIO_SCHEMA"], "Timeline.1");
  auto fcpxml = client_->Get(base + "fcpxml");
  ASSERT_EQ(fcpxml->status, 200);
  EXPECT_NE(fcpxml->body.find("<fcpxml version=\"1.10\">"), std::string::npos);
  auto edl = client_->Get(base + "edl");
  EXPECT_NE(edl->body.find("TITLE:"), std::string::npos);
  EXPECT_EQ(client_->Get(base + "mp4")->status, 400);
  auto list = Json(client_->Get("/api/videos/" + video + "/ai-edit-jobs"));
  ASSERT_EQ(list["ai_edit_jobs"].size(), 1u) << list.dump();
  EXPECT_EQ(list["ai_edit_jobs"][0]["instruction"], "remove the silences");
}

TEST_F(AiEditApi, BadRequestsAndUnknownInstructionsAnswerPreciseErrors) {
  std::string video = Upload(TestMedia("small.mp4"), "small.mp4");
  auto post = [&](const nlohmann::json& body) {
    return client_->Post("/api/ai-edit-jobs", body.dump(), "application/json");
  };
  auto r = post({{"video_id", video}});
  EXPECT_EQ(r->status, 400) << r->body;
  r = post({{"video_id", video}, {"instruction", "remove the silences"}, {"outputs", 9}});
  EXPECT_EQ(r->status, 400) << r->body;
  r = post({{"video_id", video}, {"instruction", "remove the silences"}, {"colour", "red"}});
  EXPECT_EQ(r->status, 400) << r->body;
  r = post({{"video_id", "vid_00000000000000000000000000"}, {"instruction", "remove the silences"}});
  EXPECT_EQ(r->status, 404) << r->body;
  r = post({{"video_id", video}, {"instruction", "make it feel like a heist movie"}});
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_EQ(Json(r)["error"]["code"], "llm_not_configured");
  EXPECT_EQ(client_->Get("/api/ai-edit-jobs/aie_00000000000000000000000000")->status, 404);
}

}  // namespace
}  // namespace cutroom::api
