// http::Server over real sockets: keep-alive and pipelining, chunked
// bodies both ways, 100-continue, ranges, the limits and deadlines that
// keep slow or abusive clients from holding it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"

namespace cutroom::http {
namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void SendText(int fd, const std::string& s) { ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size())); }

// Reads until the peer closes, timeout_ms passes, or `until` appears.
std::string ReadSome(int fd, int timeout_ms, const std::string& until = "") {
  std::string out;
  auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (::poll(&p, 1, std::max(1, left)) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

bool PeerClosed(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK) <= 0;
}

int Count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(options, [this](const httplib::Request& req, httplib::Response& res,
                                                        const httplib::ContentReader* reader) { Handle(req, res, reader); });
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  void Handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    if (req.path == "/echo") {
      std::string body;
      if (reader) (*reader)([&](const char* d, size_t n) { body.append(d, n); return true; });
      res.set_content(req.method + " " + std::to_string(body.size()) + " " + body.substr(0, 64), "text/plain");
    } else if (req.path == "/refuse") {
      res.status = 413;
      res.set_content("no", "text/plain");
    } else if (req.path == "/file") {
      auto data = std::make_shared<std::string>();
      for (int i = 0; i < 1000; ++i) data->push_back(static_cast<char>('a' + i % 26));
      res.set_content_provider(data->size(), "application/octet-stream", [data](size_t off, size_t len, httplib::DataSink& sink) {
        return sink.write(data->data() + off, std::min<size_t>(len, 100));
      });
    } else if (req.path == "/events") {
      auto sent = std::make_shared<int>(0);
      res.set_chunked_content_provider("text/event-stream", [sent](size_t, httplib::DataSink& sink) {
        if (*sent == 3) {
          sink.done();
          return true;
        }
        std::string e = "data: " + std::to_string((*sent)++) + "\n\n";
        return sink.write(e.data(), e.size());
      });
    } else if (req.path == "/slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.set_content("slow", "text/plain");
    } else {
      res.set_content("ok " + req.get_param_value("q"), "text/plain");
    }
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status run_status_;
  int port_ = 0;
};

TEST_F(ServerTest, AnswersPipelinedRequestsInOrderOnOneConnection) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "GET /?q=1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
               "GET /?q=a%20b HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = ReadSome(fd, 3000, "ok a b");
  EXPECT_EQ(Count(out, "HTTP/1.1 200 OK"), 3) << out;
  size_t first = out.find("ok 1"), second = out.find("POST 5 hello"), third = out.find("ok a b");
  EXPECT_TRUE(first < second && second < third) << out;
  EXPECT_EQ(Count(out, "Connection: keep-alive"), 3);
  ::close(fd);
}

TEST_F(ServerTest, DecodesAChunkedUploadAndKeepsTheConnection) {
  Start();
  int fd = Connect(port_);
  std::string big(200000, 'z');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", big.size());
  SendText(fd, "PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n" + std::string(size_line) + big +
                   "\r\n0\r\n\r\nGET /?q=next HTTP/1.1\r\n\r\n");
  std::string out = ReadSome(fd, 5000, "ok next");
  EXPECT_NE(out.find("PUT 200003 abczzz"), std::string::npos) << out.substr(0, 300);
  EXPECT_NE(out.find("ok next"), std::string::npos);
  ::close(fd);
}

TEST_F(ServerTest, SendsContinueOnlyWhenTheHandlerReadsTheBody) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "POST /refuse HTTP/1.1\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
  std::string out = ReadSome(fd, 3000, "no");
  EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << "the unread body cannot stay on the connection";
  ::close(fd);

  fd = Connect(port_);
  SendText(fd, "POST /echo HTTP/1.1\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
  out = ReadSome(fd, 3000, "\r\n\r\n");
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n");
  SendText(fd, std::string(100000, 'q'));
  out = ReadSome(fd, 3000, "qqq");
  EXPECT_NE(out.find("POST 100000 qqq"), std::string::npos) << out;
  ::close(fd);
}

TEST_F(ServerTest, SlicesOneRangeAndAnswersHeadWithoutABody) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "GET /file HTTP/1.1\r\nRange: bytes=26-51\r\n\r\n");
  std::string out = ReadSome(fd, 3000, "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(out.rfind("HTTP/1.1 206", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Range: bytes 26-51/1000"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 26\r\n"), std::string::npos);
  SendText(fd, "HEAD /file HTTP/1.1\r\n\r\n");
  out = ReadSome(fd, 500);
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Length: 1000\r\n"), std::string::npos);
  EXPECT_EQ(out.size(), out.find("\r\n\r\n") + 4) << "HEAD has no body";
  ::close(fd);
}

TEST_F(ServerTest, StreamsAChunkedResponseToItsEnd) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "GET /events HTTP/1.1\r\n\r\n");
  std::string out = ReadSome(fd, 3000, "0\r\n\r\n");
  EXPECT_NE(out.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(out.find("9\r\ndata: 2\n\n\r\n0\r\n\r\n"), std::string::npos) << out;
  ::close(fd);
}

TEST_F(ServerTest, RefusesSmugglingAndOversizedHeadsAndClosesTheConnection) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  std::string out = ReadSome(fd, 3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("\"code\":\"bad_request\""), std::string::npos);
  EXPECT_TRUE(PeerClosed(fd, 3000));
  ::close(fd);

  fd = Connect(port_);
  SendText(fd, "GET / HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'h') + "\r\n\r\n");
  out = ReadSome(fd, 3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
  ::close(fd);
}

TEST_F(ServerTest, AHeadThatDoesNotArriveInTimeGets408AndIdleConnectionsClose) {
  ServerOptions options;
  options.header_timeout_ms = 300;
  options.keep_alive_ms = 300;
  Start(options);
  int half = Connect(port_);
  SendText(half, "GET / HTTP/1.1\r\nHost:");
  int idle = Connect(port_);
  SendText(idle, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_NE(ReadSome(idle, 2000, "ok").find("200 OK"), std::string::npos);
  auto start = Clock::now();
  std::string out = ReadSome(half, 3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_TRUE(PeerClosed(idle, 3000)) << "an idle keep-alive connection is closed";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ::close(half);
  ::close(idle);
}

TEST_F(ServerTest, ABodyTrickledBelowTheMinimumRateIsCut) {
  ServerOptions options;
  options.min_body_rate = 1000;
  options.body_rate_window_ms = 400;
  Start(options);
  int fd = Connect(port_);
  SendText(fd, "POST /echo HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n");
  auto start = Clock::now();
  bool answered = false;
  for (int i = 0; i < 30 && !answered; ++i) {
    ::send(fd, "x", 1, MSG_NOSIGNAL);  // 10 bytes a second
    pollfd p{fd, POLLIN, 0};
    answered = ::poll(&p, 1, 100) > 0;
  }
  EXPECT_TRUE(answered);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1500));
  // The handler saw its body fail and answered; the connection closes.
  std::string out = ReadSome(fd, 4000);
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_TRUE(PeerClosed(fd, 100));
  ::close(fd);
}

TEST_F(ServerTest, UploadsBeyondTheStreamLimitGet503AndOthersStillAnswer) {
  ServerOptions options;
  options.max_body_streams = 2;
  Start(options);
  std::vector<int> stalled;
  for (int i = 0; i < 2; ++i) {
    stalled.push_back(Connect(port_));
    SendText(stalled.back(), "PUT /echo HTTP/1.1\r\nContent-Length: 10000000\r\n\r\nabc");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int third = Connect(port_);
  SendText(third, "PUT /echo HTTP/1.1\r\nContent-Length: 10000000\r\n\r\nabc");
  std::string out = ReadSome(third, 3000);
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  EXPECT_NE(out.find("Retry-After: 5"), std::string::npos);
  int other = Connect(port_);
  SendText(other, "GET /?q=fine HTTP/1.1\r\n\r\n");
  EXPECT_NE(ReadSome(other, 2000, "ok fine").find("ok fine"), std::string::npos);
  for (int fd : stalled) ::close(fd);
  ::close(third);
  ::close(other);
}

TEST_F(ServerTest, AThousandSlowOrIdleClientsDoNotDelayOthers) {
  Start();
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0) << "connection " << i;
    // A third half-send a head, a third open and say nothing, a third
    // half-send a body that the front is still waiting for.
    if (i % 3 == 0) SendText(fd, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    if (i % 3 == 2) SendText(fd, "POST /echo HTTP/1.1\r\nContent-Length: 60000\r\n\r\nabc");
    fds.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    int fd = Connect(port_);
    SendText(fd, "GET /?q=alive HTTP/1.1\r\n\r\n");
    std::string out = ReadSome(fd, 2000, "ok alive");
    auto took = Clock::now() - start;
    EXPECT_NE(out.find("ok alive"), std::string::npos);
    EXPECT_LT(took, std::chrono::seconds(1));
    ::close(fd);
  }
  EXPECT_GE(server_->open_connections(), 1000u);
  for (int fd : fds) ::close(fd);
}

TEST_F(ServerTest, StopCutsAStalledUploadAfterTheGracePeriod) {
  Start();
  int fd = Connect(port_);
  SendText(fd, "PUT /echo HTTP/1.1\r\nContent-Length: 10000000\r\n\r\nabc");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = Clock::now();
  server_->Stop();
  thread_.join();
  EXPECT_TRUE(run_status_.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(8));
  ::close(fd);
}

TEST_F(ServerTest, ACrashingHandlerAnswers500AndTheServerLives) {
  server_ = std::make_unique<Server>(ServerOptions{}, [](const httplib::Request& req, httplib::Response& res,
                                                         const httplib::ContentReader*) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    res.set_content("fine", "text/plain");
  });
  auto port = server_->Bind("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  thread_ = std::thread([this] { run_status_ = server_->Run(); });
  int fd = Connect(*port);
  SendText(fd, "GET /throw HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
  std::string out = ReadSome(fd, 3000, "fine");
  EXPECT_EQ(out.rfind("HTTP/1.1 500", 0), 0u) << out;
  EXPECT_NE(out.find("fine"), std::string::npos);
  ::close(fd);
}

}  // namespace
}  // namespace cutroom::http
