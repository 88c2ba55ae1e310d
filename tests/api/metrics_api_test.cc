// GET /metrics: Prometheus text, by route pattern, to allowed addresses only.
#include "server_fixture.h"

namespace cutroom::api {
namespace {

class MetricsApi : public ServerFixture {};

TEST_F(MetricsApi, RequestsCountByRoutePatternAndTheQueueIsReadFromTheDatabase) {
  auto m = AddMedia(db::kLocalOwnerId);
  ASSERT_EQ(client_->Get("/api/videos/" + m.video_id)->status, 200);
  ASSERT_EQ(client_->Get("/api/videos/vid_nope")->status, 404);
  ASSERT_EQ(client_->Get("/api/no-such-route")->status, 404);
  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = r->body;
  EXPECT_NE(text.find("cutroom_http_requests_total{route=\"/api/videos/{video_id}\",method=\"GET\",status=\"200\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cutroom_http_requests_total{route=\"/api/videos/{video_id}\",method=\"GET\",status=\"404\"}"),
            std::string::npos);
  EXPECT_NE(text.find("cutroom_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE cutroom_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("cutroom_queue_depth 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cutroom_media{status=\"ready\"} 1\n"), std::string::npos) << text;
  // Paths never become series: ids would make one each.
  EXPECT_EQ(text.find(m.video_id), std::string::npos);
  EXPECT_EQ(text.find("vid_nope"), std::string::npos);
}

class MetricsElsewhere : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override { ASSERT_OK(c.Set("server.metrics_allow", "10.0.0.0/8, fd00::/8")); }
};

TEST_F(MetricsElsewhere, AddressesOutsideTheAllowListAreRefused) {
  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(ErrorCode(r), "forbidden");
}

}  // namespace
}  // namespace cutroom::api
