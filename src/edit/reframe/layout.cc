#include "edit/reframe/layout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace cutroom::edit {
namespace {

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Of(int n, int total, const char* what) {
  return std::to_string(n) + " of " + std::to_string(total) + " " + what;
}

bool Share(int n, int total, double share) { return total > 0 && n >= share * total; }

}  // namespace

const char* SceneLayoutName(SceneLayout layout) {
  switch (layout) {
    case SceneLayout::kFace: return "face";
    case SceneLayout::kCenter: return "center";
    case SceneLayout::kFit: return "fit";
  }
  return "fit";
}

MotionWindow BestMotionWindow(const std::vector<double>& profile, double window) {
  MotionWindow best;
  const double total = std::accumulate(profile.begin(), profile.end(), 0.0);
  if (profile.empty() || !(total > 0)) return best;
  const size_t n = profile.size();
  const size_t k = std::clamp<size_t>(static_cast<size_t>(std::lround(std::clamp(window, 0.0, 1.0) * n)), 1, n);
  double sum = std::accumulate(profile.begin(), profile.begin() + static_cast<std::ptrdiff_t>(k), 0.0);
  double best_sum = sum;
  size_t best_start = 0;
  for (size_t start = 1; start + k <= n; ++start) {
    sum += profile[start + k - 1] - profile[start - 1];
    if (sum > best_sum) {
      best_sum = sum;
      best_start = start;
    }
  }
  best.center = (static_cast<double>(best_start) + static_cast<double>(k) / 2) / static_cast<double>(n);
  best.share = best_sum / total;
  return best;
}

LayoutChoice ChooseSceneLayout(const SceneEvidence& e, double window) {
  LayoutChoice c;
  const std::string motion = e.motion >= 0 ? "motion " + Fixed(e.motion, 3) : "motion unknown";
  if (Share(e.with_big_face, e.face_frames, kFaceShare)) {
    c.layout = SceneLayout::kFace;
    c.why = "a face at least " + Fixed(kBigFaceHeight * 100, 0) + "% of the frame tall in " +
            Of(e.with_big_face, e.face_frames, "sampled frames");
    return c;
  }
  const bool still = e.motion >= 0 && e.motion <= kStillMotion;
  if (Share(e.with_text, e.text_frames, kTextShare) && still) {
    c.layout = SceneLayout::kFit;
    c.why = "text in " + Of(e.with_text, e.text_frames, "frames read") + ", " + motion + ": a slide or screen";
    return c;
  }
  if (Share(e.with_face, e.face_frames, kFaceShare)) {
    c.layout = SceneLayout::kFace;
    c.why = "a face in " + Of(e.with_face, e.face_frames, "sampled frames");
    return c;
  }
  const std::string faces = e.face_frames > 0 ? "no face (" + Of(e.with_face, e.face_frames, "frames") + ")" : "no faces sampled";
  if (e.motion < 0 || still) {
    c.layout = SceneLayout::kFit;
    c.why = faces + ", " + motion + ": nothing for a crop to follow, the whole picture kept";
    return c;
  }
  const MotionWindow w = BestMotionWindow(e.motion_profile, window);
  if (w.share >= kCropMotionShare) {
    c.layout = SceneLayout::kCenter;
    c.center = w.center;
    c.why = faces + ", " + motion + ": the crop at " + Fixed(w.center * 100, 0) + "% holds " +
            Fixed(w.share * 100, 0) + "% of the motion";
  } else {
    c.layout = SceneLayout::kFit;
    c.why = faces + ", " + motion + ": motion spread wide, a crop would hold only " + Fixed(w.share * 100, 0) +
            "% of it";
  }
  return c;
}

}  // namespace cutroom::edit
