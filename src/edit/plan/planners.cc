#include "edit/plan/planners.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "analysis/clips/sentences.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

constexpr double kMinPiece_s = 0.05;

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}

// Parameters of one planner call: typed reads that name the field, and a
// check that nothing unknown was passed.
class Params {
 public:
  Params(const std::string& planner, const json& params) : planner_(planner), p_(params) {}

  Status CheckKnown(std::initializer_list<const char*> known) const {
    if (p_.is_null()) return Status::Ok();
    if (!p_.is_object()) return Status::InvalidArgument(planner_ + ": params must be an object");
    for (const auto& [key, value] : p_.items()) {
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return Status::InvalidArgument(planner_ + ": unknown parameter '" + key + "' (" + list + ")");
      }
    }
    return Status::Ok();
  }
  bool Has(const char* key) const { return p_.is_object() && p_.contains(key) && !p_[key].is_null(); }
  const json& Get(const char* key) const { return p_[key]; }
  Result<double> Number(const char* key, double fallback, double lo, double hi) const {
    if (!Has(key)) return fallback;
    const json& v = p_[key];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi) {
      return Status::InvalidArgument(planner_ + ": " + key + " must be a number from " + Seconds(lo) + " to " +
                                     Seconds(hi) + ", got " + v.dump());
    }
    return v.get<double>();
  }
  Result<std::string> String(const char* key, const std::string& fallback) const {
    if (!Has(key)) return fallback;
    if (!p_[key].is_string()) return Status::InvalidArgument(planner_ + ": " + std::string(key) + " must be a string");
    return p_[key].get<std::string>();
  }

 private:
  std::string planner_;
  json p_;
};

Status NeedTranscript(const EditIndex& index, const std::string& planner) {
  if (index.transcription_id.empty()) {
    return Status::FailedPrecondition(planner + " needs a transcript: transcribe the video first "
                                                "(POST /api/videos/" + index.video_id + "/process/transcription)");
  }
  return Status::Ok();
}

bool MiddleInside(const Timeline& kept, double a, double b) {
  double m = 0.5 * (a + b);
  for (const auto& k : kept) {
    if (m >= k.start_s && m < k.end_s) return true;
  }
  return false;
}

// Kept seconds of [a, b).
double KeptWithin(const Timeline& kept, double a, double b) {
  double total = 0;
  for (const auto& k : kept) total += std::max(0.0, std::min(b, k.end_s) - std::max(a, k.start_s));
  return total;
}

Timeline Intersect(const Timeline& kept, const std::vector<KeptSpan>& spans) {
  Timeline out;
  for (const auto& s : spans) {
    for (const auto& k : kept) {
      double a = std::max(s.start_s, k.start_s), b = std::min(s.end_s, k.end_s);
      if (b - a >= kMinPiece_s) out.push_back({a, b, s.because.empty() ? k.because : s.because});
    }
  }
  std::sort(out.begin(), out.end(), [](const KeptSpan& x, const KeptSpan& y) { return x.start_s < y.start_s; });
  return out;
}

// Moves every cut off the words it would split: a cut that overlaps a
// word is split around it, so words are kept whole.
std::vector<std::pair<double, double>> SparingWords(const EditIndex& index,
                                                    std::vector<std::pair<double, double>> cuts) {
  std::vector<std::pair<double, double>> out;
  for (auto [a, b] : cuts) {
    std::vector<std::pair<double, double>> pieces = {{a, b}};
    for (const auto& w : index.words) {
      if (w.end_s <= a || w.start_s >= b) continue;
      std::vector<std::pair<double, double>> next;
      for (auto [x, y] : pieces) {
        if (w.end_s <= x || w.start_s >= y) {
          next.push_back({x, y});
          continue;
        }
        if (w.start_s - x >= kMinPiece_s) next.push_back({x, w.start_s});
        if (y - w.end_s >= kMinPiece_s) next.push_back({w.end_s, y});
      }
      pieces = std::move(next);
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }
  return out;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

Result<PlannerResult> RemoveSilences(const EditIndex& index, const Timeline& kept, const Params& p) {
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"threshold_db", "min_silence_s", "margin_s"}));
  if (!index.has_audio) return Status::FailedPrecondition("remove_silences: the media has no audio");
  if (index.loudness.empty()) return Status::FailedPrecondition("remove_silences: the loudness of the audio is unknown");
  CUTROOM_ASSIGN_OR_RETURN(double min_silence, p.Number("min_silence_s", 0.5, 0.05, 60));
  CUTROOM_ASSIGN_OR_RETURN(double margin, p.Number("margin_s", 0.2, 0, 5));
  const auto& db = index.loudness.db;
  const double step = index.loudness.step_s;
  double threshold = 0;
  bool automatic = !p.Has("threshold_db") || (p.Get("threshold_db").is_string() && p.Get("threshold_db") == "auto");
  double floor_db = Percentile(db, 0.10), speech_db = Percentile(db, 0.95);
  if (automatic) {
    threshold = floor_db + 0.35 * (speech_db - floor_db);
    threshold = std::max(threshold, -70.0);
    threshold = std::min(threshold, speech_db - 12);
  } else {
    CUTROOM_ASSIGN_OR_RETURN(threshold, p.Number("threshold_db", -40, -100, 0));
  }
  PlannerResult r;
  r.params = {{"threshold_db", automatic ? json("auto") : json(threshold)},
              {"threshold_used_db", std::round(threshold * 10) / 10},
              {"min_silence_s", min_silence},
              {"margin_s", margin}};
  std::vector<std::pair<double, double>> cuts;
  size_t i = 0;
  const double end_of_media = index.duration_s > 0 ? index.duration_s : step * static_cast<double>(db.size());
  while (i < db.size()) {
    if (db[i] >= threshold) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < db.size() && db[j] < threshold) ++j;
    double a = step * static_cast<double>(i), b = std::min(end_of_media, step * static_cast<double>(j));
    if (j == db.size()) b = end_of_media;
    if (b - a >= min_silence) {
      // Margin only where the silence meets sound: the media's own edges
      // need none.
      double ca = i == 0 ? 0.0 : a + margin;
      double cb = j == db.size() ? b : b - margin;
      if (cb - ca >= kMinPiece_s) cuts.push_back({ca, cb});
    }
    i = j;
  }
  cuts = SparingWords(index, std::move(cuts));
  double before = TimelineSeconds(kept);
  Timeline out = Subtract(kept, cuts);
  r.stats = {{"silences", cuts.size()}, {"removed_s", before - TimelineSeconds(out)},
             {"noise_floor_db", std::round(floor_db * 10) / 10}, {"speech_level_db", std::round(speech_db * 10) / 10}};
  if (speech_db - floor_db < 10) {
    r.warnings.push_back("remove_silences: speech is barely louder than the quietest parts (" +
                         Seconds(speech_db - floor_db) + " dB apart); silences may be missed");
  }
  r.outputs.push_back(std::move(out));
  return r;
}

Result<PlannerResult> RemoveFillers(const EditIndex& index, const Timeline& kept, const Params& p) {
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"words", "pad_s"}));
  CUTROOM_RETURN_IF_ERROR(NeedTranscript(index, "remove_fillers"));
  CUTROOM_ASSIGN_OR_RETURN(double pad, p.Number("pad_s", 0.05, 0, 1));
  std::vector<std::vector<std::string>> fillers;
  std::vector<std::string> listed = DefaultFillerWords();
  if (p.Has("words")) {
    const json& w = p.Get("words");
    if (!w.is_array() || w.empty() || w.size() > 50) {
      return Status::InvalidArgument("remove_fillers: words must be a list of 1 to 50 words or phrases");
    }
    listed.clear();
    for (const auto& x : w) {
      if (!x.is_string()) return Status::InvalidArgument("remove_fillers: words must be strings");
      listed.push_back(x.get<std::string>());
    }
  }
  for (const auto& phrase : listed) {
    std::vector<std::string> tokens;
    std::string cur;
    for (char c : phrase + " ") {
      if (c == ' ' || c == '\t') {
        if (!NormalizeWord(cur).empty()) tokens.push_back(NormalizeWord(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!tokens.empty()) fillers.push_back(std::move(tokens));
  }
  if (fillers.empty()) return Status::InvalidArgument("remove_fillers: no words to remove");
  std::vector<std::string> norm;
  for (const auto& w : index.words) norm.push_back(NormalizeWord(w.text));
  std::vector<std::pair<double, double>> cuts;
  json found = json::object();
  for (size_t i = 0; i < index.words.size();) {
    size_t matched = 0;
    std::string text;
    for (const auto& f : fillers) {
      if (i + f.size() > norm.size()) continue;
      bool eq = true;
      for (size_t k = 0; k < f.size() && eq; ++k) eq = norm[i + k] == f[k];
      if (eq && f.size() > matched) {
        matched = f.size();
        text.clear();
        for (const auto& t : f) text += (text.empty() ? "" : " ") + t;
      }
    }
    if (matched == 0 || !MiddleInside(kept, index.words[i].start_s, index.words[i + matched - 1].end_s)) {
      ++i;
      continue;
    }
    const IndexWord& first = index.words[i];
    const IndexWord& last = index.words[i + matched - 1];
    double lo = i > 0 ? index.words[i - 1].end_s : 0.0;
    double hi = i + matched < index.words.size() ? index.words[i + matched].start_s : index.duration_s;
    cuts.push_back({std::max(lo, first.start_s - pad), std::min(hi, last.end_s + pad)});
    found[text] = found.value(text, 0) + 1;
    i += matched;
  }
  double before = TimelineSeconds(kept);
  PlannerResult r;
  json words = json::array();
  for (const auto& f : listed) words.push_back(f);
  r.params = {{"words", words}, {"pad_s", pad}};
  Timeline out = Subtract(kept, cuts);
  r.stats = {{"fillers", cuts.size()}, {"found", found}, {"removed_s", before - TimelineSeconds(out)}};
  if (cuts.empty()) {
    r.warnings.push_back("remove_fillers: the transcript has none of the filler words; " +
                         (index.transcript_engine == "pocketsphinx"
                              ? std::string("pocketsphinx rarely writes hesitations down: transcribe with "
                                            "{\"engine\": \"openai\", \"verbatim\": true} to keep them")
                              : std::string("transcribe with {\"verbatim\": true} to keep hesitations")));
  }
  r.outputs.push_back(std::move(out));
  return r;
}

Result<PlannerResult> TightenGaps(const EditIndex& index, const Timeline& kept, const Params& p) {
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"max_gap_s"}));
  CUTROOM_RETURN_IF_ERROR(NeedTranscript(index, "tighten_gaps"));
  CUTROOM_ASSIGN_OR_RETURN(double max_gap, p.Number("max_gap_s", 0.4, 0.05, 10));
  std::vector<const IndexWord*> words;
  for (const auto& w : index.words) {
    if (MiddleInside(kept, w.start_s, w.end_s)) words.push_back(&w);
  }
  std::vector<std::pair<double, double>> cuts;
  double half = max_gap / 2;
  if (!words.empty()) {
    if (KeptWithin(kept, 0, words.front()->start_s) > max_gap) cuts.push_back({0, words.front()->start_s - half});
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      double a = words[i]->end_s, b = words[i + 1]->start_s;
      if (b - a > max_gap && KeptWithin(kept, a, b) > max_gap) cuts.push_back({a + half, b - half});
    }
    double end = index.duration_s;
    if (KeptWithin(kept, words.back()->end_s, end) > max_gap) cuts.push_back({words.back()->end_s + half, end});
  }
  double before = TimelineSeconds(kept);
  PlannerResult r;
  r.params = {{"max_gap_s", max_gap}};
  Timeline out = Subtract(kept, cuts);
  r.stats = {{"gaps", cuts.size()}, {"removed_s", before - TimelineSeconds(out)}};
  r.outputs.push_back(std::move(out));
  return r;
}

// Sentences as spans of index words.
struct SentenceSpan {
  size_t first = 0, last = 0;  // into index.words
  double start_s = 0, end_s = 0;
  std::string text;
};

std::vector<SentenceSpan> Sentences(const EditIndex& index) {
  analysis::Transcript t;
  for (const auto& s : index.segments) {
    analysis::TranscriptSegment seg;
    seg.start_s = s.start_s;
    seg.end_s = s.end_s;
    seg.text = s.text;
    t.segments.push_back(std::move(seg));
  }
  for (const auto& w : index.words) t.segments[w.segment].words.push_back({w.text, w.start_s, w.end_s, w.confidence});
  // Segment order is time order; the words were sorted by time, so the
  // split's word list lines up with index.words when segments do not
  // interleave. Checked below; segments are the fallback unit.
  analysis::SentenceOptions opts;
  opts.max_unit_s = 20;
  analysis::SentenceSplit split = analysis::SplitSentences(t, opts);
  std::vector<SentenceSpan> out;
  bool aligned = split.words.size() == index.words.size();
  for (size_t i = 0; aligned && i < split.words.size(); ++i) {
    aligned = std::abs(split.words[i].start_s - index.words[i].start_s) < 1e-6;
  }
  if (aligned) {
    for (const auto& s : split.sentences) out.push_back({s.first_word, s.last_word, s.start_s, s.end_s, s.text});
    return out;
  }
  for (const auto& s : index.segments) {
    if (s.word_count == 0) continue;
    size_t last = s.first_word + s.word_count - 1;
    out.push_back({s.first_word, last, index.words[s.first_word].start_s, index.words[last].end_s, s.text});
  }
  return out;
}

std::string Quote(const std::string& text, size_t max_chars = 60) {
  std::string t = text;
  if (t.size() > max_chars) {
    t.resize(max_chars);
    while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
    if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
    t += "…";
  }
  return "'" + t + "'";
}

KeptSpan SentenceSpanWithAir(const EditIndex& index, const SentenceSpan& s, const std::string& because) {
  return WordsWithAir(index, s.first, s.last, because);
}

// Relevance of each sentence to a topic (0..1), from its segments'.
std::vector<double> SentenceRelevance(const EditIndex& index, const std::vector<SentenceSpan>& sentences,
                                      const std::string& topic) {
  std::vector<double> rel(sentences.size(), 0);
  if (topic.empty()) return rel;
  const std::map<size_t, double> by_segment = index.Relevance(topic);
  if (by_segment.empty()) return rel;
  double top = 0;
  for (const auto& [seg, score] : by_segment) top = std::max(top, score);
  for (size_t i = 0; i < sentences.size(); ++i) {
    for (size_t w = sentences[i].first; w <= sentences[i].last; ++w) {
      auto s = by_segment.find(index.words[w].segment);
      if (s != by_segment.end()) rel[i] = std::max(rel[i], s->second / std::max(top, 1e-9));
    }
  }
  return rel;
}

// How good each sentence is as material when nothing narrows the choice:
// the score of the best clip candidate holding it, else a small base.
std::vector<double> SentenceClipScore(const EditIndex& index, const std::vector<SentenceSpan>& sentences) {
  std::vector<double> v(sentences.size(), 0.05);
  for (size_t i = 0; i < sentences.size(); ++i) {
    double mid = 0.5 * (sentences[i].start_s + sentences[i].end_s);
    for (const auto& c : index.clips) {
      if (mid >= c.start_s && mid <= c.end_s) v[i] = std::max(v[i], 0.1 + c.score);
    }
  }
  return v;
}

Result<PlannerResult> FitLength(const EditIndex& index, const Timeline& kept, const Params& p) {
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"target_s", "topic", "tolerance"}));
  CUTROOM_RETURN_IF_ERROR(NeedTranscript(index, "fit_length"));
  if (!p.Has("target_s")) return Status::InvalidArgument("fit_length: target_s (seconds) is required");
  CUTROOM_ASSIGN_OR_RETURN(double target, p.Number("target_s", 30, 3, 3 * 3600));
  CUTROOM_ASSIGN_OR_RETURN(double tolerance, p.Number("tolerance", 0.1, 0.01, 0.5));
  CUTROOM_ASSIGN_OR_RETURN(std::string topic, p.String("topic", ""));
  PlannerResult r;
  r.params = {{"target_s", target}, {"tolerance", tolerance}};
  if (!topic.empty()) r.params["topic"] = topic;
  std::vector<SentenceSpan> sentences = Sentences(index);
  if (sentences.empty()) return Status::FailedPrecondition("fit_length: the transcript has no words");
  const double lo = target * (1 - tolerance), hi = target * (1 + tolerance);

  std::vector<double> rel = SentenceRelevance(index, sentences, topic);
  std::vector<double> clip = SentenceClipScore(index, sentences);
  bool any_relevant = std::any_of(rel.begin(), rel.end(), [](double x) { return x > 0; });
  if (!topic.empty() && !any_relevant) {
    r.warnings.push_back("fit_length: nothing in the transcript matches '" + topic +
                         "'; sentences were chosen by clip score instead");
  }
  std::vector<double> value(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (any_relevant) {
      double neighbour = std::max(i > 0 ? rel[i - 1] : 0.0, i + 1 < sentences.size() ? rel[i + 1] : 0.0);
      value[i] = rel[i] + 0.3 * neighbour + 0.05 * clip[i];
    } else {
      value[i] = clip[i];
    }
  }
  std::vector<KeptSpan> spans(sentences.size());
  std::vector<double> length(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    spans[i] = SentenceSpanWithAir(index, sentences[i], "");
    length[i] = KeptWithin(kept, spans[i].start_s, spans[i].end_s);
  }
  std::vector<size_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return value[a] > value[b]; });
  std::vector<bool> chosen(sentences.size(), false);
  double total = 0;
  for (size_t i : order) {
    if (total >= target) break;
    if (length[i] < 0.2 || total + length[i] > hi) continue;
    chosen[i] = true;
    total += length[i];
  }
  // Still short of the bound: any sentence that fits, best first.
  if (total < lo) {
    for (size_t i : order) {
      if (!chosen[i] && length[i] >= 0.2 && total + length[i] <= hi) {
        chosen[i] = true;
        total += length[i];
        if (total >= lo) break;
      }
    }
  }
  if (total < lo) {
    r.warnings.push_back("fit_length: the material allows " + Seconds(total) + " s, short of " + Seconds(lo) +
                         " s (target " + Seconds(target) + " s)");
  }
  std::vector<KeptSpan> picked;
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (!chosen[i]) continue;
    std::string because = "sentence " + Quote(sentences[i].text);
    if (rel[i] > 0) {
      because += " about '" + topic + "'";
    } else if (any_relevant) {
      because += " (context for '" + topic + "')";
    } else if (clip[i] > 0.05) {
      because += " (inside a top clip candidate)";
    }
    spans[i].because = because;
    picked.push_back(spans[i]);
  }
  Timeline out = Intersect(kept, picked);
  r.stats = {{"sentences", picked.size()}, {"duration_s", TimelineSeconds(out)}};
  r.outputs.push_back(std::move(out));
  return r;
}

// Which scenes are what; see the header.
Result<std::vector<int>> ClassifyScenes(const EditIndex& index, const std::string& where, const std::string& planner) {
  if (where != "slide" && where != "face" && where != "talking" && where != "text") {
    return Status::InvalidArgument(planner + ": where must be slide, face, talking or text");
  }
  if (index.scenes.empty()) {
    return Status::FailedPrecondition(planner + " needs scenes: POST /api/videos/" + index.video_id +
                                      "/process/scenes first");
  }
  const bool text = where == "slide" || where == "text";
  const bool face = where != "text";
  bool ocr = false, faces = false;
  for (const auto& s : index.scenes) {
    ocr = ocr || s.ocr_measured;
    faces = faces || s.faces_measured;
  }
  if (text && !ocr) {
    return Status::FailedPrecondition(planner + " where=" + where + " needs frames with OCR: POST /api/videos/" +
                                      index.video_id + "/process/frames {\"ocr\": true} first");
  }
  if (face && !faces && where != "slide") {
    return Status::FailedPrecondition(planner + " where=" + where + " needs frames with faces: POST /api/videos/" +
                                      index.video_id + "/process/frames first");
  }
  // 1: matches, 0: does not, -1: unknown (no frame sampled inside).
  std::vector<int> out;
  for (const auto& s : index.scenes) {
    if (s.frames == 0) {
      out.push_back(-1);
      continue;
    }
    bool has_face = 2 * s.frames_with_faces >= s.frames && s.frames_with_faces > 0;
    bool has_text = 2 * s.frames_with_text >= s.frames && s.frames_with_text > 0;
    bool match = false;
    if (where == "face") match = has_face;
    if (where == "text") match = has_text;
    if (where == "slide") match = has_text && !has_face;
    if (where == "talking") {
      double speech = 0;
      for (const auto& w : index.words) speech += std::max(0.0, std::min(w.end_s, s.end_s) - std::max(w.start_s, s.start_s));
      match = has_face && speech >= 0.3 * (s.end_s - s.start_s);
    }
    out.push_back(match ? 1 : 0);
  }
  return out;
}

Result<PlannerResult> FilterScenes(const EditIndex& index, const Timeline& kept, const Params& p, bool keep) {
  const std::string planner = keep ? "keep_scenes" : "drop_scenes";
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"where"}));
  CUTROOM_ASSIGN_OR_RETURN(std::string where, p.String("where", ""));
  CUTROOM_ASSIGN_OR_RETURN(auto classes, ClassifyScenes(index, where, planner));
  PlannerResult r;
  r.params = {{"where", where}};
  int matched = 0, unknown = 0;
  std::vector<KeptSpan> keep_spans;
  std::vector<std::pair<double, double>> cuts;
  for (size_t i = 0; i < index.scenes.size(); ++i) {
    const IndexScene& s = index.scenes[i];
    if (classes[i] < 0) ++unknown;
    if (classes[i] == 1) ++matched;
    char because[96];
    std::snprintf(because, sizeof because, "scene %lld (%.1f-%.1f s) %s %s", static_cast<long long>(s.scene_no),
                  s.start_s, s.end_s, classes[i] == 1 ? "shows" : "does not show", where.c_str());
    if (keep && classes[i] == 1) keep_spans.push_back({s.start_s, s.end_s, because});
    if (!keep && classes[i] == 1) cuts.push_back({s.start_s, s.end_s});
  }
  Timeline out;
  if (keep) {
    out = Intersect(kept, keep_spans);
  } else {
    // Scene edges are picture cuts; a word spoken across one is kept whole
    // (the picture of the dropped scene shows for its tail).
    out = Subtract(kept, SparingWords(index, cuts));
  }
  if (unknown > 0) {
    r.warnings.push_back(planner + ": " + std::to_string(unknown) + " scene(s) had no sampled frame and were " +
                         (keep ? "left out" : "kept"));
  }
  if (matched == 0) r.warnings.push_back(planner + ": no scene shows " + where);
  r.stats = {{"scenes", index.scenes.size()}, {"matched", matched}, {"unknown", unknown}};
  r.outputs.push_back(std::move(out));
  return r;
}

Result<PlannerResult> TopicClips(const EditIndex& index, const Timeline& kept, const Params& p) {
  CUTROOM_RETURN_IF_ERROR(p.CheckKnown({"count", "topic", "min_s", "max_s"}));
  CUTROOM_RETURN_IF_ERROR(NeedTranscript(index, "topic_clips"));
  CUTROOM_ASSIGN_OR_RETURN(double count_d, p.Number("count", 3, 1, static_cast<double>(kMaxPlanOutputs)));
  CUTROOM_ASSIGN_OR_RETURN(double min_s, p.Number("min_s", 15, 3, 600));
  CUTROOM_ASSIGN_OR_RETURN(double max_s, p.Number("max_s", 60, 3, 3600));
  CUTROOM_ASSIGN_OR_RETURN(std::string topic, p.String("topic", ""));
  if (max_s < min_s) return Status::InvalidArgument("topic_clips: max_s must not be below min_s");
  const size_t count = static_cast<size_t>(count_d);
  PlannerResult r;
  r.params = {{"count", count}, {"min_s", min_s}, {"max_s", max_s}};
  if (!topic.empty()) r.params["topic"] = topic;
  std::vector<SentenceSpan> sentences = Sentences(index);
  if (sentences.empty()) return Status::FailedPrecondition("topic_clips: the transcript has no words");
  std::vector<double> rel = SentenceRelevance(index, sentences, topic);
  std::vector<double> clip = SentenceClipScore(index, sentences);
  bool any_relevant = std::any_of(rel.begin(), rel.end(), [](double x) { return x > 0; });
  if (!topic.empty() && !any_relevant) {
    r.warnings.push_back("topic_clips: nothing in the transcript matches '" + topic + "'; the best clips were chosen");
  }
  std::vector<double> value(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) value[i] = any_relevant ? rel[i] + 0.05 * clip[i] : clip[i];
  // Grow a run of sentences around each seed (best first) until it is long
  // enough, preferring the better neighbour; runs never overlap.
  std::vector<bool> used(sentences.size(), false);
  std::vector<size_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return value[a] > value[b]; });
  const double target = std::clamp(0.5 * (min_s + max_s), min_s, max_s);
  auto len = [&](size_t a, size_t b) {
    return KeptWithin(kept, SentenceSpanWithAir(index, sentences[a], "").start_s,
                      SentenceSpanWithAir(index, sentences[b], "").end_s);
  };
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t seed : order) {
    if (runs.size() >= count) break;
    if (used[seed] || (any_relevant && rel[seed] == 0)) continue;
    size_t a = seed, b = seed;
    while (len(a, b) < target) {
      bool can_left = a > 0 && !used[a - 1] && len(a - 1, b) <= max_s;
      bool can_right = b + 1 < sentences.size() && !used[b + 1] && len(a, b + 1) <= max_s;
      if (!can_left && !can_right) break;
      // A clip should open on its point: grow forwards unless the sentence
      // before is clearly better.
      if (can_right && (!can_left || value[b + 1] + 0.1 >= value[a - 1])) {
        ++b;
      } else {
        --a;
      }
    }
    if (len(a, b) < min_s) continue;
    for (size_t k = a; k <= b; ++k) used[k] = true;
    runs.push_back({a, b});
  }
  if (runs.size() < count) {
    r.warnings.push_back("topic_clips: found " + std::to_string(runs.size()) + " clip(s) of " + Seconds(min_s) + "-" +
                         Seconds(max_s) + " s, not " + std::to_string(count));
  }
  if (runs.empty()) return Status::FailedPrecondition("topic_clips: no stretch of speech is long enough for a clip");
  for (const auto& [a, b] : runs) {
    std::vector<KeptSpan> spans;
    for (size_t k = a; k <= b; ++k) {
      std::string because = "sentence " + Quote(sentences[k].text);
      if (rel[k] > 0) because += " about '" + topic + "'";
      spans.push_back(SentenceSpanWithAir(index, sentences[k], because));
    }
    r.outputs.push_back(Intersect(kept, spans));
  }
  r.stats = {{"clips", runs.size()}};
  return r;
}

}  // namespace

const std::vector<std::string>& PlannerNames() {
  static const std::vector<std::string> kNames = {"remove_silences", "remove_fillers", "tighten_gaps", "fit_length",
                                                  "keep_scenes",     "drop_scenes",    "topic_clips"};
  return kNames;
}

const std::vector<std::string>& DefaultFillerWords() {
  static const std::vector<std::string> kWords = {"um", "uh", "er", "erm", "ah", "uhm", "umm", "uhh", "hmm", "mm"};
  return kWords;
}

std::string NormalizeWord(const std::string& word) {
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(word[i]);
    if (std::isalnum(c)) {
      out += static_cast<char>(std::tolower(c));
    } else if (c >= 0x80) {
      out += static_cast<char>(c);
    } else if (c == '\'' && !out.empty() && i + 1 < word.size() && std::isalnum(static_cast<unsigned char>(word[i + 1]))) {
      out += '\'';
    }
  }
  return out;
}

KeptSpan WordsWithAir(const EditIndex& index, size_t first, size_t last, const std::string& because, double lead_s) {
  const double start = index.words[first].start_s, end = index.words[last].end_s;
  double prev_end = first > 0 ? index.words[first - 1].end_s : 0.0;
  double next_start = last + 1 < index.words.size() ? index.words[last + 1].start_s : index.duration_s;
  double a = std::max(prev_end + 0.5 * std::max(0.0, start - prev_end), start - lead_s);
  double b = std::min(next_start - 0.5 * std::max(0.0, next_start - end), end + lead_s);
  a = std::max(0.0, std::min(a, start));
  b = std::max(b, end);
  if (index.duration_s > 0) b = std::min(b, std::max(index.duration_s, end));
  return {a, b, because};
}

Timeline WholeMedia(const EditIndex& index) {
  if (index.duration_s <= 0) return {};
  return {{0, index.duration_s, ""}};
}

double TimelineSeconds(const Timeline& kept) {
  double total = 0;
  for (const auto& k : kept) total += k.end_s - k.start_s;
  return total;
}

Timeline Subtract(const Timeline& kept, std::vector<std::pair<double, double>> cuts) {
  std::sort(cuts.begin(), cuts.end());
  Timeline out;
  for (const auto& k : kept) {
    double a = k.start_s;
    for (const auto& [ca, cb] : cuts) {
      if (cb <= a || ca >= k.end_s) continue;
      if (ca - a >= kMinPiece_s) out.push_back({a, ca, k.because});
      a = std::max(a, cb);
    }
    if (k.end_s - a >= kMinPiece_s) out.push_back({a, k.end_s, k.because});
  }
  return out;
}

std::vector<PlanRange> TimelineToRanges(const EditIndex& index, const Timeline& kept) {
  std::vector<PlanRange> out;
  for (const auto& k : kept) {
    PlanRange r;
    r.start_s = k.start_s;
    r.end_s = k.end_s;
    const IndexWord* first = nullptr;
    const IndexWord* last = nullptr;
    std::string text;
    std::vector<std::string> segs;
    for (const auto& w : index.words) {
      double mid = 0.5 * (w.start_s + w.end_s);
      if (mid < k.start_s || mid >= k.end_s) continue;
      if (!first) first = &w;
      last = &w;
      if (text.size() < 80) text += (text.empty() ? "" : " ") + w.text;
      const std::string& sid = index.segments[w.segment].id;
      if (segs.empty() || segs.back() != sid) segs.push_back(sid);
    }
    if (first) {
      r.word_ids = {first->id, last->id};
      r.segment_ids = segs;
    }
    if (!k.because.empty()) {
      r.because = k.because;
    } else if (first) {
      r.because = "speech " + Seconds(k.start_s) + "-" + Seconds(k.end_s) + " s: " + Quote(text);
    } else {
      r.because = "kept " + Seconds(k.start_s) + "-" + Seconds(k.end_s) + " s (no speech)";
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<PlannerResult> RunPlanner(const std::string& name, const json& params, const EditIndex& index,
                                 const Timeline& kept) {
  Params p(name, params);
  if (name == "remove_silences") return RemoveSilences(index, kept, p);
  if (name == "remove_fillers") return RemoveFillers(index, kept, p);
  if (name == "tighten_gaps") return TightenGaps(index, kept, p);
  if (name == "fit_length") return FitLength(index, kept, p);
  if (name == "keep_scenes") return FilterScenes(index, kept, p, true);
  if (name == "drop_scenes") return FilterScenes(index, kept, p, false);
  if (name == "topic_clips") return TopicClips(index, kept, p);
  std::string list;
  for (const auto& n : PlannerNames()) list += (list.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("unknown planner '" + name + "' (" + list + ")");
}

}  // namespace cutroom::edit
