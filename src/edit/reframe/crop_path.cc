#include "edit/reframe/crop_path.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace cutroom::edit {
namespace {

// A face is the same person in the next sample when its centre is within
// this many face sizes (plus a little) of where the track was last seen.
constexpr double kTrackReachSizes = 1.5;
constexpr double kTrackReachMin = 0.05;  // of the frame
// A track not seen for this long is over.
constexpr double kTrackMemoryS = 3.0;
// Another face takes over at once when it outweighs the followed one this much.
constexpr double kTakeOverRatio = 2.0;
// The crop stops once this close to its target (pixels).
constexpr double kSettlePx = 2.0;
// Headroom: the face centre sits this far down the crop when it cannot
// be centred vertically.
constexpr double kFaceHeightInCrop = 0.4;

struct Point {
  double t = 0;
  double x = 0;  // wanted crop centre, source pixels
  double y = 0;
  int track = -1;
};

struct Detection {
  double t = 0;
  double cx = 0, cy = 0;  // normalised face centre
  double size = 0;        // normalised max(w, h)
  double area = 0;
  int track = -1;
};

struct Track {
  double last_t = 0;
  double cx = 0, cy = 0, size = 0;
  double weight = 0;  // summed area: size times persistence
};

int Even(double v) { return std::max(2, static_cast<int>(std::floor(v / 2)) * 2); }

// What the planner knows at each sample: where the subject is (a Point
// with track >= 0) or that it is absent (track -1).
std::vector<Point> FollowSubject(std::vector<FaceSample> samples, int W, int H, double crop_h, double hold_s) {
  std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.t_s < b.t_s; });
  // Link faces into tracks.
  std::vector<Track> tracks;
  std::vector<std::vector<Detection>> per_sample(samples.size());
  for (size_t s = 0; s < samples.size(); ++s) {
    std::vector<Detection> found;
    for (const FaceBox& b : samples[s].boxes) {
      double x0 = std::clamp(b.x, 0.0, 1.0), y0 = std::clamp(b.y, 0.0, 1.0);
      double x1 = std::clamp(b.x + b.w, 0.0, 1.0), y1 = std::clamp(b.y + b.h, 0.0, 1.0);
      if (!(x1 > x0 && y1 > y0)) continue;  // empty, inverted or not a number
      found.push_back({samples[s].t_s, (x0 + x1) / 2, (y0 + y1) / 2, std::max(x1 - x0, y1 - y0),
                       (x1 - x0) * (y1 - y0), -1});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.area > b.area; });
    std::vector<bool> used(tracks.size(), false);
    for (Detection& d : found) {
      int best = -1;
      double best_dist = std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < tracks.size(); ++k) {
        if (used[k] || d.t - tracks[k].last_t > kTrackMemoryS) continue;
        double dist = std::hypot(d.cx - tracks[k].cx, d.cy - tracks[k].cy);
        double reach = kTrackReachSizes * std::max(d.size, tracks[k].size) + kTrackReachMin;
        if (dist <= reach && dist < best_dist) {
          best = static_cast<int>(k);
          best_dist = dist;
        }
      }
      if (best < 0) {
        best = static_cast<int>(tracks.size());
        tracks.push_back({});
        used.push_back(false);
      }
      used[static_cast<size_t>(best)] = true;
      Track& t = tracks[static_cast<size_t>(best)];
      t.last_t = d.t;
      t.cx = d.cx;
      t.cy = d.cy;
      t.size = d.size;
      t.weight += d.area;
      d.track = best;
    }
    per_sample[s] = std::move(found);
  }

  // Choose the subject sample by sample, sticking with it.
  std::vector<Point> out;
  int current = -1;
  double current_seen = -std::numeric_limits<double>::infinity();
  auto to_point = [&](const Detection& d) {
    return Point{d.t, d.cx * W, d.cy * H - (kFaceHeightInCrop - 0.5) * crop_h, d.track};
  };
  for (size_t s = 0; s < samples.size(); ++s) {
    const auto& found = per_sample[s];
    const Detection* mine = nullptr;
    const Detection* heaviest = nullptr;
    for (const Detection& d : found) {
      if (d.track == current) mine = &d;
      if (!heaviest || tracks[static_cast<size_t>(d.track)].weight > tracks[static_cast<size_t>(heaviest->track)].weight) {
        heaviest = &d;
      }
    }
    const Detection* pick = nullptr;
    if (mine) {
      pick = mine;
      if (heaviest && heaviest != mine &&
          tracks[static_cast<size_t>(heaviest->track)].weight >
              kTakeOverRatio * tracks[static_cast<size_t>(current)].weight) {
        pick = heaviest;
      }
    } else if (heaviest &&
               (current < 0 || samples[s].t_s - current_seen > hold_s ||
                tracks[static_cast<size_t>(heaviest->track)].weight >
                    kTakeOverRatio * tracks[static_cast<size_t>(current)].weight)) {
      pick = heaviest;
    }
    if (pick) {
      current = pick->track;
      current_seen = pick->t;
      out.push_back(to_point(*pick));
    } else {
      out.push_back(Point{samples[s].t_s, 0, 0, -1});  // the subject is not in this frame
    }
  }
  return out;
}

class Target {
 public:
  Target(std::vector<Point> points, double centre_x, double centre_y, double hold_s)
      : points_(std::move(points)), centre_x_(centre_x), centre_y_(centre_y), hold_s_(hold_s) {}

  // The wanted crop centre at t.
  void At(double t, double* x, double* y) const {
    *x = centre_x_;
    *y = centre_y_;
    // The last sample at or before t, and the first after it.
    auto after = std::upper_bound(points_.begin(), points_.end(), t, [](double v, const Point& p) { return v < p.t; });
    const Point* prev = after == points_.begin() ? nullptr : &*std::prev(after);
    const Point* next = after == points_.end() ? nullptr : &*after;
    if (prev && prev->track >= 0) {
      *x = prev->x;
      *y = prev->y;
      if (next && next->track == prev->track) {
        double f = (t - prev->t) / (next->t - prev->t);
        *x = prev->x + f * (next->x - prev->x);
        *y = prev->y + f * (next->y - prev->y);
      }
      return;
    }
    if (prev) {
      // Absent at prev: hold the last sighting for hold_s from the first
      // sample that missed it, then the centre.
      auto missing = std::make_reverse_iterator(after);
      while (missing != points_.rend() && missing->track < 0) ++missing;
      if (missing == points_.rend()) return;  // never seen yet: centred
      const Point& seen = *missing;
      const Point& first_missing = *std::prev(missing);
      if (t - first_missing.t <= hold_s_) {
        *x = seen.x;
        *y = seen.y;
      }
      return;
    }
    // Before the first sample: the first one's answer, when it sees a face.
    if (next && next->track >= 0) {
      *x = next->x;
      *y = next->y;
    }
  }

 private:
  std::vector<Point> points_;
  double centre_x_, centre_y_;
  double hold_s_;
};

// One axis of the virtual camera: dead zone, ease-in, ease-out, speed cap.
class Axis {
 public:
  Axis(double position, double lo, double hi, double dead_half, const ReframeOptions& o, double max_speed)
      : pos_(std::clamp(position, lo, hi)), lo_(lo), hi_(hi), dead_half_(dead_half), o_(o), max_speed_(max_speed) {}

  double Step(double target, double dt) {
    target = std::clamp(target, lo_, hi_);
    double gap = target - pos_;
    if (!moving_ && std::abs(gap) > dead_half_) moving_ = true;
    if (moving_ && std::abs(gap) <= kSettlePx) {
      // Close enough: land on the target (a pixel or two) and stop.
      moving_ = false;
      speed_ = 0;
      pos_ = target;
      return pos_;
    }
    double want = 0;
    if (moving_) {
      want = o_.smoothing_s > 0 ? gap / o_.smoothing_s : gap / dt;
      want = std::clamp(want, -max_speed_, max_speed_);
    }
    // Speeding up is limited (ease-in); slowing down and stopping are not,
    // so the crop never overshoots its target.
    double accel = o_.ease_in_s > 0 ? max_speed_ / o_.ease_in_s * dt : std::numeric_limits<double>::infinity();
    double base = (want >= 0) == (speed_ >= 0) ? std::abs(speed_) : 0.0;
    if (std::abs(want) > base + accel) want = std::copysign(base + accel, want);
    speed_ = want;
    double step = std::clamp(speed_ * dt, -max_speed_ * dt, max_speed_ * dt);
    if (std::abs(step) > std::abs(gap) && moving_) step = gap;  // arrive, do not pass
    pos_ = std::clamp(pos_ + step, lo_, hi_);
    return pos_;
  }

  double position() const { return pos_; }

 private:
  double pos_;
  double lo_, hi_;
  double dead_half_;
  const ReframeOptions& o_;
  double max_speed_;
  double speed_ = 0;
  bool moving_ = false;
};

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

Status ValidateReframeOptions(const ReframeOptions& o) {
  if (o.source_width <= 0 || o.source_height <= 0 || o.source_width > 16384 || o.source_height > 16384) {
    return Status::InvalidArgument("source_width and source_height must be between 1 and 16384");
  }
  if (o.crop_width < 0 || o.crop_height < 0 || o.crop_width > o.source_width || o.crop_height > o.source_height) {
    return Status::InvalidArgument("crop_width and crop_height must fit in the source (" +
                                   std::to_string(o.source_width) + "x" + std::to_string(o.source_height) + ")");
  }
  if ((o.crop_width == 0) != (o.crop_height == 0)) {
    return Status::InvalidArgument("crop_width and crop_height must both be set, or both be 0 for 9:16");
  }
  if (!Finite(o.duration_s) || o.duration_s < 0 || o.duration_s > 86400) {
    return Status::InvalidArgument("duration_s must be between 0 and 86400");
  }
  if (!Finite(o.key_rate) || o.key_rate <= 0 || o.key_rate > 120) {
    return Status::InvalidArgument("key_rate must be above 0 and at most 120 keys per second");
  }
  if (!Finite(o.max_pan_px_per_s) || o.max_pan_px_per_s < 0) {
    return Status::InvalidArgument("max_pan_px_per_s must be >= 0 (0: a quarter of the width per second)");
  }
  if (!Finite(o.dead_zone) || o.dead_zone < 0 || o.dead_zone >= 1) {
    return Status::InvalidArgument("dead_zone must be in [0, 1)");
  }
  if (!Finite(o.smoothing_s) || o.smoothing_s < 0 || !Finite(o.ease_in_s) || o.ease_in_s < 0 || !Finite(o.hold_s) ||
      o.hold_s < 0) {
    return Status::InvalidArgument("smoothing_s, ease_in_s and hold_s must be >= 0");
  }
  return Status::Ok();
}

void ResolveCropSize(const ReframeOptions& o, int* width, int* height) {
  if (o.crop_width > 0 && o.crop_height > 0) {
    *width = o.crop_width;
    *height = o.crop_height;
    return;
  }
  // The widest 9:16 window that fits.
  if (o.source_height * 9.0 / 16.0 <= o.source_width) {
    *height = o.source_height;
    *width = std::min(o.source_width, Even(o.source_height * 9.0 / 16.0));
  } else {
    *width = o.source_width;
    *height = std::min(o.source_height, Even(o.source_width * 16.0 / 9.0));
  }
}

std::vector<CropKey> PlanCropPath(const std::vector<FaceSample>& samples, const ReframeOptions& o) {
  if (!ValidateReframeOptions(o).ok()) return {};
  int cw = 0, ch = 0;
  ResolveCropSize(o, &cw, &ch);
  const int W = o.source_width, H = o.source_height;
  const double max_speed = o.max_pan_px_per_s > 0 ? o.max_pan_px_per_s : 0.25 * W;
  // Crop centres that keep the crop inside the frame.
  const double lo_x = cw / 2.0, hi_x = W - cw / 2.0;
  const double lo_y = ch / 2.0, hi_y = H - ch / 2.0;
  Target target(FollowSubject(samples, W, H, ch, o.hold_s), W / 2.0, H / 2.0, o.hold_s);

  double x0 = 0, y0 = 0;
  target.At(0, &x0, &y0);
  Axis ax(x0, lo_x, hi_x, o.dead_zone * cw / 2, o, max_speed);
  Axis ay(y0, lo_y, hi_y, o.dead_zone * ch / 2, o, max_speed);

  std::vector<CropKey> keys;
  const double dt = 1.0 / o.key_rate;
  auto emit = [&](double t) {
    int x = static_cast<int>(std::lround(ax.position() - cw / 2.0));
    int y = static_cast<int>(std::lround(ay.position() - ch / 2.0));
    if (!keys.empty()) {
      // Rounding must not add speed either: the renderer moves between
      // these integer positions. (Below one pixel per key, one pixel.)
      int limit = std::max(1, static_cast<int>(std::floor(max_speed * (t - keys.back().t_s) + 1e-9)));
      x = std::clamp(x, keys.back().x - limit, keys.back().x + limit);
      y = std::clamp(y, keys.back().y - limit, keys.back().y + limit);
    }
    keys.push_back({t, std::clamp(x, 0, W - cw), std::clamp(y, 0, H - ch)});
  };
  emit(0);
  for (int64_t k = 1;; ++k) {
    double t = std::min(static_cast<double>(k) * dt, o.duration_s);
    double step = t - keys.back().t_s;
    if (step <= 1e-9) break;
    double tx = 0, ty = 0;
    target.At(t, &tx, &ty);
    ax.Step(tx, step);
    ay.Step(ty, step);
    emit(t);
    if (t >= o.duration_s) break;
  }
  return keys;
}

}  // namespace cutroom::edit
