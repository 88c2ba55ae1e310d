// Transcription through the API with real workers: the stage, the stored
// transcript in every format, word search and full-text search.
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::SharedData;
using cutroom::testing::TestMedia;

class Transcription : public ServerWithWorkers {
 protected:
  // Queues transcription and waits for the job; returns it.
  nlohmann::json Transcribe(const std::string& video_id, const std::string& body = "") {
    return Process(video_id, "transcription", body);
  }
};

TEST_F(Transcription, SpeechBecomesATimedTranscriptInEveryFormat) {
  REQUIRE_SHARED_DATA(wav, "speech/jfk.wav");
  std::string video = Upload(wav, "jfk.wav");
  auto job = Transcribe(video);
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto t = Json(client_->Get("/api/videos/" + video + "/transcription"));
  EXPECT_EQ(t["engine"], "pocketsphinx");
  EXPECT_EQ(t["language"], "en");
  ASSERT_FALSE(t["segments"].empty());
  EXPECT_NE(t["text"].get<std::string>().find("country"), std::string::npos) << t["text"];
  for (const auto& s : t["segments"]) {
    EXPECT_LE(s["start_s"].get<double>(), s["end_s"].get<double>());
    for (const auto& w : s["words"]) {
      EXPECT_GE(w["start_s"].get<double>(), s["start_s"].get<double>() - 1e-9);
      EXPECT_LE(w["end_s"].get<double>(), s["end_s"].get<double>() + 1e-9);
    }
  }
  auto srt = client_->Get("/api/videos/" + video + "/transcription?format=srt");
  EXPECT_EQ(srt->body.rfind("1\n00:00:", 0), 0u) << srt->body;
  auto vtt = client_->Get("/api/videos/" + video + "/transcription?format=vtt");
  EXPECT_EQ(vtt->body.rfind("WEBVTT\n", 0), 0u);
  EXPECT_EQ(vtt->get_header_value("Content-Type"), "text/vtt; charset=utf-8");
  auto txt = client_->Get("/api/videos/" + video + "/transcription?format=txt");
  EXPECT_NE(txt->body.find("country"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/transcription?format=doc")->status, 400);

  // Words: "can do" is said twice, once in each half of the sentence.
  auto words = Json(client_->Get("/api/videos/" + video + "/transcription/search?q=can+do"));
  ASSERT_GE(words["hits"].size(), 1u) << words.dump();
  for (const auto& h : words["hits"]) {
    EXPECT_EQ(h["text"], "can do");
    EXPECT_GT(h["start_s"].get<double>(), 3.0);
    EXPECT_LT(h["end_s"].get<double>(), 11.0);
  }

  // Full text: the phrase finds this video at the right time.
  auto found = Json(client_->Get("/api/search?q=%22your%20country%22"));
  ASSERT_FALSE(found["hits"].empty()) << found.dump();
  EXPECT_EQ(found["hits"][0]["video_id"], video);
  EXPECT_EQ(found["hits"][0]["source"], "transcript");
  EXPECT_LT(found["hits"][0]["start_s"].get<double>(), 11.0);
  // PostgreSQL's ts_headline does not mark stop words ("your").
  const std::string marked = cutroom::testing::TestingPostgres() ? "your [country]" : "[your country]";
  EXPECT_NE(found["hits"][0]["snippet"].get<std::string>().find(marked), std::string::npos) << found.dump();
  auto prefix = Json(client_->Get("/api/search?q=countr*&video_id=" + video));
  EXPECT_FALSE(prefix["hits"].empty());
  EXPECT_EQ(client_->Get("/api/search?q=%22unclosed")->status, 400);
  EXPECT_EQ(client_->Get("/api/search?q=")->status, 400);

  // A second run (decoding is deterministic) supersedes the first: search
  // sees only the newest transcript.
  ASSERT_EQ(Transcribe(video)["status"], "succeeded");
  auto again = Json(client_->Get("/api/search?q=%22your%20country%22"));
  EXPECT_EQ(again["hits"].size(), found["hits"].size());
}

TEST_F(Transcription, SegmentsLieInsideTheSpokenSpansOfASyntheticVideo) {
  std::string path = TestMedia("talk.mp4");
  REQUIRE_FILE(path, "make_test_video.py output (shared tools)");
  auto truth = nlohmann::json::parse(ReadFile(path + ".truth.json"));
  std::string video = Upload(path, "talk.mp4");
  ASSERT_EQ(Transcribe(video)["status"], "succeeded");
  auto t = Json(client_->Get("/api/videos/" + video + "/transcription"));
  ASSERT_FALSE(t["segments"].empty());
  for (const auto& s : t["segments"]) {
    bool inside = false;
    for (const auto& span : truth["speech"]) {
      inside |= s["start_s"].get<double>() >= span["start_s"].get<double>() - 0.3 &&
                s["end_s"].get<double>() <= span["end_s"].get<double>() + 0.3;
    }
    EXPECT_TRUE(inside) << s.dump();
  }
}

TEST_F(Transcription, NoAudioAndSilenceGiveEmptyTranscriptsWithANote) {
  std::string image = Upload(TestMedia("still.png"), "still.png");
  auto job = Transcribe(image);
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto t = Json(client_->Get("/api/videos/" + image + "/transcription"));
  EXPECT_TRUE(t["segments"].empty());
  EXPECT_NE(t["note"].get<std::string>().find("no audio"), std::string::npos);

  // Ten seconds of digital silence.
  std::string wav = "RIFF" + std::string(4, '\0') + "WAVEfmt ";
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto le16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  uint32_t bytes = 16000 * 2 * 10;
  wav += le32(16) + le16(1) + le16(1) + le32(16000) + le32(32000) + le16(2) + le16(16) + "data" + le32(bytes) +
         std::string(bytes, '\0');
  wav.replace(4, 4, le32(static_cast<uint32_t>(wav.size() - 8)));
  cutroom::testing::WriteFile(dir_.File("silence.wav"), wav);
  std::string quiet = Upload(dir_.File("silence.wav"), "silence.wav");
  ASSERT_EQ(Transcribe(quiet)["status"], "succeeded");
  auto qt = Json(client_->Get("/api/videos/" + quiet + "/transcription"));
  EXPECT_TRUE(qt["segments"].empty());
  EXPECT_EQ(qt["text"], "");
}

TEST_F(Transcription, UnsupportedLanguagesAndEnginesAre422) {
  std::string video = Upload(TestMedia("tone.wav"), "tone.wav");
  auto de = client_->Post("/api/videos/" + video + "/process/transcription", R"({"language": "de"})",
                          "application/json");
  EXPECT_EQ(de->status, 422);
  EXPECT_EQ(ErrorCode(de), "unsupported_language");
  EXPECT_EQ(Json(de)["error"]["details"]["languages"][0], "en");
  auto engine = client_->Post("/api/videos/" + video + "/process/transcription", R"({"engine": "whisper"})",
                              "application/json");
  EXPECT_EQ(engine->status, 422);
  auto hosted = client_->Post("/api/videos/" + video + "/process/transcription", R"({"engine": "openai"})",
                              "application/json");
  EXPECT_EQ(hosted->status, 422);
  EXPECT_EQ(ErrorCode(hosted), "engine_not_configured") << hosted->body;
  auto junk = client_->Post("/api/videos/" + video + "/process/transcription", R"({"speed": "fast"})",
                            "application/json");
  EXPECT_EQ(junk->status, 400);
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/transcription")->status, 404);
}

}  // namespace
}  // namespace cutroom::api
