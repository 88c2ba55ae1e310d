// The clips stage on a transcript made for real: pocketsphinx transcribes
// the synthetic talk (no punctuation, its own word times), the transcript
// is stored, and the stage's candidates are checked against the talk's
// exact sentence times.
#include <gtest/gtest.h>

#include "analysis/transcribe/transcriber.h"
#include "clips_stage_fixture.h"
#include "talk_fixture.h"

namespace cutroom::analysis {
namespace {

class ClipsOnARealTranscript : public testing::ClipsStageFixture {};

TEST_F(ClipsOnARealTranscript, CandidatesStartAndEndBetweenTheTruthSentences) {
  std::string talk = cutroom::testing::TestMedia("talk.mp4");
  REQUIRE_FILE(talk, "talk.mp4 (needs flite and the shared tool)");
  auto truth = testing::LoadTruth(talk + ".truth.json");
  auto engine = PocketsphinxTranscriber();
  ASSERT_OK(engine.status());
  TranscribeOptions options;
  options.duration_s = truth.duration_s;
  auto transcript = (*engine)->TranscribeFile(talk, options);
  ASSERT_OK(transcript.status());
  auto media = AddVideo(talk, truth.duration_s);
  StoreTranscriptFor(media.video_id, *transcript);
  StoreScenes(media.video_id, truth.cuts, truth.duration_s);

  const ClipOptions o{.min_s = 8, .max_s = 20, .target_s = 12, .count = 5};
  auto run = RunClipsJob(media.video_id, {{"min_s", o.min_s}, {"max_s", o.max_s}, {"target_s", o.target_s},
                                          {"count", o.count}});
  ASSERT_OK(run.status);
  auto rows = Candidates(media.video_id);
  ASSERT_GE(rows.size(), 2u) << transcript->Text();
  // Where each clip's speech starts and ends, in the stored words.
  std::vector<TranscriptWord> words;
  for (const auto& s : transcript->segments) words.insert(words.end(), s.words.begin(), s.words.end());
  for (const auto& r : rows) {
    SCOPED_TRACE("clip [" + std::to_string(r.start_s) + ", " + std::to_string(r.end_s) + "]: " +
                 r.transcript_excerpt.value_or(""));
    EXPECT_GE(r.start_s, 0.0);
    EXPECT_LE(r.end_s, truth.duration_s + 1e-9);
    EXPECT_GE(r.end_s - r.start_s, o.min_s - 1e-9);
    EXPECT_LE(r.end_s - r.start_s, o.max_s + 1e-9);
    double speech_start = r.features["speech_start_s"].get<double>();
    double speech_end = r.features["speech_end_s"].get<double>();
    EXPECT_TRUE(std::any_of(words.begin(), words.end(), [&](const auto& w) { return w.start_s == speech_start; }));
    EXPECT_TRUE(std::any_of(words.begin(), words.end(), [&](const auto& w) { return w.end_s == speech_end; }));
    // No edge cuts into a truth sentence by more than 0.3 s, and the speech
    // of the clip starts and ends near truth sentence edges (0.5 s: the
    // truth spans include the synthesiser's trailing silence, which the
    // recogniser's word times do not).
    for (const auto& s : truth.speech) {
      for (double edge : {r.start_s, r.end_s}) {
        EXPECT_FALSE(edge > s.start_s + 0.3 && edge < s.end_s - 0.3)
            << "edge " << edge << " inside \"" << s.text << "\" [" << s.start_s << ", " << s.end_s << "]";
      }
    }
    EXPECT_TRUE(std::any_of(truth.speech.begin(), truth.speech.end(),
                            [&](const auto& s) { return std::abs(s.start_s - speech_start) <= 0.5; }))
        << "speech starts at " << speech_start;
    EXPECT_TRUE(std::any_of(truth.speech.begin(), truth.speech.end(),
                            [&](const auto& s) { return std::abs(s.end_s - speech_end) <= 0.5; }))
        << "speech ends at " << speech_end;
  }
}

}  // namespace
}  // namespace cutroom::analysis
