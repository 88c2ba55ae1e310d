// The clip-quality evaluation: talks written for it (bench/clips/talks/*.json,
// housekeeping with one planted self-contained story each) spoken by flite,
// transcribed by pocketsphinx as the product does, and the clip finder's
// candidates (product defaults) scored against where the story really is.
//
// Shared by the fast CI test (a few talks, clips_story_test) and the bench
// (every talk, bench/clips/run.sh). Media is made once per build tree under
// test-media/clips/story/ by bench/clips/make_talk.py; nothing generated is
// kept in the repository.
//
// Metrics, per talk:
//   top1_share   share of the story's time [first story word, last story
//                word] inside the best candidate; >= kHoldsStory counts
//   top3_share   the best share among the first three candidates
//   edges        candidate edges (all candidates) in a pause between
//                sentences: not more than kEdgeToleranceS inside a spoken
//                sentence of the truth
// Thread-safety: none needed (one test at a time).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/clips/candidates.h"
#include "analysis/clips/loudness.h"
#include "analysis/transcribe/transcriber.h"
#include "core/result.h"
#include "core/subprocess.h"

namespace cutroom::analysis::story_eval {

// "Holds the story": the share of its time a clip must contain.
inline constexpr double kHoldsStory = 0.80;
// The truth's sentence spans include flite's own trailing silence, and the
// recogniser's word times are not exact: an edge this far inside a
// sentence still counts as in the pause.
inline constexpr double kEdgeToleranceS = 0.3;
// The clips stage measures loudness in steps of 0.1 s (clips_stage.cc).
inline constexpr double kLoudnessStepS = 0.1;

struct SpokenSentence {
  double start_s = 0;
  double end_s = 0;
  std::string text;
  bool story = false;
};

struct TalkTruth {
  std::string name;
  double duration_s = 0;
  std::vector<double> cuts;
  std::vector<SpokenSentence> speech;
  double story_start_s = 0;
  double story_end_s = 0;
};

struct TalkResult {
  std::string name;
  double story_start_s = 0, story_end_s = 0;
  double top1_share = 0;
  double top3_share = 0;
  int edges_in_pauses = 0;
  int edges = 0;
  std::vector<ClipCandidate> candidates;
  std::string transcript;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline Result<TalkTruth> LoadTruth(const std::string& path, const std::string& name) {
  auto j = nlohmann::json::parse(ReadText(path), nullptr, false);
  if (!j.is_object() || !j.contains("speech")) return Status::Corruption("unreadable truth file " + path);
  TalkTruth t;
  t.name = name;
  t.duration_s = j.value("duration_s", 0.0);
  for (const auto& c : j["cuts_s"]) t.cuts.push_back(c.get<double>());
  for (const auto& s : j["speech"]) {
    t.speech.push_back({s["start_s"].get<double>(), s["end_s"].get<double>(), s["text"].get<std::string>(),
                        s.value("story", false)});
  }
  t.story_start_s = j.value("story_start_s", 0.0);
  t.story_end_s = j.value("story_end_s", 0.0);
  return t;
}

// The talk's video (320x180) and truth, made once under media_dir from
// source_dir/bench/clips/talks/<name>.json. Returns the video's path.
inline Result<std::string> MakeTalk(const std::string& source_dir, const std::string& media_dir,
                                    const std::string& name) {
  std::string dir = media_dir + "/clips/story";
  std::string path = dir + "/" + name + ".mp4";
  if (std::filesystem::exists(path + ".truth.json")) return path;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // make_talk.py writes under temporary names and renames, truth last, so
  // tests running at once never read half a file.
  std::string output;
  Status st = RunProcess({"python3", source_dir + "/bench/clips/make_talk.py",
                          source_dir + "/bench/clips/talks/" + name + ".json", path},
                         &output);
  if (!st.ok()) return Status::Internal("make_talk.py " + name + ": " + st.ToString() + "\n" + output);
  return path;
}

inline nlohmann::json TranscriptJson(const Transcript& t) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : t.segments) {
    nlohmann::json words = nlohmann::json::array();
    for (const auto& w : s.words) words.push_back({w.word, w.start_s, w.end_s, w.confidence});
    segments.push_back({{"start_s", s.start_s}, {"end_s", s.end_s}, {"text", s.text},
                        {"confidence", s.confidence}, {"words", words}});
  }
  return {{"engine", t.engine}, {"model", t.model}, {"language", t.language}, {"segments", segments}};
}

inline Transcript TranscriptFromJson(const nlohmann::json& j) {
  Transcript t;
  t.engine = j.value("engine", "");
  t.model = j.value("model", "");
  t.language = j.value("language", "");
  for (const auto& s : j["segments"]) {
    TranscriptSegment seg;
    seg.start_s = s["start_s"];
    seg.end_s = s["end_s"];
    seg.text = s["text"];
    seg.confidence = s["confidence"];
    for (const auto& w : s["words"]) seg.words.push_back({w[0], w[1], w[2], w[3]});
    t.segments.push_back(std::move(seg));
  }
  return t;
}

// pocketsphinx's transcript of the talk. With use_cache, it is kept beside
// the video (+ ".sphinx.json") and reused: for iterating on the scorer
// only; the CI test always transcribes.
inline Result<Transcript> TranscribeTalk(const std::string& video, const TalkTruth& truth, bool use_cache) {
  std::string cache = video + ".sphinx.json";
  if (use_cache && std::filesystem::exists(cache)) {
    auto j = nlohmann::json::parse(ReadText(cache), nullptr, false);
    if (j.is_object() && j.contains("segments")) return TranscriptFromJson(j);
  }
  CUTROOM_ASSIGN_OR_RETURN(Transcriber * engine, PocketsphinxTranscriber());
  TranscribeOptions to;
  to.duration_s = truth.duration_s;
  CUTROOM_ASSIGN_OR_RETURN(Transcript transcript, engine->TranscribeFile(video, to));
  if (use_cache) {
    std::string tmp = cache + ".tmp" + std::to_string(::getpid());
    std::ofstream(tmp) << TranscriptJson(transcript).dump();
    std::error_code ec;
    std::filesystem::rename(tmp, cache, ec);
  }
  return transcript;
}

// A talk's candidates with the product's defaults, from what the clips
// stage would have: pocketsphinx's transcript, the loudness curve at the
// stage's step, the scene cuts (from the truth: the scenes stage finds
// these synthetic cuts exactly), no face samples.
inline Result<std::vector<ClipCandidate>> FindForTalk(const std::string& video, const TalkTruth& truth,
                                                      bool use_cache, Transcript* transcript_out = nullptr) {
  CUTROOM_ASSIGN_OR_RETURN(Transcript transcript, TranscribeTalk(video, truth, use_cache));
  ClipInputs in;
  in.duration_s = truth.duration_s;
  in.scene_cuts = truth.cuts;
  CUTROOM_ASSIGN_OR_RETURN(in.loudness, MeasureLoudness(video, kLoudnessStepS));
  in.transcript = transcript;
  if (transcript_out) *transcript_out = std::move(transcript);
  return FindClipCandidates(in, ClipOptions{});
}

inline double StoryShare(const TalkTruth& t, const ClipCandidate& c) {
  double story = t.story_end_s - t.story_start_s;
  double inside = std::min(c.end_s, t.story_end_s) - std::max(c.start_s, t.story_start_s);
  return story > 0 ? std::max(0.0, inside) / story : 0;
}

inline bool InPause(const TalkTruth& t, double edge) {
  return std::none_of(t.speech.begin(), t.speech.end(), [&](const SpokenSentence& s) {
    return edge > s.start_s + kEdgeToleranceS && edge < s.end_s - kEdgeToleranceS;
  });
}

inline TalkResult Score(const TalkTruth& t, std::vector<ClipCandidate> cands) {
  TalkResult r;
  r.name = t.name;
  r.story_start_s = t.story_start_s;
  r.story_end_s = t.story_end_s;
  for (size_t i = 0; i < cands.size(); ++i) {
    double share = StoryShare(t, cands[i]);
    if (i == 0) r.top1_share = share;
    if (i < 3) r.top3_share = std::max(r.top3_share, share);
    for (double edge : {cands[i].start_s, cands[i].end_s}) {
      ++r.edges;
      r.edges_in_pauses += InPause(t, edge) ? 1 : 0;
    }
  }
  r.candidates = std::move(cands);
  return r;
}

inline std::string Fixed(double v, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One line per talk: the story's span, the top clip's span and share, the
// best of the top three, edges in pauses, and the top clip's reason.
inline std::string Describe(const TalkResult& r) {
  std::string s = r.name + ": story " + Fixed(r.story_start_s) + "-" + Fixed(r.story_end_s) + " s";
  if (r.candidates.empty()) return s + ", no candidates";
  const auto& c = r.candidates.front();
  s += ", top clip " + Fixed(c.start_s) + "-" + Fixed(c.end_s) + " s holds " + Fixed(100 * r.top1_share, 0) +
       "%, best of top 3 " + Fixed(100 * r.top3_share, 0) + "%, edges in pauses " + std::to_string(r.edges_in_pauses) +
       "/" + std::to_string(r.edges) + "\n    reason: " + c.reason + "\n    title: " + c.title;
  return s;
}

}  // namespace cutroom::analysis::story_eval
