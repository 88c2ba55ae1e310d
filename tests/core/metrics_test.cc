#include "core/metrics.h"

#include <gtest/gtest.h>

namespace cutroom {
namespace {

TEST(Metrics, CountersAndGaugesRenderInTheTextFormat) {
  Metrics m;
  m.Describe("t_requests_total", "counter", "requests");
  m.Add("t_requests_total", {{"route", "/a/{id}"}, {"status", "200"}});
  m.Add("t_requests_total", {{"route", "/a/{id}"}, {"status", "200"}}, 2);
  m.Set("t_depth", {}, 7);
  std::string text = m.Render();
  EXPECT_NE(text.find("# HELP t_requests_total requests\n# TYPE t_requests_total counter\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_requests_total{route=\"/a/{id}\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE t_depth gauge\nt_depth 7\n"), std::string::npos) << text;
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Metrics m;
  m.Observe("t_seconds", {{"kind", "x"}}, 0.003);
  m.Observe("t_seconds", {{"kind", "x"}}, 0.2);
  m.Observe("t_seconds", {{"kind", "x"}}, 100);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE t_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("t_seconds_bucket{kind=\"x\",le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{kind=\"x\",le=\"0.25\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{kind=\"x\",le=\"60\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{kind=\"x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_count{kind=\"x\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_sum{kind=\"x\"} 100.203\n"), std::string::npos) << text;
}

TEST(Metrics, LabelValuesAreEscapedAndCollectorsAddSeriesUntilRemoved) {
  Metrics m;
  m.Add("t_total", {{"v", "a\"b\\c\nd"}});
  int id = m.AddCollector([](MetricsWriter& w) {
    w.Family("t_live", "gauge", "from a collector");
    w.Sample("t_live", {{"k", "1"}}, 0.5);
  });
  std::string text = m.Render();
  EXPECT_NE(text.find("t_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_live{k=\"1\"} 0.5\n"), std::string::npos) << text;
  m.RemoveCollector(id);
  EXPECT_EQ(m.Render().find("t_live"), std::string::npos);
}

}  // namespace
}  // namespace cutroom
