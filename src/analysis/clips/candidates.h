// Clip candidates: the stretches of a talk most worth cutting out as short
// clips, found from the transcript alone or with whatever else is known
// (scene cuts, loudness, faces on screen).
//
// Windows are built from whole sentences (sentences.h): a clip starts at
// the first word of a sentence and ends at the last word of one, never
// inside a word. Each edge then moves into the silence beside it: onto a
// scene cut when one lies in that silence within ClipOptions::snap_s of
// the word (a clip that begins or ends on a shot change shows no stray
// frames of the neighbouring shot), otherwise by at most pad_s, so no clip
// opens or closes on more than pad_s of dead air. Edges are clamped to
// [0, duration]; every candidate lasts between min_s and max_s.
//
// Each window gets explainable features in [0, 1]:
//   hook            how its first sentence grabs: a question, a teaser
//                   ("here's", "the secret"), a strong claim, an
//                   imperative, a number, talking to the viewer
//                   (text_cues.h); a first sentence leaning on what came
//                   before ("And so...") scores low
//   completeness    starts on a fresh thought and ends on one that
//                   resolves (a sentence closed by . or !, not a dangling
//                   "and"/"because")
//   speech_density  how much of it is speech, and how fast
//   loudness        its level against the talk's average (from the curve)
//   scene_pace      scene changes per minute inside it
//   face_presence   share of sampled frames inside it showing a face
//   length_fit      closeness to target_s
// The score is their weighted mean (features.weights holds the weights);
// a feature whose input is missing (no scenes detected, no audio, no
// frames) is left out and the other weights renormalised, so scores of
// one video stay comparable. Candidates are chosen greedily by score, none
// overlapping another by more than max_overlap of the shorter one, and
// returned best first.
//
// Pauses: units of an unpunctuated transcript end where the recogniser
// saw a pause; when the loudness curve is known, a clip may only start or
// end at one where the audio really falls to silence (recognisers drop
// words they cannot make out and leave false pauses). This needs a curve
// with steps of at most (pad_s + 0.1) / 2 (the stage measures every 0.1 s);
// with a coarser one, or when the audio confirms fewer than a quarter of
// the pauses (music or noise under the speech: no silences to find), the
// transcript's pauses are trusted. features.pauses_checked says which.
//
// Short media: when the speech is too short for any window of min_s, there
// are no candidates (lower min_s, down to 3 s, to clip short videos); the
// finder never returns a clip outside [min_s, max_s].
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/clips/loudness.h"
#include "analysis/transcribe/transcript.h"
#include "core/status.h"

namespace cutroom::analysis {

struct ClipOptions {
  double min_s = 15;
  double max_s = 60;
  double target_s = 30;
  int count = 5;
  // Edge rules (not user parameters).
  double pad_s = 0.3;         // most silence kept before the first and after the last word
  double snap_s = 1.0;        // scene cuts this close to an edge, in its silence, become the edge
  double max_overlap = 0.30;  // of the shorter of two candidates
};

// InvalidArgument naming the field and its limit: 3 <= min_s <= max_s <=
// 600, min_s <= target_s <= max_s, 1 <= count <= 50.
Status ValidateClipOptions(const ClipOptions& options);

// Faces seen in one sampled frame.
struct ClipFaceSample {
  double t_s = 0;
  int count = 0;
};

struct ClipInputs {
  Transcript transcript;
  // Media duration; 0 when unknown (then the last word's end + pad_s).
  double duration_s = 0;
  // Times at which a new shot begins (the first scene's start excluded);
  // nullopt when scenes were not detected (scene_pace is left out).
  std::optional<std::vector<double>> scene_cuts;
  // Empty when the media has no audio (loudness is left out, and pauses
  // are taken from the transcript alone).
  LoudnessCurve loudness;
  // Empty when frames were not sampled (face_presence is left out).
  std::vector<ClipFaceSample> faces;
};

struct ClipCandidate {
  double start_s = 0;
  double end_s = 0;
  double speech_start_s = 0;  // first word's start
  double speech_end_s = 0;    // last word's end
  double score = 0;           // 0..1
  std::string title;          // <= 60 characters, from the key sentence
  std::string hook;           // the first sentence
  std::string reason;         // the top features in words
  std::string transcript_excerpt;
  nlohmann::json features;    // feature values, "weights", and the facts behind them
};

// REQUIRES: ValidateClipOptions(options).ok() (invalid options give none).
std::vector<ClipCandidate> FindClipCandidates(const ClipInputs& inputs, const ClipOptions& options);

// The title rule, exposed for the LLM rerank's fallback: the sentence
// without its final period, or its first clause, or its first words with
// an ellipsis; at most 60 characters (code points).
std::string TitleFromSentence(const std::string& sentence);

}  // namespace cutroom::analysis
