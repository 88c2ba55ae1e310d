#include "analysis/retention/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "analysis/clips/text_cues.h"

namespace cutroom::analysis {
namespace {

using nlohmann::json;

enum Feature : size_t {
  kPause,
  kSilenceRun,
  kNoSpeechYet,
  kSlowSpeech,
  kStaticShot,
  kStaticSlide,
  kCut,
  kFace,
  kQuiet,
  kLoudnessChange,
  kWeakHook,
  kFeatureCount
};

constexpr double kPauseS = 1.0;       // a gap in speech this long is a pause viewers notice
constexpr double kHookWindowS = 5.0;
constexpr double kFaceReachS = 5.0;   // a sampled frame speaks for this long around it

std::string Sec(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

std::string Clock(double s) {
  char buf[32];
  int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%d:%04.1f", m, s - 60 * m);
  return buf;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Mean level of [a, b) from the loudness curve, or NaN when unknown.
double LevelDb(const LoudnessCurve& c, double a, double b) {
  if (c.empty()) return NAN;
  size_t i0 = static_cast<size_t>(std::max(0.0, a / c.step_s));
  size_t i1 = std::min(c.db.size(), static_cast<size_t>(std::ceil(b / c.step_s)));
  if (i1 <= i0) return NAN;
  double energy = 0;
  for (size_t i = i0; i < i1; ++i) energy += std::pow(10.0, c.db[i] / 10.0);
  return 10.0 * std::log10(std::max(1e-12, energy / static_cast<double>(i1 - i0)));
}

// The sampled frame that shows what is on screen at t: the last one at or
// before t, since the frames stage skips near-duplicates (a kept frame
// stands for every frame like it after it), unless a scene cut lies
// between; before the first frame, that frame when it is close.
const RetentionFrame* FrameNear(const std::vector<RetentionFrame>& frames, const std::vector<double>& cuts, double t) {
  auto it = std::upper_bound(frames.begin(), frames.end(), t,
                             [](double v, const RetentionFrame& f) { return v < f.t_s; });
  if (it == frames.begin()) {
    return (it != frames.end() && it->t_s - t <= kFaceReachS) ? &*it : nullptr;
  }
  const RetentionFrame* f = &*(it - 1);
  for (double c : cuts) {
    if (c > f->t_s + 1e-6 && c <= t) {
      // A new shot began since: a frame just after the cut speaks for it.
      return (it != frames.end() && it->t_s - t <= kFaceReachS) ? &*it : nullptr;
    }
  }
  return f;
}

}  // namespace

const std::vector<std::string>& RetentionFeatureNames() {
  static const std::vector<std::string> kNames = {"pause",       "silence_run", "no_speech_yet", "slow_speech",
                                                  "static_shot", "static_slide", "cut",          "face",
                                                  "quiet",       "loudness_change", "weak_hook"};
  return kNames;
}

RetentionModel RetentionModel::Defaults() {
  RetentionModel m;
  m.weights = {{"pause", 0.7},       {"silence_run", 1.0},   {"no_speech_yet", 1.2}, {"slow_speech", 0.4},
               {"static_shot", 0.35}, {"static_slide", 0.6}, {"cut", -0.35},         {"face", -0.2},
               {"quiet", 0.3},       {"loudness_change", -0.15}, {"weak_hook", 0.7}};
  return m;
}

json RetentionModel::ToJson() const {
  return {{"version", version}, {"base_long", base_long}, {"base_intro", base_intro}, {"weights", weights}};
}

Result<RetentionModel> RetentionModel::FromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a retention model must be an object");
  RetentionModel m = Defaults();
  if (j.contains("version") && j["version"].is_string()) m.version = j["version"].get<std::string>();
  for (const char* key : {"base_long", "base_intro"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number() || !std::isfinite(j[key].get<double>()) || j[key].get<double>() < 0) {
      return Status::InvalidArgument(std::string("retention model ") + key + " must be a non-negative number");
    }
    (std::string(key) == "base_long" ? m.base_long : m.base_intro) = j[key].get<double>();
  }
  if (j.contains("weights")) {
    if (!j["weights"].is_object()) return Status::InvalidArgument("retention model weights must be an object");
    const auto& names = RetentionFeatureNames();
    for (const auto& [k, v] : j["weights"].items()) {
      if (std::find(names.begin(), names.end(), k) == names.end()) {
        return Status::InvalidArgument("unknown retention feature '" + k + "'");
      }
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return Status::InvalidArgument("retention weight '" + k + "' must be a finite number");
      }
      m.weights[k] = v.get<double>();
    }
  }
  return m;
}

RetentionInputs SliceInputs(const RetentionInputs& in, double a, double b, const std::string& opening_text,
                            char opening_terminal) {
  RetentionInputs out;
  out.duration_s = std::max(0.0, b - a);
  out.has_transcript = in.has_transcript;
  out.scenes_known = in.scenes_known;
  out.opening_text = opening_text;
  out.opening_terminal = opening_terminal;
  for (const auto& w : in.words) {
    if (w.end_s > a && w.start_s < b) out.words.push_back({std::max(0.0, w.start_s - a), std::min(b, w.end_s) - a});
  }
  for (double c : in.cuts_s) {
    if (c > a && c < b) out.cuts_s.push_back(c - a);
  }
  for (const auto& f : in.frames) {
    if (f.t_s >= a - kFaceReachS && f.t_s < b + kFaceReachS) {
      RetentionFrame g = f;
      g.t_s -= a;
      out.frames.push_back(g);
    }
  }
  if (!in.loudness.empty()) {
    out.loudness.step_s = in.loudness.step_s;
    size_t i0 = static_cast<size_t>(a / in.loudness.step_s);
    size_t i1 = std::min(in.loudness.db.size(), static_cast<size_t>(std::ceil(b / in.loudness.step_s)));
    if (i1 > i0) out.loudness.db.assign(in.loudness.db.begin() + static_cast<std::ptrdiff_t>(i0),
                                        in.loudness.db.begin() + static_cast<std::ptrdiff_t>(i1));
  }
  return out;
}

RetentionFeatures ComputeFeatures(const RetentionInputs& in) {
  RetentionFeatures out;
  out.duration_s = in.duration_s;
  const size_t n = static_cast<size_t>(std::ceil(std::max(0.0, in.duration_s)));
  out.rows.assign(n, std::vector<double>(kFeatureCount, 0.0));
  out.facts.assign(n, json::object());

  // Speech: gaps between words (and before the first / after the last).
  // Without a transcript, speech is where the level is near the talk's.
  std::vector<std::pair<double, double>> speech;
  if (in.has_transcript) {
    for (const auto& w : in.words) {
      if (!speech.empty() && w.start_s - speech.back().second < 0.3) {
        speech.back().second = std::max(speech.back().second, w.end_s);
      } else {
        speech.push_back({w.start_s, w.end_s});
      }
    }
  } else if (!in.loudness.empty()) {
    std::vector<double> loud;
    for (double d : in.loudness.db) {
      if (d > kSilenceDb + 10) loud.push_back(d);
    }
    double floor = Median(loud) - 20;
    for (size_t i = 0; i < in.loudness.db.size(); ++i) {
      double t0 = static_cast<double>(i) * in.loudness.step_s, t1 = t0 + in.loudness.step_s;
      if (in.loudness.db[i] < floor) continue;
      if (!speech.empty() && t0 - speech.back().second < 0.3) {
        speech.back().second = t1;
      } else {
        speech.push_back({t0, t1});
      }
    }
  }
  const bool speech_known = in.has_transcript || !in.loudness.empty();
  // Silences: the complement of speech inside [0, duration).
  std::vector<std::pair<double, double>> silences;
  double cursor = 0;
  for (const auto& [a, b] : speech) {
    if (a - cursor > 0) silences.push_back({cursor, a});
    cursor = std::max(cursor, b);
  }
  if (in.duration_s - cursor > 0) silences.push_back({cursor, in.duration_s});
  const double first_word = speech.empty() ? in.duration_s : speech.front().first;

  // Hook: the opening sentence's cues.
  double hook = 0.5;
  if (in.has_transcript && !in.opening_text.empty()) hook = AnalyseOpening(in.opening_text, in.opening_terminal).score;

  // Loudness reference: the median level where there is sound.
  double median_db = NAN;
  if (!in.loudness.empty()) {
    std::vector<double> loud;
    for (double d : in.loudness.db) {
      if (d > kSilenceDb + 10) loud.push_back(d);
    }
    if (!loud.empty()) median_db = Median(loud);
  }

  std::vector<double> cuts = in.cuts_s;
  std::sort(cuts.begin(), cuts.end());
  double prev_level = NAN;
  for (size_t t = 0; t < n; ++t) {
    const double t0 = static_cast<double>(t), t1 = std::min(in.duration_s, t0 + 1), mid = 0.5 * (t0 + t1);
    auto& x = out.rows[t];
    json& facts = out.facts[t];
    if (speech_known) {
      for (const auto& [a, b] : silences) {
        if (mid < a || mid >= b) continue;
        double run = mid - a;
        if (run >= kPauseS || (b - a >= kPauseS && t1 >= a + kPauseS)) x[kPause] = 1;
        x[kSilenceRun] = std::min(run, 10.0) / 10.0;
        facts["silence_start"] = a;
        facts["silence_len"] = b - a;
      }
      if (first_word > 1.0 && mid < first_word) {
        x[kNoSpeechYet] = 1;
        facts["first_word_s"] = first_word;
      }
    }
    // Words per second over the last 3 s: not before 2 s, where the
    // window would be mostly the time before the video began.
    if (in.has_transcript && x[kPause] == 0 && t0 >= 2) {
      int words = 0;
      for (const auto& w : in.words) {
        if (w.start_s >= t0 - 2 && w.start_s < t1) ++words;
      }
      double wps = words / std::max(1.0, t1 - std::max(0.0, t0 - 2));
      if (words > 0) {
        x[kSlowSpeech] = std::max(0.0, 1.0 - wps / 2.0);
        facts["words_per_s"] = wps;
      }
    }
    if (in.scenes_known) {
      auto it = std::upper_bound(cuts.begin(), cuts.end(), mid);
      double shot_start = it == cuts.begin() ? 0.0 : *(it - 1);
      double shot_end = it == cuts.end() ? in.duration_s : *it;
      double on_screen = mid - shot_start;
      x[kStaticShot] = std::min(on_screen, 60.0) / 60.0;
      facts["shot_start"] = shot_start;
      facts["shot_len"] = shot_end - shot_start;
      for (double c : cuts) {
        if (c >= t0 && c < t1 && c > 0) x[kCut] = 1;
      }
    }
    if (const RetentionFrame* f = FrameNear(in.frames, cuts, mid)) {
      bool face = f->faces_known && f->faces > 0;
      if (face) x[kFace] = 1;
      if (f->text_known && f->text && !face) {
        // A slide holds attention for less time than a shot of a person:
        // it tops out after 30 s where a shot takes 60.
        double on_screen = facts.contains("shot_start") ? mid - facts["shot_start"].get<double>() : 15.0;
        x[kStaticSlide] = std::min(on_screen, 30.0) / 30.0;
        facts["slide"] = true;
      }
    }
    if (!std::isnan(median_db)) {
      double level = LevelDb(in.loudness, t0, t1);
      // Quiet speech is what loses viewers; quiet pauses are pauses.
      double spoken = 0;
      for (const auto& [a, b] : speech) spoken += std::max(0.0, std::min(b, t1) - std::max(a, t0));
      bool silent = x[kPause] > 0 || level < kSilenceDb + 10 || (speech_known && spoken < 0.3);
      if (!silent && level < median_db - 6) {
        x[kQuiet] = std::min(1.0, (median_db - 6 - level) / 12.0);
        facts["quiet_db"] = median_db - level;
      }
      if (!std::isnan(prev_level) && !silent && std::abs(level - prev_level) > 6) x[kLoudnessChange] = 1;
      prev_level = level;
    }
    if (t0 < kHookWindowS && in.has_transcript) {
      x[kWeakHook] = 1.0 - hook;
      facts["hook"] = hook;
    }
  }
  return out;
}

RetentionSummary Summarize(const RetentionCurve& c) {
  RetentionSummary s;
  s.at_3s = c.At(std::min(3.0, c.duration_s));
  s.at_30s = c.At(std::min(30.0, c.duration_s));
  s.at_half = c.At(0.5 * c.duration_s);
  s.at_end = c.share.empty() ? 0 : c.share.back();
  s.average_view_s = c.AverageViewSeconds();
  s.average_view_share = c.duration_s > 0 ? s.average_view_s / c.duration_s : 0;
  return s;
}

namespace {

std::string Reason(size_t k, const json& facts, double t) {
  switch (k) {
    case kPause:
    case kSilenceRun:
      return Sec(facts.value("silence_len", 0.0)) + " s of silence (from " + Clock(facts.value("silence_start", t)) + ")";
    case kNoSpeechYet:
      return "no speech in the first " + Sec(facts.value("first_word_s", 0.0)) + " s";
    case kSlowSpeech:
      return "slow speech (" + Sec(facts.value("words_per_s", 0.0)) + " words/s)";
    case kStaticShot:
      return "the same shot for " + Sec(facts.value("shot_len", 0.0)) + " s";
    case kStaticSlide:
      return "static slide for " + Sec(facts.value("shot_len", 0.0)) + " s";
    case kQuiet:
      return "quiet audio (" + Sec(facts.value("quiet_db", 0.0)) + " dB under the talk)";
    case kWeakHook:
      return "no hook in the first 5 s (no question, number or strong claim)";
    default:
      return RetentionFeatureNames()[k];
  }
}

double CauseStart(size_t k, const json& facts, double fallback) {
  if (k == kPause || k == kSilenceRun) return facts.value("silence_start", fallback);
  if (k == kStaticShot || k == kStaticSlide) return facts.value("shot_start", fallback);
  if (k == kNoSpeechYet || k == kWeakHook) return 0;
  return fallback;
}

}  // namespace

RetentionPrediction Predict(const RetentionModel& model, const RetentionFeatures& f) {
  RetentionPrediction p;
  p.model_version = model.version;
  const size_t n = f.rows.size();
  const auto& names = RetentionFeatureNames();
  std::vector<double> w(kFeatureCount, 0);
  for (size_t k = 0; k < kFeatureCount; ++k) {
    auto it = model.weights.find(names[k]);
    if (it != model.weights.end()) w[k] = it->second;
  }
  const double length_factor = 1 + 0.25 * std::log1p(f.duration_s / 60.0);
  std::vector<double> base(n);
  p.hazard.resize(n);
  p.curve.duration_s = f.duration_s;
  p.curve.share.assign(1, 1.0);
  for (size_t t = 0; t < n; ++t) {
    base[t] = model.base_long * length_factor + model.base_intro * std::exp(-static_cast<double>(t) / 4.0);
    double z = 0;
    for (size_t k = 0; k < kFeatureCount; ++k) z += w[k] * f.rows[t][k];
    double h = std::min(kMaxHazard, base[t] * std::exp(std::clamp(z, -10.0, 10.0)));
    // The last second may be partial.
    double span = std::min(1.0, f.duration_s - static_cast<double>(t));
    double leave = 1 - std::pow(1 - h, std::max(0.0, span));
    p.hazard[t] = h;
    p.curve.share.push_back(p.curve.share.back() * (1 - leave));
  }
  p.summary = Summarize(p.curve);

  // Drop points: stretches where the hazard stands well above both the
  // base and the video's own typical hazard (a feature that holds all
  // along, like one long shot, raises the whole curve, not one place).
  // Typical is measured on the multiplier over the base, so the opening
  // seconds' high base does not count as typical.
  std::vector<double> multiplier(n);
  for (size_t t = 0; t < n; ++t) multiplier[t] = p.hazard[t] / std::max(base[t], 1e-12);
  std::vector<double> sorted = multiplier;
  std::sort(sorted.begin(), sorted.end());
  const double typical = sorted.empty() ? 1.0 : std::max(1.0, sorted[sorted.size() / 2]);
  for (auto& b : base) b *= typical;
  struct Region {
    size_t a, b, peak;
    double excess;
  };
  std::vector<Region> regions;
  for (size_t t = 0; t < n;) {
    if (p.hazard[t] < kDropRatio * base[t]) {
      ++t;
      continue;
    }
    Region r{t, t, t, 0};
    while (r.b < n && p.hazard[r.b] >= kDropRatio * base[r.b]) {
      r.excess += (p.hazard[r.b] - base[r.b]) * p.curve.share[r.b];
      if (p.hazard[r.b] > p.hazard[r.peak]) r.peak = r.b;
      ++r.b;
    }
    regions.push_back(r);
    t = r.b;
  }
  std::sort(regions.begin(), regions.end(), [](const Region& x, const Region& y) { return x.excess > y.excess; });
  for (const auto& r : regions) {
    if (p.drops.size() >= kMaxDropPoints) break;
    // The features that raised the hazard most at the peak.
    std::vector<std::pair<double, size_t>> contrib;
    for (size_t k = 0; k < kFeatureCount; ++k) {
      double c = w[k] * f.rows[r.peak][k];
      if (c > 0.05) contrib.push_back({c, k});
    }
    std::sort(contrib.rbegin(), contrib.rend());
    DropPoint d;
    d.peak_s = static_cast<double>(r.peak);
    d.end_s = std::min(f.duration_s, static_cast<double>(r.b));
    d.hazard = p.hazard[r.peak];
    d.lost = p.curve.share[r.a] - p.curve.share[r.b];
    d.t_s = static_cast<double>(r.a);
    bool silence_said = false;
    for (const auto& [c, k] : contrib) {
      bool silence = k == kPause || k == kSilenceRun;
      if (silence && silence_said) continue;
      silence_said = silence_said || silence;
      if (d.reasons.empty()) d.t_s = CauseStart(k, f.facts[r.peak], d.t_s);
      d.reasons.push_back(Reason(k, f.facts[r.peak], d.peak_s));
      if (d.reasons.size() == 3) break;
    }
    if (d.reasons.empty()) d.reasons.push_back(r.a < 3 ? "the opening seconds, where viewers leave most" : "");
    bool near = false;
    for (const auto& e : p.drops) near = near || std::abs(e.t_s - d.t_s) < 5;
    if (!near) p.drops.push_back(std::move(d));
  }
  std::sort(p.drops.begin(), p.drops.end(), [](const DropPoint& x, const DropPoint& y) { return x.t_s < y.t_s; });
  return p;
}

json DropPointsJson(const std::vector<DropPoint>& drops) {
  json out = json::array();
  for (const auto& d : drops) {
    out.push_back({{"t_s", d.t_s}, {"peak_s", d.peak_s}, {"end_s", d.end_s}, {"hazard", d.hazard},
                   {"lost", d.lost}, {"reasons", d.reasons}});
  }
  return out;
}

json SummaryJson(const RetentionSummary& s) {
  return {{"at_3s", s.at_3s},   {"at_30s", s.at_30s},          {"at_half", s.at_half},
          {"at_end", s.at_end}, {"average_view_s", s.average_view_s}, {"average_view_share", s.average_view_share}};
}

}  // namespace cutroom::analysis
