// Scene-change detection over a stream of shrunken frames (analysis_frame.h).
//
// Hard cuts come from one of four detectors:
//   content    a weighted difference of luma, chroma saturation and hue
//              (hue counts only where both frames are coloured, so a fade
//              out of black does not look like a cut) between consecutive
//              frames, 0..255, on frames about 128 px wide; a cut where it
//              reaches `threshold` (16: in our test material real cuts
//              score from 16.6 to 100, motion and noise inside a shot stay
//              under 15).
//   adaptive   the content score divided by the mean score of the frames
//              around it (2 on each side): a cut where that ratio reaches
//              `threshold` (3) and the score itself is at least 15, so
//              camera motion and flashes that raise every score do not cut.
//   threshold  mean luma crossing `threshold` (12 of 255): fades to and
//              from black, reported as fade_out / fade_in (or a cut when
//              the change takes one frame).
//   hash       Hamming distance between perceptual hashes of consecutive
//              frames, as a fraction of 64 bits; a cut at `threshold` (0.4).
// Gradual transitions (with `gradual`, for every detector but threshold)
// use twin-comparison: a run of frames that each change a little but add up
// to a large change, accepted only when the frames in between are blends of
// the two ends (a fade or dissolve, not a pan). They are reported as spans
// typed fade_in (from black), fade_out (to black) or dissolve.
// A boundary closer than `min_scene_len` frames to the previous one is
// dropped.
//
// Thread-safety: a SceneDetector is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/scenes/analysis_frame.h"
#include "core/result.h"

namespace cutroom::analysis::scenes {

enum class DetectorKind { kContent, kAdaptive, kThreshold, kHash };

std::string DetectorName(DetectorKind kind);
// InvalidArgument naming the known detectors.
Result<DetectorKind> ParseDetector(const std::string& name);
double DefaultThreshold(DetectorKind kind);

struct DetectorOptions {
  DetectorKind kind = DetectorKind::kContent;
  double threshold = -1;          // < 0: DefaultThreshold(kind)
  int64_t min_scene_len = 15;     // frames
  bool gradual = true;
  double fps = 0;                 // for times of synthesised frames; 0: unknown
};

struct Transition {
  std::string type;  // cut, fade_in, fade_out, dissolve
  // Inclusive frame span; for a cut both are the first frame of the new shot.
  int64_t start_frame = 0;
  int64_t end_frame = 0;
  double start_s = 0;
  double end_s = 0;
  double score = 0;  // the detector's measure at the boundary
};

class SceneDetector {
 public:
  explicit SceneDetector(DetectorOptions options);

  // Frames in presentation order, all the same size.
  void Push(const AnalysisFrame& frame);
  // Ends the stream; transitions() is final afterwards.
  void Finish();
  const std::vector<Transition>& transitions() const { return result_; }
  int64_t frames_seen() const { return frames_; }
  // Presentation time of every frame pushed, by index.
  const std::vector<double>& frame_times() const { return times_; }

  // The content score of two frames of the same size (exposed for tests).
  static double ContentScore(const AnalysisFrame& a, const AnalysisFrame& b);

 private:
  struct Candidate {
    int64_t start = -1;  // first changing frame
    int64_t end = -1;    // last changing frame
    int quiet = 0;       // frames since `end` below the low threshold
  };
  const AnalysisFrame& Ring(int64_t index) const;
  bool InRing(int64_t index) const;
  bool StandsOut(const std::vector<double>& history, int64_t index) const;
  void DetectCut(const AnalysisFrame& f, double score);
  void DecideAdaptive(int64_t index);
  void TrackGradual(const AnalysisFrame& f, double score);
  void EvaluateGradual(int64_t start, int64_t end);
  void TrackThreshold(const AnalysisFrame& f);
  double TimeOf(int64_t index) const;

  DetectorOptions options_;
  double threshold_;
  int64_t frames_ = 0;
  std::vector<AnalysisFrame> ring_;  // the last ring_.size() frames, by index % size
  std::vector<double> scores_;       // content score per frame (index 0: 0)
  std::vector<double> times_;        // pts per frame
  uint64_t last_hash_ = 0;
  std::vector<double> hash_distances_;
  std::vector<Transition> cuts_;
  std::vector<Transition> gradual_;
  std::vector<Transition> result_;
  Candidate candidate_;
  // threshold detector
  bool dark_ = false;
  int64_t dark_since_ = -1;
  bool finished_ = false;
};

}  // namespace cutroom::analysis::scenes
