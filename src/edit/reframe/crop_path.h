// Reframe planning: a path for a crop window (a 9:16 window of a 16:9
// talk, say) that keeps the speaker's face in frame the way a calm camera
// operator would.
//
// Input: face boxes found in sampled frames (times from the start of the
// piece being framed; boxes normalised 0..1). Output: keys at a fixed rate
// with the crop's top-left corner in source pixels, clamped to the frame,
// for a renderer to interpolate linearly.
//
// How the crop moves:
//   - Subject: faces are linked into tracks across samples (nearest centre
//     within reach); the track with the most area over time (largest and
//     most persistent) is followed. Another face takes over only when the
//     followed one has been gone for hold_s, or outweighs it twice over.
//   - Between two detections of the subject the target moves linearly.
//   - A sample without the subject holds the last position for hold_s,
//     then the crop drifts back to the centre. Before the first sample and
//     after the last nothing is known, so the nearest detection holds.
//   - Dead zone: while the target stays within the central dead_zone
//     share of the crop the crop does not move at all, so a still face
//     with detection jitter of a few pixels gives a still crop. Once the
//     face leaves it the crop re-centres on it and stops when it gets
//     there.
//   - Motion eases in (speed builds up over ease_in_s) and out (the
//     remaining distance closes with time constant smoothing_s), never
//     faster than max_pan_px_per_s, between consecutive keys as well as
//     between their rounded pixel positions.
//   - No faces at all: the centred crop.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include "core/status.h"
#include "edit/reframe/crop_key.h"

namespace cutroom::edit {

struct FaceBox {
  double x = 0;  // top-left corner and size, as fractions of the frame (0..1)
  double y = 0;
  double w = 0;
  double h = 0;
};

// The faces found in one analysed frame; no boxes means none were found
// (evidence of absence, unlike a moment with no sample at all).
struct FaceSample {
  double t_s = 0;
  std::vector<FaceBox> boxes;
};

struct ReframeOptions {
  int source_width = 0;   // source display size in pixels
  int source_height = 0;
  // Crop size in pixels; 0,0: the widest 9:16 window of full height (full
  // width and a 9:16 height when the source is taller than that), even.
  int crop_width = 0;
  int crop_height = 0;
  double duration_s = 0;        // keys cover [0, duration_s]
  double key_rate = 10;         // keys per second
  double max_pan_px_per_s = 0;  // 0: a quarter of the source width per second
  double dead_zone = 0.3;       // central share of the crop (each axis) the face may move in freely
  double smoothing_s = 0.5;     // time constant of the approach to the target (ease-out)
  double ease_in_s = 0.4;       // time to reach full pan speed from rest
  double hold_s = 2.0;          // hold after the face is lost, then drift to the centre
};

// InvalidArgument naming the field: sizes must be positive (crop within
// the source), duration finite and >= 0 (at most 24 h), key_rate in
// (0, 120], speeds and times >= 0, dead_zone in [0, 1).
Status ValidateReframeOptions(const ReframeOptions& options);

// The crop size PlanCropPath uses: the given one, or the 9:16 default.
// REQUIRES: source size positive.
void ResolveCropSize(const ReframeOptions& options, int* width, int* height);

// Keys at t = k / key_rate for k = 0, 1, ... and a last one at duration_s.
// Invalid options (see ValidateReframeOptions) give an empty path, which
// renderers take as a centred crop.
std::vector<CropKey> PlanCropPath(const std::vector<FaceSample>& samples, const ReframeOptions& options);

}  // namespace cutroom::edit
