// The clips stage end to end on SQLite: inputs read from the tables the
// other stages fill, rows stored and replaced, clear failures, and the LLM
// rerank against a local OpenAI-compatible server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

#include "clips_stage_fixture.h"
#include "talk_fixture.h"

namespace cutroom::analysis {
namespace {

using testing::ClipsStageFixture;
using testing::MakeTranscript;
using testing::Style;

class ClipsStage : public ClipsStageFixture {
 protected:
  // The 90 s talk of seed 5 with its truth transcript, scenes and frames.
  // REQUIRES: talk.mp4 exists (the shared tool and flite are there).
  std::string AddTalk(bool scenes = true, bool frames = true) {
    std::string video = testing::TalkVideo(5);
    truth_ = testing::LoadTruth(video + ".truth.json");
    auto media = AddVideo(video, truth_.duration_s);
    StoreTranscriptFor(media.video_id, MakeTranscript(truth_.speech, Style::kWhisper));
    if (scenes) StoreScenes(media.video_id, truth_.cuts, truth_.duration_s);
    if (frames) StoreFrames(media.video_id, truth_.duration_s, 2.0, [](double t) { return t > 20 && t < 40; });
    return media.video_id;
  }

  testing::Truth truth_;
};

TEST_F(ClipsStage, StoresCandidatesFromEveryInputAndAReRunReplacesTheProposedOnes) {
  REQUIRE_FILE(cutroom::testing::TestMedia("talk.mp4"), "talk.mp4 (needs flite and the shared tool)");
  std::string video = AddTalk();
  nlohmann::json params = {{"min_s", 10}, {"max_s", 25}, {"target_s", 15}, {"count", 4}};
  auto first = RunClipsJob(video, params);
  ASSERT_OK(first.status);
  EXPECT_EQ(first.job.status, "succeeded");
  auto rows = Candidates(video);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(first.job.result["count"], rows.size());
  EXPECT_EQ(first.job.result["inputs"]["scene_cuts"], truth_.cuts.size());
  EXPECT_EQ(first.job.result["inputs"]["loudness"], true);
  EXPECT_GT(first.job.result["inputs"]["face_samples"].get<int>(), 40);
  for (const auto& r : rows) {
    EXPECT_EQ(r.processing_id, first.job.processing_id);
    EXPECT_EQ(r.status, "proposed");
    EXPECT_GE(r.end_s - r.start_s, 10.0 - 1e-9);
    EXPECT_LE(r.end_s - r.start_s, 25.0 + 1e-9);
    EXPECT_TRUE(r.title && !r.title->empty());
    EXPECT_TRUE(r.hook && !r.hook->empty());
    EXPECT_TRUE(r.reason && !r.reason->empty());
    EXPECT_TRUE(r.transcript_excerpt && !r.transcript_excerpt->empty());
    // Every optional input was used.
    for (const char* f : {"hook", "loudness", "scene_pace", "face_presence", "weights", "speech_start_s"}) {
      EXPECT_TRUE(r.features.contains(f)) << f << " in " << r.features.dump();
    }
  }
  // The job's processing run is what the rows point at, and it succeeded.
  auto run = repos_->video_processing.Get(*first.job.processing_id);
  ASSERT_OK(run.status());
  EXPECT_EQ(run->kind, "clips");
  EXPECT_EQ(run->status, "succeeded");

  // Someone accepts one; a re-run replaces only the proposed ones.
  db::ClipCandidateRow accepted = rows[0];
  accepted.status = "accepted";
  ASSERT_OK(repos_->clip_candidates.Update(accepted).status());
  auto second = RunClipsJob(video, params);
  ASSERT_OK(second.status);
  auto after = Candidates(video);
  size_t kept = 0, fresh = 0;
  for (const auto& r : after) {
    if (r.clip_id == accepted.clip_id) {
      EXPECT_EQ(r.status, "accepted");
      ++kept;
    } else {
      EXPECT_EQ(r.processing_id, second.job.processing_id) << "a proposed row of the first run survived";
      ++fresh;
    }
  }
  EXPECT_EQ(kept, 1u);
  EXPECT_EQ(fresh, second.job.result["count"].get<size_t>());
}

TEST_F(ClipsStage, WithoutScenesFramesOrAFileTheTranscriptAloneIsEnough) {
  auto media = AddVideo("", 60);  // a URL reference: nothing to measure loudness on
  StoreTranscriptFor(media.video_id, MakeTranscript({{1.0, 5.0, "why do founders wait so long to ship"},
                                                     {6.0, 11.0, "most of them fear the first version"},
                                                     {12.0, 17.5, "your customers will tell you what to fix"},
                                                     {18.2, 23.0, "that is the whole lesson for today"}},
                                                    Style::kSphinx));
  auto run = RunClipsJob(media.video_id, {{"min_s", 5}, {"max_s", 20}, {"target_s", 10}});
  ASSERT_OK(run.status);
  auto rows = Candidates(media.video_id);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].features["unavailable"], nlohmann::json({"loudness", "scene_pace", "face_presence"}));
  EXPECT_EQ(run.job.result["inputs"]["scene_cuts"], nullptr);
}

TEST_F(ClipsStage, AVideoWithoutATranscriptFailsAskingForOne) {
  auto media = AddVideo("", 60);
  auto run = RunClipsJob(media.video_id);
  EXPECT_EQ(run.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(run.status.message().find("transcribe the video first"), std::string::npos) << run.status.ToString();
  EXPECT_EQ(run.job.status, "failed");
  ASSERT_TRUE(run.job.error);
  EXPECT_NE(run.job.error->find("transcribe the video first"), std::string::npos);
}

TEST_F(ClipsStage, ATranscriptWithoutWordsGivesNoCandidatesAndSaysSo) {
  auto media = AddVideo("", 60);
  Transcript silent;
  silent.engine = "pocketsphinx";
  silent.note = "no speech found";
  StoreTranscriptFor(media.video_id, silent);
  auto run = RunClipsJob(media.video_id);
  ASSERT_OK(run.status);
  EXPECT_EQ(run.job.result["count"], 0);
  EXPECT_TRUE(Candidates(media.video_id).empty());
  auto logs = LogMessages(run.job.job_id);
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(),
                          [](const std::string& m) { return m.find("no words") != std::string::npos; }));
}

TEST_F(ClipsStage, BadParametersAreInvalidArgumentsNamingTheFieldAndLimit) {
  EXPECT_OK(ValidateClipsParams(nlohmann::json::object()));
  EXPECT_OK(ValidateClipsParams(nullptr));
  EXPECT_OK(ValidateClipsParams({{"min_s", 45}}));  // max_s and target_s follow
  EXPECT_EQ(ClipOptionsFromParams({{"min_s", 45}}).target_s, 45);
  EXPECT_EQ(ClipOptionsFromParams({{"max_s", 12}, {"min_s", 5}}).target_s, 12);
  struct Case {
    nlohmann::json params;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{{{{"min_s", 1}}, "min_s must be between 3 and 600"},
                                         {{{"max_s", 700}}, "max_s must be between"},
                                         {{{"min_s", 20}, {"max_s", 10}}, "max_s must be between min_s"},
                                         {{{"target_s", 100}}, "target_s must be between"},
                                         {{{"count", 0}}, "count must be between 1 and 50"},
                                         {{{"count", 51}}, "count must be between 1 and 50"},
                                         {{{"count", 2.5}}, "count must be a whole number"},
                                         {{{"min_s", "ten"}}, "min_s must be a number"},
                                         {{{"llm", "yes"}}, "llm must be true or false"},
                                         {{{"length", 30}}, "unknown clips parameter 'length'"},
                                         {nlohmann::json::array(), "must be a JSON object"}}) {
    Status st = ValidateClipsParams(c.params);
    EXPECT_TRUE(st.IsInvalidArgument()) << c.params.dump();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
  }
  // Through the job: it fails at once, without retries.
  auto media = AddVideo("", 60);
  auto run = RunClipsJob(media.video_id, {{"count", 99}});
  EXPECT_TRUE(run.status.IsInvalidArgument());
  EXPECT_EQ(run.job.status, "failed");
}

TEST_F(ClipsStage, AskingForTheLlmWithoutOneConfiguredFailsWithLlmNotConfigured) {
  auto media = AddVideo("", 60);
  auto run = RunClipsJob(media.video_id, {{"llm", true}});
  EXPECT_EQ(run.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(run.status.message().rfind("llm_not_configured", 0), 0u) << run.status.ToString();
}

// --- LLM rerank against a local OpenAI-compatible server ---

// Answers chat completions about clip candidates: it finds the "[k]"
// candidates in the prompt and judges them in reverse order (the last one
// best), or answers with a reply that does not validate.
class FakeChat {
 public:
  enum class Mode { kReverse, kScoreOutOfRange, kMissingClip, kRefuseSchema };

  explicit FakeChat(Mode mode) : mode_(mode) {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      std::lock_guard lock(mu_);
      ++requests_;
      formats_.push_back(body.value("response_format", nlohmann::json())["type"].get<std::string>());
      if (mode_ == Mode::kRefuseSchema && formats_.back() == "json_schema") {
        res.status = 400;
        res.set_content(R"({"error": {"message": "response_format json_schema is not supported"}})",
                        "application/json");
        return;
      }
      std::string prompt = body["messages"][1]["content"].get<std::string>();
      int n = 0;
      std::regex mark(R"(\n\[(\d+)\] )");
      for (auto it = std::sregex_iterator(prompt.begin(), prompt.end(), mark); it != std::sregex_iterator(); ++it) ++n;
      nlohmann::json clips = nlohmann::json::array();
      for (int k = 1; k <= n; ++k) {
        if (mode_ == Mode::kMissingClip && k == n) break;
        double score = mode_ == Mode::kScoreOutOfRange && k == 1 ? 7.5 : static_cast<double>(k) / (n + 1);
        clips.push_back({{"id", k},
                         {"title", "\"LLM title " + std::to_string(k) + "\""},
                         {"hook", "Hook line " + std::to_string(k)},
                         {"score", score},
                         {"reason", "Reason " + std::to_string(k) + "."}});
      }
      nlohmann::json reply = {
          {"id", "chatcmpl-1"},
          {"object", "chat.completion"},
          {"model", "fake-model-1"},
          {"choices",
           {{{"index", 0},
             {"message", {{"role", "assistant"}, {"content", "```json\n" + nlohmann::json{{"clips", clips}}.dump() + "\n```"}}},
             {"finish_reason", "stop"}}}},
          {"usage", {{"prompt_tokens", 900}, {"completion_tokens", 120}, {"total_tokens", 1020}}}};
      res.set_content(reply.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeChat() {
    server_.stop();
    thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  std::mutex mu_;
  int requests_ = 0;
  std::vector<std::string> formats_;

 private:
  Mode mode_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

class ClipsStageLlm : public ClipsStage {
 protected:
  void UseLlm(const FakeChat& chat) {
    ASSERT_OK(config_.Set("llm.base_url", chat.base_url()));
    ASSERT_OK(config_.Set("llm.model", "fake-model"));
    ASSERT_OK(config_.Set("llm.api_key_env", "CUTROOM_TEST_NO_SUCH_KEY"));
    ASSERT_OK(config_.Set("llm.max_attempts", "1"));
  }

  // Heuristic candidates first (no LLM), for comparison.
  std::vector<db::ClipCandidateRow> Heuristic(const std::string& video) {
    auto run = RunClipsJob(video, kParams);
    EXPECT_OK(run.status);
    auto rows = Candidates(video);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    return rows;
  }

  static std::vector<db::ClipCandidateRow> ByScore(std::vector<db::ClipCandidateRow> rows) {
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    return rows;
  }

  const nlohmann::json kParams = {{"min_s", 8}, {"max_s", 20}, {"target_s", 12}, {"count", 4}};
};

TEST_F(ClipsStageLlm, AValidReplyReordersAndRetitlesTheCandidates) {
  REQUIRE_FILE(cutroom::testing::TestMedia("talk.mp4"), "talk.mp4 (needs flite and the shared tool)");
  std::string video = AddTalk(false, false);
  auto before = Heuristic(video);
  ASSERT_GE(before.size(), 3u);
  FakeChat chat(FakeChat::Mode::kReverse);
  UseLlm(chat);
  nlohmann::json params = kParams;
  params["llm"] = true;
  auto run = RunClipsJob(video, params);
  ASSERT_OK(run.status);
  auto after = ByScore(Candidates(video));
  ASSERT_EQ(after.size(), before.size());
  size_t n = after.size();
  for (size_t i = 0; i < n; ++i) {
    // The fake judged the heuristic order backwards.
    EXPECT_NEAR(after[i].start_s, before[n - 1 - i].start_s, 1e-9) << i;
    EXPECT_EQ(*after[i].title, "LLM title " + std::to_string(n - i)) << "quotes stripped";
    EXPECT_EQ(*after[i].hook, "Hook line " + std::to_string(n - i));
    EXPECT_NEAR(after[i].score, static_cast<double>(n - i) / (n + 1), 1e-9);
    EXPECT_NEAR(after[i].features["heuristic_score"].get<double>(), before[n - 1 - i].score, 1e-9);
    EXPECT_EQ(after[i].features["llm"]["model"], "fake-model-1");
  }
  EXPECT_EQ(run.job.result["llm"]["applied"], true);
  EXPECT_EQ(run.job.result["llm"]["total_tokens"], 1020);
  auto logs = LogMessages(run.job.job_id);
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](const std::string& m) {
    return m.find("llm rerank used 1020 tokens") != std::string::npos;
  }));
  EXPECT_EQ(chat.formats_, std::vector<std::string>{"json_schema"});
}

TEST_F(ClipsStageLlm, AnInvalidReplyIsIgnoredWithALogLineAndTheHeuristicOrderKept) {
  REQUIRE_FILE(cutroom::testing::TestMedia("talk.mp4"), "talk.mp4 (needs flite and the shared tool)");
  std::string video = AddTalk(false, false);
  auto before = Heuristic(video);
  ASSERT_GE(before.size(), 2u);
  for (auto mode : {FakeChat::Mode::kScoreOutOfRange, FakeChat::Mode::kMissingClip}) {
    FakeChat chat(mode);
    UseLlm(chat);
    nlohmann::json params = kParams;
    params["llm"] = true;
    auto run = RunClipsJob(video, params);
    ASSERT_OK(run.status);
    auto after = ByScore(Candidates(video));
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_NEAR(after[i].start_s, before[i].start_s, 1e-9);
      EXPECT_EQ(after[i].title, before[i].title);
      EXPECT_NEAR(after[i].score, before[i].score, 1e-12);
    }
    EXPECT_EQ(run.job.result["llm"]["applied"], false);
    auto logs = LogMessages(run.job.job_id);
    EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](const std::string& m) {
      return m.find("llm rerank ignored, heuristic order kept") != std::string::npos;
    })) << "no log line about the ignored reply";
  }
}

TEST_F(ClipsStageLlm, AServiceWithoutStructuredOutputsIsAskedAgainInJsonMode) {
  REQUIRE_FILE(cutroom::testing::TestMedia("talk.mp4"), "talk.mp4 (needs flite and the shared tool)");
  std::string video = AddTalk(false, false);
  FakeChat chat(FakeChat::Mode::kRefuseSchema);
  UseLlm(chat);
  nlohmann::json params = kParams;
  params["llm"] = true;
  auto run = RunClipsJob(video, params);
  ASSERT_OK(run.status);
  EXPECT_EQ(chat.formats_, (std::vector<std::string>{"json_schema", "json_object"}));
  EXPECT_EQ(run.job.result["llm"]["applied"], true);
  EXPECT_EQ(run.job.result["llm"]["requests"], 2);
}

}  // namespace
}  // namespace cutroom::analysis
