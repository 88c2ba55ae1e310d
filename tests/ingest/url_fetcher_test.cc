// The SSRF battery: every refused address class, redirects into private
// space, odd IPv4 spellings and other schemes, each refused before the
// target sees a request.
#include "ingest/url_fetcher.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "ingest/remote_source.h"
#include "support/test_support.h"

namespace cutroom::ingest {
namespace {

// A loopback HTTP server that counts the requests it sees.
class CountingServer {
 public:
  explicit CountingServer(const std::string& host = "127.0.0.1") {
    server_.Get("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      if (req.path == "/redirect") {
        res.set_redirect(req.get_param_value("to"));
      } else if (req.path == "/loop") {
        res.set_redirect("/loop");
      } else if (req.path == "/big") {
        res.set_content(std::string(1 << 20, 'x'), "application/octet-stream");
      } else if (req.path == "/missing") {
        res.status = 404;
      } else {
        res.set_content(body_, "video/mp4");
      }
    });
    port_ = server_.bind_to_any_port(host);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    host_ = host;
  }
  ~CountingServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://" + host_ + ":" + std::to_string(port_) + path; }
  int port() const { return port_; }
  int hits() const { return hits_; }
  void set_body(std::string b) { body_ = std::move(b); }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  std::atomic<int> hits_{0};
  std::string body_ = "hello media";
};

Result<std::string> FetchAll(const UrlFetcher& fetcher, const std::string& url, FetchOptions options = {}) {
  std::string body;
  auto r = fetcher.Fetch(url, options, [&](const char* d, size_t n) {
    body.append(d, n);
    return Status::Ok();
  });
  if (!r.ok()) return r.status();
  return body;
}

UrlFetcher Strict(std::vector<std::string> allow = {}) {
  return UrlFetcher(*AddressPolicy::Create(false, allow));
}

TEST(UrlFetcher, FetchesWhenThePolicyAllowsTheAddress) {
  CountingServer server;
  UrlFetcher fetcher(*AddressPolicy::Create(true, {}));
  auto body = FetchAll(fetcher, server.Url("/video.mp4"));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "hello media");
}

TEST(UrlFetcher, RefusesLoopbackByDefaultWithoutReachingIt) {
  CountingServer server;
  auto body = FetchAll(Strict(), server.Url("/video.mp4"));
  EXPECT_EQ(body.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(body.status().message().find("loopback"), std::string::npos) << body.status().ToString();
  EXPECT_EQ(server.hits(), 0);
}

TEST(UrlFetcher, RefusesOddSpellingsOfLoopback) {
  CountingServer server;
  std::string port = std::to_string(server.port());
  for (const std::string host : {"2130706433", "0x7f000001", "0x7f.1", "017700000001", "0177.0.0.1", "127.1",
                                 "[::ffff:127.0.0.1]", "localhost"}) {
    auto body = FetchAll(Strict(), "http://" + host + ":" + port + "/video.mp4");
    EXPECT_FALSE(body.ok()) << host;
    if (!body.ok() && body.status().code() != StatusCode::kPermissionDenied) {
      // Some spellings do not even parse; that is a refusal too.
      EXPECT_TRUE(body.status().IsInvalidArgument() || body.status().code() == StatusCode::kUnavailable)
          << host << ": " << body.status().ToString();
    }
  }
  EXPECT_EQ(server.hits(), 0);
}

TEST(UrlFetcher, RefusesARedirectFromAnAllowedHostIntoPrivateSpace) {
  CountingServer allowed("127.0.0.1");
  CountingServer target("127.0.0.2");
  UrlFetcher fetcher = Strict({"127.0.0.1"});  // only the first server is "public" here
  auto body = FetchAll(fetcher, allowed.Url("/redirect?to=" + target.Url("/secret")));
  EXPECT_EQ(body.status().code(), StatusCode::kPermissionDenied) << body.status().ToString();
  EXPECT_NE(body.status().message().find("127.0.0.2"), std::string::npos);
  EXPECT_EQ(allowed.hits(), 1);
  EXPECT_EQ(target.hits(), 0);
}

TEST(UrlFetcher, RefusesOtherSchemesDirectlyAndThroughRedirects) {
  for (const char* url : {"file:///etc/passwd", "gopher://127.0.0.1:70/x", "ftp://example.com/a.mp4",
                          "dict://127.0.0.1:11211/stat", "not a url", "http://user:pw@example.com/a.mp4"}) {
    auto body = FetchAll(Strict(), url);
    EXPECT_TRUE(body.status().IsInvalidArgument()) << url << ": " << body.status().ToString();
  }
  CountingServer server;
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  for (const char* to : {"file:///etc/passwd", "gopher://127.0.0.1:70/x", "ftp://127.0.0.1/x"}) {
    auto body = FetchAll(open, server.Url(std::string("/redirect?to=") + to));
    EXPECT_FALSE(body.ok()) << to;
  }
}

TEST(UrlFetcher, StopsAfterFiveRedirects) {
  CountingServer server;
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  auto body = FetchAll(open, server.Url("/loop"));
  EXPECT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("redirects"), std::string::npos) << body.status().ToString();
  EXPECT_LE(server.hits(), 6);
}

TEST(UrlFetcher, EnforcesTheSizeLimitWhileStreaming) {
  CountingServer server;
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  FetchOptions options;
  options.max_bytes = 1000;
  auto body = FetchAll(open, server.Url("/big"), options);
  EXPECT_EQ(body.status().code(), StatusCode::kResourceExhausted);
}

TEST(UrlFetcher, ReportsHttpErrors) {
  CountingServer server;
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  auto body = FetchAll(open, server.Url("/missing"));
  EXPECT_TRUE(body.status().IsNotFound()) << body.status().ToString();  // not worth retrying
  EXPECT_NE(body.status().message().find("404"), std::string::npos);
}

TEST(HttpRangeSource, ReadsRemoteBytesInBlocks) {
  CountingServer server;
  std::string data;
  for (int i = 0; i < 3'000'000; ++i) data += static_cast<char>('a' + i % 26);
  server.set_body(data);
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  HttpRangeSource source(&open, server.Url("/file.bin"));
  auto size = source.Size();
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, data.size());
  char buf[10];
  auto n = source.ReadAt(2'500'000, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), data.substr(2'500'000, 10));
  n = source.ReadAt(2'500'010, buf, sizeof buf);  // same block: no new request
  EXPECT_EQ(source.requests(), 2);
  EXPECT_EQ(*source.ReadAt(data.size(), buf, 10), 0u);
  // A read across a block edge returns what the first block holds.
  n = source.ReadAt(HttpRangeSource::kBlockSize - 4, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  ASSERT_TRUE(source.seen().has_value());
  EXPECT_EQ(source.seen()->size, data.size());
}

TEST(HttpRangeSource, LaterReadersShareTheBlocksAndNoticeAChangedFile) {
  CountingServer server;
  std::string data(2'200'000, 'q');
  server.set_body(data);
  UrlFetcher open(*AddressPolicy::Create(true, {}));
  std::string url = server.Url("/shared.bin");
  RemoteValidator version;
  {
    HttpRangeSource first(&open, url);
    char buf[4];
    for (uint64_t at : {uint64_t{0}, uint64_t{1'100'000}, uint64_t{2'150'000}}) ASSERT_TRUE(first.ReadAt(at, buf, 4).ok());
    version = *first.seen();
  }
  int before = server.hits();
  // A second reader of that version: one revalidation, then the cache.
  HttpRangeSource second(&open, url, version);
  char buf[4];
  for (uint64_t at : {uint64_t{0}, uint64_t{1'100'000}, uint64_t{2'150'000}}) {
    auto n = second.ReadAt(at, buf, 4);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(std::string(buf, 4), "qqqq");
  }
  EXPECT_EQ(server.hits() - before, 1);
  // The file changes: the next reader refuses it, naming the change.
  server.set_body(data + "more");
  HttpRangeSource third(&open, url, version);
  auto n = third.ReadAt(0, buf, 4);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(n.status().message().rfind("reference_changed:", 0), 0u) << n.status().ToString();
  EXPECT_NE(n.status().message().find("size changed"), std::string::npos);
}

TEST(RemoteValidator, RoundTripsThroughJson) {
  RemoteValidator v{1234, "\"abc\"", "Tue, 01 Dec 2026 10:00:00 GMT"};
  RemoteValidator back = RemoteValidator::FromJson(v.ToJson());
  EXPECT_EQ(back.size, 1234u);
  EXPECT_EQ(back.etag, v.etag);
  EXPECT_EQ(back.last_modified, v.last_modified);
  EXPECT_EQ(RemoteValidator::FromJson(nlohmann::json("junk")).size, 0u);
}

}  // namespace
}  // namespace cutroom::ingest
