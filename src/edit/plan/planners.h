// Deterministic edit planners: pure functions from the stored index
// (EditIndex) to what to keep of a video. No model is involved; the LLM
// planner calls the same functions by name.
//
// Planners work on a Timeline (the spans of source time kept so far,
// disjoint, in playing order, starting from the whole media) so that they
// compose: "remove the silences and the ums" is RemoveSilences, then
// RemoveFillers on what is left. Every cut they make avoids the inside of
// transcript words, except the words a planner means to remove (fillers).
//
//   remove_silences {threshold_db: number | "auto", min_silence_s: 0.5, margin_s: 0.2}
//       Loudness (EditIndex::loudness, 20 ms windows) below the threshold
//       for at least min_silence_s is a silence; it is cut but for margin_s
//       kept on each side next to sound (auto-editor's method). "auto"
//       puts the threshold between the noise floor (10th percentile) and
//       the speech level (95th), at most 12 dB under the speech level.
//   remove_fillers {words: ["um", "uh", ...], pad_s: 0.05}
//       Every transcript word (or run of words, for "you know") equal to
//       one of `words` (case and punctuation ignored), widened by pad_s but
//       never into a neighbouring word.
//   tighten_gaps {max_gap_s: 0.4}
//       Pauses between words (in the output, after earlier cuts) longer
//       than max_gap_s shrink to it, the cut centred in the pause.
//   fit_length {target_s, topic?: "...", tolerance: 0.1}
//       Whole sentences chosen to land within target_s * (1 +- tolerance),
//       in source order: the most relevant to the topic (full-text index)
//       and their neighbours, or without a topic those inside the best
//       clip candidates.
//   keep_scenes / drop_scenes {where: "slide" | "face" | "talking" | "text"}
//       Scenes whose sampled frames mostly show faces / text (OCR), a
//       slide (text without a face), or a face while someone speaks.
//   topic_clips {count: 1..5, topic?: "...", min_s: 15, max_s: 60}
//       Several outputs: clip candidates or sentence runs about the topic,
//       one per output, none overlapping.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "edit/plan/edit_index.h"
#include "edit/plan/plan.h"

namespace cutroom::edit {

// Spans of source time kept, in playing order: source order, except for a
// model's plan whose runs it puts in another order (planners that choose
// sentences, and Intersect, give source order again).
struct KeptSpan {
  double start_s = 0;
  double end_s = 0;
  std::string because;  // empty: described from the words it holds
};
using Timeline = std::vector<KeptSpan>;

struct PlannerResult {
  std::vector<Timeline> outputs;  // one for every planner but topic_clips
  nlohmann::json params;          // the parameters as used (defaults filled, "auto" resolved)
  nlohmann::json stats = nlohmann::json::object();  // what it did: counts and seconds removed
  std::vector<std::string> warnings;
};

// The planners by name, for the menu shown to models and in errors.
const std::vector<std::string>& PlannerNames();

// The whole media as one span.
Timeline WholeMedia(const EditIndex& index);

// Runs planner `name` with JSON params on `kept`. InvalidArgument naming
// the planner and field for unknown planners, bad or unknown params;
// FailedPrecondition saying which analysis to run first when the index
// lacks what the planner needs (a transcript, loudness, scenes, frames
// with OCR or faces).
Result<PlannerResult> RunPlanner(const std::string& name, const nlohmann::json& params, const EditIndex& index,
                                 const Timeline& kept);

// The plan ranges of a timeline: word ids of the first and last word
// inside each span, the segments it touches, and a `because` (the span's
// own, with the words it keeps quoted).
std::vector<PlanRange> TimelineToRanges(const EditIndex& index, const Timeline& kept);

// Output seconds of a timeline at speed 1.
double TimelineSeconds(const Timeline& kept);

// kept minus the cut spans (any order, may overlap). Pieces shorter than
// 50 ms are dropped.
Timeline Subtract(const Timeline& kept, std::vector<std::pair<double, double>> cuts);

// The span of words first..last (indices into index.words) widened into
// the pauses around them by half the pause, at most lead_s a side, so that
// the first and last sounds are whole and a neighbouring span widened the
// same way never overlaps it. REQUIRES: first <= last < index.words.size().
KeptSpan WordsWithAir(const EditIndex& index, size_t first, size_t last, const std::string& because,
                      double lead_s = 0.15);

// The filler words remove_fillers uses by default.
const std::vector<std::string>& DefaultFillerWords();

// Lower-case letters, digits and inner apostrophes of a word ("Um," -> "um").
std::string NormalizeWord(const std::string& word);

}  // namespace cutroom::edit
