// AI edit jobs through the "ai_edit" job handler on a synthetic talk with
// planted silences and fillers of exactly known times
// (tests/support/make_edit_talk.py): the rule planner's silence and filler
// removal against the truth, a render of the plan, fit_length, and the LLM
// path against a fake OpenAI-compatible server that answers well, badly
// and not at all.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "clips/clips_stage_fixture.h"
#include "edit/ai_edit_jobs.h"
#include "edit/edit_jobs.h"
#include "edit/plan/plan.h"
#include "media/probe.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

std::string TalkPath() { return std::string(CUTROOM_TEST_MEDIA_DIR) + "/edit-talk.mp4"; }

json Truth() {
  std::ifstream f(TalkPath() + ".truth.json");
  return json::parse(f, nullptr, false);
}

// The truth as a transcript: each phrase's words spread over its span by
// their length (fillers are phrases of one word, so their spans are exact).
// The engine is a stand-in for one that writes hesitations down verbatim
// (pocketsphinx does not: see the note in src/edit/README.md).
analysis::Transcript TruthTranscript(const json& truth) {
  analysis::Transcript t;
  t.engine = "openai";
  t.model = "truth";
  t.language = "en";
  for (const auto& s : truth["sentences"]) {
    analysis::TranscriptSegment seg;
    seg.start_s = s["start_s"].get<double>();
    seg.end_s = s["end_s"].get<double>();
    seg.text = s["text_with_fillers"].get<std::string>();
    for (const auto& p : truth["phrases"]) {
      double a = p["start_s"].get<double>(), b = p["end_s"].get<double>();
      if (a < seg.start_s - 1e-6 || b > seg.end_s + 1e-6) continue;
      std::vector<std::string> words;
      std::string cur;
      size_t letters = 0;
      for (char c : p["text"].get<std::string>() + " ") {
        if (c == ' ') {
          if (!cur.empty()) {
            words.push_back(cur);
            letters += cur.size();
          }
          cur.clear();
        } else {
          cur += c;
        }
      }
      double t0 = a;
      for (const auto& w : words) {
        double d = (b - a) * static_cast<double>(w.size()) / static_cast<double>(std::max<size_t>(1, letters));
        seg.words.push_back({w, t0, t0 + d, 0.9});
        t0 += d;
      }
    }
    t.segments.push_back(std::move(seg));
  }
  // Fillers between sentences are segments of their own.
  for (const auto& f : truth["fillers"]) {
    if (!f.value("standalone", false)) continue;
    analysis::TranscriptSegment seg;
    seg.start_s = f["start_s"].get<double>();
    seg.end_s = f["end_s"].get<double>();
    seg.text = f["word"].get<std::string>();
    seg.words.push_back({seg.text, seg.start_s, seg.end_s, 0.9});
    t.segments.push_back(std::move(seg));
  }
  std::sort(t.segments.begin(), t.segments.end(),
            [](const auto& a, const auto& b) { return a.start_s < b.start_s; });
  return t;
}

// A fake OpenAI-compatible chat server whose answers the test scripts:
// a status and a reply text per request (the last one repeats).
class FakeLlm {
 public:
  struct Answer {
    int status = 200;
    std::string text;
  };
  FakeLlm() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      requests_.push_back(json::parse(req.body, nullptr, false));
      Answer a = answers_.empty() ? Answer{500, ""} : answers_[std::min(requests_.size(), answers_.size()) - 1];
      if (a.status != 200) {
        res.status = a.status;
        res.set_content(R"({"error":{"message":"the model crashed"}})", "application/json");
        return;
      }
      json body = {{"id", "c1"},
                   {"object", "chat.completion"},
                   {"model", "fake-editor-1"},
                   {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", a.text}}},
                                 {"finish_reason", "stop"}}}},
                   {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 50}, {"total_tokens", 1050}}}};
      res.set_content(body.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeLlm() {
    server_.stop();
    thread_.join();
  }
  void Script(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    answers_ = std::move(answers);
    requests_.clear();
  }
  size_t requests() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  json last_request() {
    std::lock_guard lock(mu_);
    return requests_.empty() ? json() : requests_.back();
  }
  void Configure(Config& config) const {
    ASSERT_OK(config.Set("llm.base_url", "http://127.0.0.1:" + std::to_string(port_) + "/v1"));
    ASSERT_OK(config.Set("llm.model", "fake-editor-1"));
    ASSERT_OK(config.Set("llm.api_key_env", "CUTROOM_TEST_NO_SUCH_KEY"));
    ASSERT_OK(config.Set("llm.max_attempts", "1"));
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<Answer> answers_;
  std::vector<json> requests_;
};

class AiEdit : public analysis::testing::ClipsStageFixture {
 protected:
  void SetUp() override {
    ClipsStageFixture::SetUp();
    // make_test_media.sh makes it whenever flite is installed, and
    // install-deps.sh installs flite: a missing file is a broken setup.
    ASSERT_TRUE(std::filesystem::exists(TalkPath())) << "no " << TalkPath() << " (install flite: scripts/install-deps.sh)";
    truth_ = Truth();
    ASSERT_TRUE(truth_.is_object());
    video_ = AddVideo(TalkPath(), truth_["duration_s"].get<double>());
    video_.audio_codec = "aac";
    video_.video_codec = "h264";
    video_.width = 320;
    video_.height = 180;
    video_.original_filename = "edit-talk.mp4";
    auto updated = repos_->media.Update(video_);
    ASSERT_OK(updated.status());
    video_ = *updated;
    StoreTranscriptFor(video_.video_id, TruthTranscript(truth_));
  }

  // Creates an AI edit job and runs it (and, with renders, every render
  // job it queued) as a worker would.
  json RunEdit(const json& extra) {
    json request = {{"video_id", video_.video_id}, {"render", false}};
    request.update(extra);
    auto created = CreateAiEditJob(*db_, &env_, &ids_, *queue_, config_, db::kLocalOwnerId, request);
    EXPECT_OK(created.status());
    if (!created.ok()) return json();
    RunQueued("ai_edit", RunAiEdit);
    RunQueued("render", RunRender);
    auto shown = AiEditJobJson(*db_, &env_, &ids_, db::kLocalOwnerId, created->row.ai_edit_job_id);
    EXPECT_OK(shown.status());
    return shown.value_or(json());
  }

  void RunQueued(const std::string& kind, Status (*handler)(jobs::JobContext&)) {
    for (;;) {
      auto claimed = queue_->Claim("test-worker", {kind}, 60'000);
      ASSERT_OK(claimed.status());
      if (!*claimed) return;
      jobs::CancelToken token;
      jobs::JobContext ctx(**claimed, queue_.get(),
                           jobs::JobServices{&env_, db_.get(), blobs_.get(), &ids_, &config_}, "test-worker", &token);
      Status st = handler(ctx);
      if (st.ok()) {
        ASSERT_OK(queue_->Succeed(ctx.job(), "test-worker", ctx.result()));
      } else {
        ASSERT_OK(queue_->Fail(ctx.job(), "test-worker", st).status());
      }
      env_.AdvanceMs(1);
    }
  }

  static std::vector<std::pair<double, double>> Ranges(const json& shown, size_t output = 0) {
    std::vector<std::pair<double, double>> out;
    for (const auto& r : shown["plan"]["outputs"][output]["ranges"]) {
      out.push_back({r["start_s"].get<double>(), r["end_s"].get<double>()});
    }
    return out;
  }
  static double KeptWithin(const std::vector<std::pair<double, double>>& ranges, double a, double b) {
    double total = 0;
    for (auto [x, y] : ranges) total += std::max(0.0, std::min(b, y) - std::max(a, x));
    return total;
  }

  json truth_;
  db::MediaRow video_;
};

TEST_F(AiEdit, RemoveSilencesCutsEverySilenceOverTheMinimumAndNoSpeech) {
  json shown = RunEdit({{"instruction", "remove the silences"}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  EXPECT_EQ(shown["planner"], "rules");
  const auto ranges = Ranges(shown);
  const double margin = 0.2, min_silence = 0.5;
  for (const auto& p : truth_["phrases"]) {
    double a = p["start_s"].get<double>(), b = p["end_s"].get<double>();
    EXPECT_NEAR(KeptWithin(ranges, a, b), b - a, 1e-6) << "speech cut: " << p["text"];
  }
  for (const auto& s : truth_["silences"]) {
    double a = s["start_s"].get<double>(), b = s["end_s"].get<double>();
    std::string kind = s["kind"].get<std::string>();
    double kept = KeptWithin(ranges, a, b);
    if (b - a < min_silence - 0.1) {
      EXPECT_NEAR(kept, b - a, 0.02) << "a short pause was cut at " << a;
      continue;
    }
    if (b - a < min_silence + 0.1) continue;  // at the threshold either way is right
    // What stays of a long silence is the margin beside its sound, within
    // 0.1 s of truth on each side (none at the media's own ends).
    double expect = (kind == "leading" || kind == "trailing") ? margin : 2 * margin;
    EXPECT_NEAR(kept, expect, kind == "pause" ? 0.2 : 0.1) << "silence " << a << "-" << b;
  }
  // Provenance: planner, instruction hash and the index used.
  EXPECT_EQ(shown["plan"]["provenance"]["planner"], "rules");
  EXPECT_EQ(shown["plan"]["provenance"]["instruction_sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(shown["plan"]["provenance"]["transcription_id"].is_string());
}

TEST_F(AiEdit, RemoveFillersCutsThePlantedFillersOnly) {
  json shown = RunEdit({{"instruction", "remove the ums and uhs"}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  const auto ranges = Ranges(shown);
  for (const auto& p : truth_["phrases"]) {
    double a = p["start_s"].get<double>(), b = p["end_s"].get<double>();
    if (p["kind"] == "filler") {
      EXPECT_LT(KeptWithin(ranges, a, b), 0.01) << "filler kept at " << a;
    } else {
      EXPECT_NEAR(KeptWithin(ranges, a, b), b - a, 1e-6) << "speech cut: " << p["text"];
    }
  }
}

TEST_F(AiEdit, APlanRendersToTheSumOfItsRanges) {
  json shown = RunEdit({{"instruction", "remove the silences and the ums, title: Billing bug"}, {"render", true}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  ASSERT_EQ(shown["outputs"].size(), 1u);
  double planned = shown["plan"]["outputs"][0]["duration_s"].get<double>();
  auto edit = repos_->edit_jobs.Get(shown["edit_job_ids"][0].get<std::string>());
  ASSERT_OK(edit.status());
  ASSERT_TRUE(edit->output_asset_id);
  auto asset = repos_->video_assets.Get(*edit->output_asset_id);
  ASSERT_OK(asset.status());
  EXPECT_NEAR(asset->duration_s.value_or(0), planned, 0.1);
  EXPECT_LT(planned, truth_["duration_s"].get<double>() - 10);
  EXPECT_EQ(edit->spec["title"]["text"], "Billing bug");
  EXPECT_TRUE(edit->spec["audio"]["normalize"].get<bool>());
}

TEST_F(AiEdit, FitLengthLandsWithinTenPercentOfThirtySeconds) {
  json shown = RunEdit({{"instruction", "a 30 second cut"}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  double d = shown["plan"]["outputs"][0]["duration_s"].get<double>();
  EXPECT_GE(d, 27.0);
  EXPECT_LE(d, 33.0);
}

TEST_F(AiEdit, WithoutAnLlmAnInstructionTheRulesDoNotKnowIsRefusedAtOnce) {
  json request = {{"video_id", video_.video_id}, {"instruction", "make it feel like a heist movie"}};
  auto created = CreateAiEditJob(*db_, &env_, &ids_, *queue_, config_, db::kLocalOwnerId, request);
  ASSERT_EQ(created.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(created.status().message().rfind("llm_not_configured", 0), 0u);
  EXPECT_NE(created.status().message().find("remove the silences"), std::string::npos);
}

class AiEditLlm : public AiEdit {
 protected:
  void SetUp() override {
    AiEdit::SetUp();
    if (HasFatalFailure()) return;
    llm_.Configure(config_);
  }
  // Segments numbered as the prompt numbers them.
  static std::string Answer(const json& ranges, const std::string& extra = "") {
    json out = {{"name", "teaser"}, {"ranges", ranges}, {"steps", json::array()}, {"aspect", "9:16"},
                {"captions", true}, {"title", nullptr}};
    std::string s = json{{"outputs", {out}}}.dump();
    return extra.empty() ? s : s.substr(0, s.size() - 1) + "," + extra + "}";
  }
  void ExpectFailedWithoutRender(const json& shown, const std::string& needle) {
    EXPECT_EQ(shown["status"], "failed") << shown.dump(2);
    EXPECT_NE(shown["error"].get<std::string>().find(needle), std::string::npos) << shown["error"];
    EXPECT_TRUE(shown["edit_job_ids"].empty());
    auto edits = db_->Query("SELECT COUNT(*) AS n FROM edit_jobs", {});
    ASSERT_OK(edits.status());
    EXPECT_EQ(edits->Int(0, "n").value_or(-1), 0);
  }
  FakeLlm llm_;
};

TEST_F(AiEditLlm, AGoodPlanFromTheModelRenders) {
  llm_.Script({{200, Answer({{{"first_segment", 2}, {"last_segment", 3}, {"because", "the bug and the refund"}}},
                           R"("notes": "ok")")}});
  json shown = RunEdit({{"instruction", "a short teaser about the billing bug"}, {"render", true}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  EXPECT_EQ(shown["model"], "fake-editor-1");
  EXPECT_EQ(shown["plan"]["provenance"]["prompt_version"], "ai-edit/1");
  const auto& r = shown["plan"]["outputs"][0]["ranges"][0];
  EXPECT_EQ(r["because"], "the bug and the refund");
  EXPECT_EQ(shown["plan"]["outputs"][0]["aspect"], "9:16");
  ASSERT_EQ(shown["outputs"].size(), 1u);
  EXPECT_EQ(shown["outputs"][0]["status"], "succeeded");
  // The prompt numbered the transcript and asked for a schema.
  json req = llm_.last_request();
  EXPECT_NE(req["messages"][1]["content"].get<std::string>().find("[2] "), std::string::npos);
  EXPECT_EQ(req["response_format"]["type"], "json_schema");
}

TEST_F(AiEditLlm, AProblemIsRepairedInOneRound) {
  llm_.Script({{200, Answer({{{"first_segment", 99}, {"last_segment", 99}, {"because", "x"}}})},
               {200, Answer({{{"first_segment", 1}, {"last_segment", 1}, {"because", "fixed"}}})}});
  json shown = RunEdit({{"instruction", "the opening line"}});
  ASSERT_EQ(shown["status"], "succeeded") << shown.dump(2);
  EXPECT_EQ(llm_.requests(), 2u);
  json repair = llm_.last_request()["messages"];
  EXPECT_NE(repair.back()["content"].get<std::string>().find("no such segment"), std::string::npos);
}

TEST_F(AiEditLlm, UnknownIdsFailAfterTheRepairRound) {
  llm_.Script({{200, Answer({{{"first_segment", 99}, {"last_segment", 99}, {"because", "x"}}})}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bit"}, {"render", true}}), "no such segment");
  EXPECT_EQ(llm_.requests(), 2u);
}

TEST_F(AiEditLlm, OutOfRangeAndMidWordTimesFail) {
  llm_.Script({{200, Answer({{{"first_segment", 1}, {"last_segment", 1}, {"start_s", 500}, {"because", "x"}}})}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bit"}, {"render", true}}), "disagree");
  // "Welcome back to the show." spans 1.0-2.44 s; 1.6 s is inside a word.
  double mid = 0;
  {
    analysis::Transcript t = TruthTranscript(truth_);
    const auto& w = t.segments[0].words[1];  // "back"
    mid = 0.5 * (w.start_s + w.end_s);
  }
  llm_.Script({{200, Answer({{{"first_segment", 1}, {"last_segment", 1}, {"start_s", mid}, {"because", "x"}}})}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bit"}, {"render", true}}), "cuts inside the word");
}

TEST_F(AiEditLlm, OverlappingRangesFail) {
  llm_.Script({{200, Answer({{{"first_segment", 1}, {"last_segment", 3}, {"because", "a"}},
                             {{"first_segment", 2}, {"last_segment", 4}, {"because", "b"}}})}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bits"}, {"render", true}}), "overlap");
}

TEST_F(AiEditLlm, AnAnswerLongerThanTheStatedLengthFails) {
  // Everything (about 40 s) for "a 10 second teaser".
  llm_.Script({{200, Answer({{{"first_segment", 1}, {"last_segment", 9}, {"because", "all of it"}}})}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "a 10 second teaser"}, {"render", true}}),
                            "the instruction asks for 9.00-11.00 s");
}

TEST_F(AiEditLlm, ProseTruncatedJsonAndServerErrorsFailClearly) {
  llm_.Script({{200, "Sure! I would cut the intro and keep the part about refunds."}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bit"}, {"render", true}}), "not a JSON object");
  llm_.Script({{200, R"({"outputs": [{"name": "teaser", "ranges": [{"first_segment": 1, "last_se)"}});
  ExpectFailedWithoutRender(RunEdit({{"instruction", "the best bit"}, {"render", true}}), "not a JSON object");
  // A server error is the client's (after its retries); the job queue may
  // try once more later, so the row is queued again or failed, never planned.
  llm_.Script({{500, ""}});
  json shown = RunEdit({{"instruction", "the best bit"}, {"render", true}});
  EXPECT_TRUE(shown["status"] == "queued" || shown["status"] == "failed") << shown.dump(2);
  EXPECT_TRUE(shown["plan"].is_null());
  EXPECT_NE(shown["error"].get<std::string>().find("llm"), std::string::npos) << shown["error"];
  EXPECT_TRUE(shown["edit_job_ids"].empty());
}

}  // namespace
}  // namespace cutroom::edit
