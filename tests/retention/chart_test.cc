// The retention chart read back by libxml2 (structure, plot bounds,
// escaping, the polyline budget on long videos) and the CLI sparkline and
// drop-marker line, column by column.
#include "analysis/retention/chart.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

namespace cutroom::analysis {
namespace {

// ---- Curves ---------------------------------------------------------------

// A curve sampled from f at whole seconds and at the end.
template <typename F>
RetentionCurve Curve(double duration_s, F f) {
  RetentionCurve c;
  c.duration_s = duration_s;
  for (int i = 0; i < duration_s; ++i) c.share.push_back(f(static_cast<double>(i)));
  c.share.push_back(f(duration_s));
  return c;
}

RetentionCurve Decaying(double duration_s) {
  return Curve(duration_s, [&](double t) { return 0.35 + 0.65 * std::exp(-t / (duration_s / 4)); });
}

// ---- XML ------------------------------------------------------------------

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

XmlDoc Parse(const std::string& text) {
  return XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "chart.svg", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

std::string Prop(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

std::string Text(xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  std::string out = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return out;
}

bool Is(xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, reinterpret_cast<const xmlChar*>(name));
}

void Elements(xmlNode* node, std::vector<xmlNode*>& out) {
  for (xmlNode* c = node ? node->children : nullptr; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    out.push_back(c);
    Elements(c, out);
  }
}

struct Svg {
  std::string text;
  XmlDoc doc;
  xmlNode* root = nullptr;
  std::vector<xmlNode*> all;  // every element below the root, in document order

  std::vector<xmlNode*> Named(const char* name, const std::string& cls = "") const {
    std::vector<xmlNode*> out;
    for (xmlNode* n : all) {
      if (Is(n, name) && (cls.empty() || Prop(n, "class") == cls)) out.push_back(n);
    }
    return out;
  }
};

Svg Render(const RetentionChartInput& in) {
  Svg svg;
  svg.text = RetentionSvg(in);
  svg.doc = Parse(svg.text);
  if (!svg.doc) {
    ADD_FAILURE() << "not well-formed XML:\n" << svg.text.substr(0, 2000);
    return svg;
  }
  svg.root = xmlDocGetRootElement(svg.doc.get());
  Elements(svg.root, svg.all);
  return svg;
}

struct Xy {
  double x = 0, y = 0;
};

std::vector<Xy> Points(xmlNode* polyline) {
  std::vector<Xy> out;
  std::istringstream in(Prop(polyline, "points"));
  std::string pair;
  while (in >> pair) {
    size_t comma = pair.find(',');
    out.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return out;
}

struct Box {
  double left = 0, top = 0, right = 0, bottom = 0;
};

// The plot area from the axis polyline: (left, top) (left, bottom) (right, bottom).
Box PlotArea(const Svg& svg) {
  auto axis = svg.Named("polyline", "axis");
  if (axis.size() != 1) {
    ADD_FAILURE() << "expected one axis polyline, got " << axis.size();
    return {};
  }
  auto p = Points(axis[0]);
  if (p.size() != 3) {
    ADD_FAILURE() << "axis polyline has " << p.size() << " points";
    return {};
  }
  return {p[0].x, p[0].y, p[2].x, p[1].y};
}

std::set<std::string> Texts(const Svg& svg) {
  std::set<std::string> out;
  for (xmlNode* n : svg.Named("text")) out.insert(Text(n));
  return out;
}

size_t CodePoints(const std::string& utf8) {
  size_t n = 0;
  for (char ch : utf8) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// Every number in a coordinate attribute has exactly one decimal.
bool OneDecimal(const std::string& number) {
  size_t dot = number.find('.');
  return dot != std::string::npos && dot + 2 == number.size();
}

RetentionChartInput FullInput() {
  RetentionChartInput in;
  in.title = "Why we ship on Fridays — talk";
  in.duration_s = 425.5;
  in.predicted = Decaying(425.5);
  in.imported = Curve(425.5, [](double t) { return 0.3 + 0.65 * std::exp(-t / 90) + 0.05 * std::cos(t / 20); });
  in.drops = {{12, "Long intro before the hook"},
              {14, "Silence of 3.2 s"},
              {95, "Slide without speech for 20 s"},
              {230, "Topic change: pricing"},
              {236, "Filler words cluster (um, uh, like)"},
              {240, "Off-screen speaker"},
              {420, "Outro"}};
  return in;
}

// ---- RetentionSvg ---------------------------------------------------------

TEST(RetentionSvg, ParsesAsSvgWithOnePolylinePerCurveGiven) {
  for (int mask = 0; mask < 4; ++mask) {
    RetentionChartInput in = FullInput();
    if (!(mask & 1)) in.predicted.reset();
    if (!(mask & 2)) in.imported.reset();
    Svg svg = Render(in);
    ASSERT_NE(svg.root, nullptr);
    EXPECT_TRUE(Is(svg.root, "svg"));
    EXPECT_EQ(Prop(svg.root, "version"), "1.1");
    EXPECT_EQ(svg.Named("polyline", "predicted").size(), (mask & 1) ? 1u : 0u) << mask;
    EXPECT_EQ(svg.Named("polyline", "imported").size(), (mask & 2) ? 1u : 0u) << mask;
    auto texts = Texts(svg);
    EXPECT_EQ(texts.count("Predicted"), (mask & 1) ? 1u : 0u);
    EXPECT_EQ(texts.count("Imported"), (mask & 2) ? 1u : 0u);
    EXPECT_EQ(texts.count("No retention data"), mask == 0 ? 1u : 0u);
  }
}

TEST(RetentionSvg, EveryCurvePointLiesInsideThePlotArea) {
  RetentionChartInput in = FullInput();
  // Hostile values an import could carry: negative, above 1, NaN, infinite.
  in.imported->share[3] = -0.5;
  in.imported->share[4] = 1.15;
  in.imported->share[5] = std::numeric_limits<double>::quiet_NaN();
  in.imported->share[6] = std::numeric_limits<double>::infinity();
  Svg svg = Render(in);
  Box plot = PlotArea(svg);
  EXPECT_LT(plot.left, plot.right);
  EXPECT_LT(plot.top, plot.bottom);
  for (const char* cls : {"predicted", "imported"}) {
    auto lines = svg.Named("polyline", cls);
    ASSERT_EQ(lines.size(), 1u);
    auto pts = Points(lines[0]);
    ASSERT_GT(pts.size(), 100u) << cls;
    for (const Xy& p : pts) {
      EXPECT_GE(p.y, plot.top) << cls;
      EXPECT_LE(p.y, plot.bottom) << cls;
      EXPECT_GE(p.x, plot.left) << cls;
      EXPECT_LE(p.x, plot.right) << cls;
    }
    EXPECT_DOUBLE_EQ(pts.front().x, plot.left);
    EXPECT_DOUBLE_EQ(pts.back().x, plot.right);
  }
  EXPECT_EQ(svg.text.find("nan"), std::string::npos);
  EXPECT_EQ(svg.text.find("inf"), std::string::npos);
}

TEST(RetentionSvg, WritesCoordinatesWithOneDecimal) {
  Svg svg = Render(FullInput());
  for (xmlNode* n : svg.all) {
    for (const char* attr : {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy"}) {
      std::string v = Prop(n, attr);
      if (!v.empty()) {
        EXPECT_TRUE(OneDecimal(v)) << attr << "=" << v;
      }
    }
  }
  for (xmlNode* n : svg.Named("polyline")) {
    std::istringstream in(Prop(n, "points"));
    std::string pair;
    while (in >> pair) {
      size_t comma = pair.find(',');
      EXPECT_TRUE(OneDecimal(pair.substr(0, comma)) && OneDecimal(pair.substr(comma + 1))) << pair;
    }
  }
}

TEST(RetentionSvg, ExtendsTheShareAxisAbove100PercentOnlyWhenACurveGoesThere) {
  RetentionChartInput in = FullInput();
  auto plain = Texts(Render(in));
  EXPECT_EQ(plain.count("0%"), 1u);
  EXPECT_EQ(plain.count("100%"), 1u);
  EXPECT_EQ(plain.count("120%"), 0u);

  in.imported->share[10] = 1.13;  // re-watches
  Svg svg = Render(in);
  auto texts = Texts(svg);
  EXPECT_EQ(texts.count("100%"), 1u);
  EXPECT_EQ(texts.count("120%"), 1u);
  EXPECT_EQ(texts.count("140%"), 0u);
  // 113% is drawn inside the plot, below its top edge.
  Box plot = PlotArea(svg);
  double min_y = plot.bottom;
  for (const Xy& p : Points(svg.Named("polyline", "imported")[0])) min_y = std::min(min_y, p.y);
  EXPECT_GT(min_y, plot.top + 1);
  EXPECT_NEAR(min_y, plot.bottom - (plot.bottom - plot.top) * 1.13 / 1.2, 0.2);
}

TEST(RetentionSvg, LabelsTimeTicksAtNiceStepsAsMinutesAndSeconds) {
  RetentionChartInput in;
  in.duration_s = 600;
  in.predicted = Decaying(600);
  auto texts = Texts(Render(in));
  for (const char* t : {"0:00", "1:00", "5:00", "10:00"}) EXPECT_EQ(texts.count(t), 1u) << t;
  EXPECT_EQ(texts.count("0:30"), 0u);

  in.duration_s = 45;
  in.predicted = Decaying(45);
  texts = Texts(Render(in));
  for (const char* t : {"0:00", "0:05", "0:40"}) EXPECT_EQ(texts.count(t), 1u) << t;

  in.duration_s = 3 * 3600;
  in.predicted = Decaying(3 * 3600);
  texts = Texts(Render(in));
  for (const char* t : {"0:00", "15:00", "1:00:00", "3:00:00"}) EXPECT_EQ(texts.count(t), 1u) << t;
}

TEST(RetentionSvg, DrawsOneMarkerPerDropPoint) {
  RetentionChartInput in = FullInput();
  Svg svg = Render(in);
  EXPECT_EQ(svg.Named("g", "drop").size(), in.drops.size());
  // Out-of-range times are clamped onto the axis, not dropped.
  in.drops.push_back({-5, "before the start"});
  in.drops.push_back({9999, "after the end"});
  EXPECT_EQ(Render(in).Named("g", "drop").size(), in.drops.size());
  in.drops.clear();
  EXPECT_EQ(Render(in).Named("g", "drop").size(), 0u);
}

TEST(RetentionSvg, StaggersLabelsOfNearbyDropsIntoRowsThatDoNotOverlap) {
  RetentionChartInput in;
  in.duration_s = 120;
  in.predicted = Decaying(120);
  for (int i = 0; i < 4; ++i) in.drops.push_back({30.0 + i, "A reason long enough to collide " + std::to_string(i)});
  Svg svg = Render(in);
  std::set<std::string> rows;
  std::vector<xmlNode*> labels;
  for (xmlNode* g : svg.Named("g", "drop-labels")) {
    for (xmlNode* c = g->children; c; c = c->next) {
      if (Is(c, "text")) labels.push_back(c);
    }
  }
  ASSERT_EQ(labels.size(), 4u);
  for (xmlNode* t : labels) rows.insert(Prop(t, "y"));
  EXPECT_EQ(rows.size(), 4u);
  // Every label row is above the plot, clear of the curves.
  Box plot = PlotArea(svg);
  for (xmlNode* t : labels) EXPECT_LT(std::stod(Prop(t, "y")), plot.top);
}

TEST(RetentionSvg, EscapesTextSoALabelRoundTripsAndAddsNoElements) {
  RetentionChartInput in = FullInput();
  in.title = "Q&A <b>live</b> \"quoted\" 'single'";
  in.drops = {{50, "<script>&\""}, {300, "</text><script>alert('x')</script>"}};
  Svg svg = Render(in);
  ASSERT_NE(svg.root, nullptr);
  EXPECT_TRUE(svg.Named("script").empty());
  EXPECT_TRUE(svg.Named("b").empty());
  auto texts = Texts(svg);
  EXPECT_EQ(texts.count("<script>&\""), 1u);
  EXPECT_EQ(texts.count("</text><script>alert('x')</script>"), 1u);
  EXPECT_EQ(texts.count(in.title), 1u);
}

TEST(RetentionSvg, HasNoScriptsLinksOrEventHandlers) {
  RetentionChartInput in = FullInput();
  in.drops.push_back({60, "onload=alert(1) href=javascript:x"});
  Svg svg = Render(in);
  const std::set<std::string> allowed = {"title", "rect", "g", "line", "text", "polyline", "circle"};
  for (xmlNode* n : svg.all) {
    EXPECT_EQ(allowed.count(reinterpret_cast<const char*>(n->name)), 1u) << n->name;
    for (xmlAttr* a = n->properties; a; a = a->next) {
      std::string name = reinterpret_cast<const char*>(a->name);
      EXPECT_NE(name.rfind("on", 0), 0u) << name;
      EXPECT_NE(name, "href");
      EXPECT_NE(name, "style");
    }
  }
}

TEST(RetentionSvg, TruncatesLongLabelsToFortyCharacters) {
  RetentionChartInput in = FullInput();
  std::string reason;
  for (int i = 0; i < 20; ++i) reason += "ééééé ";  // two bytes each: cut on characters, not bytes
  in.drops = {{100, reason}};
  Svg svg = Render(in);
  auto labels = svg.Named("g", "drop-labels");
  ASSERT_EQ(labels.size(), 1u);
  std::string shown;
  for (xmlNode* c = labels[0]->children; c; c = c->next) {
    if (Is(c, "text")) shown = Text(c);
  }
  EXPECT_LE(CodePoints(shown), 40u);
  EXPECT_GE(CodePoints(shown), 30u);
  EXPECT_EQ(shown.substr(shown.size() - 3), "\u2026");
  // The tooltip keeps the whole reason.
  EXPECT_NE(Text(svg.Named("g", "drop")[0]).find(reason.substr(0, reason.size() - 1)), std::string::npos);
}

TEST(RetentionSvg, StaysWellFormedWithInvalidUtf8AndControlCharacters) {
  RetentionChartInput in = FullInput();
  in.title = std::string("bad \xff\xfe bytes \x01\x02 and a cut \xe2\x82");
  in.drops = {{10, std::string("\xc0\xaf overlong \x00 nul", 17)}, {20, "tab\there\nnewline"}};
  Svg svg = Render(in);
  ASSERT_NE(svg.root, nullptr);
  EXPECT_EQ(Texts(svg).count("tab here newline"), 1u);
}

TEST(RetentionSvg, KeepsAThreeHourCurveUnder2000PointsPerPolylineWithItsDips) {
  const double three_hours = 3 * 3600;
  RetentionChartInput in;
  in.title = "Three-hour stream";
  in.duration_s = three_hours;
  in.predicted = Decaying(three_hours);
  in.imported = Curve(three_hours, [](double t) { return 0.5 + 0.3 * std::sin(t); });  // one swing per 6 s
  in.imported->share[5000] = 1.1;  // a one-second spike of re-watches
  for (int width : {960, 4000}) {
    in.width = width;
    Svg svg = Render(in);
    Box plot = PlotArea(svg);
    for (xmlNode* line : svg.Named("polyline")) {
      if (Prop(line, "class") == "axis") continue;
      auto pts = Points(line);
      EXPECT_LT(pts.size(), 2000u) << width;
      EXPECT_GT(pts.size(), 500u) << width;
      for (size_t i = 1; i < pts.size(); ++i) EXPECT_GE(pts[i].x, pts[i - 1].x);
    }
    // Min/max per column keeps the swings' full range and the spike.
    auto imported = Points(svg.Named("polyline", "imported")[0]);
    double min_y = plot.bottom, max_y = plot.top;
    for (const Xy& p : imported) {
      min_y = std::min(min_y, p.y);
      max_y = std::max(max_y, p.y);
    }
    double h = plot.bottom - plot.top;
    EXPECT_NEAR(min_y, plot.bottom - h * 1.1 / 1.2, 0.2) << width;  // the spike
    EXPECT_NEAR(max_y, plot.bottom - h * 0.2 / 1.2, 0.5) << width;  // the troughs
  }
}

TEST(RetentionSvg, WritesASampleChartForAPersonToLookAt) {
  RetentionChartInput in = FullInput();
  in.imported->share[40] = 1.08;
  std::string path = ::testing::TempDir() + "retention_chart.svg";
  std::ofstream(path) << RetentionSvg(in);
  std::cout << "sample chart: " << path << "\n";
  EXPECT_TRUE(std::ifstream(path).good());
}

// ---- Sparkline and DropMarkers ---------------------------------------------

std::vector<std::string> Chars(const std::string& utf8) {
  std::vector<std::string> out;
  for (char ch : utf8) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) out.emplace_back();
    out.back() += ch;
  }
  return out;
}

const std::vector<std::string> kBlocks = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

int Level(const std::string& block) {
  for (size_t i = 0; i < kBlocks.size(); ++i) {
    if (kBlocks[i] == block) return static_cast<int>(i);
  }
  return -1;
}

TEST(Sparkline, HasOneBlockCharacterPerColumn) {
  for (double duration : {0.4, 5.0, 42.3, 600.0, 10800.0}) {
    for (int width : {1, 10, 60, 200}) {
      std::string line = Sparkline(Decaying(duration), width);
      auto chars = Chars(line);
      ASSERT_EQ(chars.size(), static_cast<size_t>(width)) << duration << " " << width;
      EXPECT_EQ(CodePoints(line), static_cast<size_t>(width));
      for (const auto& c : chars) EXPECT_GE(Level(c), 0) << c;
    }
  }
  EXPECT_EQ(Sparkline(RetentionCurve{}, 8), std::string(8, ' '));
  EXPECT_EQ(Sparkline(Decaying(30), 0), "");
}

TEST(Sparkline, AMonotoneCurveGivesNonIncreasingBlocks) {
  for (double duration : {7.0, 42.3, 3600.0}) {
    auto chars = Chars(Sparkline(Decaying(duration), 60));
    for (size_t i = 1; i < chars.size(); ++i) EXPECT_LE(Level(chars[i]), Level(chars[i - 1])) << duration << " " << i;
    EXPECT_EQ(chars.front(), "█");
    EXPECT_LT(Level(chars.back()), 4);
  }
}

TEST(Sparkline, ScalesToTheHighestShareWhenAboveOne) {
  auto full = Chars(Sparkline(Curve(60, [](double) { return 1.0; }), 20));
  for (const auto& c : full) EXPECT_EQ(c, "█");
  // Half of the peak reads as the middle block, not as full.
  auto rewatch = Chars(Sparkline(Curve(60, [](double t) { return t < 30 ? 2.0 : 1.0; }), 20));
  EXPECT_EQ(rewatch.front(), "█");
  EXPECT_EQ(rewatch.back(), "▅");
}

TEST(DropMarkers, PutsACaretInTheColumnOfEachDrop) {
  std::string line = DropMarkers({0, 10.5, 30, 59.9, 60, 75}, 60, 60);
  ASSERT_EQ(line.size(), 60u);
  std::string expected(60, ' ');
  for (int col : {0, 10, 30, 59}) expected[col] = '^';
  EXPECT_EQ(line, expected);

  // The same slices as the sparkline: 10 columns over 100 s.
  EXPECT_EQ(DropMarkers({15, 95}, 100, 10), " ^       ^");
  EXPECT_EQ(DropMarkers({std::nan(""), 5}, 0, 10), std::string(10, ' '));
  EXPECT_EQ(DropMarkers({std::nan(""), -3}, 10, 5), "^    ");
  EXPECT_EQ(DropMarkers({}, 10, 0), "");
}

}  // namespace
}  // namespace cutroom::analysis
