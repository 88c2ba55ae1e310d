#include "analysis/frames/faces.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "analysis/frames/cv_frame.h"

namespace cutroom::analysis {

using frames_internal::CatchCv;
using frames_internal::GrayMat;

namespace {

// Two faces sharing more than this fraction of the smaller one's box are
// taken as one.
constexpr double kMaxSharedArea = 0.4;

struct Candidate {
  cv::Rect box;
  int neighbors = 0;
  double score = 0;
};

// OpenCV's grouping (cv::groupRectangles with eps 0.2), keeping both the
// number of raw windows behind each face and the best margin among them:
// windows that overlap closely are one cluster; clusters of more than
// min_neighbors windows become their average box; a box lying inside a
// bigger, better supported one is dropped (a face's features found as a
// face again).
std::vector<Candidate> GroupWindows(const std::vector<cv::Rect>& rects, const std::vector<double>& weights,
                                    int min_neighbors) {
  constexpr double kEps = 0.2;
  // cv::partition takes &vec[0] even of an empty vector (undefined).
  if (rects.empty()) return {};
  std::vector<int> labels;
  int nclasses = cv::partition(rects, labels, cv::SimilarRects(kEps));
  std::vector<cv::Rect2d> sums(static_cast<size_t>(nclasses));
  std::vector<Candidate> clusters(static_cast<size_t>(nclasses));
  for (auto& c : clusters) c.score = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < labels.size(); ++i) {
    auto k = static_cast<size_t>(labels[i]);
    sums[k].x += rects[i].x;
    sums[k].y += rects[i].y;
    sums[k].width += rects[i].width;
    sums[k].height += rects[i].height;
    ++clusters[k].neighbors;
    if (i < weights.size()) clusters[k].score = std::max(clusters[k].score, weights[i]);
  }
  std::vector<Candidate> grouped;
  for (size_t k = 0; k < clusters.size(); ++k) {
    if (clusters[k].neighbors <= min_neighbors) continue;
    double n = clusters[k].neighbors;
    clusters[k].box = cv::Rect(static_cast<int>(std::lround(sums[k].x / n)), static_cast<int>(std::lround(sums[k].y / n)),
                               static_cast<int>(std::lround(sums[k].width / n)),
                               static_cast<int>(std::lround(sums[k].height / n)));
    if (!std::isfinite(clusters[k].score)) clusters[k].score = 0;
    grouped.push_back(clusters[k]);
  }
  std::vector<Candidate> out;
  for (size_t i = 0; i < grouped.size(); ++i) {
    const cv::Rect& r = grouped[i].box;
    bool inside = false;
    for (size_t j = 0; j < grouped.size() && !inside; ++j) {
      if (i == j) continue;
      const cv::Rect& big = grouped[j].box;
      int dx = static_cast<int>(std::lround(big.width * kEps)), dy = static_cast<int>(std::lround(big.height * kEps));
      inside = r.x >= big.x - dx && r.y >= big.y - dy && r.x + r.width <= big.x + big.width + dx &&
               r.y + r.height <= big.y + big.height + dy &&
               (grouped[j].neighbors > std::max(3, grouped[i].neighbors) || grouped[i].neighbors < 3);
    }
    if (!inside) out.push_back(grouped[i]);
  }
  return out;
}

// Drops weakly scored faces, then boxes that share much of their area
// with a better supported one: two real faces rarely overlap, while a face
// found again at a larger scale, shifted onto the shoulder beside it, does.
std::vector<Candidate> Suppress(std::vector<Candidate> faces, double min_score) {
  faces.erase(std::remove_if(faces.begin(), faces.end(), [&](const Candidate& c) { return c.score < min_score; }),
              faces.end());
  std::sort(faces.begin(), faces.end(), [](const Candidate& a, const Candidate& b) {
    return a.neighbors != b.neighbors ? a.neighbors > b.neighbors : a.score > b.score;
  });
  std::vector<Candidate> out;
  for (const Candidate& c : faces) {
    bool overlaps = std::any_of(out.begin(), out.end(), [&](const Candidate& k) {
      return (c.box & k.box).area() > kMaxSharedArea * std::min(c.box.area(), k.box.area());
    });
    if (!overlaps) out.push_back(c);
  }
  return out;
}

}  // namespace

class FaceDetector::Impl {
 public:
  FaceDetectorOptions options;

  // The frame shrunk to analysis_width (scale: analysed pixels per frame
  // pixel) and equalised.
  Status Prepare(const media::VideoFrame& frame, cv::Mat& work, double& scale);
  // The cascade over region of work, faces from min_side to max_side
  // (0: any) analysed pixels, grouped; boxes in work's pixels.
  std::vector<Candidate> Search(const cv::Mat& work, const cv::Rect& region, int min_side, int max_side);

  cv::CascadeClassifier cascade;
  cv::CascadeClassifier eyes;  // empty when eye checks are off

  // How many eyes the eye cascade finds in the upper part of a face box
  // (in the equalised analysis image).
  size_t EyesIn(const cv::Mat& image, const cv::Rect& face) {
    cv::Rect upper =
        cv::Rect(face.x, face.y, face.width, face.height * 6 / 10) & cv::Rect(0, 0, image.cols, image.rows);
    if (upper.empty()) return 0;
    std::vector<cv::Rect> found;
    int min_side = std::max(12, face.width / 8);
    int max_side = std::max(min_side + 1, face.width / 2);
    eyes.detectMultiScale(image(upper), found, 1.1, 3, cv::CASCADE_SCALE_IMAGE, cv::Size(min_side, min_side),
                          cv::Size(max_side, max_side));
    return found.size();
  }

  // The face cascade alone accepts large round objects (a glass, a lamp)
  // with strong support; the eye cascade finds no eyes in them, or one
  // where a frontal face this big shows two.
  bool LooksLikeAFace(const cv::Mat& image, const cv::Rect& face) {
    if (options.eye_check_min_side <= 0 || face.width < options.eye_check_min_side) return true;
    return EyesIn(image, face) >= (face.width >= 3 * options.eye_check_min_side / 2 ? 2u : 1u);
  }
};

namespace {

// Loads a cascade: NotFound for a missing file, InvalidArgument for one
// OpenCV cannot read.
Status LoadCascade(cv::CascadeClassifier& cascade, const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound(std::string(what) + " cascade " + path + " does not exist (Debian package opencv-data)");
  }
  bool loaded = false;
  Status st = CatchCv(std::string("load ") + what + " cascade " + path, [&] { loaded = cascade.load(path); });
  if (!st.ok() || !loaded || cascade.empty()) {
    return Status::InvalidArgument(std::string(what) + " cascade " + path + " could not be loaded" +
                                   (st.ok() ? "" : ": " + st.message()));
  }
  return Status::Ok();
}

}  // namespace

FaceDetector::FaceDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaceDetector::~FaceDetector() = default;

const FaceDetectorOptions& FaceDetector::options() const { return impl_->options; }

Result<std::unique_ptr<FaceDetector>> FaceDetector::Open(const FaceDetectorOptions& options) {
  if (!(options.min_face_fraction > 0 && options.min_face_fraction <= 1)) {
    return Status::InvalidArgument("min_face_fraction must be in (0, 1]");
  }
  if (options.min_neighbors < 0 || options.min_neighbors > 100) {
    return Status::InvalidArgument("min_neighbors must be 0..100");
  }
  if (!(options.scale_step > 1.0 && options.scale_step <= 2.0)) {
    return Status::InvalidArgument("scale_step must be in (1, 2]");
  }
  if (!std::isfinite(options.min_score)) return Status::InvalidArgument("min_score must be a finite number");
  if (options.analysis_width < 32) return Status::InvalidArgument("analysis_width must be at least 32");
  if (options.eye_check_min_side < 0) return Status::InvalidArgument("eye_check_min_side must not be negative");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  CUTROOM_RETURN_IF_ERROR(LoadCascade(impl->cascade, options.cascade_path, "face"));
  if (options.eye_check_min_side > 0) {
    CUTROOM_RETURN_IF_ERROR(LoadCascade(impl->eyes, options.eye_cascade_path, "eye"));
  }
  return std::unique_ptr<FaceDetector>(new FaceDetector(std::move(impl)));
}

namespace {

// Candidates (in analysed pixels) as boxes in the frame's pixels, largest
// first.
std::vector<FaceBox> ToFrameBoxes(const std::vector<Candidate>& faces, double scale, const media::VideoFrame& frame) {
  std::vector<FaceBox> out;
  out.reserve(faces.size());
  for (const Candidate& c : faces) {
    const cv::Rect& r = c.box;
    int x0 = std::clamp(static_cast<int>(std::lround(r.x / scale)), 0, frame.width);
    int y0 = std::clamp(static_cast<int>(std::lround(r.y / scale)), 0, frame.height);
    int x1 = std::clamp(static_cast<int>(std::lround((r.x + r.width) / scale)), 0, frame.width);
    int y1 = std::clamp(static_cast<int>(std::lround((r.y + r.height) / scale)), 0, frame.height);
    if (x1 <= x0 || y1 <= y0) continue;
    FaceBox b;
    b.x = x0;
    b.y = y0;
    b.width = x1 - x0;
    b.height = y1 - y0;
    b.nx = static_cast<double>(b.x) / frame.width;
    b.ny = static_cast<double>(b.y) / frame.height;
    b.nwidth = static_cast<double>(b.width) / frame.width;
    b.nheight = static_cast<double>(b.height) / frame.height;
    b.neighbors = c.neighbors;
    b.score = c.score;
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(),
            [](const FaceBox& a, const FaceBox& b) { return a.width * a.height > b.width * b.height; });
  return out;
}

}  // namespace

Status FaceDetector::Impl::Prepare(const media::VideoFrame& frame, cv::Mat& work, double& scale) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat gray, GrayMat(frame));
  return CatchCv("prepare a frame for face detection", [&] {
    scale = 1.0;
    work = gray;  // GrayMat's own copy: equalising it in place leaves the frame alone
    if (gray.cols > options.analysis_width) {
      scale = static_cast<double>(options.analysis_width) / gray.cols;
      int h = std::max(1, static_cast<int>(std::lround(gray.rows * scale)));
      cv::resize(gray, work, cv::Size(options.analysis_width, h), 0, 0, cv::INTER_AREA);
    }
    // Evens out lighting so the cascade's contrast features see faces in
    // dim or washed-out shots (over the whole frame, so that a region
    // searched alone sees the same pixels as a full search).
    cv::equalizeHist(work, work);
  });
}

std::vector<Candidate> FaceDetector::Impl::Search(const cv::Mat& work, const cv::Rect& region, int min_side,
                                                  int max_side) {
  // Raw windows (no grouping) with their last-stage margins; grouped
  // below. With reject levels on, OpenCV's own grouping counts stages
  // instead of neighbours, so min_neighbors would filter nothing.
  std::vector<cv::Rect> rects;
  std::vector<int> levels;
  std::vector<double> weights;
  cascade.detectMultiScale(work(region), rects, levels, weights, options.scale_step, /*minNeighbors=*/0,
                           cv::CASCADE_SCALE_IMAGE, cv::Size(min_side, min_side),
                           max_side > 0 ? cv::Size(max_side, max_side) : cv::Size(), /*outputRejectLevels=*/true);
  for (auto& r : rects) r += region.tl();
  return GroupWindows(rects, weights, options.min_neighbors);
}

Result<std::vector<FaceBox>> FaceDetector::Detect(const media::VideoFrame& frame) {
  // The whole frame, faces of any size from the smallest the options allow.
  FaceSearchRegion whole;
  whole.width = frame.width;
  whole.height = frame.height;
  return DetectIn(frame, {whole});
}

FaceSearchRegion RegionAround(const FaceBox& face) {
  const double side = std::max(face.width, face.height);
  FaceSearchRegion r;
  r.min_side = static_cast<int>(std::floor(side * kNearMinSize));
  r.max_side = static_cast<int>(std::ceil(side * kNearMaxSize));
  // The region must hold the largest face looked for wherever it moved
  // within the margin.
  const double mx = std::max(face.width * kNearMargin, (r.max_side - face.width) / 2.0);
  const double my = std::max(face.height * kNearMargin, (r.max_side - face.height) / 2.0);
  r.x = static_cast<int>(std::floor(face.x - mx));
  r.y = static_cast<int>(std::floor(face.y - my));
  r.width = static_cast<int>(std::ceil(face.width + 2 * mx));
  r.height = static_cast<int>(std::ceil(face.height + 2 * my));
  return r;
}

FaceSearchRegion RegionBetween(const FaceBox& before, const FaceBox& after) {
  const FaceSearchRegion a = RegionAround(before), b = RegionAround(after);
  FaceSearchRegion r;
  r.x = std::min(a.x, b.x);
  r.y = std::min(a.y, b.y);
  r.width = std::max(a.x + a.width, b.x + b.width) - r.x;
  r.height = std::max(a.y + a.height, b.y + b.height) - r.y;
  r.min_side = std::min(a.min_side, b.min_side);
  r.max_side = std::max(a.max_side, b.max_side);
  return r;
}

std::vector<FaceSearchRegion> RegionsBetween(const std::vector<FaceBox>& before, const std::vector<FaceBox>& after) {
  std::vector<FaceSearchRegion> regions;
  std::vector<bool> paired(after.size());
  for (const FaceBox& from : before) {
    // The same face after: the nearest box of a similar size, not too far.
    int best = -1;
    double best_distance = 0;
    for (size_t k = 0; k < after.size(); ++k) {
      const FaceBox& to = after[k];
      const double ratio = static_cast<double>(std::max(to.width, 1)) / std::max(from.width, 1);
      const double distance = std::hypot((to.x + to.width / 2.0) - (from.x + from.width / 2.0),
                                         (to.y + to.height / 2.0) - (from.y + from.height / 2.0));
      if (ratio < kSameFaceMinRatio || ratio > 1 / kSameFaceMinRatio ||
          distance > kSameFaceMaxMove * std::max(from.width, to.width)) {
        continue;
      }
      if (best < 0 || distance < best_distance) {
        best = static_cast<int>(k);
        best_distance = distance;
      }
    }
    if (best >= 0) {
      paired[static_cast<size_t>(best)] = true;
      regions.push_back(RegionBetween(from, after[static_cast<size_t>(best)]));
    } else {
      regions.push_back(RegionAround(from));
    }
  }
  for (size_t k = 0; k < after.size(); ++k) {
    if (!paired[k]) regions.push_back(RegionAround(after[k]));
  }
  return regions;
}

Result<std::vector<FaceBox>> FaceDetector::DetectIn(const media::VideoFrame& frame,
                                                    const std::vector<FaceSearchRegion>& regions) {
  if (regions.empty()) return std::vector<FaceBox>();
  const FaceDetectorOptions& o = impl_->options;
  cv::Mat work;
  double scale = 1.0;
  CUTROOM_RETURN_IF_ERROR(impl_->Prepare(frame, work, scale));
  std::vector<Candidate> faces;
  CUTROOM_RETURN_IF_ERROR(CatchCv("detect faces", [&] {
    const int global_min =
        std::max(24, static_cast<int>(std::lround(std::min(work.cols, work.rows) * o.min_face_fraction)));
    const cv::Rect whole(0, 0, work.cols, work.rows);
    std::vector<Candidate> found;
    for (const FaceSearchRegion& r : regions) {
      // The cascade's own window is 24 px; a smaller minimum means nothing.
      const int min_side = std::max(global_min, static_cast<int>(std::floor(r.min_side * scale)));
      const int max_side = r.max_side > 0 ? static_cast<int>(std::ceil(r.max_side * scale)) : 0;
      if (max_side > 0 && max_side < min_side) continue;
      cv::Rect region(static_cast<int>(std::floor(r.x * scale)), static_cast<int>(std::floor(r.y * scale)),
                      static_cast<int>(std::ceil(r.width * scale)), static_cast<int>(std::ceil(r.height * scale)));
      region &= whole;
      if (region.width < min_side || region.height < min_side) continue;
      auto here = impl_->Search(work, region, min_side, max_side);
      found.insert(found.end(), here.begin(), here.end());
    }
    // Regions of faces close together overlap: one face found from both
    // is kept once (Suppress drops the weaker of two overlapping boxes).
    faces = Suppress(std::move(found), o.min_score);
    std::erase_if(faces, [&](const Candidate& c) { return !impl_->LooksLikeAFace(work, c.box); });
  }));
  return ToFrameBoxes(faces, scale, frame);
}

}  // namespace cutroom::analysis
