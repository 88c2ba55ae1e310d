// The openai engine against a local OpenAI-compatible test server that
// checks every request and answers with canned verbose_json, errors and
// garbage.
#include "analysis/transcribe/openai_engine.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using cutroom::testing::TestMedia;

class FakeWhisper {
 public:
  FakeWhisper() {
    server_.Post("/v1/audio/transcriptions", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++requests_;
      std::string problem;
      if (req.get_header_value("Authorization") != "Bearer sk-test") problem = "bad auth header";
      if (!req.is_multipart_form_data()) problem = "not multipart";
      if (req.get_file_value("model").content != "whisper-1") problem = "model missing";
      if (req.get_file_value("response_format").content != "verbose_json") problem = "not verbose_json";
      bool word_ts = false;
      for (const auto& [name, item] : req.files) word_ts |= name == "timestamp_granularities[]" && item.content == "word";
      if (!word_ts) problem = "no word timestamps requested";
      auto file = req.get_file_value("file");
      if (file.content.rfind("RIFF", 0) != 0 || file.content.substr(8, 4) != "WAVE") problem = "file is not WAV";
      if (!problem.empty()) {
        res.status = 400;
        res.set_content(nlohmann::json{{"error", {{"message", problem}}}}.dump(), "application/json");
        return;
      }
      double secs = static_cast<double>(file.content.size() - 44) / 32000.0;
      piece_seconds_.push_back(secs);
      prompts_.push_back(req.has_file("prompt") ? req.get_file_value("prompt").content : "");
      if (fail_first_ > 0) {
        --fail_first_;
        res.status = fail_status_;
        res.set_content(R"({"error": {"message": "slow down"}})", "application/json");
        return;
      }
      if (garbage_) {
        res.set_content("<html>oops</html>", "text/html");
        return;
      }
      // One segment and one word per piece, at fixed times inside it.
      nlohmann::json reply = {
          {"text", " hello piece"},
          {"language", "english"},
          {"duration", secs},
          {"segments", {{{"start", 0.5}, {"end", 1.5}, {"text", " Hello piece."}, {"avg_logprob", -0.1}}}},
          {"words", {{{"word", " hello"}, {"start", 0.5}, {"end", 0.9}}, {{"word", "piece"}, {"start", 1.0}, {"end", 1.5}}}}};
      res.set_content(reply.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeWhisper() {
    server_.stop();
    thread_.join();
  }

  ai::OpenAiClient Client(const std::string& key = "sk-test") const {
    ai::OpenAiOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
    o.api_key = key;
    o.backoff_ms = 10;
    o.max_attempts = 3;
    return ai::OpenAiClient(o);
  }

  std::mutex mu_;
  int requests_ = 0;
  std::vector<double> piece_seconds_;
  std::vector<std::string> prompts_;
  int fail_first_ = 0;
  int fail_status_ = 429;
  bool garbage_ = false;

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

Result<Transcript> TranscribeWith(const FakeWhisper& server, double max_piece_s, const std::string& file,
                       const std::string& key = "sk-test") {
  OpenAiTranscribeOptions o;
  o.max_piece_s = max_piece_s;
  auto engine = MakeOpenAiTranscriber(server.Client(key), o);
  return engine->TranscribeFile(file, {});
}

TEST(OpenAiEngine, SplitsLongAudioAtPausesAndMergesThePiecesOffsets) {
  std::string talk = TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "make_test_video.py output (shared tools)");
  FakeWhisper server;
  auto t = TranscribeWith(server, 12, talk);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_GE(server.piece_seconds_.size(), 3u);
  ASSERT_EQ(t->segments.size(), server.piece_seconds_.size());
  double offset = 0;
  for (size_t i = 0; i < t->segments.size(); ++i) {
    EXPECT_LE(server.piece_seconds_[i], 12.0 + 1e-6);
    const auto& s = t->segments[i];
    EXPECT_NEAR(s.start_s, offset + 0.5, 1e-3) << "piece " << i;
    EXPECT_NEAR(s.end_s, offset + 1.5, 1e-3);
    ASSERT_EQ(s.words.size(), 2u);
    EXPECT_EQ(s.words[0].word, "hello");
    EXPECT_NEAR(s.words[1].start_s, offset + 1.0, 1e-3);
    EXPECT_NEAR(s.confidence, std::exp(-0.1), 1e-6);
    offset += server.piece_seconds_[i];
  }
  EXPECT_EQ(t->segments[0].text, "Hello piece.");
}

TEST(OpenAiEngine, RetriesRateLimitsAndServerErrors) {
  FakeWhisper server;
  server.fail_first_ = 2;
  auto t = TranscribeWith(server, 600, TestMedia("tone.wav"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(server.requests_, 3);
  FakeWhisper broken;
  broken.fail_first_ = 100;
  broken.fail_status_ = 500;
  auto failed = TranscribeWith(broken, 600, TestMedia("tone.wav"));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("HTTP 500"), std::string::npos) << failed.status().ToString();
  EXPECT_EQ(broken.requests_, 3);
}

TEST(OpenAiEngine, MalformedRepliesAndRefusalsFailClearly) {
  FakeWhisper server;
  server.garbage_ = true;
  auto garbage = TranscribeWith(server, 600, TestMedia("tone.wav"));
  EXPECT_EQ(garbage.status().code(), StatusCode::kCorruption);
  EXPECT_NE(garbage.status().message().find("not a JSON object"), std::string::npos);
  FakeWhisper strict;
  auto refused = TranscribeWith(strict, 600, TestMedia("tone.wav"), "sk-wrong");
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("bad auth header"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(strict.requests_, 1);  // a 4xx is not retried
}

TEST(OpenAiEngine, VerbatimAsksForHesitationsWithADisfluentPrompt) {
  FakeWhisper server;
  auto engine = MakeOpenAiTranscriber(server.Client(), {});
  TranscribeOptions plain;
  ASSERT_OK(engine->TranscribeFile(TestMedia("tone.wav"), plain).status());
  TranscribeOptions verbatim;
  verbatim.verbatim = true;
  ASSERT_OK(engine->TranscribeFile(TestMedia("tone.wav"), verbatim).status());
  ASSERT_EQ(server.prompts_.size(), 2u);
  EXPECT_EQ(server.prompts_[0], "");
  EXPECT_NE(server.prompts_[1].find("Umm"), std::string::npos);
}

TEST(OpenAiEngine, MediaWithoutAudioIsAnEmptyTranscript) {
  FakeWhisper server;
  auto t = TranscribeWith(server, 600, TestMedia("still.png"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->segments.empty());
  EXPECT_NE(t->note.find("no audio"), std::string::npos);
  EXPECT_EQ(server.requests_, 0);
}

}  // namespace
}  // namespace cutroom::analysis
