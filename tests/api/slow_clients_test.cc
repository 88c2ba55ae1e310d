// The API server under slow and abusive clients (issue 16): a thousand
// connections that trickle heads, sit idle, trickle bodies or never end an
// upload, and /healthz and the API still answer within a second; each
// kind is closed by the timeout the README documents.
#include <poll.h>

#include <chrono>
#include <vector>

#include "api/server_fixture.h"

namespace cutroom::api {
namespace {

using Clock = std::chrono::steady_clock;

bool ClosedWithin(int fd, int timeout_ms) {
  auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (::poll(&p, 1, std::max(1, left)) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;  // closed (or reset)
  }
  return false;
}

class SlowClients : public ServerFixture {
 protected:
  void ConfigureExtra(Config& c) override {
    ASSERT_OK(c.Set("server.header_timeout_s", "2"));
    ASSERT_OK(c.Set("server.keep_alive_s", "2"));
    ASSERT_OK(c.Set("server.min_upload_rate", "1024"));
    ASSERT_OK(c.Set("server.upload_rate_window_s", "2"));
  }
};

TEST_F(SlowClients, AThousandAbusiveConnectionsLeaveHealthzAndTheApiAnswering) {
  auto created = client_->Post("/api/uploads", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "100000000"}}, "",
                               "application/offset+octet-stream");
  ASSERT_TRUE(created && created->status == 201);
  const std::string upload = created->get_header_value("Location");

  enum Kind { kSlowHead, kIdle, kSlowBody, kEndlessPatch };
  std::vector<std::pair<int, Kind>> conns;
  for (int i = 0; i < 1000; ++i) {
    int fd = ConnectRaw();
    ASSERT_GE(fd, 0) << "connection " << i;
    auto kind = static_cast<Kind>(i % 4);
    std::string bytes;
    switch (kind) {
      case kSlowHead:
        bytes = "GET /api/videos HTTP/1.1\r\nHost: x\r\nX-Trickle: a";
        break;
      case kIdle:
        bytes = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";  // answered, then idle on keep-alive
        break;
      case kSlowBody:
        bytes = "POST /api/videos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"u";
        break;
      case kEndlessPatch:
        bytes = "PATCH " + upload + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                "Content-Type: application/offset+octet-stream\r\nContent-Length: 100000000\r\n\r\n0123456789";
        break;
    }
    ASSERT_GT(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), 0);
    conns.emplace_back(fd, kind);
  }
  // One more byte on each trickling connection, as slowloris does.
  for (auto& [fd, kind] : conns) {
    if (kind == kSlowHead || kind == kSlowBody) ::send(fd, "b", 1, MSG_NOSIGNAL);
  }

  httplib::Client fresh("127.0.0.1", server_->port());
  fresh.set_connection_timeout(2, 0);
  fresh.set_read_timeout(2, 0);
  Clock::duration worst{};
  for (int i = 0; i < 10; ++i) {
    auto start = Clock::now();
    auto health = fresh.Get("/healthz");
    worst = std::max(worst, Clock::now() - start);
    ASSERT_TRUE(health) << "no answer with 1000 abusive connections open";
    EXPECT_EQ(health->status, 200);
  }
  auto listed = fresh.Get("/api/videos");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);
  EXPECT_LT(worst, std::chrono::seconds(1));
  std::printf("slow clients: worst /healthz answer %.1f ms with 1000 abusive connections open\n",
              std::chrono::duration<double, std::milli>(worst).count());

  // Every kind is closed by its timeout: heads and small bodies after 2 s
  // (408), idle keep-alive after 2 s, PATCHes under 1 KiB/s after their 2 s
  // window; PATCHes beyond the 64 upload streams were refused at once.
  int still_open = 0;
  for (auto& [fd, kind] : conns) {
    if (!ClosedWithin(fd, 6000)) ++still_open;
    ::close(fd);
  }
  EXPECT_EQ(still_open, 0);
  auto after = fresh.Get("/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(SlowClients, AnUploadCutForBeingTooSlowResumesFromWhatArrived) {
  auto created = client_->Post("/api/uploads", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "300000"}}, "",
                               "application/offset+octet-stream");
  ASSERT_TRUE(created && created->status == 201);
  const std::string upload = created->get_header_value("Location");
  int fd = ConnectRaw();
  std::string head = "PATCH " + upload + " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     "Content-Type: application/offset+octet-stream\r\nContent-Length: 200000\r\n\r\n";
  std::string first(100000, 'a');
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  ::send(fd, first.data(), first.size(), MSG_NOSIGNAL);
  // Then nothing: the window closes it.
  EXPECT_TRUE(ClosedWithin(fd, 8000));
  ::close(fd);
  auto offset = client_->Head(upload, {{"Tus-Resumable", "1.0.0"}});
  ASSERT_TRUE(offset);
  EXPECT_EQ(offset->get_header_value("Upload-Offset"), "100000");
  auto rest = client_->Patch(upload, {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "100000"}},
                             std::string(100000, 'b'), "application/offset+octet-stream");
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->status, 204) << rest->body;
  EXPECT_EQ(rest->get_header_value("Upload-Offset"), "200000");
}

}  // namespace
}  // namespace cutroom::api
