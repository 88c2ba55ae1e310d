#include "analysis/retention/chart.h"

#include "core/utf8.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace cutroom::analysis {
namespace {

// ---- Curve points -------------------------------------------------------

// A share as drawn: a NaN or infinity from a bad import must not reach a
// polyline (one "nan" makes renderers drop the whole line).
double Clean(double v) { return std::isfinite(v) ? std::max(0.0, v) : 0.0; }

// share[i] is at t = i, except the last point, which is at the end of the
// media (curve.h).
double PointTime(const RetentionCurve& c, size_t i) {
  if (i + 1 == c.share.size() && c.duration_s > 0) return c.duration_s;
  return static_cast<double>(i);
}

double CurveEnd(const RetentionCurve& c) {
  if (c.share.empty()) return 0;
  return c.duration_s > 0 ? c.duration_s : PointTime(c, c.share.size() - 1);
}

// Linear between points, clamped to the ends, like RetentionCurve::At; kept
// here on the same point times as the drawing so the two always agree.
double ShareAt(const RetentionCurve& c, double t) {
  const size_t n = c.share.size();
  if (n == 0) return 0;
  if (n == 1 || t <= PointTime(c, 0)) return Clean(c.share[0]);
  if (t >= PointTime(c, n - 1)) return Clean(c.share[n - 1]);
  size_t i = std::min(n - 2, static_cast<size_t>(std::max(0.0, std::floor(t))));
  while (i > 0 && PointTime(c, i) > t) --i;
  while (i + 2 < n && PointTime(c, i + 1) < t) ++i;
  double t0 = PointTime(c, i), t1 = PointTime(c, i + 1);
  double v0 = Clean(c.share[i]), v1 = Clean(c.share[i + 1]);
  return t1 > t0 ? v0 + (v1 - v0) * (t - t0) / (t1 - t0) : v1;
}

// The mean share over [a, b]: the exact integral of the piecewise-linear
// curve, so a bucket narrower than a second (a short video on a wide
// sparkline) and one spanning minutes are treated alike.
double MeanOver(const RetentionCurve& c, double a, double b) {
  const size_t n = c.share.size();
  if (n == 0) return 0;
  if (n == 1 || b <= a) return ShareAt(c, a);
  const double first = PointTime(c, 0), last = PointTime(c, n - 1);
  double area = 0;
  if (a < first) area += Clean(c.share[0]) * (std::min(b, first) - a);
  if (b > last) area += Clean(c.share[n - 1]) * (b - std::max(a, last));
  size_t i = static_cast<size_t>(std::clamp(std::floor(a) - 1, 0.0, static_cast<double>(n - 1)));
  for (; i + 1 < n && PointTime(c, i) < b; ++i) {
    double lo = std::max(a, PointTime(c, i)), hi = std::min(b, PointTime(c, i + 1));
    if (hi > lo) area += (ShareAt(c, lo) + ShareAt(c, hi)) / 2 * (hi - lo);
  }
  return area / (b - a);
}

double MaxShare(const RetentionCurve& c) {
  double m = 0;
  for (double v : c.share) m = std::max(m, Clean(v));
  return m;
}

// ---- Text ---------------------------------------------------------------

// Decodes UTF-8 into code points, replacing malformed sequences (overlong,
// surrogates, truncated) with U+FFFD: titles and reasons come from users
// and LLMs, and one bad byte would make the whole document unparsable.
std::vector<uint32_t> DecodeUtf8(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) out.push_back(NextCodePoint(s, i));
  return out;
}

// One line of text that XML 1.0 accepts, at most max_chars code points
// (the last one an ellipsis when cut).
std::string CleanText(const std::string& s, size_t max_chars) {
  std::vector<uint32_t> cps;
  for (uint32_t cp : DecodeUtf8(s)) {
    if (cp == '\t' || cp == '\n' || cp == '\r') cp = ' ';
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x7F && cp < 0xA0)) continue;
    if (cp == ' ' && (cps.empty() || cps.back() == ' ')) continue;
    cps.push_back(cp);
  }
  while (!cps.empty() && cps.back() == ' ') cps.pop_back();
  if (cps.size() > max_chars && max_chars > 0) {
    cps.resize(max_chars - 1);
    while (!cps.empty() && cps.back() == ' ') cps.pop_back();
    cps.push_back(0x2026);
  }
  std::string out;
  for (uint32_t cp : cps) AppendUtf8(out, cp);
  return out;
}

size_t CodePoints(const std::string& utf8) {
  size_t n = 0;
  for (char ch : utf8) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// Both quote kinds are escaped so the result is safe in text and in either
// kind of attribute.
std::string Xml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return std::string(buf) == "-0.0" ? "0.0" : buf;
}

// m:ss, or h:mm:ss from an hour on (a 3-hour stream reads 2:30:00, not
// 150:00).
std::string Clock(double t_s) {
  long total = std::lround(std::max(0.0, t_s));
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
  }
  return buf;
}

// ---- Layout -------------------------------------------------------------

constexpr const char* kPredictedColor = "#2563eb";
constexpr const char* kImportedColor = "#ea580c";
constexpr const char* kDropColor = "#dc2626";
constexpr const char* kTextColor = "#1f2937";
constexpr const char* kMutedColor = "#6b7280";
constexpr const char* kGridColor = "#e5e7eb";

constexpr size_t kLabelChars = 40;
constexpr int kLabelRows = 4;
constexpr double kLabelRowHeight = 13;
constexpr double kLabelFontSize = 10;
// Average advance of the generic sans-serif font per character, as a share
// of the font size: an estimate (the font is the viewer's), used only to
// keep labels apart and size their backgrounds.
constexpr double kCharWidth = 0.58;
constexpr double kBoldCharWidth = 0.64;
// Each polyline keeps the min and max of at most this many columns, so it
// stays under 2000 points at any chart width.
constexpr int kMaxColumns = 990;

struct Plot {
  double left = 0, right = 0, top = 0, bottom = 0;
  double duration_s = 1;
  double y_max = 1;  // the share at the top edge

  double X(double t) const { return left + std::clamp(t / duration_s, 0.0, 1.0) * (right - left); }
  double Y(double share) const { return bottom - std::clamp(share / y_max, 0.0, 1.0) * (bottom - top); }
};

// The smallest nice step that gives at most max_ticks intervals.
double TimeStep(double duration_s, int max_ticks) {
  static constexpr std::array<double, 17> kSteps = {1,   2,    5,    10,   15,    30,    60,    120,  300,
                                                    600, 900,  1800, 3600, 7200,  10800, 21600, 43200};
  for (double s : kSteps) {
    if (duration_s / s <= max_ticks) return s;
  }
  return 86400 * std::ceil(duration_s / 86400 / max_ticks);
}

// The top of the share axis and its tick step: 100% unless a curve goes
// higher (imports count re-watches), then the next step above it.
std::pair<double, double> ShareAxis(double max_share) {
  max_share = std::min(max_share, 10.0);  // beyond 1000% is a broken import; clip it rather than squash the chart
  static constexpr std::array<double, 5> kSteps = {0.2, 0.25, 0.5, 1.0, 2.0};
  double step = kSteps.back();
  for (double s : kSteps) {
    if (std::max(1.0, max_share) / s <= 7) {
      step = s;
      break;
    }
  }
  double top = std::max(1.0, std::ceil(max_share / step - 1e-9) * step);
  return {top, step};
}

struct Point {
  double x = 0, y = 0;
};

std::vector<Point> CurvePoints(const RetentionCurve& c, const Plot& plot) {
  std::vector<Point> pts;
  for (size_t i = 0; i < c.share.size(); ++i) {
    double t = PointTime(c, i);
    if (t > plot.duration_s + 1e-9) {
      // A curve longer than the axis ends where the axis does.
      if (i > 0) pts.push_back({plot.X(plot.duration_s), plot.Y(ShareAt(c, plot.duration_s))});
      break;
    }
    pts.push_back({plot.X(t), plot.Y(Clean(c.share[i]))});
  }
  return pts;
}

// Keeps the highest and lowest point of each pixel column (in their order)
// so peaks and dips survive, plus the two ends.
std::vector<Point> Decimate(const std::vector<Point>& pts, const Plot& plot) {
  const int columns = std::clamp(static_cast<int>(plot.right - plot.left), 1, kMaxColumns);
  if (pts.size() <= static_cast<size_t>(2 * columns)) return pts;
  std::vector<int> lo(columns, -1), hi(columns, -1);
  for (size_t i = 0; i < pts.size(); ++i) {
    int col = std::clamp(static_cast<int>((pts[i].x - plot.left) / (plot.right - plot.left) * columns), 0, columns - 1);
    if (lo[col] < 0 || pts[i].y > pts[lo[col]].y) lo[col] = static_cast<int>(i);
    if (hi[col] < 0 || pts[i].y < pts[hi[col]].y) hi[col] = static_cast<int>(i);
  }
  std::vector<size_t> keep = {0};
  for (int col = 0; col < columns; ++col) {
    if (lo[col] < 0) continue;
    keep.push_back(static_cast<size_t>(std::min(lo[col], hi[col])));
    keep.push_back(static_cast<size_t>(std::max(lo[col], hi[col])));
  }
  keep.push_back(pts.size() - 1);
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  std::vector<Point> out;
  out.reserve(keep.size());
  for (size_t i : keep) out.push_back(pts[i]);
  return out;
}

std::string Polyline(const RetentionCurve& c, const Plot& plot, const char* cls, const char* color,
                     const char* extra) {
  std::string points;
  for (const Point& p : Decimate(CurvePoints(c, plot), plot)) {
    if (!points.empty()) points += ' ';
    points += Num(p.x) + "," + Num(p.y);
  }
  return std::string("<polyline class=\"") + cls + "\" fill=\"none\" stroke=\"" + color +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\"" + extra + " points=\"" + points + "\"/>\n";
}

struct DropLayout {
  double t_s = 0;
  double x = 0;
  std::string text;   // cleaned, not yet escaped; empty when no row had room
  std::string full;   // for the tooltip
  int row = -1;
  bool anchor_end = false;
  double text_left = 0, text_width = 0;
};

// Places each label in the first of kLabelRows rows where it clears the
// previous label, beside its marker (left of it near the right edge). A
// label that fits no row is left off; its marker keeps a tooltip.
std::vector<DropLayout> LayoutDrops(const std::vector<ChartDropPoint>& drops, double left, double right,
                                    double duration_s) {
  std::vector<DropLayout> out;
  for (const auto& d : drops) {
    if (!std::isfinite(d.t_s)) continue;
    DropLayout l;
    l.t_s = std::clamp(d.t_s, 0.0, duration_s);
    l.x = left + l.t_s / duration_s * (right - left);
    l.text = CleanText(d.label, kLabelChars);
    l.full = CleanText(d.label, 300);
    out.push_back(std::move(l));
  }
  std::stable_sort(out.begin(), out.end(), [](const DropLayout& a, const DropLayout& b) { return a.x < b.x; });
  std::array<double, kLabelRows> row_end;
  row_end.fill(-1e9);
  constexpr double kGap = 8;
  for (auto& l : out) {
    if (l.text.empty()) continue;
    l.text_width = static_cast<double>(CodePoints(l.text)) * kLabelFontSize * kCharWidth;
    l.anchor_end = l.x + 3 + l.text_width > right;
    l.text_left = l.anchor_end ? l.x - 3 - l.text_width : l.x + 3;
    for (int r = 0; r < kLabelRows; ++r) {
      if (row_end[r] + kGap <= l.text_left) {
        l.row = r;
        row_end[r] = l.text_left + l.text_width;
        break;
      }
    }
    if (l.row < 0) l.text.clear();
  }
  return out;
}

}  // namespace

std::string RetentionSvg(const RetentionChartInput& in) {
  const int width = std::clamp(in.width, 320, 4000);
  const int height = std::clamp(in.height, 200, 2000);

  Plot plot;
  double duration = std::isfinite(in.duration_s) && in.duration_s > 0 ? in.duration_s : 0;
  if (duration <= 0) {
    if (in.predicted) duration = std::max(duration, CurveEnd(*in.predicted));
    if (in.imported) duration = std::max(duration, CurveEnd(*in.imported));
  }
  plot.duration_s = duration > 0 ? duration : 1;
  double max_share = 1;
  if (in.predicted) max_share = std::max(max_share, MaxShare(*in.predicted));
  if (in.imported) max_share = std::max(max_share, MaxShare(*in.imported));
  auto [y_max, y_step] = ShareAxis(max_share);
  plot.y_max = y_max;
  plot.left = 52;
  plot.right = width - 20;

  auto drops = LayoutDrops(in.drops, plot.left, plot.right, plot.duration_s);
  int rows = 0;
  for (const auto& d : drops) rows = std::max(rows, d.row + 1);
  // The label band sits between the title and the plot, row 0 nearest the
  // plot: most labels are in row 0 and their markers cross no text.
  const double band_top = 40;
  plot.top = band_top + rows * kLabelRowHeight + (rows > 0 ? 8 : 4);
  plot.bottom = height - 34;
  auto row_baseline = [&](int row) { return plot.top - 8 - row * kLabelRowHeight - 2; };

  std::string s;
  s.reserve(64 * 1024);
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::string title = CleanText(in.title, 200);
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(width) +
       "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
       std::to_string(height) + "\" font-family=\"sans-serif\">\n";
  s += "<title>" + Xml(title.empty() ? "Retention" : title) + "</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";

  // Legend first (right-aligned), so the title knows how much room is left.
  struct LegendItem {
    const char* name;
    const char* color;
    const char* dash;
  };
  std::vector<LegendItem> legend;
  if (in.predicted) legend.push_back({"Predicted", kPredictedColor, ""});
  if (in.imported) legend.push_back({"Imported", kImportedColor, " stroke-dasharray=\"6 4\""});
  if (!in.drops.empty()) legend.push_back({"Drop", kDropColor, " stroke-dasharray=\"3 3\""});
  constexpr double kLegendFont = 12;
  double legend_width = 0;
  for (const auto& item : legend) {
    legend_width += 22 + 5 + std::char_traits<char>::length(item.name) * kLegendFont * kCharWidth + 14;
  }
  double lx = width - 20 - legend_width;
  s += "<g class=\"legend\" font-size=\"" + Num(kLegendFont) + "\" fill=\"" + kTextColor + "\">\n";
  for (const auto& item : legend) {
    s += std::string("<line x1=\"") + Num(lx) + "\" y1=\"20.0\" x2=\"" + Num(lx + 22) + "\" y2=\"20.0\" stroke=\"" +
         item.color + "\" stroke-width=\"2\"" + item.dash + "/>\n";
    s += "<text x=\"" + Num(lx + 27) + "\" y=\"24.0\">" + item.name + "</text>\n";
    lx += 22 + 5 + std::char_traits<char>::length(item.name) * kLegendFont * kCharWidth + 14;
  }
  s += "</g>\n";

  constexpr double kTitleFont = 15;
  double title_room = width - 20 - legend_width - 12 - 24;
  size_t title_chars = static_cast<size_t>(std::max(8.0, title_room / (kTitleFont * kBoldCharWidth)));
  s += "<text class=\"title\" x=\"12.0\" y=\"25.0\" font-size=\"" + Num(kTitleFont) +
       "\" font-weight=\"bold\" fill=\"" + kTextColor + "\">" + Xml(CleanText(in.title, title_chars)) + "</text>\n";

  // Grid and axes.
  s += std::string("<g class=\"axes\" font-size=\"11\" fill=\"") + kMutedColor + "\">\n";
  for (int k = 0; k * y_step <= y_max + 1e-9; ++k) {
    double share = k * y_step;
    double y = plot.Y(share);
    bool full = std::abs(share - 1.0) < 1e-9 && y_max > 1;
    s += "<line x1=\"" + Num(plot.left) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(plot.right) + "\" y2=\"" + Num(y) +
         "\" stroke=\"" + (full ? "#9ca3af" : kGridColor) + "\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + Num(plot.left - 6) + "\" y=\"" + Num(y + 4) + "\" text-anchor=\"end\">" +
         std::to_string(std::lround(share * 100)) + "%</text>\n";
  }
  double step = TimeStep(plot.duration_s, std::max(2, static_cast<int>((plot.right - plot.left) / 64)));
  for (int k = 0; k * step <= plot.duration_s + 1e-9; ++k) {
    double x = plot.X(k * step);
    s += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(plot.top) + "\" x2=\"" + Num(x) + "\" y2=\"" + Num(plot.bottom) +
         "\" stroke=\"" + kGridColor + "\" stroke-width=\"1\"/>\n";
    s += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(plot.bottom) + "\" x2=\"" + Num(x) + "\" y2=\"" +
         Num(plot.bottom + 4) + "\" stroke=\"" + kMutedColor + "\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + Num(x) + "\" y=\"" + Num(plot.bottom + 17) + "\" text-anchor=\"middle\">" +
         Clock(k * step) + "</text>\n";
  }
  s += "<polyline fill=\"none\" stroke=\"" + std::string(kMutedColor) + "\" stroke-width=\"1\" points=\"" +
       Num(plot.left) + "," + Num(plot.top) + " " + Num(plot.left) + "," + Num(plot.bottom) + " " +
       Num(plot.right) + "," + Num(plot.bottom) + "\" class=\"axis\"/>\n";
  s += "</g>\n";

  // Drop markers under the curves, so the curves stay readable where they
  // cross; each carries a tooltip with its time and untruncated reason.
  const RetentionCurve* on_curve = in.predicted ? &*in.predicted : in.imported ? &*in.imported : nullptr;
  for (const auto& d : drops) {
    double top = d.row >= 0 ? row_baseline(d.row) - 9 : plot.top;
    s += "<g class=\"drop\">\n<title>" + Xml(Clock(d.t_s) + (d.full.empty() ? "" : " " + d.full)) + "</title>\n";
    s += "<line x1=\"" + Num(d.x) + "\" y1=\"" + Num(top) + "\" x2=\"" + Num(d.x) + "\" y2=\"" + Num(plot.bottom) +
         "\" stroke=\"" + kDropColor + "\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
    s += "</g>\n";
  }

  if (in.imported && !in.imported->share.empty()) {
    s += Polyline(*in.imported, plot, "imported", kImportedColor, " stroke-dasharray=\"6 4\"");
  }
  if (in.predicted && !in.predicted->share.empty()) {
    s += Polyline(*in.predicted, plot, "predicted", kPredictedColor, "");
  }
  // A dot where each drop meets the curve, above the lines so it shows.
  if (on_curve && !on_curve->share.empty()) {
    s += std::string("<g class=\"drop-dots\" fill=\"") + kDropColor + "\" stroke=\"#ffffff\" stroke-width=\"1\">\n";
    for (const auto& d : drops) {
      s += "<circle cx=\"" + Num(d.x) + "\" cy=\"" + Num(plot.Y(ShareAt(*on_curve, d.t_s))) + "\" r=\"3.5\"/>\n";
    }
    s += "</g>\n";
  }
  if (!in.predicted && !in.imported) {
    s += "<text x=\"" + Num((plot.left + plot.right) / 2) + "\" y=\"" + Num((plot.top + plot.bottom) / 2) +
         "\" text-anchor=\"middle\" font-size=\"13\" fill=\"" + kMutedColor + "\">No retention data</text>\n";
  }

  // Labels last, on a white backing: a staggered marker line may pass
  // behind a label of an earlier row.
  s += "<g class=\"drop-labels\" font-size=\"" + Num(kLabelFontSize) + "\" fill=\"#7f1d1d\">\n";
  for (const auto& d : drops) {
    if (d.text.empty()) continue;
    double y = row_baseline(d.row);
    s += "<rect x=\"" + Num(d.text_left - 2) + "\" y=\"" + Num(y - 9) + "\" width=\"" + Num(d.text_width + 4) +
         "\" height=\"12.0\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n";
    s += "<text x=\"" + Num(d.anchor_end ? d.x - 3 : d.x + 3) + "\" y=\"" + Num(y) + "\"" +
         (d.anchor_end ? " text-anchor=\"end\"" : "") + ">" + Xml(d.text) + "</text>\n";
  }
  s += "</g>\n";
  s += "</svg>\n";
  return s;
}

std::string Sparkline(const RetentionCurve& c, int width) {
  if (width <= 0) return "";
  if (c.share.empty()) return std::string(static_cast<size_t>(width), ' ');
  static constexpr std::array<const char*, 8> kBlocks = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                         "\u2585", "\u2586", "\u2587", "\u2588"};
  const double end = CurveEnd(c);
  const double scale = std::max(1.0, MaxShare(c));
  std::string out;
  for (int k = 0; k < width; ++k) {
    double mean = end > 0 ? MeanOver(c, end * k / width, end * (k + 1) / width) : Clean(c.share[0]);
    int level = std::clamp(static_cast<int>(std::floor(mean / scale * 8)), 0, 7);
    out += kBlocks[level];
  }
  return out;
}

std::string DropMarkers(const std::vector<double>& drop_times_s, double duration_s, int width) {
  if (width <= 0) return "";
  std::string out(static_cast<size_t>(width), ' ');
  if (!(duration_s > 0) || !std::isfinite(duration_s)) return out;
  for (double t : drop_times_s) {
    if (!std::isfinite(t)) continue;
    // The same slices as Sparkline: column k holds [k, k+1) * duration / width.
    int col = static_cast<int>(std::floor(std::clamp(t, 0.0, duration_s) / duration_s * width));
    out[static_cast<size_t>(std::clamp(col, 0, width - 1))] = '^';
  }
  return out;
}

}  // namespace cutroom::analysis
