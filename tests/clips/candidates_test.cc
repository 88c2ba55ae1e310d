// The clip candidate finder on synthetic talks with exact sentence times:
// edge rules (word boundaries, scene snapping, silence trimming), the
// invariants every candidate keeps, and the preferences the score encodes.
#include "analysis/clips/candidates.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/clips/loudness.h"
#include "analysis/clips/sentences.h"
#include "analysis/clips/story_cues.h"
#include "analysis/clips/text_cues.h"
#include "talk_fixture.h"

namespace cutroom::analysis {
namespace {

using testing::MakeTranscript;
using testing::Style;
using testing::TimedSentence;

constexpr double kEps = 1e-6;

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<SpokenWord> WordsOf(const Transcript& t) { return SplitSentences(t).words; }

// Invariants every candidate list keeps, whatever the input.
void ExpectWellFormed(const std::vector<ClipCandidate>& cands, const Transcript& transcript, const ClipOptions& o,
                      double duration, const std::vector<double>& cuts) {
  auto words = WordsOf(transcript);
  for (size_t i = 0; i < cands.size(); ++i) {
    const auto& c = cands[i];
    SCOPED_TRACE("candidate " + std::to_string(i) + " [" + std::to_string(c.start_s) + ", " + std::to_string(c.end_s) +
                 "]");
    EXPECT_GE(c.start_s, 0.0);
    EXPECT_LE(c.end_s, duration + kEps);
    EXPECT_GE(c.end_s - c.start_s, o.min_s - kEps);
    EXPECT_LE(c.end_s - c.start_s, o.max_s + kEps);
    // Speech starts at a word's start and ends at a word's end.
    bool starts_on_word = false, ends_on_word = false;
    for (const auto& w : words) {
      starts_on_word |= std::abs(w.start_s - c.speech_start_s) < kEps;
      ends_on_word |= std::abs(w.end_s - c.speech_end_s) < kEps;
      // No edge inside a word.
      EXPECT_FALSE(w.start_s + kEps < c.start_s && c.start_s < w.end_s - kEps) << "start cuts '" << w.text << "'";
      EXPECT_FALSE(w.start_s + kEps < c.end_s && c.end_s < w.end_s - kEps) << "end cuts '" << w.text << "'";
    }
    EXPECT_TRUE(starts_on_word);
    EXPECT_TRUE(ends_on_word);
    // Edges sit in the silence next to the speech: at most pad_s away, or
    // on a scene cut at most snap_s away.
    auto on_cut = [&](double t) {
      return std::any_of(cuts.begin(), cuts.end(), [&](double x) { return std::abs(x - t) < kEps; });
    };
    double lead = c.speech_start_s - c.start_s, trail = c.end_s - c.speech_end_s;
    EXPECT_GE(lead, -kEps);
    EXPECT_GE(trail, -kEps);
    if (!on_cut(c.start_s)) {
      EXPECT_LE(lead, o.pad_s + kEps);
    } else {
      EXPECT_LE(lead, o.snap_s + kEps);
    }
    if (!on_cut(c.end_s)) {
      EXPECT_LE(trail, o.pad_s + kEps);
    } else {
      EXPECT_LE(trail, o.snap_s + kEps);
    }
    EXPECT_FALSE(c.reason.empty());
    EXPECT_FALSE(c.title.empty());
    EXPECT_LE(CodePoints(c.title), 60u) << c.title;
    EXPECT_FALSE(c.hook.empty());
    EXPECT_EQ(c.transcript_excerpt.rfind(c.hook, 0), 0u) << "the excerpt starts with the hook";
    EXPECT_GE(c.score, 0.0);
    EXPECT_LE(c.score, 1.0);
    // The score is the weighted sum of the features it lists.
    double sum = 0, weights = 0;
    for (const auto& [name, w] : c.features["weights"].items()) {
      ASSERT_TRUE(c.features.contains(name)) << name;
      double v = c.features[name].get<double>();
      EXPECT_GE(v, 0.0) << name;
      EXPECT_LE(v, 1.0) << name;
      sum += w.get<double>() * v;
      weights += w.get<double>();
    }
    EXPECT_NEAR(weights, 1.0, 1e-9);
    EXPECT_NEAR(sum, c.score, 1e-9);
    if (i > 0) {
      EXPECT_LE(c.score, cands[i - 1].score) << "sorted by score";
    }
    for (size_t k = 0; k < i; ++k) {
      const auto& d = cands[k];
      double overlap = std::min(c.end_s, d.end_s) - std::max(c.start_s, d.start_s);
      double shorter = std::min(c.end_s - c.start_s, d.end_s - d.start_s);
      EXPECT_LE(overlap, 0.30 * shorter + kEps) << "overlaps candidate " << k;
    }
  }
}

// --- On the shared tool's talk videos, with their exact truth ---

class TruthTalks : public ::testing::TestWithParam<int> {};

TEST_P(TruthTalks, EveryCandidateIsWellFormedAndInsideTheSpeech) {
  std::string talk = cutroom::testing::TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "talk.mp4 (needs flite and ../shared/tools/make_test_video.py)");
  std::string video = GetParam() == 0 ? talk : testing::TalkVideo(GetParam());
  auto truth = testing::LoadTruth(video + ".truth.json");
  ASSERT_GE(truth.speech.size(), 5u);
  auto loudness = MeasureLoudness(video, 0.1);  // fine enough to check pauses (as the stage does)
  ASSERT_OK(loudness.status());

  for (Style style : {Style::kWhisper, Style::kSphinx}) {
    for (ClipOptions o : {ClipOptions{}, ClipOptions{.min_s = 8, .max_s = 20, .target_s = 12, .count = 8}}) {
      SCOPED_TRACE(std::string(style == Style::kWhisper ? "whisper" : "sphinx") + " min_s " + std::to_string(o.min_s));
      ClipInputs in;
      in.transcript = MakeTranscript(truth.speech, style);
      in.duration_s = truth.duration_s;
      in.scene_cuts = truth.cuts;
      in.loudness = *loudness;
      auto cands = FindClipCandidates(in, o);
      ASSERT_FALSE(cands.empty());
      ExpectWellFormed(cands, in.transcript, o, truth.duration_s, truth.cuts);
      for (const auto& c : cands) {
        // Speech edges are sentence edges of the truth, and the clip edges
        // lie within 0.3 s of them or on a scene cut next to them.
        auto first = std::find_if(truth.speech.begin(), truth.speech.end(),
                                  [&](const TimedSentence& s) { return std::abs(s.start_s - c.speech_start_s) < kEps; });
        auto last = std::find_if(truth.speech.begin(), truth.speech.end(),
                                 [&](const TimedSentence& s) { return std::abs(s.end_s - c.speech_end_s) < kEps; });
        ASSERT_NE(first, truth.speech.end()) << "starts mid-sentence at " << c.speech_start_s;
        ASSERT_NE(last, truth.speech.end()) << "ends mid-sentence at " << c.speech_end_s;
        if (first != truth.speech.begin()) {
          EXPECT_GE(c.start_s, std::prev(first)->end_s - kEps) << "starts inside the previous sentence";
        }
        if (std::next(last) != truth.speech.end()) {
          EXPECT_LE(c.end_s, std::next(last)->start_s + kEps) << "ends inside the next sentence";
        }
        if (style == Style::kWhisper) {
          EXPECT_EQ(c.hook, first->text);
          EXPECT_EQ(c.features["ends_with"], ".");
        }
        EXPECT_TRUE(c.features.contains("loudness"));
        EXPECT_TRUE(c.features.contains("scene_pace"));
        EXPECT_FALSE(c.features.contains("face_presence"));
      }
    }
  }
}

// 0: the shared talk.mp4 (40 s); others: 90 s talks made from these seeds.
INSTANTIATE_TEST_SUITE_P(Seeds, TruthTalks, ::testing::Values(0, 5, 11));

// --- Preferences, on blocks of speech that differ in one thing only ---

// A block: `opening` (3 s) then three filler sentences (4 s each), 0.6 s
// pauses: 16.8 s of speech, 17.4 s with the padding on each side.
std::vector<TimedSentence> Block(double at, const std::string& opening) {
  std::vector<TimedSentence> out = {{at, at + 3.0, opening}};
  double t = at + 3.6;
  for (int i = 0; i < 3; ++i) {
    out.push_back({t, t + 4.0, "We looked at the numbers across many teams and many years."});
    t += 4.6;
  }
  return out;
}

ClipOptions BlockOptions() { return ClipOptions{.min_s = 15, .max_s = 19, .target_s = 17.5, .count = 5}; }

std::vector<TimedSentence> TwoBlocks(const std::string& a, const std::string& b) {
  auto s = Block(2.0, a);
  auto second = Block(32.0, b);
  s.insert(s.end(), second.begin(), second.end());
  return s;
}

TEST(ClipCandidates, AWindowOpeningWithAQuestionOutranksAnOtherwiseIdenticalOne) {
  for (Style style : {Style::kWhisper, Style::kSphinx}) {
    for (bool question_first : {true, false}) {
      std::string question = "Why do founders often wait to ship it?";
      std::string statement = "Founders often wait a while to ship it.";
      ClipInputs in;
      in.transcript = MakeTranscript(question_first ? TwoBlocks(question, statement) : TwoBlocks(statement, question),
                                     style);
      in.duration_s = 60;
      auto cands = FindClipCandidates(in, BlockOptions());
      ASSERT_EQ(cands.size(), 2u);
      ExpectWellFormed(cands, in.transcript, BlockOptions(), 60, {});
      double question_at = question_first ? 2.0 : 32.0;
      EXPECT_NEAR(cands[0].speech_start_s, question_at, kEps) << cands[0].hook;
      EXPECT_GT(cands[0].features["hook"].get<double>(), cands[1].features["hook"].get<double>());
      EXPECT_GT(cands[0].score, cands[1].score);
      EXPECT_NE(cands[0].reason.find("opens with a question"), std::string::npos) << cands[0].reason;
      // Everything but the hook is the same.
      for (const char* f : {"completeness", "speech_density", "length_fit"}) {
        EXPECT_NEAR(cands[0].features[f].get<double>(), cands[1].features[f].get<double>(), 1e-9) << f;
      }
    }
  }
}

TEST(ClipCandidates, AWindowStartingMidThoughtRanksBelowAFreshStart) {
  ClipInputs in;
  in.transcript = MakeTranscript(TwoBlocks("And that is why they wait to ship.", "Founders often wait to ship it."),
                                 Style::kWhisper);
  in.duration_s = 60;
  auto cands = FindClipCandidates(in, BlockOptions());
  ASSERT_EQ(cands.size(), 2u);
  EXPECT_NEAR(cands[0].speech_start_s, 32.0, kEps);
  EXPECT_LT(cands[1].features["completeness"].get<double>(), cands[0].features["completeness"].get<double>());
}

TEST(ClipCandidates, LouderSpeechMoreScenesAndFacesEachRaiseTheScore) {
  std::string same = "Founders often wait a while to ship it.";
  auto base = [&] {
    ClipInputs in;
    in.transcript = MakeTranscript(TwoBlocks(same, same), Style::kWhisper);
    in.duration_s = 60;
    return in;
  };
  {
    ClipInputs in = base();
    in.loudness.step_s = 0.5;
    for (int i = 0; i < 120; ++i) in.loudness.db.push_back(i * 0.5 >= 30 ? -14.0 : -20.0);  // second block +6 dB
    auto c = FindClipCandidates(in, BlockOptions());
    ASSERT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0].speech_start_s, 32.0, kEps);
    EXPECT_GT(c[0].features["loudness"].get<double>(), 0.5);
    EXPECT_LT(c[1].features["loudness"].get<double>(), 0.5);
  }
  {
    ClipInputs in = base();
    in.scene_cuts = std::vector<double>{6.5, 11.0, 15.5};  // inside the first block, off the edges
    auto c = FindClipCandidates(in, BlockOptions());
    ASSERT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0].speech_start_s, 2.0, kEps);
    EXPECT_EQ(c[0].features["scene_changes"], 3);
    EXPECT_EQ(c[1].features["scene_changes"], 0);
    EXPECT_NE(c[0].reason.find("3 scene changes"), std::string::npos) << c[0].reason;
  }
  {
    ClipInputs in = base();
    for (int t = 0; t < 60; t += 2) in.faces.push_back({static_cast<double>(t), t >= 30 ? 1 : 0});
    auto c = FindClipCandidates(in, BlockOptions());
    ASSERT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0].speech_start_s, 32.0, kEps);
    EXPECT_DOUBLE_EQ(c[0].features["face_presence"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(c[1].features["face_presence"].get<double>(), 0.0);
  }
  {
    // Without scenes, audio or frames those features are left out and the
    // remaining weights still sum to one.
    auto c = FindClipCandidates(base(), BlockOptions());
    ASSERT_FALSE(c.empty());
    EXPECT_EQ(c[0].features["unavailable"], nlohmann::json({"loudness", "scene_pace", "face_presence"}));
    EXPECT_FALSE(c[0].features["weights"].contains("loudness"));
  }
}

// --- Edges ---

// One block starting at 2.0 s, 17.4 s of speech, preceded by a 1.5 s word
// ("Right.", 0.0-1.5 s) so that the silence before the block is 0.5 s long.
ClipInputs EdgeTalk(std::vector<double> cuts) {
  auto s = Block(2.5, "Founders often wait a while to ship it.");
  s.insert(s.begin(), TimedSentence{0.5, 2.0, "Right."});
  ClipInputs in;
  in.transcript = MakeTranscript(s, Style::kWhisper);
  in.duration_s = 40;
  in.scene_cuts = std::move(cuts);
  return in;
}

// Long enough for the block with both edges snapped 1 s out, too short to
// take "Right." as well.
ClipOptions EdgeOptions() { return ClipOptions{.min_s = 15, .max_s = 18.5, .target_s = 17.5, .count = 1}; }

TEST(ClipCandidates, EdgesSnapToSceneCutsInTheNeighbouringSilenceOnly) {
  const double speech_end = 2.5 + 16.8;  // the block's last word ends here
  {
    // A cut 0.4 s before the first word (in the 0.5 s pause) and one 0.8 s
    // after the last word: both edges snap.
    auto in = EdgeTalk({2.1, speech_end + 0.8});
    auto c = FindClipCandidates(in, EdgeOptions());
    ASSERT_EQ(c.size(), 1u);
    EXPECT_NEAR(c[0].speech_start_s, 2.5, kEps);
    EXPECT_NEAR(c[0].start_s, 2.1, kEps);
    EXPECT_NEAR(c[0].end_s, speech_end + 0.8, kEps);
    EXPECT_EQ(c[0].features["snapped_start"], true);
    EXPECT_EQ(c[0].features["snapped_end"], true);
    EXPECT_EQ(c[0].features["scene_changes"], 0) << "an edge on a cut is not a change inside";
    ExpectWellFormed(c, in.transcript, EdgeOptions(), 40, *in.scene_cuts);
  }
  {
    // A cut inside the previous word (1.8 s) is not in the silence; one
    // 1.3 s after the last word is too far: plain padding, 0.3 s.
    auto in = EdgeTalk({1.8, speech_end + 1.3});
    auto c = FindClipCandidates(in, EdgeOptions());
    ASSERT_EQ(c.size(), 1u);
    EXPECT_NEAR(c[0].start_s, 2.2, kEps);
    EXPECT_NEAR(c[0].end_s, speech_end + 0.3, kEps);
    EXPECT_EQ(c[0].features["snapped_start"], false);
  }
  {
    // A cut inside the first word of the clip: the edge never crosses it.
    auto in = EdgeTalk({2.6});
    auto c = FindClipCandidates(in, EdgeOptions());
    ASSERT_EQ(c.size(), 1u);
    EXPECT_NEAR(c[0].start_s, 2.2, kEps);
  }
}

TEST(ClipCandidates, SilenceAroundTheSpeechIsTrimmedToAtMostPadSeconds) {
  // Long silences on both sides: 0.3 s kept.
  auto s = Block(10.0, "Founders often wait a while to ship it.");
  ClipInputs in;
  in.transcript = MakeTranscript(s, Style::kSphinx);
  in.duration_s = 60;
  auto c = FindClipCandidates(in, EdgeOptions());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].start_s, 9.7, kEps);
  EXPECT_NEAR(c[0].end_s, 10.0 + 16.8 + 0.3, kEps);

  // Speech from 0.1 s to 0.1 s before the end: clamped to the media.
  in.transcript = MakeTranscript(Block(0.1, "Founders often wait a while to ship it."), Style::kSphinx);
  in.duration_s = 17.0;
  c = FindClipCandidates(in, EdgeOptions());
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].start_s, 0.0, kEps);
  EXPECT_NEAR(c[0].end_s, 17.0, kEps);
}

TEST(ClipCandidates, UnpunctuatedUnitsOnlyOpenOrCloseAClipWhereTheAudioFallsSilent) {
  // Four recogniser segments, but the audio only pauses between the second
  // and the third: the other "pauses" are words the recogniser dropped.
  ClipInputs in;
  in.transcript = MakeTranscript({{1, 5, "one two three four five"},
                                  {6, 10, "six seven eight nine ten"},
                                  {11, 15, "eleven twelve thirteen fourteen"},
                                  {16, 20, "fifteen sixteen seventeen"}},
                                 Style::kSphinx);
  in.duration_s = 22;
  in.loudness.step_s = 0.1;
  for (int i = 0; i < 220; ++i) {
    double t = i * 0.1 + 0.05;
    bool speech = (t > 0.95 && t < 10.05) || (t > 10.95 && t < 20.05);
    in.loudness.db.push_back(speech ? -20.0 : -90.0);
  }
  auto c = FindClipCandidates(in, ClipOptions{.min_s = 8, .max_s = 20, .target_s = 9, .count = 10,
                                              .max_overlap = 1.0});
  ASSERT_FALSE(c.empty());
  for (const auto& x : c) {
    EXPECT_TRUE(std::abs(x.speech_start_s - 1) < kEps || std::abs(x.speech_start_s - 11) < kEps) << x.speech_start_s;
    EXPECT_TRUE(std::abs(x.speech_end_s - 10) < kEps || std::abs(x.speech_end_s - 20) < kEps) << x.speech_end_s;
  }
  EXPECT_EQ(c[0].features["pauses_checked"], true);
  // Audio that never falls silent (music under the speech) confirms no
  // pause: the check is dropped and the recogniser's pauses are trusted.
  for (double& db : in.loudness.db) db = std::max(db, -30.0);
  auto noisy = FindClipCandidates(in, ClipOptions{.min_s = 8, .max_s = 20, .target_s = 9, .count = 10,
                                                  .max_overlap = 1.0});
  ASSERT_FALSE(noisy.empty());
  EXPECT_EQ(noisy[0].features["pauses_checked"], false);
  EXPECT_TRUE(std::any_of(noisy.begin(), noisy.end(), [](const ClipCandidate& x) {
    return std::abs(x.speech_start_s - 6) < kEps;
  }));
  // Without the audio the recogniser's pauses are all there is.
  in.loudness = {};
  auto trusting = FindClipCandidates(in, ClipOptions{.min_s = 8, .max_s = 20, .target_s = 9, .count = 10,
                                                     .max_overlap = 1.0});
  EXPECT_TRUE(std::any_of(trusting.begin(), trusting.end(), [](const ClipCandidate& x) {
    return std::abs(x.speech_start_s - 6) < kEps;
  }));
}

TEST(ClipCandidates, ShortMediaGivesNoCandidateUnlessMinSFits) {
  ClipInputs in;
  in.transcript = MakeTranscript({{0.5, 3.5, "Short videos need short clips."}, {4.2, 8.0, "This one is eight seconds."}},
                                 Style::kWhisper);
  in.duration_s = 8.5;
  EXPECT_TRUE(FindClipCandidates(in, ClipOptions{}).empty());
  auto c = FindClipCandidates(in, ClipOptions{.min_s = 5, .max_s = 10, .target_s = 8, .count = 3});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].start_s, 0.2, kEps);
  EXPECT_NEAR(c[0].end_s, 8.3, kEps);
}

TEST(ClipCandidates, NoWordsNoCandidates) {
  ClipInputs in;
  in.duration_s = 100;
  EXPECT_TRUE(FindClipCandidates(in, ClipOptions{}).empty());
  in.transcript.segments.push_back({0, 50, "", 0, {}});
  EXPECT_TRUE(FindClipCandidates(in, ClipOptions{}).empty());
}

TEST(ClipCandidates, OptionsOutOfRangeAreRejectedNamingTheField) {
  EXPECT_OK(ValidateClipOptions(ClipOptions{}));
  struct Case {
    ClipOptions o;
    std::string field;
  };
  for (const auto& [o, field] : std::vector<Case>{{{.min_s = 2}, "min_s"},
                                                  {{.min_s = 20, .max_s = 10}, "max_s"},
                                                  {{.max_s = 601}, "max_s"},
                                                  {{.target_s = 70}, "target_s"},
                                                  {{.target_s = 10}, "target_s"},
                                                  {{.count = 0}, "count"},
                                                  {{.count = 51}, "count"},
                                                  {{.min_s = std::nan("")}, "min_s"}}) {
    Status st = ValidateClipOptions(o);
    EXPECT_TRUE(st.IsInvalidArgument()) << field;
    EXPECT_EQ(st.message().rfind(field, 0), 0u) << st.message();
  }
}

TEST(ClipCandidates, TitlesAreShortPhrasesFromTheKeySentence) {
  EXPECT_EQ(TitleFromSentence("the secret was writing every morning."), "The secret was writing every morning");
  EXPECT_EQ(TitleFromSentence("Why do founders wait?"), "Why do founders wait?");
  // Too long: the first clause when it says enough...
  EXPECT_EQ(TitleFromSentence("Here is the surprising part, the best ideas often look small at the start and "
                              "grow from there."),
            "Here is the surprising part");
  // ...else the first words and an ellipsis.
  std::string t = TitleFromSentence("If you remember one thing from this long episode then remember to measure "
                                    "absolutely everything you do.");
  EXPECT_LE(CodePoints(t), 60u);
  EXPECT_EQ(t.rfind("If you remember one thing", 0), 0u);
  EXPECT_EQ(t.substr(t.size() - 3), "\xE2\x80\xA6");
}

// --- Sentences and cues ---

// Sentences of about 2.6 words per second (flite's pace) with pauses of a
// second between them, from t = 1 s.
std::vector<TimedSentence> Paced(const std::vector<std::string>& texts) {
  std::vector<TimedSentence> out;
  double t = 1.0;
  for (const auto& text : texts) {
    double d = static_cast<double>(PlainWords(text).size()) / 2.6;
    out.push_back({t, t + d, text});
    t += d + 1.0;
  }
  return out;
}

// Regression (issue 17): a company update's greeting ("opens with a strong
// claim") ranked first, and its story came third, cut before its
// conclusion. Here the housekeeping has superlatives and figures too.
TEST(ClipCandidates, AStoryWithStakesOutranksGreetingsAndLogisticsAndIsKeptWhole) {
  auto sentences = Paced({
      "Good morning everyone and welcome to the most important meeting of the year.",
      "Please keep your cameras on and put your questions in the chat.",
      "Sales grew by twenty percent to three million dollars, the best result we have ever had.",
      "The new parking rules start next month, and permits will be sent by email.",
      "Two summers ago our delivery van broke down on a mountain road with a wedding cake in the back.",
      "The driver had no signal, and the wedding was starting in ninety minutes.",
      "Instead of giving up, he stopped a passing tractor and the farmer carried him and the cake to the village.",
      "Since then every van carries a satellite phone, and the couple still sends us a card each year.",
      "The canteen will be closed on Friday for repairs.",
      "Remember to register for the training sessions by the end of the week.",
      "Thanks everyone, and have a great weekend.",
  });
  for (Style style : {Style::kSphinx, Style::kWhisper}) {
    SCOPED_TRACE(style == Style::kSphinx ? "sphinx" : "whisper");
    ClipInputs in;
    in.transcript = MakeTranscript(sentences, style);
    auto cands = FindClipCandidates(in, ClipOptions{});
    ASSERT_FALSE(cands.empty());
    const auto& top = cands.front();
    SCOPED_TRACE(top.reason + " | " + top.transcript_excerpt);
    // From the setup ("Two summers ago...") to the resolution ("Since then...").
    EXPECT_NEAR(top.speech_start_s, sentences[4].start_s, 0.05);
    EXPECT_NEAR(top.speech_end_s, sentences[7].end_s, 0.05);
    EXPECT_NE(top.reason.find("tells a whole story"), std::string::npos);
    EXPECT_EQ(top.features["story_coverage"].get<double>(), 1.0);
    EXPECT_FALSE(top.features["story_cut"]["start"].get<bool>());
    EXPECT_FALSE(top.features["story_cut"]["end"].get<bool>());
    EXPECT_GT(top.features["story"].get<double>(), 0.5);
    EXPECT_EQ(top.features["housekeeping_share"].get<double>(), 0.0);
    // The greeting is no longer a strength where it appears.
    for (const auto& c : cands) {
      if (c.speech_start_s < sentences[1].start_s) {
        EXPECT_EQ(c.reason.find("strong claim"), std::string::npos) << c.reason;
        EXPECT_TRUE(c.features.contains("hook_discounted"));
      }
    }
  }
}

// Without any story, the ranking falls back on the other features and
// names no story.
TEST(ClipCandidates, ATalkWithoutAStoryNamesNone) {
  auto sentences = Paced({
      "Welcome to the quarterly update, thanks for joining.",
      "The agenda has three items: budget, hiring and the office.",
      "Please submit your budget requests by the end of the month.",
      "Interviews for the two open roles will be scheduled next week.",
      "The office will be closed on the public holiday.",
      "Please remember to book meeting rooms in the calendar.",
      "Thanks everyone, see you next quarter.",
  });
  ClipInputs in;
  in.transcript = MakeTranscript(sentences, Style::kSphinx);
  ClipOptions o;
  o.min_s = 8;
  auto cands = FindClipCandidates(in, o);
  ASSERT_FALSE(cands.empty());
  for (const auto& c : cands) {
    EXPECT_EQ(c.reason.find("story"), std::string::npos) << c.reason;
    EXPECT_EQ(c.features["story"].get<double>(), 0.0);
  }
}

TEST(StoryCues, NarrationWithStakesScoresHighAndHousekeepingZero) {
  auto story = AnalyseStory("Last winter our server room flooded and we lost every backup we had.");
  EXPECT_GE(story.narrative, 0.6);
  EXPECT_TRUE(story.anchor);
  EXPECT_GE(story.past, 2);
  EXPECT_GT(story.stakes, 0);
  EXPECT_TRUE(AnalyseStory("she realised the invoice was fake but it was too late").turn);
  EXPECT_TRUE(AnalyseStory("That's why we now check every payment by phone.").resolution);
  EXPECT_TRUE(AnalyseStory("The lesson we learned is simple.").resolution);

  auto greeting = AnalyseStory("Good afternoon everyone, and thank you for joining us today.");
  EXPECT_TRUE(greeting.greeting);
  EXPECT_EQ(greeting.narrative, 0.0);
  auto logistics = AnalyseStory("please register by friday and the link will be in the chat");
  EXPECT_GE(logistics.housekeeping, 2);
  EXPECT_EQ(logistics.narrative, 0.0);
  // A past-tense report of the agenda stays housekeeping.
  EXPECT_LT(AnalyseStory("The minutes of the last meeting were approved by email.").narrative, 0.3);
}

TEST(Sentences, WhisperSegmentsAreResplitAtSentencePunctuation) {
  std::vector<TimedSentence> truth = {{0.5, 3.0, "The first lesson is simple: talk to customers."},
                                      {3.6, 6.0, "Dr. Smith agrees, mostly!"},
                                      {6.5, 9.0, "Do you?"},
                                      {9.4, 12.0, "\"Ship it,\" she said."}};
  auto split = SplitSentences(MakeTranscript(truth, Style::kWhisper));
  EXPECT_TRUE(split.punctuated);
  ASSERT_EQ(split.sentences.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(split.sentences[i].text, truth[i].text);
    EXPECT_NEAR(split.sentences[i].start_s, truth[i].start_s, kEps);
    EXPECT_NEAR(split.sentences[i].end_s, truth[i].end_s, kEps);
  }
  EXPECT_EQ(split.sentences[1].terminal, '!');
  EXPECT_EQ(split.sentences[2].terminal, '?');
  EXPECT_EQ(split.sentences[3].terminal, '.');
}

TEST(Sentences, UnpunctuatedTranscriptsUseSegmentsAndSplitLongOnesAtTheLongestPause) {
  std::vector<TimedSentence> truth = {{0.5, 3.0, "one two three four"}, {4.0, 6.0, "five six seven"}};
  auto split = SplitSentences(MakeTranscript(truth, Style::kSphinx));
  EXPECT_FALSE(split.punctuated);
  ASSERT_EQ(split.sentences.size(), 2u);
  EXPECT_EQ(split.sentences[0].text, "one two three four");
  EXPECT_EQ(split.sentences[0].terminal, 0);

  // One 20 s segment with a 1 s pause after word 5: split there when units
  // may be at most 12 s.
  Transcript t;
  TranscriptSegment seg;
  double at = 0;
  for (int i = 0; i < 10; ++i) {
    seg.words.push_back({"w" + std::to_string(i), at, at + 1.5, 0.9});
    at += i == 4 ? 2.5 : 1.6;
  }
  t.segments.push_back(seg);
  auto pieces = SplitSentences(t, {.max_unit_s = 12}).sentences;
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].last_word, 4u);
  EXPECT_EQ(pieces[1].first_word, 5u);
}

TEST(Sentences, TerminalPunctuationLooksPastClosingQuotes) {
  EXPECT_EQ(TerminalPunctuation("done.\""), '.');
  EXPECT_EQ(TerminalPunctuation("why?)"), '?');
  EXPECT_EQ(TerminalPunctuation("wow!\xE2\x80\x9D"), '!');
  EXPECT_EQ(TerminalPunctuation("wait\xE2\x80\xA6"), '.');
  EXPECT_EQ(TerminalPunctuation("word,"), 0);
  EXPECT_EQ(TerminalPunctuation("3.5"), 0);
  // pocketsphinx spells letters "q."; initialisms end no sentence either.
  EXPECT_EQ(TerminalPunctuation("q."), 0);
  EXPECT_EQ(TerminalPunctuation("U.S."), 0);
  EXPECT_EQ(TerminalPunctuation("go."), '.');
  EXPECT_EQ(TerminalPunctuation(""), 0);
}

TEST(TextCues, HooksAndLooseEndsAreRecognised) {
  auto q = AnalyseOpening("What would you do with fifty employees?", '?');
  EXPECT_EQ(q.cues.front(), kCueQuestion);
  EXPECT_NE(std::find(q.cues.begin(), q.cues.end(), kCueNumber), q.cues.end());
  EXPECT_EQ(AnalyseOpening("why do founders wait", 0).cues.front(), kCueQuestion);
  EXPECT_EQ(AnalyseOpening("Here's the secret nobody tells you.", '.').cues.front(), kCueTeaser);
  EXPECT_EQ(AnalyseOpening("Stop writing long emails.", '.').cues.front(), kCueImperative);
  auto plain = AnalyseOpening("We looked at the data.", '.');
  EXPECT_TRUE(plain.cues.empty());
  auto joined = AnalyseOpening("And here's the secret.", '.');
  EXPECT_TRUE(joined.mid_thought);
  EXPECT_LT(joined.score, AnalyseOpening("Here's the secret.", '.').score);
  EXPECT_TRUE(EndsDangling("we did it because"));
  EXPECT_FALSE(EndsDangling("we did it"));
  EXPECT_EQ(PlainWords("Here\xE2\x80\x99s the SECRET: 'ship'"),
            (std::vector<std::string>{"here's", "the", "secret", "ship"}));
}

// --- Loudness ---

TEST(Loudness, ASineAtOneEighthOfFullScaleMeasuresMinus21Dbfs) {
  auto curve = MeasureLoudness(cutroom::testing::TestMedia("tone.wav"));
  ASSERT_OK(curve.status());
  ASSERT_EQ(curve->db.size(), 4u);  // 2 s in 0.5 s windows
  for (double db : curve->db) EXPECT_NEAR(db, 20 * std::log10(0.125 / std::sqrt(2.0)), 0.2);
}

TEST(Loudness, SpeechIsLoudAndPausesAreQuietInTheTalkVideo) {
  std::string talk = cutroom::testing::TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "talk.mp4 (needs flite and ../shared/tools/make_test_video.py)");
  auto truth = testing::LoadTruth(talk + ".truth.json");
  auto curve = MeasureLoudness(talk);
  ASSERT_OK(curve.status());
  EXPECT_NEAR(static_cast<double>(curve->db.size()) * 0.5, truth.duration_s, 0.5);
  int loud = 0, quiet = 0;
  for (size_t i = 0; i < curve->db.size(); ++i) {
    double a = i * 0.5, b = a + 0.5;
    bool in_speech = false, near_speech = false;
    for (const auto& s : truth.speech) {
      in_speech |= a >= s.start_s + 0.2 && b <= s.end_s - 0.2;
      near_speech |= b > s.start_s - 0.1 && a < s.end_s + 0.1;
    }
    if (in_speech) {
      EXPECT_GT(curve->db[i], -50.0) << "at " << a;
      ++loud;
    } else if (!near_speech) {
      EXPECT_LT(curve->db[i], -60.0) << "at " << a;
      ++quiet;
    }
  }
  EXPECT_GT(loud, 20);
  EXPECT_GT(quiet, 3);
}

TEST(Loudness, MediaWithoutAudioIsNotFoundAndCancellationStops) {
  EXPECT_TRUE(MeasureLoudness(cutroom::testing::TestMedia("still.png")).status().IsNotFound());
  auto cancelled = MeasureLoudness(cutroom::testing::TestMedia("small.mp4"), 0.5, [] { return true; });
  EXPECT_TRUE(cancelled.status().IsCancelled()) << cancelled.status().ToString();
}

}  // namespace
}  // namespace cutroom::analysis
