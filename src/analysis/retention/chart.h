// Retention charts: an SVG picture of a video's predicted and imported
// retention curves with its drop points marked (served by the API as
// image/svg+xml), and a one-line terminal sparkline with a marker line
// under it (printed by `cutroom retention VIDEO_ID`).
//
// The SVG is a self-contained SVG 1.1 document meant to be safe to open
// from an untrusted server: no scripts, no event attributes, no links or
// external references, only the generic sans-serif font. All text (title,
// drop labels) is escaped, stripped of characters XML 1.0 forbids, and
// invalid UTF-8 is replaced, so any input yields a well-formed document.
// Curves are drawn from their per-second points (curve.h); long curves are
// decimated to the min and max of each pixel column, so a polyline never
// has more than about 2000 points whatever the video's length.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/retention/curve.h"

namespace cutroom::analysis {

struct ChartDropPoint {
  double t_s = 0;
  std::string label;  // the drop's top reason; shown truncated to ~40 characters
};

struct RetentionChartInput {
  std::string title;
  double duration_s = 0;  // the time axis; <= 0: the longest curve given
  std::optional<RetentionCurve> predicted;  // solid line
  std::optional<RetentionCurve> imported;   // dashed line; may exceed 100%
  std::vector<ChartDropPoint> drops;        // times outside the axis are clamped to it, non-finite ones skipped
  int width = 960, height = 360;            // pixels, clamped to 320x200..4000x2000
};

// The chart as an SVG document: a title, a legend of the curves given,
// time ticks at a nice step (1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30
// min, 1 h...) written m:ss (h:mm:ss from an hour on), share ticks from 0
// to 100% (higher when the imported curve is, e.g. to 120%), one polyline
// per curve given, and one marker per drop point: a vertical line with a
// label in a band above the plot, labels staggered over up to four rows
// so that neighbours do not overlap. Elements carry classes for styling
// and tests: polyline.predicted, polyline.imported, g.drop.
std::string RetentionSvg(const RetentionChartInput& in);

// The curve as `width` block characters (U+2581..U+2588, UTF-8), each the
// mean share over its slice of the duration, scaled from 0 to
// max(1, highest share). An empty curve gives `width` spaces; width <= 0
// gives "".
std::string Sparkline(const RetentionCurve& c, int width = 60);

// A line of `width` characters to print under Sparkline(): '^' in the
// column whose time slice holds each drop time, spaces elsewhere.
// Times are clamped to [0, duration_s]; non-finite ones, or any time when
// duration_s <= 0, mark nothing.
std::string DropMarkers(const std::vector<double>& drop_times_s, double duration_s, int width = 60);

}  // namespace cutroom::analysis
