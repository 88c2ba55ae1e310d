// The local speech engine against reference transcripts and alignments.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/transcribe/transcriber.h"
#include "analysis/transcribe/vad.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::SharedData;

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// Word-level Levenshtein distance.
size_t EditDistance(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  std::vector<size_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= hyp.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

Transcript MustTranscribe(const std::string& path) {
  auto engine = PocketsphinxTranscriber();
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  auto t = (*engine)->TranscribeFile(path, {});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(Transcript{});
}

TEST(Pocketsphinx, WordErrorRateOnLibrivoxIsAtMostTheBatchBaseline) {
  REQUIRE_SHARED_DATA(dir, "speech/librivox");
  size_t errors = 0, total = 0;
  std::istringstream ids(ReadFile(dir + "/fileids"));
  for (std::string id; std::getline(ids, id);) {
    if (id.empty()) continue;
    auto ref = Words(ReadFile(dir + "/" + id + ".txt"));
    auto hyp = Words(MustTranscribe(dir + "/" + id + ".wav").Text());
    size_t e = EditDistance(ref, hyp);
    std::printf("%s: %zu/%zu\n", id.c_str(), e, ref.size());
    errors += e;
    total += ref.size();
  }
  double wer = static_cast<double>(errors) / static_cast<double>(total);
  std::printf("LibriVox WER %.1f%% (%zu/%zu)\n", wer * 100, errors, total);
  EXPECT_LE(wer, 0.282);
}

TEST(Pocketsphinx, WordErrorRateOnJfkIsAtMost45Percent) {
  REQUIRE_SHARED_DATA(wav, "speech/jfk.wav");
  auto ref = Words("And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
                   "your country.");
  auto hyp = Words(MustTranscribe(wav).Text());
  double wer = static_cast<double>(EditDistance(ref, hyp)) / static_cast<double>(ref.size());
  std::printf("jfk WER %.1f%%\n", wer * 100);
  EXPECT_LE(wer, 0.45);
}

TEST(Pocketsphinx, WordTimesMatchTheAlignmentsWithin300ms) {
  REQUIRE_SHARED_DATA(dir, "speech/librivox");
  int matched = 0, close = 0;
  std::istringstream ids(ReadFile(dir + "/fileids"));
  for (std::string id; std::getline(ids, id);) {
    if (id.empty()) continue;
    auto truth = nlohmann::json::parse(ReadFile(dir + "/" + id + ".json"));
    auto t = MustTranscribe(dir + "/" + id + ".wav");
    std::vector<TranscriptWord> hyp;
    for (const auto& s : t.segments) hyp.insert(hyp.end(), s.words.begin(), s.words.end());
    // Each recognised word is compared with the same word in the alignment
    // nearest in time (words the engine got wrong have nothing to match).
    for (const auto& w : hyp) {
      double best = 1e9;
      for (const auto& a : truth["w"]) {
        std::string word = a["t"];
        word = word.substr(0, word.find('('));
        if (word != w.word) continue;
        best = std::min(best, std::abs(a["b"].get<double>() - w.start_s));
      }
      if (best > 1e8) continue;
      ++matched;
      double end_err = 1e9;
      for (const auto& a : truth["w"]) {
        std::string word = a["t"];
        word = word.substr(0, word.find('('));
        if (word != w.word || std::abs(a["b"].get<double>() - w.start_s) != best) continue;
        end_err = std::abs(a["b"].get<double>() + a["d"].get<double>() - w.end_s);
      }
      if (best <= 0.3 && end_err <= 0.3) ++close;
    }
  }
  ASSERT_GT(matched, 40);
  EXPECT_EQ(close, matched) << close << " of " << matched << " words within 0.3 s";
}

TEST(Pocketsphinx, TheSameAudioGivesTheSameTranscriptEveryTime) {
  // Regression: the front end's noise estimate carried over between
  // utterances, so a re-run (on a decoder that had heard other audio)
  // transcribed differently.
  REQUIRE_SHARED_DATA(wav, "speech/jfk.wav");
  std::string first = MustTranscribe(wav).Text();
  // The bug showed on the first re-run; one is enough (each costs ~7 s).
  EXPECT_EQ(MustTranscribe(wav).Text(), first);
}

TEST(Pocketsphinx, RefusesLanguagesItCannotDo) {
  auto engine = PocketsphinxTranscriber();
  ASSERT_TRUE(engine.ok());
  TranscribeOptions o;
  o.language = "de";
  auto t = (*engine)->TranscribeFile("/nonexistent.wav", o);
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_NE(t.status().message().find("'en'"), std::string::npos);
}

TEST(Vad, CutsAtPausesAndDropsSilence) {
  std::vector<int16_t> audio;
  auto tone = [&](double secs) {
    for (int i = 0; i < static_cast<int>(secs * 16000); ++i) {
      audio.push_back(static_cast<int16_t>(8000 * std::sin(i * 2 * M_PI * 300 / 16000)));
    }
  };
  auto silence = [&](double secs) { audio.insert(audio.end(), static_cast<size_t>(secs * 16000), 0); };
  silence(1.0);
  tone(1.0);
  silence(1.0);
  tone(0.5);
  silence(0.2);  // too short to split
  tone(0.5);
  silence(2.0);
  std::vector<Utterance> utts;
  VoiceActivitySegmenter vad(VadOptions{}, [&](Utterance u) { utts.push_back(std::move(u)); });
  for (size_t i = 0; i < audio.size(); i += 1234) vad.Push(audio.data() + i, std::min<size_t>(1234, audio.size() - i));
  vad.Finish();
  ASSERT_EQ(utts.size(), 2u);
  EXPECT_NEAR(utts[0].start_sample / 16000.0, 0.75, 0.05);   // 1.0 s minus padding
  EXPECT_NEAR(utts[0].samples.size() / 16000.0, 1.5, 0.05);  // 1.0 s plus padding on both sides
  EXPECT_NEAR(utts[1].start_sample / 16000.0, 2.75, 0.05);
  EXPECT_NEAR(utts[1].samples.size() / 16000.0, 1.7, 0.06);
}

}  // namespace
}  // namespace cutroom::analysis
