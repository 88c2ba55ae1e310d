#include "edit/plan/plan_validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "edit/render/ass_captions.h"

namespace cutroom::edit {
namespace {

std::string Sec(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}

// The word a cut at t falls inside (strictly, by more than 1 ms), if any.
// Words are in time order; a binary search finds the candidates.
const IndexWord* WordAround(const EditIndex& index, double t) {
  auto it = std::upper_bound(index.words.begin(), index.words.end(), t,
                             [](double v, const IndexWord& w) { return v < w.start_s; });
  // Words starting at or before t; overlapping words are rare, so look back a few.
  for (int k = 0; k < 4 && it != index.words.begin(); ++k) {
    --it;
    if (t > it->start_s + 0.001 && t < it->end_s - 0.001) return &*it;
  }
  return nullptr;
}

// Snaps a cut onto a word boundary when it is only just inside a word;
// returns false when it is deep inside one.
bool SnapCut(const EditIndex& index, double& t, const std::string& where, const char* edge, PlanCheck& check) {
  const IndexWord* w = WordAround(index, t);
  if (!w) return true;
  double to_start = t - w->start_s, to_end = w->end_s - t;
  double nearest = to_start <= to_end ? w->start_s : w->end_s;
  if (std::min(to_start, to_end) <= kSnapTolerance_s) {
    check.notes.push_back(where + ": " + edge + " " + Sec(t) + " s snapped to " + Sec(nearest) + " s, the " +
                          (nearest == w->start_s ? "start" : "end") + " of '" + w->text + "'");
    t = nearest;
    return true;
  }
  check.problems.push_back(where + ": " + edge + " " + Sec(t) + " s cuts inside the word '" + w->text + "' (" +
                           Sec(w->start_s) + "-" + Sec(w->end_s) + " s); cut at " + Sec(w->start_s) + " or " +
                           Sec(w->end_s) + " s, or choose segments instead of times");
  return false;
}

void CheckRange(PlanRange& r, const EditIndex& index, const std::string& where, PlanCheck& check) {
  // Ids first: they are what a range is made of when it comes from speech.
  double id_start = NAN, id_end = NAN;
  bool ids_ok = true;
  if (!r.segment_ids.empty() && index.transcription_id.empty()) {
    check.problems.push_back(where + " names transcript segments, but the video has no transcript");
    return;
  }
  for (const auto& id : r.segment_ids) {
    const IndexSegment* s = index.FindSegment(id);
    if (!s) {
      check.problems.push_back(where + ": unknown segment id '" + id + "'");
      ids_ok = false;
      continue;
    }
    double a = s->start_s, b = s->end_s;
    if (s->word_count > 0) {
      a = index.words[s->first_word].start_s;
      b = index.words[s->first_word + s->word_count - 1].end_s;
    }
    id_start = std::isnan(id_start) ? a : std::min(id_start, a);
    id_end = std::isnan(id_end) ? b : std::max(id_end, b);
  }
  if (!r.word_ids.empty()) {
    double ws = NAN, we = NAN;
    for (const auto& id : r.word_ids) {
      const IndexWord* w = index.FindWord(id);
      if (!w) {
        check.problems.push_back(where + ": unknown word id '" + id + "'");
        ids_ok = false;
        continue;
      }
      ws = std::isnan(ws) ? w->start_s : std::min(ws, w->start_s);
      we = std::isnan(we) ? w->end_s : std::max(we, w->end_s);
    }
    // Word ids name the first and last word a range holds: with times
    // given, those words must lie inside it (the range may hold any
    // amount of pause around them); without times they are its edges.
    if (!std::isnan(ws) && ids_ok) {
      if (std::isnan(r.start_s)) r.start_s = ws;
      if (std::isnan(r.end_s)) r.end_s = we;
      if (ws < r.start_s - 0.01 || we > r.end_s + 0.01) {
        check.problems.push_back(where + ": its words (" + Sec(ws) + "-" + Sec(we) + " s) lie outside its times " +
                                 Sec(r.start_s) + "-" + Sec(r.end_s) + " s");
        return;
      }
      id_start = id_end = NAN;  // the words settled it
    }
  }
  if (!ids_ok) return;
  if (std::isnan(r.start_s)) r.start_s = id_start;
  if (std::isnan(r.end_s)) r.end_s = id_end;
  if (std::isnan(r.start_s) || std::isnan(r.end_s)) {
    check.problems.push_back(where + " has neither times nor transcript ids");
    return;
  }
  if (!std::isnan(id_start)) {
    // A range may hold a little air around its words, and trim into its
    // segments at word boundaries, but not start or end somewhere else.
    if (r.start_s < id_start - kIdTimeTolerance_s || r.end_s > id_end + kIdTimeTolerance_s ||
        r.start_s > id_end || r.end_s < id_start) {
      check.problems.push_back(where + ": times " + Sec(r.start_s) + "-" + Sec(r.end_s) +
                               " s disagree with its transcript ids (" + Sec(id_start) + "-" + Sec(id_end) + " s)");
      return;
    }
  }
  if (!(r.speed >= kMinRangeSpeed && r.speed <= kMaxRangeSpeed)) {
    check.problems.push_back(where + ": speed " + Sec(r.speed) + " is outside 0.5-2.0");
  }
  const double duration = index.duration_s;
  if (r.start_s < -0.05 || (duration > 0 && r.start_s >= duration)) {
    check.problems.push_back(where + ": start " + Sec(r.start_s) + " s is outside the media (0-" + Sec(duration) + " s)");
    return;
  }
  if (duration > 0 && r.end_s > duration + 0.05) {
    check.problems.push_back(where + ": end " + Sec(r.end_s) + " s is after the end of the media (" + Sec(duration) +
                             " s)");
    return;
  }
  r.start_s = std::max(0.0, r.start_s);
  if (duration > 0) r.end_s = std::min(r.end_s, duration);
  bool a = SnapCut(index, r.start_s, where, "start", check);
  bool b = SnapCut(index, r.end_s, where, "end", check);
  if (!a || !b) return;
  if (r.end_s - r.start_s < kMinPlanRange_s) {
    check.problems.push_back(where + " is empty, reversed or shorter than " + Sec(kMinPlanRange_s) + " s (" +
                             Sec(r.start_s) + "-" + Sec(r.end_s) + " s)");
  }
}

void CheckSettings(PlanOutput& o, const std::string& where, PlanCheck& check) {
  static const char* const kAspects[] = {"source", "9:16", "1:1", "16:9"};
  if (std::find(std::begin(kAspects), std::end(kAspects), o.aspect) == std::end(kAspects)) {
    check.problems.push_back(where + ".aspect must be source, 9:16, 1:1 or 16:9, not '" + o.aspect + "'");
  }
  static const char* const kReframes[] = {"auto", "face", "center", "fit"};
  if (std::find(std::begin(kReframes), std::end(kReframes), o.reframe) == std::end(kReframes)) {
    check.problems.push_back(where + ".reframe must be auto, face, center or fit, not '" + o.reframe + "'");
  }
  if (o.captions.is_object()) {
    auto style = CaptionStyleFromJson(o.captions, 720, 1280);
    if (!style.ok()) check.problems.push_back(where + ".captions: " + style.status().message());
  } else if (!(o.captions.is_boolean() && !o.captions.get<bool>())) {
    check.problems.push_back(where + ".captions must be a style object or false");
  }
  if (o.title) {
    if (o.title->text.empty() || o.title->text.size() > 200) {
      check.problems.push_back(where + ".title.text must be 1 to 200 characters");
    }
    if (!(o.title->duration_s >= 0.5 && o.title->duration_s <= 15)) {
      check.problems.push_back(where + ".title.duration_s must be 0.5 to 15 s");
    }
  }
  if (!(o.audio.target_lufs >= -70 && o.audio.target_lufs <= -5)) {
    check.problems.push_back(where + ".audio.target_lufs must be -70 to -5 LUFS");
  }
  if (o.name.empty() || o.name.size() > 100) check.problems.push_back(where + ".name must be 1 to 100 characters");
}

}  // namespace

std::string PlanCheck::Summary() const {
  std::string s;
  for (const auto& p : problems) s += (s.empty() ? "" : "; ") + p;
  return s;
}

PlanCheck ValidatePlan(EditPlan& plan, const EditIndex& index, const ValidateOptions& options) {
  PlanCheck check;
  if (plan.version != kPlanVersion) check.problems.push_back("version must be " + std::string(kPlanVersion));
  if (!plan.video_id.empty() && plan.video_id != index.video_id) {
    check.problems.push_back("the plan is for video " + plan.video_id + ", not " + index.video_id);
  }
  plan.video_id = index.video_id;
  if (plan.outputs.empty()) check.problems.push_back("the plan has no outputs");
  if (plan.outputs.size() > options.max_outputs) {
    check.problems.push_back("the plan has " + std::to_string(plan.outputs.size()) + " outputs; at most " +
                             std::to_string(options.max_outputs) + " are allowed");
  }
  if (!plan.provenance.transcription_id.empty() && !index.transcription_id.empty() &&
      plan.provenance.transcription_id != index.transcription_id) {
    check.problems.push_back("the plan was made from transcript " + plan.provenance.transcription_id +
                             ", but the video's newest is " + index.transcription_id + "; plan again");
  }
  for (size_t o = 0; o < plan.outputs.size(); ++o) {
    PlanOutput& out = plan.outputs[o];
    const std::string where = "outputs[" + std::to_string(o) + "]";
    CheckSettings(out, where, check);
    if (out.ranges.empty()) {
      check.problems.push_back(where + " has no ranges");
      continue;
    }
    if (out.ranges.size() > kMaxPlanRanges) {
      check.problems.push_back(where + " has " + std::to_string(out.ranges.size()) + " ranges; at most " +
                               std::to_string(kMaxPlanRanges));
      continue;
    }
    size_t before = check.problems.size();
    for (size_t i = 0; i < out.ranges.size(); ++i) {
      CheckRange(out.ranges[i], index, where + ".ranges[" + std::to_string(i) + "]", check);
    }
    if (check.problems.size() != before) continue;
    // Overlaps, whatever order the ranges play in.
    std::vector<size_t> order(out.ranges.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return out.ranges[a].start_s < out.ranges[b].start_s; });
    for (size_t k = 0; k + 1 < order.size(); ++k) {
      const PlanRange& a = out.ranges[order[k]];
      const PlanRange& b = out.ranges[order[k + 1]];
      if (b.start_s < a.end_s - 1e-6) {
        check.problems.push_back(where + ": ranges[" + std::to_string(order[k]) + "] (" + Sec(a.start_s) + "-" +
                                 Sec(a.end_s) + " s) and ranges[" + std::to_string(order[k + 1]) + "] (" +
                                 Sec(b.start_s) + "-" + Sec(b.end_s) + " s) overlap");
      }
    }
    std::optional<PlanBound> bound = options.bound ? options.bound : out.bound;
    if (bound) {
      out.bound = bound;
      double d = out.duration_s();
      if (d < bound->min_s - 1e-6 || d > bound->max_s + 1e-6) {
        check.problems.push_back(where + " lasts " + Sec(d) + " s; the instruction asks for " + Sec(bound->min_s) +
                                 "-" + Sec(bound->max_s) + " s");
      }
    }
  }
  return check;
}

void SnapPlanToFrames(EditPlan& plan, const EditIndex& index) {
  if (!(index.fps > 0 && index.fps < 1000)) return;
  const double fps = index.fps;
  auto inside_word = [&](double t) { return WordAround(index, t) != nullptr; };
  auto grid = [&](double t, bool up) {
    double f = t * fps;
    double k = up ? std::ceil(f - 1e-6) : std::floor(f + 1e-6);
    return k / fps;
  };
  for (auto& o : plan.outputs) {
    std::vector<double> old_end;
    for (auto& r : o.ranges) {
      double a = grid(r.start_s, false), b = grid(r.end_s, true);
      if (inside_word(a)) a = grid(r.start_s, true);
      if (inside_word(b)) b = grid(r.end_s, false);
      if (index.duration_s > 0) b = std::min(b, index.duration_s);
      a = std::max(0.0, a);
      if (b - a >= kMinPlanRange_s) {
        r.start_s = a;
        r.end_s = b;
      }
    }
    // Snapping outward may make neighbours that were a sliver apart
    // overlap by a frame: the later one gives way.
    std::vector<size_t> order(o.ranges.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return o.ranges[x].start_s < o.ranges[y].start_s; });
    for (size_t k = 1; k < order.size(); ++k) {
      PlanRange& prev = o.ranges[order[k - 1]];
      PlanRange& next = o.ranges[order[k]];
      if (next.start_s < prev.end_s) next.start_s = std::min(prev.end_s, next.end_s);
    }
    std::vector<PlanRange> kept;
    for (auto& r : o.ranges) {
      if (r.end_s - r.start_s >= 0.5 / fps) kept.push_back(std::move(r));
    }
    o.ranges = std::move(kept);
  }
}

}  // namespace cutroom::edit
