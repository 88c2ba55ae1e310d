// Synthetic talks for the clip tests: transcripts built from timed
// sentences (the truth files of ../shared/tools/make_test_video.py, or
// sentences written in a test), and longer talk videos made once per
// build tree.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/transcribe/transcript.h"
#include "core/subprocess.h"
#include "support/test_support.h"

namespace cutroom::analysis::testing {

struct TimedSentence {
  double start_s = 0;
  double end_s = 0;
  std::string text;  // with punctuation
};

struct Truth {
  double duration_s = 0;
  std::vector<double> cuts;
  std::vector<TimedSentence> speech;
};

inline Truth LoadTruth(const std::string& path) {
  Truth t;
  auto j = nlohmann::json::parse(cutroom::testing::ReadFile(path), nullptr, false);
  EXPECT_TRUE(j.is_object()) << "unreadable truth file " << path;
  if (!j.is_object()) return t;
  t.duration_s = j.value("duration_s", 0.0);
  for (const auto& c : j["cuts_s"]) t.cuts.push_back(c.get<double>());
  for (const auto& s : j["speech"]) t.speech.push_back({s["start_s"], s["end_s"], s["text"]});
  return t;
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Letters, digits and apostrophes only.
inline std::string Bare(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') out += c;
  }
  return out;
}

// The words of a sentence spread over its span in proportion to their
// length, the first starting at start_s and the last ending at end_s
// exactly, with short gaps between them. Display tokens keep punctuation.
inline std::vector<std::pair<std::string, std::pair<double, double>>> SpreadWords(const TimedSentence& s) {
  std::vector<std::string> tokens;
  std::istringstream in(s.text);
  for (std::string tok; in >> tok;) tokens.push_back(tok);
  double total = 0;
  for (const auto& t : tokens) total += static_cast<double>(Bare(t).size()) + 1;
  std::vector<std::pair<std::string, std::pair<double, double>>> out;
  double t = s.start_s;
  for (size_t i = 0; i < tokens.size(); ++i) {
    double d = (s.end_s - s.start_s) * (static_cast<double>(Bare(tokens[i]).size()) + 1) / total;
    double end = i + 1 == tokens.size() ? s.end_s : t + d - 0.03;
    out.push_back({tokens[i], {t, end}});
    t += d;
  }
  return out;
}

enum class Style {
  // Whisper-like: segment text punctuated and cased; words without
  // punctuation; segments of two sentences, the second split mid-way.
  kWhisper,
  // pocketsphinx-like: lower-case words, no punctuation anywhere, one
  // segment per sentence (segments are split at pauses).
  kSphinx,
};

inline Transcript MakeTranscript(const std::vector<TimedSentence>& sentences, Style style) {
  Transcript t;
  t.engine = style == Style::kWhisper ? "openai" : "pocketsphinx";
  t.language = "en";
  if (style == Style::kSphinx) {
    for (const auto& s : sentences) {
      TranscriptSegment seg;
      for (const auto& [tok, times] : SpreadWords(s)) {
        std::string w = Lower(Bare(tok));
        if (w.empty()) continue;
        seg.words.push_back({w, times.first, times.second, 0.8});
        seg.text += (seg.text.empty() ? "" : " ") + w;
      }
      seg.start_s = seg.words.front().start_s;
      seg.end_s = seg.words.back().end_s;
      seg.confidence = 0.8;
      t.segments.push_back(std::move(seg));
    }
    return t;
  }
  // Whisper: every word in order, segments cut every ~12 words regardless
  // of sentence ends.
  std::vector<std::pair<std::string, std::pair<double, double>>> all;
  for (const auto& s : sentences) {
    for (auto& w : SpreadWords(s)) all.push_back(w);
  }
  for (size_t i = 0; i < all.size(); i += 12) {
    TranscriptSegment seg;
    for (size_t k = i; k < all.size() && k < i + 12; ++k) {
      const auto& [tok, times] = all[k];
      seg.words.push_back({Bare(tok), times.first, times.second, 0.9});
      seg.text += (seg.text.empty() ? "" : " ") + tok;
    }
    seg.start_s = seg.words.front().start_s;
    seg.end_s = seg.words.back().end_s;
    seg.confidence = 0.9;
    t.segments.push_back(std::move(seg));
  }
  return t;
}

// A ~90 s talk video (320x180, 16 scenes, the tool's ten sentences) with
// its truth file, made once per build tree under test-media/clips/.
// Returns the video path; the truth is beside it (+ ".truth.json").
inline std::string TalkVideo(int seed) {
  std::string dir = std::string(CUTROOM_TEST_MEDIA_DIR) + "/clips";
  std::string path = dir + "/talk90-seed" + std::to_string(seed) + ".mp4";
  if (std::filesystem::exists(path + ".truth.json")) return path;
  std::error_code made;
  std::filesystem::create_directories(dir, made);
  // Made under temporary names and renamed, truth last: tests running in
  // parallel may both make it, and a reader never sees half a file.
  std::string tmp = path + ".tmp" + std::to_string(::getpid()) + ".mp4";
  std::string tool = cutroom::testing::SourceDir() + "/../shared/tools/make_test_video.py";
  std::string output;
  Status st = RunProcess({"python3", tool, tmp, "--truth", tmp + ".truth.json", "--size", "320x180", "--fps", "25",
                          "--scenes", "16", "--min-len", "4.5", "--max-len", "7", "--seed", std::to_string(seed)},
                         &output);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << output;
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  EXPECT_FALSE(ec) << ec.message();
  std::filesystem::rename(tmp + ".truth.json", path + ".truth.json", ec);
  EXPECT_FALSE(ec) << ec.message();
  return path;
}

}  // namespace cutroom::analysis::testing
