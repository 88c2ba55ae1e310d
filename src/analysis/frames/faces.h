// FaceDetector: frontal faces in a decoded frame, with OpenCV's Haar
// cascade (haarcascade_frontalface_default.xml from Debian's
// opencv-data), loaded once per detector.
//
// Tuned for few false positives rather than finding every face: a face
// must be found by several overlapping detector windows (min_neighbors),
// score well in the cascade's last stage (min_score), and be at least
// min_face_fraction of the frame's shorter side, so crowds in the
// background and texture that happens to look like a face are ignored;
// of two boxes that largely overlap, the better supported one stays; and a
// big box (eye_check_min_side) must show an eye to the eye cascade, which
// rules out round objects (a glass, a lamp) the face cascade takes for
// close-ups.
// (The defaults were chosen on broadcast footage, film, animation and
// photographs: every upright frontal face there was kept, and the false
// detections were windows with few neighbours, a margin under 2, or big
// boxes without eyes.) Frames wider than
// analysis_width are shrunk first (detection cost grows with the pixels;
// faces that matter are big); boxes come back in the caller's pixels.
// Profiles, strongly tilted or sideways and heavily occluded faces are not
// found: this is the classic Viola-Jones detector, not a neural one.
//
// Ownership: a detector owns its classifier.
// Thread-safety: not thread-safe. cv::CascadeClassifier keeps scratch
// state per call, so one detector must not be used from two threads at
// once; create one per thread (loading takes a few tens of milliseconds).
// Detectors are independent of each other.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis {

inline constexpr const char* kDefaultFaceCascade =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
inline constexpr const char* kDefaultEyeCascade = "/usr/share/opencv4/haarcascades/haarcascade_eye.xml";

struct FaceDetectorOptions {
  std::string cascade_path = kDefaultFaceCascade;
  // Smallest face, as a fraction of the frame's shorter side.
  double min_face_fraction = 0.08;
  // A face needs more than this many overlapping detector windows
  // (OpenCV's minNeighbors).
  int min_neighbors = 5;
  // Least last-stage margin (FaceBox::score) a face needs.
  double min_score = 2.0;
  // Step between the scales searched (OpenCV's scaleFactor), > 1.
  double scale_step = 1.1;
  // Frames wider than this are shrunk before detection.
  int analysis_width = 640;
  // Faces at least this many analysed pixels wide must show an eye to
  // eye_cascade_path, and from 1.5 times this wide two eyes (smaller ones
  // have eyes too small to find); 0 turns the check off.
  int eye_check_min_side = 80;
  std::string eye_cascade_path = kDefaultEyeCascade;
};

struct FaceBox {
  // In the frame's pixels.
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  // The same box as fractions of the frame's width and height, 0..1.
  double nx = 0;
  double ny = 0;
  double nwidth = 0;
  double nheight = 0;
  // How many overlapping detector windows (positions and scales) found
  // this face; more than FaceDetectorOptions::min_neighbors by
  // construction. Strong faces gather dozens.
  int neighbors = 0;
  // The best last-stage margin of those windows (OpenCV's levelWeights):
  // higher is more face-like, around 0 is borderline. A raw score, not a
  // probability; useful to rank faces within one frame.
  double score = 0;
};

// Where DetectIn looks, in the frame's pixels: a rectangle and the sizes
// of face (the longer side of its box) to look for there; sizes below the
// detector's min_face_fraction are never looked for, max_side 0 is any.
struct FaceSearchRegion {
  int x = 0, y = 0, width = 0, height = 0;
  int min_side = 0, max_side = 0;
};

// Around a face seen a moment before or after: kNearMargin of its size
// added on every side, faces from kNearMinSize to kNearMaxSize times its
// size.
inline constexpr double kNearMargin = 0.75;
inline constexpr double kNearMinSize = 0.7;
inline constexpr double kNearMaxSize = 1.4;
FaceSearchRegion RegionAround(const FaceBox& face);
// Around one face seen at two moments (a moment before and a moment
// after): both regions and the rectangle between them, which holds the
// path of a face that moved in a straight line.
FaceSearchRegion RegionBetween(const FaceBox& before, const FaceBox& after);
// Where the faces of two frames a moment apart are between them: each face
// of `before` paired with the nearest face of `after` of a similar size
// (kSameFaceMinRatio) that moved at most kSameFaceMaxMove of its width
// (RegionBetween); unpaired faces of either, RegionAround. Empty when
// neither frame has a face.
inline constexpr double kSameFaceMinRatio = 0.6;
inline constexpr double kSameFaceMaxMove = 4.0;
std::vector<FaceSearchRegion> RegionsBetween(const std::vector<FaceBox>& before, const std::vector<FaceBox>& after);

class FaceDetector {
 public:
  // InvalidArgument for options out of range; NotFound when the cascade
  // file is missing; InvalidArgument when it is not a cascade OpenCV can
  // load.
  static Result<std::unique_ptr<FaceDetector>> Open(const FaceDetectorOptions& options = {});

  ~FaceDetector();
  FaceDetector(const FaceDetector&) = delete;
  FaceDetector& operator=(const FaceDetector&) = delete;

  // Faces in frame (any PixelFormat), largest first. InvalidArgument for an
  // empty or inconsistent frame.
  Result<std::vector<FaceBox>> Detect(const media::VideoFrame& frame);

  // Faces in the given regions only, of the sizes each region names
  // (max_side 0: any size): the same search and checks as Detect (which
  // is DetectIn over the whole frame) at a small share of its cost, for
  // frames between two that were searched in full (RegionsBetween). A face
  // outside every region is not found. Largest first; no regions, no
  // faces.
  Result<std::vector<FaceBox>> DetectIn(const media::VideoFrame& frame, const std::vector<FaceSearchRegion>& regions);

  const FaceDetectorOptions& options() const;

 private:
  class Impl;
  explicit FaceDetector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutroom::analysis
