// Layout by content: which way each scene of a clip fills a frame of
// another shape (a 9:16 output of a 16:9 talk, say), decided from what the
// scene shows, so that slides are not cropped to their middle and faces
// are not shrunk into a band.
//
//   face    the crop window follows the face (crop_path.h)
//   center  the crop window holds still where the motion is
//   fit     the whole picture, fitted inside the output over a blurred,
//           darkened copy of itself (renderer.h)
//
// The rule, in order (the first that holds wins; every threshold below is
// a constant of layout.cc, named in the `why` it gives):
//   1. A big face (at least kBigFaceHeight of the frame's height) in at
//      least kFaceShare of the sampled frames: face. A talking head with a
//      name caption stays a talking head.
//   2. Text (OCR read at least kTextChars letters or digits) in at least
//      kTextShare of the frames read, and little motion (mean frame
//      difference at most kStillMotion): fit. Slides, documents and screen
//      recordings keep every word.
//   3. Any face in at least kFaceShare of the sampled frames: face.
//   4. Wide shots without faces. Motion at most kStillMotion: fit (nothing
//      moves that a crop could follow, and it would cut the picture's
//      sides). Otherwise the crop window that holds the most of the
//      scene's motion (summed frame differences per column, or per row
//      when the window slides vertically): center there when it holds at
//      least kCropMotionShare of the motion, fit when the motion is spread
//      wider than a crop can keep.
// Missing evidence (no OCR, no samples) counts as absent, never as
// present.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace cutroom::edit {

enum class SceneLayout { kFace, kCenter, kFit };

// "face", "center", "fit".
const char* SceneLayoutName(SceneLayout layout);

// What is known about one scene (its sampled frames; counts may come from
// the frames stage's rows, the render's own sampling, or both).
struct SceneEvidence {
  int face_frames = 0;      // frames sampled for faces
  int with_face = 0;        // ... with any face
  int with_big_face = 0;    // ... with a face at least kBigFaceHeight tall (unknown: 0)
  int text_frames = 0;      // frames read by OCR (0: text unknown)
  int with_text = 0;        // ... with at least kTextChars letters or digits
  double motion = -1;       // mean difference between consecutive samples, 0..1; negative: unknown
  // Motion energy across the frame along the axis the crop window slides
  // (columns for a window narrower than the frame), summed over the
  // scene's samples; empty: unknown.
  std::vector<double> motion_profile;
};

// The constants of the rule, exposed for tests and for the `why` texts.
inline constexpr double kBigFaceHeight = 0.12;
inline constexpr double kFaceShare = 0.3;
inline constexpr int kTextChars = 12;
inline constexpr double kTextShare = 0.5;
inline constexpr double kStillMotion = 0.02;
inline constexpr double kCropMotionShare = 0.7;

struct LayoutChoice {
  SceneLayout layout = SceneLayout::kFit;
  std::string why;  // the evidence, in numbers ("text in 3 of 3 frames read, motion 0.004")
  // For kCenter: where the chosen window's centre sits along the axis the
  // window slides, as a fraction of the frame (0..1); -1 otherwise.
  double center = -1;
};

// window: the crop's share (0..1] of the frame along the axis it slides.
LayoutChoice ChooseSceneLayout(const SceneEvidence& evidence, double window);

// The window (window share of the profile's length) holding the most of
// the profile's sum: its centre as a fraction of the length, and the share
// of the sum it holds. An empty or all-zero profile gives {0.5, 0}.
struct MotionWindow {
  double center = 0.5;
  double share = 0;
};
MotionWindow BestMotionWindow(const std::vector<double>& profile, double window);

}  // namespace cutroom::edit
