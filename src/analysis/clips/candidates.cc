#include "analysis/clips/candidates.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "analysis/clips/sentences.h"
#include "analysis/clips/story_cues.h"
#include "analysis/clips/text_cues.h"
#include "analysis/clips/word_rarity.h"

namespace cutroom::analysis {
namespace {

enum Feature {
  kHook,
  kCompleteness,
  kSpeechDensity,
  kLoudness,
  kScenePace,
  kFacePresence,
  kLengthFit,
  kStory,
  kWhole,
  kSubstance,
  kPosition,
  kSpecificity,
  kFeatures
};

struct FeatureSpec {
  const char* name;
  double weight;
};

// What a clip says matters most: a self-contained story with stakes is
// what people share, and a talk's greetings and logistics never are, however
// well delivered. Then the opening (viewers decide in the first seconds)
// and whether the clip stands on its own; delivery and picture refine.
constexpr std::array<FeatureSpec, kFeatures> kSpecs = {{{"hook", 0.10},
                                                        {"completeness", 0.08},
                                                        {"speech_density", 0.06},
                                                        {"loudness", 0.05},
                                                        {"scene_pace", 0.05},
                                                        {"face_presence", 0.05},
                                                        {"length_fit", 0.05},
                                                        {"story", 0.30},
                                                        {"whole_story", 0.10},
                                                        {"substance", 0.08},
                                                        {"position", 0.04},
                                                        {"specificity", 0.04}}};

// A sentence this narrative (story_cues.h) can be part of a story.
constexpr double kStorySentence = 0.3;
// Narrative weight (narrative x seconds) of a fully developed story.
constexpr double kFullStoryMass = 15.0;
// The first and last stretch of a talk (this share of its speech, at most
// kEdgeZoneMaxS) hold its greeting and sign-off far more often than its
// best moment.
constexpr double kEdgeZoneShare = 0.10;
constexpr double kEdgeZoneMaxS = 60.0;
// Housekeeping cues that make a whole sentence housekeeping.
constexpr double kHousekeepingFull = 2.0;
// Story values from which the reason names the story.
constexpr double kNameStory = 0.4;
// Rarity (-log10 p) above the talk's mean that spans the scale.
constexpr double kRaritySpan = 1.0;

// Scene changes per minute that count as fully paced (one every 10 s).
constexpr double kFullPacePerMinute = 6.0;
// Words per second of brisk conversational speech (about 180 per minute).
constexpr double kBriskWordsPerS = 3.0;
// Loudness: +-5 dB against the talk's speech level spans the whole scale.
constexpr double kLoudnessSpanDb = 10.0;
// Windows quieter than this are not speech (gate for the level of speech).
constexpr double kActivityGateDb = -60.0;
// A pause this long after the last word lets an unpunctuated unit end.
constexpr double kResolvingPauseS = 0.5;
// Below this share of pauses confirmed by the audio, the audio has no
// usable silences and the pause check is dropped.
constexpr double kMinConfirmedPauses = 0.25;
constexpr size_t kMaxExcerptChars = 1000;
constexpr size_t kMaxTitleCodePoints = 60;

size_t CodePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The longest prefix of s with at most n code points.
std::string PrefixCodePoints(const std::string& s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (count == n) return s.substr(0, i);
      ++count;
    }
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\n");
  return s.substr(a, b - a + 1);
}

// Cuts s at the last space so that, with an ellipsis, it fits max code points.
std::string ShortenAtWord(const std::string& s, size_t max) {
  std::string head = PrefixCodePoints(s, max - 1);
  size_t space = head.find_last_of(' ');
  if (space != std::string::npos && space > head.size() / 2) head = head.substr(0, space);
  while (!head.empty() && (head.back() == ',' || head.back() == ';' || head.back() == ':' || head.back() == ' ')) {
    head.pop_back();
  }
  return head + "\xE2\x80\xA6";
}

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Fixed0(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// A story_cues.h arc cue in words.
std::string StoryCueWords(const std::string& cue) {
  if (cue == "time_anchor") return "set in time";
  if (cue == "stakes") return "stakes";
  if (cue == "turn") return "a turn";
  if (cue == "resolution") return "a resolution";
  return cue;
}

// A run of sentences that tells one story: from its setup to its
// resolution, narrated (story_cues.h), with what it puts at stake.
struct StoryRun {
  size_t first = 0, last = 0;  // sentence indices
  double strength = 0;         // 0..1: narrative weight and how complete its arc is
  std::vector<std::string> arc;  // "time_anchor", "stakes", "turn", "resolution" found in it
};

struct Facts {
  std::array<double, kFeatures> value{};
  std::array<bool, kFeatures> available{};
  std::vector<std::string> hook_cues;
  bool hook_discounted = false;  // the opening is housekeeping
  int story = -1;                // index of the story run it holds most of
  double story_coverage = 0;
  double story_precision = 0;  // share of the window's speech that is the story
  bool story_cut_start = false, story_cut_end = false;
  double housekeeping_share = 0;
  double edge_zone_share = 0;
  double rarity_vs_talk = 0;
  size_t words = 0;
  double words_per_s = 0;
  double speech_s = 0;
  int scene_changes = 0;
  double level_db = kSilenceDb;
  double level_vs_average_db = 0;
  int face_samples = 0;
};

struct Window {
  size_t first = 0, last = 0;  // sentence indices
  double start = 0, end = 0;
  bool snapped_start = false, snapped_end = false;
  double score = 0;
  Facts facts;
};

class Finder {
 public:
  Finder(const ClipInputs& in, const ClipOptions& o) : in_(in), o_(o) {
    SentenceOptions so;
    so.max_unit_s = o.max_s;
    split_ = SplitSentences(in.transcript, so);
    const auto& words = split_.words;
    duration_ = in.duration_s > 0 ? in.duration_s : (words.empty() ? 0 : words.back().end_s + o.pad_s);
    voiced_.assign(words.size() + 1, 0);
    for (size_t i = 0; i < words.size(); ++i) {
      voiced_[i + 1] = voiced_[i] + std::max(0.0, words[i].end_s - words[i].start_s);
    }
    for (const auto& s : split_.sentences) {
      openings_.push_back(AnalyseOpening(s.text, s.terminal));
      stories_.push_back(AnalyseStory(s.text));
    }
    FindStories();
    MeasureRarity();
    if (in.scene_cuts) {
      for (double c : *in.scene_cuts) {
        if (c > 0 && c < duration_) cuts_.push_back(c);
      }
      std::sort(cuts_.begin(), cuts_.end());
    }
    PrepareLoudness();
    CheckPauses();
    for (const auto& f : in.faces) faces_.push_back(f);
    std::sort(faces_.begin(), faces_.end(), [](const auto& a, const auto& b) { return a.t_s < b.t_s; });
  }

  std::vector<ClipCandidate> Run() {
    std::vector<Window> windows;
    const auto& sentences = split_.sentences;
    for (size_t i = 0; i < sentences.size(); ++i) {
      for (size_t j = i; j < sentences.size(); ++j) {
        if (sentences[j].end_s - sentences[i].start_s > o_.max_s) break;
        Window w;
        if (!Place(i, j, w)) continue;
        Score(w);
        windows.push_back(std::move(w));
      }
    }
    std::vector<size_t> order(windows.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (windows[a].score != windows[b].score) return windows[a].score > windows[b].score;
      if (windows[a].start != windows[b].start) return windows[a].start < windows[b].start;
      return windows[a].end < windows[b].end;
    });
    std::vector<const Window*> chosen;
    for (size_t k : order) {
      if (static_cast<int>(chosen.size()) >= o_.count) break;
      const Window& w = windows[k];
      bool clashes = std::any_of(chosen.begin(), chosen.end(), [&](const Window* c) {
        double overlap = std::min(w.end, c->end) - std::max(w.start, c->start);
        double shorter = std::min(w.end - w.start, c->end - c->start);
        return overlap > o_.max_overlap * shorter;
      });
      if (!clashes) chosen.push_back(&w);
    }
    std::vector<ClipCandidate> out;
    std::vector<std::string> titles;
    for (const Window* w : chosen) {
      out.push_back(Describe(*w, titles));
      titles.push_back(out.back().title);
    }
    return out;
  }

 private:
  // Sets the window's edges from sentences i..j; false when it cannot be
  // a clip (too short or too long).
  bool Place(size_t i, size_t j, Window& w) const {
    const auto& words = split_.words;
    const Sentence& a = split_.sentences[i];
    const Sentence& b = split_.sentences[j];
    double ws = a.start_s, we = b.end_s;
    if (ws >= duration_ || we <= ws) return false;
    if (!quiet_before_[i] || !quiet_after_[j]) return false;
    // The silence on each side: up to the neighbouring word (or the media's ends).
    double prev_end = a.first_word > 0 ? std::min(words[a.first_word - 1].end_s, ws) : 0.0;
    double next_start = b.last_word + 1 < words.size() ? std::max(words[b.last_word + 1].start_s, we) : duration_;
    prev_end = std::max(0.0, prev_end);
    next_start = std::min(duration_, next_start);
    we = std::min(we, duration_);

    double pad_start = std::max({ws - o_.pad_s, prev_end, 0.0});
    double pad_end = std::min({we + o_.pad_s, next_start, duration_});
    double start = pad_start, end = pad_end;
    bool snapped_start = false, snapped_end = false;
    // The cut nearest the word, in the silence, within snap_s.
    auto lo = std::lower_bound(cuts_.begin(), cuts_.end(), std::max(prev_end, ws - o_.snap_s));
    auto hi = std::upper_bound(cuts_.begin(), cuts_.end(), ws);
    if (lo != hi) {
      start = *std::prev(hi);
      snapped_start = true;
    }
    auto after = std::lower_bound(cuts_.begin(), cuts_.end(), we);
    if (after != cuts_.end() && *after <= std::min(next_start, we + o_.snap_s)) {
      end = *after;
      snapped_end = true;
    }
    if (end - start > o_.max_s) {
      // Snapping made it too long: plain padding, shrunk to fit if need be.
      start = pad_start;
      end = pad_end;
      snapped_start = snapped_end = false;
      double room = o_.max_s - (we - ws);
      if (room < 0) return false;
      double lead = ws - start, trail = end - we;
      if (lead + trail > room) {
        double f = room / (lead + trail);
        start = ws - lead * f;
        end = we + trail * f;
      }
    }
    if (end - start < o_.min_s - 1e-9 || end - start > o_.max_s + 1e-9) return false;
    w.first = i;
    w.last = j;
    w.start = start;
    w.end = end;
    w.snapped_start = snapped_start;
    w.snapped_end = snapped_end;
    return true;
  }

  void Score(Window& w) const {
    Facts& f = w.facts;
    const auto& words = split_.words;
    const Sentence& a = split_.sentences[w.first];
    const Sentence& b = split_.sentences[w.last];
    double length = w.end - w.start;

    f.value[kHook] = openings_[w.first].score;
    f.hook_cues = openings_[w.first].cues;
    // A greeting or an announcement is no hook, however strong its words
    // ("the most important kickoff of the year").
    if (stories_[w.first].greeting || stories_[w.first].housekeeping >= kHousekeepingFull) {
      f.value[kHook] *= 0.3;
      f.hook_discounted = true;
    }
    f.available[kHook] = true;

    double opening = openings_[w.first].mid_thought ? 0.0 : 0.5;
    double ending = 0;
    if (b.terminal == '.' || b.terminal == '!') {
      ending = 0.5;
    } else if (b.terminal == '?') {
      ending = 0.3;  // a question left open: a cliffhanger at best
    } else if (!EndsDangling(b.text)) {
      bool pause_after = b.last_word + 1 >= words.size() || words[b.last_word + 1].start_s - b.end_s >= kResolvingPauseS;
      ending = pause_after ? 0.4 : 0.2;
    }
    f.value[kCompleteness] = opening + ending;
    f.available[kCompleteness] = true;

    f.words = b.last_word - a.first_word + 1;
    f.speech_s = b.end_s - a.start_s;
    double voiced = voiced_[b.last_word + 1] - voiced_[a.first_word];
    f.words_per_s = static_cast<double>(f.words) / length;
    f.value[kSpeechDensity] =
        0.5 * std::min(1.0, voiced / length) + 0.5 * std::min(1.0, f.words_per_s / kBriskWordsPerS);
    f.available[kSpeechDensity] = true;

    if (has_level_) {
      f.available[kLoudness] = true;
      double step = in_.loudness.step_s;
      size_t n = in_.loudness.db.size();
      size_t from = std::min(n, static_cast<size_t>(std::max(0.0, std::floor(w.start / step))));
      size_t to = std::min(n, static_cast<size_t>(std::max(0.0, std::ceil(w.end / step))));
      double power = active_power_[to] - active_power_[from];
      double count = static_cast<double>(active_count_[to] - active_count_[from]);
      if (count > 0) {
        f.level_db = 10.0 * std::log10(power / count);
        f.level_vs_average_db = f.level_db - reference_db_;
        f.value[kLoudness] = std::clamp(0.5 + f.level_vs_average_db / kLoudnessSpanDb, 0.0, 1.0);
      } else {
        f.value[kLoudness] = 0;
      }
    }

    if (in_.scene_cuts) {
      f.available[kScenePace] = true;
      // Cuts strictly inside: an edge snapped onto a cut is not a change.
      auto lo = std::upper_bound(cuts_.begin(), cuts_.end(), w.start + 0.05);
      auto hi = std::lower_bound(cuts_.begin(), cuts_.end(), w.end - 0.05);
      f.scene_changes = lo < hi ? static_cast<int>(hi - lo) : 0;
      f.value[kScenePace] = std::min(1.0, f.scene_changes / (length / 60.0) / kFullPacePerMinute);
    }

    if (!faces_.empty()) {
      f.available[kFacePresence] = true;
      auto share = [&](double from, double to) {
        auto lo = std::lower_bound(faces_.begin(), faces_.end(), from,
                                   [](const ClipFaceSample& s, double t) { return s.t_s < t; });
        int seen = 0, with_face = 0;
        for (auto it = lo; it != faces_.end() && it->t_s <= to; ++it) {
          ++seen;
          with_face += it->count > 0;
        }
        f.face_samples = seen;
        return seen ? static_cast<double>(with_face) / seen : -1.0;
      };
      double v = share(w.start, w.end);
      // Sparse sampling (one frame every few seconds) may miss a short
      // clip; the frames around it say as much.
      if (v < 0) v = share(w.start - 5.0, w.end + 5.0);
      f.value[kFacePresence] = v < 0 ? 0.5 : v;
    }

    ScoreStory(w);

    double off = length - o_.target_s;
    double span = off < 0 ? o_.target_s - o_.min_s : o_.max_s - o_.target_s;
    f.value[kLengthFit] = span > 0 ? std::clamp(1.0 - 0.7 * std::abs(off) / span, 0.0, 1.0) : 1.0;
    f.available[kLengthFit] = true;

    double sum = 0, weights = 0;
    for (int k = 0; k < kFeatures; ++k) {
      if (!f.available[k]) continue;
      sum += kSpecs[k].weight * f.value[k];
      weights += kSpecs[k].weight;
    }
    w.score = weights > 0 ? sum / weights : 0;
  }

  // The story features: how much of a story the window holds, whether it
  // cuts one, how much of it is housekeeping, whether it sits in the
  // talk's opening or closing stretch, and how specific its words are.
  void ScoreStory(Window& w) const {
    Facts& f = w.facts;
    const auto& sentences = split_.sentences;
    double spoken = 0, chores = 0;
    for (size_t k = w.first; k <= w.last; ++k) {
      double d = sentences[k].end_s - sentences[k].start_s;
      spoken += d;
      double hk = stories_[k].greeting ? kHousekeepingFull : static_cast<double>(stories_[k].housekeeping);
      chores += d * std::min(1.0, hk / kHousekeepingFull);
    }
    f.housekeeping_share = spoken > 0 ? chores / spoken : 0;
    f.value[kSubstance] = 1.0 - f.housekeeping_share;
    f.available[kSubstance] = true;

    // The story the window holds most of (by strength x coverage). A story
    // longer than a clip can be is covered by a window as long as a clip.
    f.value[kStory] = 0;
    f.value[kWhole] = 1;
    double best = 0;
    for (size_t r = 0; r < runs_.size(); ++r) {
      const StoryRun& run = runs_[r];
      size_t a = std::max(run.first, w.first), b = std::min(run.last, w.last);
      if (a > b) continue;
      double span = sentences[run.last].end_s - sentences[run.first].start_s;
      double inside = sentences[b].end_s - sentences[a].start_s;
      double coverage = std::min(1.0, inside / std::max(1e-9, std::min(span, o_.max_s - 2 * o_.pad_s)));
      // A clip holds the story, not the story and whatever surrounds it.
      double precision = inside / std::max(1e-9, sentences[w.last].end_s - sentences[w.first].start_s);
      double v = run.strength * coverage * (0.7 + 0.3 * precision);
      if (v <= best) continue;
      best = v;
      f.story = static_cast<int>(r);
      f.story_coverage = coverage;
      f.story_precision = precision;
      f.story_cut_start = w.first > run.first;
      f.story_cut_end = w.last < run.last;
      f.value[kStory] = v;
      // Starting after the setup or stopping before the resolution leaves a
      // story that does not stand on its own; the loss is as large as the
      // story is strong.
      f.value[kWhole] = 1.0 - run.strength * (0.5 * f.story_cut_start + 0.5 * f.story_cut_end);
    }
    f.available[kStory] = f.available[kWhole] = true;

    double margin = std::min(kEdgeZoneMaxS, kEdgeZoneShare * (speech_end_ - speech_start_));
    double length = w.end - w.start;
    double in_zone = std::max(0.0, std::min(w.end, speech_start_ + margin) - w.start) +
                     std::max(0.0, w.end - std::max(w.start, speech_end_ - margin));
    f.edge_zone_share = length > 0 ? std::min(1.0, in_zone / length) : 0;
    f.value[kPosition] = 1.0 - f.edge_zone_share;
    f.available[kPosition] = true;

    if (rarity_available_) {
      const Sentence& a = sentences[w.first];
      const Sentence& b = sentences[w.last];
      double n = static_cast<double>(b.last_word + 1 - a.first_word);
      double mean = (rarity_sum_[b.last_word + 1] - rarity_sum_[a.first_word]) / std::max(1.0, n);
      f.rarity_vs_talk = mean - talk_rarity_;
      f.value[kSpecificity] = std::clamp(0.5 + f.rarity_vs_talk / kRaritySpan, 0.0, 1.0);
      f.available[kSpecificity] = true;
    }
  }

  // Runs of narrative sentences (story_cues.h): a sentence at least
  // kStorySentence narrative starts or extends a run; one weaker sentence
  // between two such (a line of dialogue, a sentence the recogniser
  // garbled; not an announcement) stays inside; a resolution right after a run ("since then
  // every order...") and a setup right before it ("last spring...") join
  // it, since announcing a change reads like housekeeping on its own.
  // Greetings and sign-offs never join. A run needs two sentences: one
  // narrative sentence is an aside, not a story.
  void FindStories() {
    const size_t n = stories_.size();
    std::vector<bool> in(n, false);
    for (size_t i = 0; i < n; ++i) in[i] = stories_[i].narrative >= kStorySentence && !stories_[i].greeting;
    std::vector<bool> joined = in;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (!in[i] && in[i - 1] && in[i + 1] && !stories_[i].greeting &&
          stories_[i].housekeeping < kHousekeepingFull) {
        joined[i] = true;
      }
    }
    for (size_t i = 0; i < n;) {
      if (!joined[i]) {
        ++i;
        continue;
      }
      StoryRun run;
      run.first = i;
      while (i < n && joined[i]) ++i;
      run.last = i - 1;
      if (run.last + 1 < n && stories_[run.last + 1].resolution && !stories_[run.last + 1].greeting) ++run.last;
      const StoryCues& before = stories_[run.first > 0 ? run.first - 1 : 0];
      if (run.first > 0 && before.anchor && !before.greeting && before.housekeeping < kHousekeepingFull) --run.first;
      i = run.last + 1;
      if (run.last == run.first) continue;
      double mass = 0;
      bool anchor = false, stakes = false, turn = false, resolution = false;
      for (size_t k = run.first; k <= run.last; ++k) {
        const StoryCues& c = stories_[k];
        mass += c.narrative * (split_.sentences[k].end_s - split_.sentences[k].start_s);
        anchor |= c.anchor;
        stakes |= c.stakes > 0;
        turn |= c.turn;
        resolution |= c.resolution;
      }
      if (anchor) run.arc.push_back("time_anchor");
      if (stakes) run.arc.push_back("stakes");
      if (turn) run.arc.push_back("turn");
      if (resolution) run.arc.push_back("resolution");
      double arc = static_cast<double>(run.arc.size()) / 4.0;
      run.strength = std::min(1.0, mass / kFullStoryMass) * (0.5 + 0.5 * arc);
      runs_.push_back(std::move(run));
    }
    const auto& sentences = split_.sentences;
    if (!sentences.empty()) {
      speech_start_ = sentences.front().start_s;
      speech_end_ = sentences.back().end_s;
    }
  }

  // Prefix sums of word rarity, and the talk's mean.
  void MeasureRarity() {
    const WordRarity* rarity = DefaultWordRarity();
    const auto& words = split_.words;
    if (!rarity || words.empty()) return;
    rarity_sum_.assign(words.size() + 1, 0);
    for (size_t i = 0; i < words.size(); ++i) {
      auto plain = PlainWords(words[i].text);
      double r = plain.empty() ? WordRarity::kMinRarity : rarity->Rarity(plain.front());
      rarity_sum_[i + 1] = rarity_sum_[i] + r;
    }
    talk_rarity_ = rarity_sum_.back() / static_cast<double>(words.size());
    rarity_available_ = true;
  }

  // Unpunctuated transcripts end their units where the recogniser saw a
  // pause, and a recogniser that drops a word it could not make out leaves
  // a "pause" in the middle of speech. When the audio level is known, a
  // unit may only open or close a clip if the audio in the gap beside it
  // really falls to the level of silence. Punctuated sentence ends are
  // trusted as they are (fast speakers run sentences together).
  void CheckPauses() {
    const auto& sentences = split_.sentences;
    const auto& words = split_.words;
    quiet_before_.assign(sentences.size(), true);
    quiet_after_.assign(sentences.size(), true);
    // Any stretch of pad_s + 0.1 s must hold a whole window: a coarser
    // curve cannot tell and the transcript is trusted.
    const double reach = o_.pad_s + 0.1;
    if (split_.punctuated || !has_level_ || in_.loudness.step_s > reach / 2) return;
    auto quiet = [&](double from, double to) {
      const auto& db = in_.loudness.db;
      double step = in_.loudness.step_s;
      // Windows wholly inside the gap; a gap too short to hold one is no pause.
      auto first = static_cast<int64_t>(std::ceil(from / step - 1e-9));
      auto last = static_cast<int64_t>(std::floor(to / step + 1e-9)) - 1;
      for (int64_t k = std::max<int64_t>(first, 0); k <= last && k < static_cast<int64_t>(db.size()); ++k) {
        if (db[static_cast<size_t>(k)] <= gate_db_) return true;
      }
      return false;
    };
    for (size_t i = 0; i < sentences.size(); ++i) {
      const Sentence& s = sentences[i];
      double before = s.first_word > 0 ? words[s.first_word - 1].end_s : 0.0;
      double after = s.last_word + 1 < words.size() ? words[s.last_word + 1].start_s : duration_;
      // At the very start or end of the media there is nothing to cut into.
      // The silence must be right beside the word, where the padding goes:
      // a pause found further away belongs to words the recogniser lost.
      quiet_before_[i] = s.start_s < in_.loudness.step_s || quiet(std::max(before, s.start_s - reach), s.start_s);
      quiet_after_[i] = s.end_s > duration_ - in_.loudness.step_s || quiet(s.end_s, std::min(after, s.end_s + reach));
    }
    // Audio that never falls silent (music under the speech, a noisy room)
    // confirms no pause at all; then the check says nothing about the
    // recogniser and is dropped rather than leaving the talk without clips.
    size_t inner = 0, confirmed = 0;
    for (size_t i = 1; i < sentences.size(); ++i) {
      ++inner;
      confirmed += quiet_before_[i] ? 1 : 0;
    }
    if (inner > 0 && static_cast<double>(confirmed) < kMinConfirmedPauses * static_cast<double>(inner)) {
      quiet_before_.assign(sentences.size(), true);
      quiet_after_.assign(sentences.size(), true);
      return;
    }
    pauses_checked_ = true;
  }

  void PrepareLoudness() {
    const auto& db = in_.loudness.db;
    if (db.empty() || !(in_.loudness.step_s > 0)) return;
    double power = 0;
    size_t count = 0;
    for (double d : db) {
      if (d > kActivityGateDb) {
        power += std::pow(10.0, d / 10.0);
        ++count;
      }
    }
    if (count == 0) return;  // silent throughout: loudness says nothing
    reference_db_ = 10.0 * std::log10(power / static_cast<double>(count));
    // Speech level inside a clip: windows within 20 dB of the talk's level
    // (pauses between sentences would otherwise count against dense clips
    // twice, here and in speech_density).
    gate_db_ = std::max(kActivityGateDb, reference_db_ - 20.0);
    const double gate = gate_db_;
    active_power_.assign(db.size() + 1, 0);
    active_count_.assign(db.size() + 1, 0);
    for (size_t i = 0; i < db.size(); ++i) {
      bool active = db[i] > gate;
      active_power_[i + 1] = active_power_[i] + (active ? std::pow(10.0, db[i] / 10.0) : 0.0);
      active_count_[i + 1] = active_count_[i] + (active ? 1 : 0);
    }
    has_level_ = true;
  }

  std::string Reason(const Window& w) const {
    const Facts& f = w.facts;
    std::vector<int> order;
    for (int k = 0; k < kFeatures; ++k) {
      if (f.available[k]) order.push_back(k);
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return kSpecs[a].weight * f.value[a] > kSpecs[b].weight * f.value[b];
    });
    auto phrase = [&](int k) -> std::string {
      switch (k) {
        case kHook: return f.hook_cues.empty() ? "clear opening" : DescribeCue(f.hook_cues.front());
        case kCompleteness: return "complete thought";
        case kSpeechDensity: return "dense speech";
        case kLoudness: return "lively delivery (" + std::string(f.level_vs_average_db >= 0 ? "+" : "") +
                               Fixed1(f.level_vs_average_db) + " dB)";
        case kScenePace:
          return std::to_string(f.scene_changes) + " scene change" + (f.scene_changes == 1 ? "" : "s");
        case kFacePresence: return "face on screen";
        case kLengthFit: return "close to the " + Fixed1(o_.target_s) + " s target";
        case kStory: {
          const StoryRun& run = runs_[static_cast<size_t>(f.story)];
          std::string arc;
          for (const auto& a : run.arc) arc += (arc.empty() ? "" : ", ") + StoryCueWords(a);
          std::string what = f.story_coverage >= 0.999 && !f.story_cut_start && !f.story_cut_end
                                 ? "tells a whole story"
                                 : "tells " + Fixed0(100 * f.story_coverage) + "% of a story";
          return arc.empty() ? what : what + " (" + arc + ")";
        }
        case kWhole: return "keeps the story whole";
        case kSubstance: return "no housekeeping";
        case kPosition: return "away from the talk's opening and closing";
        case kSpecificity: return "specific words (" + std::string(f.rarity_vs_talk >= 0 ? "+" : "") +
                                  Fixed1(f.rarity_vs_talk) + " rarity vs the talk)";
      }
      return "";
    };
    std::string reason;
    int named = 0;
    for (int k : order) {
      if (named == 3) break;
      // Only strengths are named; a hook without a cue is not one. Whether a
      // story is whole is said with the story; the position prior is no
      // strength of the clip.
      // A story is named from kNameStory: it outweighs every other feature.
      if (f.value[k] < (k == kStory ? kNameStory : 0.6) ||
          (k == kHook && (f.hook_cues.empty() || f.hook_discounted)))
        continue;
      if (k == kScenePace && f.scene_changes == 0) continue;
      if (k == kWhole || k == kPosition || (k == kStory && f.story < 0)) continue;
      reason += (reason.empty() ? "" : "; ") + phrase(k);
      ++named;
    }
    if (reason.empty() && !order.empty()) reason = "best available window: " + phrase(order.front());
    return reason;
  }

  // taken: titles of better candidates; overlapping windows share
  // sentences, and two clips should not share a title.
  ClipCandidate Describe(const Window& w, const std::vector<std::string>& taken) const {
    const auto& sentences = split_.sentences;
    const Facts& f = w.facts;
    ClipCandidate c;
    c.start_s = w.start;
    c.end_s = w.end;
    c.speech_start_s = sentences[w.first].start_s;
    c.speech_end_s = sentences[w.last].end_s;
    c.score = w.score;
    c.hook = sentences[w.first].text;
    // The key sentence: the one that hooks best and tells most, earliest
    // among equals; housekeeping ("please register by Friday") names no
    // clip.
    std::vector<size_t> keys;
    for (size_t k = w.first; k <= w.last; ++k) keys.push_back(k);
    auto key = [&](size_t k) {
      bool chores = stories_[k].greeting || stories_[k].housekeeping >= kHousekeepingFull;
      return openings_[k].score + stories_[k].narrative - (chores ? 1.0 : 0.0);
    };
    std::stable_sort(keys.begin(), keys.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
    c.title = TitleFromSentence(sentences[keys.front()].text);
    for (size_t k : keys) {
      std::string title = TitleFromSentence(sentences[k].text);
      if (std::find(taken.begin(), taken.end(), title) == taken.end()) {
        c.title = std::move(title);
        break;
      }
    }
    for (size_t k = w.first; k <= w.last; ++k) {
      if (!c.transcript_excerpt.empty()) c.transcript_excerpt += ' ';
      c.transcript_excerpt += sentences[k].text;
    }
    if (CodePoints(c.transcript_excerpt) > kMaxExcerptChars) {
      c.transcript_excerpt = ShortenAtWord(c.transcript_excerpt, kMaxExcerptChars);
    }
    c.reason = Reason(w);

    nlohmann::json features = nlohmann::json::object();
    nlohmann::json weights = nlohmann::json::object();
    nlohmann::json unavailable = nlohmann::json::array();
    double total = 0;
    for (int k = 0; k < kFeatures; ++k) total += f.available[k] ? kSpecs[k].weight : 0;
    for (int k = 0; k < kFeatures; ++k) {
      if (!f.available[k]) {
        unavailable.push_back(kSpecs[k].name);
        continue;
      }
      features[kSpecs[k].name] = f.value[k];
      weights[kSpecs[k].name] = kSpecs[k].weight / total;
    }
    features["weights"] = weights;
    if (!unavailable.empty()) features["unavailable"] = unavailable;
    features["hook_cues"] = f.hook_cues;
    if (f.hook_discounted) features["hook_discounted"] = "opens with housekeeping";
    {
      // The story facts: per sentence, its story cues; the run held.
      nlohmann::json cues = nlohmann::json::array();
      for (size_t k = w.first; k <= w.last; ++k) cues.push_back(stories_[k].names);
      features["story_cues"] = cues;
      if (f.story >= 0) {
        const StoryRun& run = runs_[static_cast<size_t>(f.story)];
        features["story_span_s"] = {sentences[run.first].start_s, sentences[run.last].end_s};
        features["story_strength"] = run.strength;
        features["story_arc"] = run.arc;
        features["story_coverage"] = f.story_coverage;
        features["story_precision"] = f.story_precision;
        features["story_cut"] = {{"start", f.story_cut_start}, {"end", f.story_cut_end}};
      }
      features["housekeeping_share"] = f.housekeeping_share;
      features["edge_zone_share"] = f.edge_zone_share;
      if (f.available[kSpecificity]) features["rarity_vs_talk"] = f.rarity_vs_talk;
    }
    features["sentences"] = w.last - w.first + 1;
    features["words"] = f.words;
    features["words_per_s"] = f.words_per_s;
    features["speech_s"] = f.speech_s;
    features["ends_with"] = sentences[w.last].terminal ? std::string(1, sentences[w.last].terminal) : "";
    features["punctuated"] = split_.punctuated;
    features["pauses_checked"] = pauses_checked_;
    features["snapped_start"] = w.snapped_start;
    features["snapped_end"] = w.snapped_end;
    if (f.available[kScenePace]) features["scene_changes"] = f.scene_changes;
    if (f.available[kLoudness]) {
      features["loudness_db"] = f.level_db;
      features["loudness_vs_average_db"] = f.level_vs_average_db;
    }
    if (f.available[kFacePresence]) features["face_samples"] = f.face_samples;
    c.features = std::move(features);
    return c;
  }

  const ClipInputs& in_;
  const ClipOptions& o_;
  SentenceSplit split_;
  double duration_ = 0;
  std::vector<double> voiced_;  // prefix sums of word durations
  std::vector<OpeningCues> openings_;
  std::vector<StoryCues> stories_;  // per sentence
  std::vector<StoryRun> runs_;
  double speech_start_ = 0, speech_end_ = 0;
  std::vector<double> rarity_sum_;  // prefix sums over words
  double talk_rarity_ = 0;
  bool rarity_available_ = false;
  std::vector<double> cuts_;
  std::vector<ClipFaceSample> faces_;
  bool has_level_ = false;
  double reference_db_ = 0;
  double gate_db_ = kActivityGateDb;  // at or below: not speech
  // Per sentence: whether the audio is really quiet just before it starts
  // and just after it ends (see CheckPauses).
  std::vector<bool> quiet_before_, quiet_after_;
  bool pauses_checked_ = false;
  std::vector<double> active_power_;
  std::vector<size_t> active_count_;
};

}  // namespace

Status ValidateClipOptions(const ClipOptions& o) {
  auto finite = [](double v) { return std::isfinite(v); };
  if (!finite(o.min_s) || o.min_s < 3 || o.min_s > 600) {
    return Status::InvalidArgument("min_s must be between 3 and 600 seconds, got " + Fixed1(o.min_s));
  }
  if (!finite(o.max_s) || o.max_s < o.min_s || o.max_s > 600) {
    return Status::InvalidArgument("max_s must be between min_s (" + Fixed1(o.min_s) + ") and 600 seconds, got " +
                                   Fixed1(o.max_s));
  }
  if (!finite(o.target_s) || o.target_s < o.min_s || o.target_s > o.max_s) {
    return Status::InvalidArgument("target_s must be between min_s (" + Fixed1(o.min_s) + ") and max_s (" +
                                   Fixed1(o.max_s) + "), got " + Fixed1(o.target_s));
  }
  if (o.count < 1 || o.count > 50) {
    return Status::InvalidArgument("count must be between 1 and 50, got " + std::to_string(o.count));
  }
  if (!finite(o.pad_s) || o.pad_s < 0 || !finite(o.snap_s) || o.snap_s < 0 || !finite(o.max_overlap) ||
      o.max_overlap < 0 || o.max_overlap > 1) {
    return Status::InvalidArgument("pad_s and snap_s must be >= 0 and max_overlap within 0..1");
  }
  return Status::Ok();
}

std::string TitleFromSentence(const std::string& sentence) {
  std::string s = Trim(sentence);
  // A closing period (or ellipsis) adds nothing to a title; ? and ! do.
  while (!s.empty() && s.back() == '.') s.pop_back();
  s = Trim(s);
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  if (CodePoints(s) <= kMaxTitleCodePoints) return s;
  // The first clause, when it says enough on its own (three words or more).
  size_t cut = s.find_first_of(",;:");
  size_t dash = s.find(" \xE2\x80\x94 ");
  if (dash != std::string::npos && (cut == std::string::npos || dash < cut)) cut = dash;
  if (cut != std::string::npos) {
    std::string clause = Trim(s.substr(0, cut));
    if (CodePoints(clause) <= kMaxTitleCodePoints && PlainWords(clause).size() >= 3) return clause;
  }
  return ShortenAtWord(s, kMaxTitleCodePoints);
}

std::vector<ClipCandidate> FindClipCandidates(const ClipInputs& inputs, const ClipOptions& options) {
  if (!ValidateClipOptions(options).ok()) return {};
  return Finder(inputs, options).Run();
}

}  // namespace cutroom::analysis
