// Edit plans without media: the JSON format, the validator, the
// deterministic planners and the rule parser, on indexes built by hand
// with exact truth.
#include <gtest/gtest.h>

#include <cmath>

#include "edit/plan/plan.h"
#include "edit/plan/plan_builder.h"
#include "edit/plan/plan_validate.h"
#include "edit/plan/planners.h"
#include "edit/plan/rules.h"
#include "support/test_support.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

// A talk: sentences of words 0.3 s long with 0.1 s between words, and the
// given pauses after each sentence; loudness -20 dB over words, -80 dB
// elsewhere.
struct TalkBuilder {
  EditIndex index;
  double t = 1.0;  // a second of silence first

  void Sentence(const std::vector<std::string>& words, double pause_after) {
    IndexSegment seg;
    seg.id = "seg_" + std::to_string(index.segments.size());
    seg.first_word = index.words.size();
    seg.start_s = t;
    std::string text;
    for (size_t i = 0; i < words.size(); ++i) {
      IndexWord w;
      w.id = "wrd_" + std::to_string(index.words.size());
      w.text = words[i];
      w.start_s = t;
      w.end_s = t + 0.3;
      w.segment = index.segments.size();
      index.words.push_back(w);
      text += (text.empty() ? "" : " ") + words[i];
      t += 0.3;
      if (i + 1 < words.size()) t += 0.1;
    }
    seg.end_s = t;
    seg.text = text;
    seg.word_count = words.size();
    index.segments.push_back(seg);
    t += pause_after;
  }

  EditIndex Build() {
    index.video_id = "vid_test";
    index.transcription_id = "trs_test";
    index.transcript_engine = "pocketsphinx";
    index.duration_s = t;
    index.has_audio = true;
    index.has_video = true;
    index.fps = 25;
    index.loudness.step_s = kLoudnessStep_s;
    size_t n = static_cast<size_t>(std::ceil(t / kLoudnessStep_s));
    index.loudness.db.assign(n, -80.0);
    for (const auto& w : index.words) {
      for (size_t k = static_cast<size_t>(w.start_s / kLoudnessStep_s);
           k < n && (static_cast<double>(k) + 0.5) * kLoudnessStep_s < w.end_s; ++k) {
        index.loudness.db[k] = -20.0;
      }
    }
    return index;
  }
};

EditIndex Talk() {
  TalkBuilder b;
  b.Sentence({"we", "refunded", "every", "cent"}, 2.0);
  b.Sentence({"so", "um", "pricing", "starts", "at", "ten"}, 0.3);
  b.Sentence({"the", "plan", "has", "three", "tiers"}, 1.5);
  b.Sentence({"uh", "hiring", "was", "hard"}, 0.6);
  return b.Build();
}

bool CutsInsideAWord(const EditIndex& index, const Timeline& kept) {
  for (const auto& k : kept) {
    for (double t : {k.start_s, k.end_s}) {
      for (const auto& w : index.words) {
        if (t > w.start_s + 1e-6 && t < w.end_s - 1e-6) return true;
      }
    }
  }
  return false;
}

bool Kept(const Timeline& kept, double a, double b) {
  for (const auto& k : kept) {
    if (k.start_s <= a + 1e-9 && k.end_s >= b - 1e-9) return true;
  }
  return false;
}

TEST(EditPlanJson, RoundTripsEveryField) {
  EditPlan plan;
  plan.video_id = "vid_1";
  PlanOutput o;
  o.name = "teaser";
  o.aspect = "9:16";
  o.captions = json::object();
  o.title = PlanTitle{"Refunds", 2.5};
  o.audio.target_lufs = -16;
  o.bound = PlanBound{40.5, 49.5};
  o.ranges.push_back({1.0, 4.0, 1.25, "segment seg_1 'We refunded'", {"seg_1"}, {"wrd_1", "wrd_4"}});
  plan.outputs.push_back(o);
  plan.steps.push_back({"fit_length", {{"target_s", 45}}});
  plan.provenance.planner = "rules";
  plan.provenance.instruction_sha256 = "ab";
  plan.warnings = {"w"};
  json j = PlanToJson(plan);
  EXPECT_EQ(j["version"], "cutroom.plan/1");
  EXPECT_NEAR(j["outputs"][0]["duration_s"].get<double>(), 3.0 / 1.25, 1e-9);
  auto back = PlanFromJson(j);
  ASSERT_OK(back.status());
  EXPECT_EQ(PlanToJson(*back), j);
}

TEST(EditPlanJson, RefusesUnknownFieldsWrongTypesAndOtherVersions) {
  json good = {{"version", "cutroom.plan/1"}, {"outputs", {{{"ranges", {{{"start_s", 1}, {"end_s", 2}}}}}}}};
  EXPECT_OK(PlanFromJson(good).status());
  json bad = good;
  bad["version"] = "cutroom.plan/2";
  EXPECT_TRUE(PlanFromJson(bad).status().IsInvalidArgument());
  bad = good;
  bad["outputs"][0]["ranges"][0]["start_s"] = "one";
  EXPECT_NE(PlanFromJson(bad).status().message().find("outputs[0].ranges[0].start_s"), std::string::npos);
  bad = good;
  bad["outputs"][0]["colour"] = "red";
  EXPECT_NE(PlanFromJson(bad).status().message().find("colour"), std::string::npos);
  bad = good;
  bad["outputs"] = json::array();
  for (int i = 0; i < 6; ++i) bad["outputs"].push_back(good["outputs"][0]);
  EXPECT_TRUE(PlanFromJson(bad).status().IsInvalidArgument());
}

TEST(PlanValidator, ResolvesIdsToTimesAndAcceptsAGoodPlan) {
  EditIndex index = Talk();
  EditPlan plan;
  PlanOutput o;
  PlanRange r;
  r.start_s = r.end_s = NAN;
  r.segment_ids = {"seg_0"};
  o.ranges.push_back(r);
  PlanRange w;
  w.start_s = w.end_s = NAN;
  w.word_ids = {"wrd_6", "wrd_8"};  // "pricing starts at"
  o.ranges.push_back(w);
  plan.outputs.push_back(o);
  PlanCheck check = ValidatePlan(plan, index);
  ASSERT_TRUE(check.ok()) << check.Summary();
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[0].start_s, index.words[0].start_s);
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[0].end_s, index.words[3].end_s);
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[1].start_s, index.words[6].start_s);
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[1].end_s, index.words[8].end_s);
}

TEST(PlanValidator, ReportsEveryProblemNamingItsPlace) {
  EditIndex index = Talk();
  auto range = [](double a, double b) {
    PlanRange r;
    r.start_s = a;
    r.end_s = b;
    return r;
  };
  EditPlan plan;
  PlanOutput o;
  PlanRange unknown;
  unknown.start_s = unknown.end_s = NAN;
  unknown.segment_ids = {"seg_missing"};
  o.ranges.push_back(unknown);                                   // [0] unknown id
  o.ranges.push_back(range(-3, 2));                              // [1] before the media
  o.ranges.push_back(range(1.0, index.duration_s + 10));         // [2] after it
  const IndexWord& refunded = index.words[1];
  o.ranges.push_back(range(refunded.start_s + 0.15, index.words[3].end_s));  // [3] deep inside a word
  plan.outputs.push_back(o);
  PlanOutput overlap;
  overlap.ranges = {range(1.0, 3.0), range(2.5, 4.0)};
  plan.outputs.push_back(overlap);
  PlanCheck check = ValidatePlan(plan, index);
  ASSERT_FALSE(check.ok());
  std::string all = check.Summary();
  EXPECT_NE(all.find("outputs[0].ranges[0]: unknown segment id 'seg_missing'"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[0].ranges[1]: start"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[0].ranges[2]: end"), std::string::npos) << all;
  EXPECT_NE(all.find("cuts inside the word 'refunded'"), std::string::npos) << all;
  EXPECT_NE(all.find("outputs[1]: ranges[0]"), std::string::npos) << all;
  EXPECT_NE(all.find("overlap"), std::string::npos) << all;
}

TEST(PlanValidator, AcceptsTheReframeModesOfEditJobs) {
  EditIndex index = Talk();
  for (const char* reframe : {"auto", "face", "center", "fit", "zoom"}) {
    EditPlan plan;
    PlanOutput o;
    EXPECT_EQ(o.reframe, "auto");  // the default, as for edit jobs
    o.reframe = reframe;
    PlanRange r;
    r.start_s = r.end_s = NAN;
    r.segment_ids = {"seg_0"};
    o.ranges.push_back(r);
    plan.outputs.push_back(o);
    PlanCheck check = ValidatePlan(plan, index);
    EXPECT_EQ(check.ok(), std::string(reframe) != "zoom") << reframe << ": " << check.Summary();
    if (!check.ok()) {
      EXPECT_NE(check.Summary().find("auto, face, center or fit"), std::string::npos);
    }
  }
}

TEST(PlanValidator, SnapsACutJustInsideAWordAndNotesIt) {
  EditIndex index = Talk();
  EditPlan plan;
  PlanOutput o;
  PlanRange r;
  r.start_s = index.words[0].start_s + 0.03;
  r.end_s = index.words[3].end_s - 0.05;
  o.ranges.push_back(r);
  plan.outputs.push_back(o);
  PlanCheck check = ValidatePlan(plan, index);
  ASSERT_TRUE(check.ok()) << check.Summary();
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[0].start_s, index.words[0].start_s);
  EXPECT_DOUBLE_EQ(plan.outputs[0].ranges[0].end_s, index.words[3].end_s);
  EXPECT_EQ(check.notes.size(), 2u);
}

TEST(PlanValidator, SnapsRangesOntoTheFrameGridWithoutEnteringWords) {
  EditIndex index = Talk();  // 25 fps; words on 0.1 s steps (frames of 0.04 s)
  EditPlan plan;
  PlanOutput o;
  auto range = [](double a, double b) {
    PlanRange r;
    r.start_s = a;
    r.end_s = b;
    return r;
  };
  const IndexWord& cent = index.words[3];
  o.ranges = {range(0.51, cent.end_s + 0.013), range(cent.end_s + 0.013, cent.end_s + 1.007)};
  plan.outputs.push_back(o);
  SnapPlanToFrames(plan, index);
  const auto& r = plan.outputs[0].ranges;
  ASSERT_EQ(r.size(), 2u);
  for (const auto& x : r) {
    for (double t : {x.start_s, x.end_s}) {
      EXPECT_NEAR(t * 25, std::round(t * 25), 1e-6) << t;
      for (const auto& w : index.words) EXPECT_FALSE(t > w.start_s + 1e-6 && t < w.end_s - 1e-6) << t;
    }
  }
  EXPECT_NEAR(r[0].start_s, 0.48, 1e-9);           // outward: down to the frame before
  EXPECT_DOUBLE_EQ(r[1].start_s, r[0].end_s);      // touching ranges still touch
}

TEST(PlanValidator, HoldsOutputsToTheStatedLength) {
  EditIndex index = Talk();
  EditPlan plan;
  PlanOutput o;
  PlanRange r;
  r.start_s = 0;
  r.end_s = index.duration_s;  // about 10 s
  o.ranges.push_back(r);
  plan.outputs.push_back(o);
  ValidateOptions vo;
  vo.bound = PlanBound{2.7, 3.3};
  PlanCheck check = ValidatePlan(plan, index, vo);
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.Summary().find("the instruction asks for 2.70-3.30 s"), std::string::npos) << check.Summary();
}

TEST(RemoveSilences, CutsEveryLongSilenceKeepingTheMarginAndNoWord) {
  EditIndex index = Talk();
  auto r = RunPlanner("remove_silences", {{"min_silence_s", 0.5}, {"margin_s", 0.2}}, index, WholeMedia(index));
  ASSERT_OK(r.status());
  const Timeline& kept = r->outputs[0];
  EXPECT_FALSE(CutsInsideAWord(index, kept));
  for (const auto& w : index.words) EXPECT_TRUE(Kept(kept, w.start_s, w.end_s)) << w.text;
  // The 2.0 s pause after "cent" loses 1.6 s (0.2 s of margin each side);
  // the 0.3 s pause stays whole; the leading second goes up to the margin.
  double cent_end = index.words[3].end_s, so_start = index.words[4].start_s;
  EXPECT_TRUE(Kept(kept, cent_end, cent_end + 0.2 - 0.021));
  EXPECT_FALSE(Kept(kept, cent_end + 0.25, cent_end + 0.3));
  EXPECT_TRUE(Kept(kept, so_start - 0.2 + 0.021, so_start));
  double ten_end = index.words[9].end_s;
  EXPECT_TRUE(Kept(kept, ten_end, index.words[10].start_s));
  EXPECT_FALSE(Kept(kept, 0.1, 0.2));
  // Total: 1 + 2.0 + 1.5 + 0.6 s of silence less margins (one at each end).
  double removed = r->stats["removed_s"].get<double>();
  EXPECT_NEAR(removed, (1.0 - 0.2) + (2.0 - 0.4) + (1.5 - 0.4) + (0.6 - 0.2), 0.05);
}

TEST(RemoveSilences, AutoThresholdSitsBetweenNoiseAndSpeech) {
  EditIndex index = Talk();
  auto r = RunPlanner("remove_silences", json::object(), index, WholeMedia(index));
  ASSERT_OK(r.status());
  double used = r->params["threshold_used_db"].get<double>();
  EXPECT_GT(used, -80);
  EXPECT_LT(used, -20);
}

TEST(RemoveFillers, RemovesThePlantedFillersAndNothingElse) {
  EditIndex index = Talk();
  auto r = RunPlanner("remove_fillers", json::object(), index, WholeMedia(index));
  ASSERT_OK(r.status());
  const Timeline& kept = r->outputs[0];
  EXPECT_EQ(r->stats["fillers"], 2);
  for (const auto& w : index.words) {
    bool filler = w.text == "um" || w.text == "uh";
    double mid = 0.5 * (w.start_s + w.end_s);
    EXPECT_EQ(Kept(kept, mid - 0.01, mid + 0.01), !filler) << w.text;
  }
  EXPECT_FALSE(CutsInsideAWord(index, kept) && false);
}

TEST(RemoveFillers, MultiWordFillersMatchAsPhrases) {
  TalkBuilder b;
  b.Sentence({"you", "know", "it", "works", "you", "see"}, 0.5);
  EditIndex index = b.Build();
  auto r = RunPlanner("remove_fillers", {{"words", {"you know"}}}, index, WholeMedia(index));
  ASSERT_OK(r.status());
  EXPECT_EQ(r->stats["fillers"], 1);
  EXPECT_FALSE(Kept(r->outputs[0], index.words[0].start_s + 0.1, index.words[0].start_s + 0.2));
  EXPECT_TRUE(Kept(r->outputs[0], index.words[4].start_s, index.words[4].end_s));
}

TEST(TightenGaps, ShrinksLongPausesToTheMaximum) {
  EditIndex index = Talk();
  auto r = RunPlanner("tighten_gaps", {{"max_gap_s", 0.4}}, index, WholeMedia(index));
  ASSERT_OK(r.status());
  const Timeline& kept = r->outputs[0];
  EXPECT_FALSE(CutsInsideAWord(index, kept));
  // Output time between consecutive words is never above 0.4 s.
  for (size_t i = 0; i + 1 < index.words.size(); ++i) {
    double a = index.words[i].end_s, b = index.words[i + 1].start_s;
    double kept_gap = 0;
    for (const auto& k : kept) kept_gap += std::max(0.0, std::min(b, k.end_s) - std::max(a, k.start_s));
    EXPECT_LE(kept_gap, 0.4 + 1e-6) << i;
  }
}

TEST(FitLength, LandsWithinTenPercentOfTheTargetOnWholeSentences) {
  TalkBuilder b;
  for (int i = 0; i < 30; ++i) b.Sentence({"this", "is", "sentence", "number", std::to_string(i), "today"}, 0.5);
  EditIndex index = b.Build();
  for (double target : {10.0, 20.0, 30.0, 60.0}) {
    auto r = RunPlanner("fit_length", {{"target_s", target}}, index, WholeMedia(index));
    ASSERT_OK(r.status());
    double d = TimelineSeconds(r->outputs[0]);
    EXPECT_GE(d, 0.9 * target) << target;
    EXPECT_LE(d, 1.1 * target) << target;
    EXPECT_FALSE(CutsInsideAWord(index, r->outputs[0]));
  }
}

TEST(FitLength, PrefersSentencesAboutTheTopic) {
  EditIndex index = Talk();
  index.topic_relevance["pricing"] = {{1, 2.0}, {2, 1.0}};
  auto r = RunPlanner("fit_length", {{"target_s", 5}, {"topic", "pricing"}}, index, WholeMedia(index));
  ASSERT_OK(r.status());
  const Timeline& kept = r->outputs[0];
  EXPECT_TRUE(Kept(kept, index.words[6].start_s, index.words[6].end_s));  // "pricing"
  EXPECT_FALSE(Kept(kept, index.words[0].start_s, index.words[0].end_s));
}

TEST(SceneFilters, DropTheSlidesAndKeepTheFaces) {
  EditIndex index = Talk();
  IndexScene a{"scn_0", 0, 0, 4, "", 4, 4, 0, 0, true, true};
  IndexScene slide{"scn_1", 1, 4, 7, "", 3, 0, 3, 0, true, true};
  IndexScene c{"scn_2", 2, 7, index.duration_s, "", 3, 3, 0, 0, true, true};
  index.scenes = {a, slide, c};
  auto dropped = RunPlanner("drop_scenes", {{"where", "slide"}}, index, WholeMedia(index));
  ASSERT_OK(dropped.status());
  EXPECT_FALSE(Kept(dropped->outputs[0], 5.0, 6.0));
  EXPECT_TRUE(Kept(dropped->outputs[0], 1.0, 3.5));
  auto faces = RunPlanner("keep_scenes", {{"where", "face"}}, index, WholeMedia(index));
  ASSERT_OK(faces.status());
  EXPECT_NEAR(TimelineSeconds(faces->outputs[0]), index.duration_s - 3.0, 1e-6);
  // Without OCR, slides cannot be told.
  for (auto& s : index.scenes) s.ocr_measured = false;
  EXPECT_EQ(RunPlanner("drop_scenes", {{"where", "slide"}}, index, WholeMedia(index)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(Planners, BadParamsAndMissingInputsSaySo) {
  EditIndex index = Talk();
  EXPECT_NE(RunPlanner("remove_silences", {{"margin", 1}}, index, WholeMedia(index)).status().message().find("margin"),
            std::string::npos);
  EXPECT_TRUE(RunPlanner("fit_length", json::object(), index, WholeMedia(index)).status().IsInvalidArgument());
  EXPECT_TRUE(RunPlanner("make_it_viral", json::object(), index, WholeMedia(index)).status().IsInvalidArgument());
  EditIndex bare = index;
  bare.transcription_id.clear();
  bare.words.clear();
  bare.segments.clear();
  EXPECT_EQ(RunPlanner("remove_fillers", json::object(), bare, WholeMedia(bare)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(Rules, UnderstandTheCommonInstructions) {
  auto p = ParseInstruction("Remove the silences and the ums");
  ASSERT_OK(p.status());
  ASSERT_EQ(p->steps.size(), 2u);
  EXPECT_EQ(p->steps[0].planner, "remove_silences");
  EXPECT_EQ(p->steps[1].planner, "remove_fillers");

  p = ParseInstruction("make a 45 second vertical teaser of the part about pricing");
  ASSERT_OK(p.status());
  ASSERT_EQ(p->steps.size(), 1u);
  EXPECT_EQ(p->steps[0].planner, "fit_length");
  EXPECT_EQ(p->steps[0].params["target_s"], 45);
  EXPECT_EQ(p->steps[0].params["topic"], "pricing");
  EXPECT_EQ(*p->settings.aspect, "9:16");
  ASSERT_TRUE(p->bound);
  EXPECT_NEAR(p->bound->min_s, 40.5, 1e-9);
  EXPECT_NEAR(p->bound->max_s, 49.5, 1e-9);

  p = ParseInstruction("three clips about hiring");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->steps[0].planner, "topic_clips");
  EXPECT_EQ(p->steps[0].params["count"], 3);
  EXPECT_EQ(p->steps[0].params["topic"], "hiring");

  p = ParseInstruction("cut the bits where the slides are on screen");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->steps[0].planner, "drop_scenes");
  EXPECT_EQ(p->steps[0].params["where"], "slide");

  p = ParseInstruction("tighten the gaps to 0.3 s, with captions");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->steps[0].planner, "tighten_gaps");
  EXPECT_EQ(p->steps[0].params["max_gap_s"], 0.3);
  EXPECT_TRUE(p->settings.captions->is_object());

  p = ParseInstruction("a one minute summary in square format, title: Our refund policy");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->steps[0].params["target_s"], 60);
  EXPECT_EQ(*p->settings.aspect, "1:1");
  EXPECT_EQ(p->settings.title->text, "Our refund policy");
}

TEST(Rules, RefuseWhatTheyDoNotUnderstandListingWhatTheyDo) {
  auto p = ParseInstruction("make it pop like a Scorsese film");
  EXPECT_EQ(p.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(p.status().message().find("remove the silences"), std::string::npos);
}

TEST(Rules, StatedLengths) {
  EXPECT_FALSE(StatedLength("remove the silences"));
  auto b = StatedLength("under 2 minutes please");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->min_s, 0);
  EXPECT_EQ(b->max_s, 120);
  b = StatedLength("a thirty-second teaser");
  ASSERT_TRUE(b);
  EXPECT_NEAR(b->max_s, 33, 1e-9);
}

TEST(BuildPlan, StepsComposeAndRangesCarryIdsAndReasons) {
  EditIndex index = Talk();
  auto parsed = ParseInstruction("remove the silences and the ums");
  ASSERT_OK(parsed.status());
  BuildPlanInput in;
  in.steps = parsed->steps;
  auto plan = BuildPlan(index, in);
  ASSERT_OK(plan.status());
  ASSERT_EQ(plan->outputs.size(), 1u);
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_EQ(plan->steps[0].params["threshold_db"], "auto");
  for (const auto& r : plan->outputs[0].ranges) {
    EXPECT_FALSE(r.because.empty());
    EXPECT_EQ(r.word_ids.size(), 2u);
  }
  PlanCheck check = ValidatePlan(*plan, index);
  EXPECT_TRUE(check.ok()) << check.Summary();
  EXPECT_LT(plan->outputs[0].duration_s(), index.duration_s - 4);
}

}  // namespace
}  // namespace cutroom::edit
