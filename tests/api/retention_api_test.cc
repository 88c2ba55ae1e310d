// Retention over HTTP with real workers: a prediction for the planted-
// silence talk, imports in every format (and refusals that name the line),
// the comparison, the chart, and a refit that needs enough videos.
#include <gtest/gtest.h>

#include <cmath>

#include "core/subprocess.h"

#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

std::string Data(const std::string& name) {
  return ReadFile(std::string(CUTROOM_SOURCE_DIR) + "/tests/retention/data/" + name);
}

class RetentionApi : public ServerWithWorkers {
 protected:
  httplib::Result Import(const std::string& video, const std::string& body, const std::string& type = "text/csv") {
    return client_->Post("/api/videos/" + video + "/retention/import", body, type);
  }
};

TEST_F(RetentionApi, PredictsTheTalkFindsItsLongestSilenceAndComparesAnImportedCurve) {
  std::string talk = TestMedia("edit-talk.mp4");
  REQUIRE_FILE(talk, "synthetic talk with planted silences");
  auto truth = nlohmann::json::parse(ReadFile(talk + ".truth.json"));
  std::string video = Upload(talk, "edit-talk.mp4");
  EXPECT_EQ(Process(video, "transcription")["status"], "succeeded");
  auto job = Process(video, "retention");
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto r = Json(client_->Get("/api/videos/" + video + "/retention"));
  ASSERT_TRUE(r.contains("predicted") && r["predicted"].is_object()) << r.dump();
  const nlohmann::json p = r["predicted"];  // a copy: r is read again below
  EXPECT_EQ(p["model"]["version"], "retention/1");
  EXPECT_NEAR(p["curve"][0].get<double>(), 1.0, 1e-9);
  EXPECT_GT(p["summary"]["at_end"].get<double>(), 0.05);
  // The 3 s pause (the longest planted) is a drop point within 1 s of where it begins.
  double longest_start = 0, longest = 0;
  for (const auto& s : truth["silences"]) {
    if (s["kind"] == "pause" && s["duration_s"].get<double>() > longest) {
      longest = s["duration_s"].get<double>();
      longest_start = s["start_s"].get<double>();
    }
  }
  bool found = false;
  for (const auto& d : p["drop_points"]) {
    if (std::abs(d["t_s"].get<double>() - longest_start) <= 1.0) {
      found = true;
      EXPECT_NE(d["reasons"][0].get<std::string>().find("s of silence"), std::string::npos) << d.dump();
    }
  }
  EXPECT_TRUE(found) << "no drop point near " << longest_start << ": " << p["drop_points"].dump(2);

  // A real curve, then the two side by side.
  auto imported = Import(video, Data("points_ratio.json"), "application/json");
  ASSERT_EQ(imported->status, 201) << imported->body;
  r = Json(client_->Get("/api/videos/" + video + "/retention"));
  ASSERT_TRUE(r["imported"].is_object()) << r.dump();
  ASSERT_TRUE(r["agreement"].is_object()) << r.dump();
  EXPECT_GE(r["agreement"]["spearman"].get<double>(), -1.0);
  EXPECT_LE(r["agreement"]["spearman"].get<double>(), 1.0);
  EXPECT_EQ(r["agreement"]["drop_points"].size(), p["drop_points"].size());
  auto svg = client_->Get("/api/videos/" + video + "/retention.svg");
  ASSERT_EQ(svg->status, 200);
  EXPECT_EQ(svg->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_NE(svg->body.find("polyline"), std::string::npos);
}

// 60 s: a face cut every 4 s, then 30 s of one text slide (no face) from
// 20 s, then the face again; a steady tone under it all, so that speech
// (told from loudness without a transcript) never pauses.
TEST_F(RetentionApi, AStaticSlideFoundByOcrIsADropPointWhereTheSlideBegins) {
  const std::string face = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
  const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  REQUIRE_FILE(face, "opencv-doc's messi5.jpg");
  REQUIRE_FILE(font, "fonts-dejavu-core");
  cutroom::testing::TempDir tmp;
  const std::string video_path = tmp.File("slide.mp4");
  std::string graph =
      "[0:v]scale=320:180:force_original_aspect_ratio=increase,crop=320:180,setsar=1,format=yuv420p,split=2[f1][f3];"
      "[f1]trim=0:20,setpts=PTS-STARTPTS,hue=h='if(lt(mod(t,8),4),0,60)'[a];"
      "color=c=white:s=320x180:r=25:d=30,drawtext=fontfile=" + font +
      ":text='Quarterly revenue':fontsize=28:x=20:y=50,drawtext=fontfile=" + font +
      ":text='grew 40 percent':fontsize=28:x=20:y=100,format=yuv420p,setsar=1[b];"
      "[f3]trim=0:10,setpts=PTS-STARTPTS[c];"
      "[a][b][c]concat=n=3:v=1:a=0[v]";
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate",
                        "25", "-t", "20", "-i", face, "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
                        "-filter_complex", graph, "-map", "[v]", "-map", "1:a", "-t", "60", "-c:v", "libx264",
                        "-preset", "veryfast", "-g", "50", "-c:a", "aac", "-b:a", "64k", video_path}));
  std::string video = Upload(video_path, "slide.mp4");
  ASSERT_EQ(Process(video, "scenes")["status"], "succeeded");
  ASSERT_EQ(Process(video, "frames", R"({"interval_s": 2, "ocr": true})")["status"], "succeeded");
  ASSERT_EQ(Process(video, "retention")["status"], "succeeded");
  auto r = Json(client_->Get("/api/videos/" + video + "/retention"));
  ASSERT_TRUE(r.contains("predicted") && r["predicted"].is_object()) << r.dump();
  bool found = false;
  for (const auto& d : r["predicted"]["drop_points"]) {
    if (std::abs(d["t_s"].get<double>() - 20.0) <= 1.0) {
      found = true;
      EXPECT_NE(d["reasons"][0].get<std::string>().find("static slide"), std::string::npos) << d.dump();
    }
  }
  EXPECT_TRUE(found) << r["predicted"]["drop_points"].dump(2);
}

TEST_F(RetentionApi, ImportsEveryFormatAndRefusesBadFilesNamingTheLine) {
  std::string video = Upload(TestMedia("small.mp4"), "small.mp4");
  for (const char* file : {"youtube_analytics.json", "studio_utf8_bom.csv", "points_ratio.json"}) {
    auto r = Import(video, Data(file));
    ASSERT_EQ(r->status, 201) << file << ": " << r->body;
  }
  // UTF-16 LE with a BOM and tabs, as Studio may export it.
  std::string csv = "Video position (%)\tAudience retention (%)\n0\t100\n50\t60\n100\t40\n";
  std::string utf16 = "\xFF\xFE";
  for (char c : csv) {
    utf16 += c;
    utf16 += '\0';
  }
  EXPECT_EQ(Import(video, utf16)->status, 201);
  auto bad = Import(video, "Video position (%),Audience retention (%)\n0,100\n10,abc\n");
  ASSERT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(Json(bad)["error"]["message"].get<std::string>().find("line 3"), std::string::npos) << bad->body;
  EXPECT_EQ(Import(video, "")->status, 400);
  auto rows = Json(client_->Get("/api/videos/" + video + "/retention"));
  ASSERT_TRUE(rows.contains("imported") && rows["imported"].is_object()) << rows.dump();
  EXPECT_EQ(rows["imported"]["format"], "studio_csv");  // the newest, not the refused ones
}

TEST_F(RetentionApi, FittingWaitsForEnoughVideos) {
  std::string video = Upload(TestMedia("small.mp4"), "small.mp4");
  ASSERT_EQ(Import(video, Data("points_ratio.json"))->status, 201);
  auto r = client_->Post("/api/retention/fit", "{}", "application/json");
  ASSERT_EQ(r->status, 409) << r->body;
  EXPECT_NE(Json(r)["error"]["message"].get<std::string>().find("at least 5"), std::string::npos) << r->body;
  EXPECT_EQ(client_->Post("/api/retention/fit", R"({"min_videos": 1})", "application/json")->status, 400);
}

}  // namespace
}  // namespace cutroom::api
