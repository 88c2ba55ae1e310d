#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "http/body_parsers.h"
#include "http/request_head.h"

namespace cutroom::http {
namespace {

using Clock = std::chrono::steady_clock;

// Uploads are read in pieces this large: one syscall per half megabyte
// keeps the receive path near disk speed.
constexpr size_t kBodyReadBuffer = 512 * 1024;
// A connection closed after an error response keeps reading (and
// discarding) this long, so the client sees the response rather than a
// reset from unread bytes (lingering close).
constexpr int kLingerMs = 2000;
constexpr int kShutdownGraceMs = 5000;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int MillisUntil(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string ErrorCodeFor(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 408: return "request_timeout";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 431: return "headers_too_large";
    case 501: return "not_implemented";
    case 503: return "server_busy";
    case 505: return "http_version_not_supported";
    default: return "internal";
  }
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// A complete error response the front sends on its own (no handler ran).
std::string FrontResponse(int status, const std::string& message, int retry_after_s = 0) {
  std::string body = "{\"error\":{\"code\":\"" + ErrorCodeFor(status) + "\",\"message\":\"" + JsonEscape(message) +
                     "\",\"details\":{}}}";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Access-Control-Allow-Origin: *\r\nConnection: close\r\nDate: " + HttpDate() + "\r\n";
  if (retry_after_s > 0) out += "Retry-After: " + std::to_string(retry_after_s) + "\r\n";
  out += "\r\n" + body;
  return out;
}

void AddressOf(const sockaddr_storage& ss, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    port = ntohs(in6->sin6_port);
  }
  ip = buf;
}

// Sends every byte of iov, waiting at most timeout_ms for each bit of
// progress. False when the peer is gone or stalled.
bool SendAll(int fd, iovec* iov, int iovcnt, int timeout_ms, bool more = false) {
  while (iovcnt > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd p{fd, POLLOUT, 0};
      int r = ::poll(&p, 1, timeout_ms);
      if (r == 0) return false;  // no progress within the timeout
      if (r < 0 && errno != EINTR) return false;
      if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return false;
      continue;
    }
    auto left = static_cast<size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

bool SendAll(int fd, std::string_view data, int timeout_ms, bool more = false) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return SendAll(fd, &iov, 1, timeout_ms, more);
}

// Whether the peer has closed or reset the connection (without reading).
bool PeerGone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  return r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

// An upload's read buffer, mapped for the request and unmapped after it,
// so a finished upload gives its memory back to the system (from the heap,
// glibc would keep it: freeing a large block raises its mmap threshold).
class MappedBuffer {
 public:
  explicit MappedBuffer(size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      data_ = static_cast<char*>(p);
      size_ = size;
    }
  }
  ~MappedBuffer() {
    if (data_) ::munmap(data_, size_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

struct Connection {
  UniqueFd fd;
  std::string in;  // received and not yet consumed
  std::string remote_addr;
  std::string local_addr;
  int remote_port = -1;
  int local_port = -1;
  enum class State { kHead, kBody, kLinger } state = State::kHead;
  bool head_started = false;
  Clock::time_point deadline;
  RequestHead head;
};

// The body of one request, read from what the front already received and
// then from the socket.
class BodyReader {
 public:
  BodyReader(Connection& conn, const ServerOptions& options)
      : conn_(conn), options_(options), remaining_(conn.head.content_length.value_or(0)) {
    complete_ = !conn.head.HasBody();
  }

  bool complete() const { return complete_; }

  bool Read(const httplib::ContentReceiver& receiver) { return Pump(receiver); }

  bool ReadMultipart(const httplib::MultipartContentHeader& on_header, const httplib::ContentReceiver& on_data) {
    std::string boundary;
    auto it = conn_.head.headers.find("Content-Type");
    if (it != conn_.head.headers.end()) boundary = MultipartBoundary(it->second);
    if (boundary.empty()) return false;
    MultipartParser parser(boundary);
    bool ok = Pump([&](const char* data, size_t n) { return parser.Feed(data, n, on_header, on_data); });
    return ok && parser.done();
  }

 private:
  // Hands bytes to sink; returns how many were body bytes (the rest
  // belongs to the next request), and false in ok when sink refused or the
  // coding is malformed.
  size_t Consume(const char* data, size_t n, const httplib::ContentReceiver& sink, bool& ok) {
    if (conn_.head.chunked) {
      size_t used = chunked_.Feed(data, n, sink);
      if (chunked_.failed()) ok = false;
      if (chunked_.done()) complete_ = true;
      return used;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
    if (take > 0 && !sink(data, take)) {
      ok = false;
      return take;
    }
    remaining_ -= take;
    if (remaining_ == 0) complete_ = true;
    return take;
  }

  bool Pump(const httplib::ContentReceiver& sink) {
    if (failed_) return false;
    if (complete_) return true;
    bool ok = true;
    if (!conn_.in.empty()) {
      size_t used = Consume(conn_.in.data(), conn_.in.size(), sink, ok);
      conn_.in.erase(0, used);
      if (!ok) return Failed();
    }
    if (complete_) return true;
    if (conn_.head.expect_continue && !continue_sent_) {
      continue_sent_ = true;
      if (!SendAll(conn_.fd.get(), "HTTP/1.1 100 Continue\r\n\r\n", options_.write_timeout_ms)) return Failed();
    }
    if (!buf_) buf_ = std::make_unique<MappedBuffer>(kBodyReadBuffer);
    if (!buf_->data()) return Failed();
    const auto window = std::chrono::milliseconds(std::max(1, options_.body_rate_window_ms));
    const uint64_t window_min = options_.min_body_rate * static_cast<uint64_t>(std::max(1, options_.body_rate_window_ms)) / 1000;
    auto window_start = Clock::now();
    uint64_t window_bytes = 0;
    while (!complete_) {
      char* buf = buf_->data();
      size_t want = conn_.head.chunked ? buf_->size() : static_cast<size_t>(std::min<uint64_t>(remaining_, buf_->size()));
      ssize_t n = ::recv(conn_.fd.get(), buf, want, 0);
      if (n > 0) {
        window_bytes += static_cast<uint64_t>(n);
        size_t used = Consume(buf, static_cast<size_t>(n), sink, ok);
        if (!ok) return Failed();
        // Past the end of a chunked body: the next request's first bytes.
        if (used < static_cast<size_t>(n)) conn_.in.append(buf + used, static_cast<size_t>(n) - used);
      } else if (n == 0) {
        return Failed();  // the client went away mid-body
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Failed();
      } else {
        pollfd p{conn_.fd.get(), POLLIN, 0};
        int r = ::poll(&p, 1, std::max(1, MillisUntil(window_start + window)));
        if (r < 0 && errno != EINTR) return Failed();
      }
      auto now = Clock::now();
      if (now - window_start >= window) {
        if (window_bytes < window_min) {
          spdlog::info("closing a connection from {}: its body arrived at {} bytes in {} ms, under {} bytes/s",
                       conn_.remote_addr, window_bytes, options_.body_rate_window_ms, options_.min_body_rate);
          return Failed();
        }
        window_start = now;
        window_bytes = 0;
      }
    }
    return true;
  }

  bool Failed() {
    failed_ = true;
    return false;
  }

  Connection& conn_;
  const ServerOptions& options_;
  uint64_t remaining_;
  ChunkedDecoder chunked_;
  std::unique_ptr<MappedBuffer> buf_;
  bool complete_ = false;
  bool failed_ = false;
  bool continue_sent_ = false;
};

// Threads for handlers: core_threads stay, more start while requests
// wait (up to max_threads) and leave after a minute idle.
class WorkerPool {
 public:
  WorkerPool(size_t core, size_t max, size_t max_queue)
      : core_(std::max<size_t>(1, core)), max_(std::max(core_, max)), max_queue_(max_queue) {}
  ~WorkerPool() { Shutdown(); }

  bool Submit(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (shutdown_) return false;
    if (threads_ >= max_ && idle_ <= queue_.size() && queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(task));
    if (idle_ < queue_.size() && threads_ < max_) {
      ++threads_;
      std::thread([this] { Loop(); }).detach();
    } else {
      cv_.notify_one();
    }
    return true;
  }

  // Runs what is queued, then waits for every thread to leave.
  void Shutdown() {
    std::unique_lock lock(mu_);
    shutdown_ = true;
    cv_.notify_all();
    exited_.wait(lock, [this] { return threads_ == 0; });
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      while (queue_.empty() && !shutdown_) {
        ++idle_;
        bool woke = cv_.wait_for(lock, std::chrono::seconds(60), [this] { return !queue_.empty() || shutdown_; });
        --idle_;
        if (!woke && threads_ > core_) return Leave();
      }
      if (queue_.empty()) return Leave();
      auto task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
    }
  }

  void Leave() {
    --threads_;
    exited_.notify_all();
  }

  const size_t core_;
  const size_t max_;
  const size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable exited_;
  std::deque<std::function<void()>> queue_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler, Logger logger)
      : options_(options),
        handler_(std::move(handler)),
        logger_(std::move(logger)),
        pool_(options.core_threads, options.max_threads, options.max_queue) {}

  Result<int> Bind(const std::string& host, int port);
  Status Run();
  void Stop();
  size_t open_connections() const { return open_.load(); }

 private:
  Status PollOnce(int timeout_ms);
  using ConnPtr = std::shared_ptr<Connection>;

  void Accept();
  void OnReadable(Connection& conn);
  void Advance(Connection& conn);
  void Dispatch(Connection& conn, bool streaming);
  void Respond(Connection& conn, int status, const std::string& message, int retry_after_s = 0);
  void Close(int fd);
  void Sweep();
  void AdoptReturned();
  void Serve(const ConnPtr& conn, bool streaming);
  bool WriteResponse(Connection& conn, const httplib::Request& req, httplib::Response& res, bool& keep_alive);
  void GiveBack(ConnPtr conn, bool linger);

  const ServerOptions options_;
  const Handler handler_;
  const Logger logger_;
  WorkerPool pool_;

  UniqueFd listen_fd_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> body_streams_{0};
  std::unordered_map<int, ConnPtr> conns_;  // owned by the loop thread

  std::mutex mu_;                           // guards returned_ and busy_
  std::vector<std::pair<ConnPtr, bool>> returned_;
  std::unordered_set<int> busy_;            // sockets a worker is serving
};

Result<int> Server::Impl::Bind(const std::string& host, int port) {
  // Idle connections cost a descriptor each: allow as many as the system does.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int gai = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (gai != 0) return Status::InvalidArgument("cannot resolve listen host '" + host + "': " + gai_strerror(gai));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    std::string ip;
    int bound_port = 0;
    AddressOf(ss, ip, bound_port);
    listen_fd_ = std::move(fd);
    epoll_fd_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    wake_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (epoll_fd_.get() < 0 || wake_fd_.get() < 0) return Status::IOError(std::string("epoll: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_.get();
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listen_fd_.get(), &ev);
    ev.data.fd = wake_fd_.get();
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
    return bound_port;
  }
  return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " + last_error);
}

void Server::Impl::Stop() {
  stopping_ = true;
  if (wake_fd_.get() >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
  }
}

Status Server::Impl::Run() {
  if (listen_fd_.get() < 0) return Status::FailedPrecondition("the server is not bound");
  auto next_sweep = Clock::now();
  while (!stopping_) {
    CUTROOM_RETURN_IF_ERROR(PollOnce(250));
    if (Clock::now() >= next_sweep) {
      Sweep();
      next_sweep = Clock::now() + std::chrono::milliseconds(100);
    }
  }
  // Stop: no new connections and idle ones closed; requests under way
  // (still arriving, or in a worker) get a grace period, then their
  // sockets are cut so a stalled transfer cannot hold shutdown.
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, listen_fd_.get(), nullptr);
  listen_fd_.Reset();
  const auto grace_end = Clock::now() + std::chrono::milliseconds(kShutdownGraceMs);
  while (Clock::now() < grace_end) {
    std::vector<int> idle;
    for (auto& [fd, conn] : conns_) {
      if (!conn->head_started || conn->state == Connection::State::kLinger) idle.push_back(fd);
    }
    for (int fd : idle) Close(fd);
    bool workers_busy;
    {
      std::lock_guard lock(mu_);
      workers_busy = !busy_.empty() || !returned_.empty();
    }
    if (conns_.empty() && !workers_busy) break;
    CUTROOM_RETURN_IF_ERROR(PollOnce(20));
    Sweep();
  }
  open_ -= conns_.size();
  conns_.clear();
  {
    std::lock_guard lock(mu_);
    for (int fd : busy_) ::shutdown(fd, SHUT_RDWR);
  }
  pool_.Shutdown();
  std::lock_guard lock(mu_);
  open_ -= returned_.size();
  returned_.clear();
  return Status::Ok();
}

Status Server::Impl::PollOnce(int timeout_ms) {
  epoll_event events[256];
  int n = ::epoll_wait(epoll_fd_.get(), events, 256, timeout_ms);
  if (n < 0 && errno != EINTR) return Status::IOError(std::string("epoll_wait: ") + std::strerror(errno));
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == listen_fd_.get()) {
      Accept();
    } else if (fd == wake_fd_.get()) {
      uint64_t count;
      while (::read(wake_fd_.get(), &count, sizeof count) > 0) {
      }
      AdoptReturned();
    } else if (auto it = conns_.find(fd); it != conns_.end()) {
      ConnPtr keep = it->second;
      OnReadable(*keep);
    }
  }
  return Status::Ok();
}

void Server::Impl::Accept() {
  while (true) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) spdlog::warn("out of file descriptors: not accepting connections for now");
      return;
    }
    if (open_.load() >= options_.max_connections) {
      ::close(fd);  // over the limit: the client may retry
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_shared<Connection>();
    conn->fd = UniqueFd(fd);
    AddressOf(peer, conn->remote_addr, conn->remote_port);
    sockaddr_storage local{};
    len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) AddressOf(local, conn->local_addr, conn->local_port);
    conn->deadline = Clock::now() + std::chrono::milliseconds(options_.header_timeout_ms);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;  // conn closes the fd
    conns_.emplace(fd, std::move(conn));
    open_++;
  }
}

void Server::Impl::Close(int fd) {
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  if (conns_.erase(fd)) open_--;
}

void Server::Impl::OnReadable(Connection& conn) {
  const int fd = conn.fd.get();
  char buf[16 * 1024];
  bool eof = false;
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      eof = true;
      break;
    }
    if (n > 0) {
      if (conn.state == Connection::State::kLinger) continue;  // discarded
      if (!conn.head_started) {
        conn.head_started = true;
        conn.deadline = Clock::now() + std::chrono::milliseconds(options_.header_timeout_ms);
      }
      conn.in.append(buf, static_cast<size_t>(n));
      // Enough for the head (or the small body): decide before reading more.
      if (conn.in.size() > options_.max_header_bytes + options_.buffered_body_limit) break;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return Close(fd);  // reset or failed
  }
  if (conn.state == Connection::State::kLinger) {
    if (eof) Close(fd);
    return;
  }
  // A client that half-closes after its request still gets the answer.
  Advance(conn);
  if (eof) {
    auto it = conns_.find(fd);
    if (it != conns_.end() && it->second.get() == &conn) Close(fd);
  }
}

void Server::Impl::Advance(Connection& conn) {
  if (conn.state == Connection::State::kHead) {
    if (conn.in.empty()) return;
    auto end = FindHeadEnd(conn.in);
    if (!end) {
      if (conn.in.size() > options_.max_header_bytes) {
        Respond(conn, 431, "the request head is larger than " + std::to_string(options_.max_header_bytes) + " bytes");
      }
      return;
    }
    if (*end > options_.max_header_bytes) {
      return Respond(conn, 431, "the request head is larger than " + std::to_string(options_.max_header_bytes) + " bytes");
    }
    if (auto error = ParseRequestHead(std::string_view(conn.in).substr(0, *end), conn.head)) {
      return Respond(conn, error->status, error->message);
    }
    conn.in.erase(0, *end);
    const RequestHead& head = conn.head;
    if (head.content_length && *head.content_length > options_.max_body_bytes) {
      return Respond(conn, 413, "the request body of " + std::to_string(*head.content_length) +
                                    " bytes exceeds the limit of " + std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (!head.HasBody()) return Dispatch(conn, false);
    if (head.chunked || *head.content_length > options_.buffered_body_limit) return Dispatch(conn, true);
    conn.state = Connection::State::kBody;
    if (head.expect_continue && conn.in.size() < *head.content_length) {
      // A small body: ask for it now (the socket buffer takes 25 bytes).
      [[maybe_unused]] ssize_t n = ::send(conn.fd.get(), "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL | MSG_DONTWAIT);
      conn.head.expect_continue = false;
    }
  }
  if (conn.state == Connection::State::kBody && conn.in.size() >= conn.head.content_length.value_or(0)) {
    Dispatch(conn, false);
  }
}

void Server::Impl::Respond(Connection& conn, int status, const std::string& message, int retry_after_s) {
  std::string response = FrontResponse(status, message, retry_after_s);
  [[maybe_unused]] ssize_t n = ::send(conn.fd.get(), response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(conn.fd.get(), SHUT_WR);
  conn.state = Connection::State::kLinger;
  conn.in.clear();
  conn.deadline = Clock::now() + std::chrono::milliseconds(kLingerMs);
}

void Server::Impl::Dispatch(Connection& conn, bool streaming) {
  const int fd = conn.fd.get();
  if (streaming && body_streams_.load() >= options_.max_body_streams) {
    return Respond(conn, 503,
                   "the server is receiving " + std::to_string(options_.max_body_streams) +
                       " request bodies already (server.max_upload_streams); try again shortly",
                   5);
  }
  epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  auto node = conns_.extract(fd);
  ConnPtr owned = std::move(node.mapped());
  if (streaming) body_streams_++;
  {
    std::lock_guard lock(mu_);
    busy_.insert(fd);
  }
  bool queued = pool_.Submit([this, owned, streaming] { Serve(owned, streaming); });
  if (!queued) {
    if (streaming) body_streams_--;
    {
      std::lock_guard lock(mu_);
      busy_.erase(fd);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev);
    conns_.emplace(fd, owned);
    Respond(*owned, 503, "the server is busy: every worker is taken and the queue is full; try again shortly", 2);
  }
}

void Server::Impl::Sweep() {
  auto now = Clock::now();
  std::vector<int> expired;
  for (auto& [fd, conn] : conns_) {
    if (now >= conn->deadline) expired.push_back(fd);
  }
  for (int fd : expired) {
    Connection& conn = *conns_.at(fd);
    if (conn.state != Connection::State::kLinger && conn.head_started) {
      // Part of a request came and the rest did not in time.
      Respond(conn, 408, "the request did not arrive in " + std::to_string(options_.header_timeout_ms) + " ms");
      continue;
    }
    Close(fd);  // idle keep-alive, or lingering done
  }
}

void Server::Impl::GiveBack(ConnPtr conn, bool linger) {
  const int fd = conn->fd.get();
  {
    std::lock_guard lock(mu_);
    busy_.erase(fd);
    returned_.emplace_back(std::move(conn), linger);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void Server::Impl::AdoptReturned() {
  std::vector<std::pair<ConnPtr, bool>> returned;
  {
    std::lock_guard lock(mu_);
    returned.swap(returned_);
  }
  auto now = Clock::now();
  for (auto& [conn, linger] : returned) {
    const int fd = conn->fd.get();
    if (stopping_) {
      open_--;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      open_--;
      continue;
    }
    Connection& c = *conn;
    conns_.emplace(fd, std::move(conn));
    if (linger) {
      ::shutdown(fd, SHUT_WR);
      c.state = Connection::State::kLinger;
      c.in.clear();
      c.deadline = now + std::chrono::milliseconds(kLingerMs);
      continue;
    }
    c.state = Connection::State::kHead;
    c.head = RequestHead{};
    c.head_started = !c.in.empty();
    c.deadline = now + std::chrono::milliseconds(c.head_started ? options_.header_timeout_ms : options_.keep_alive_ms);
    if (c.head_started) Advance(c);  // a pipelined request already here
  }
}

void Server::Impl::Serve(const ConnPtr& conn_ptr, bool streaming) {
  Connection& conn = *conn_ptr;
  const RequestHead& head = conn.head;
  httplib::Request req;
  req.method = head.method;
  req.target = head.target;
  req.path = head.path;
  req.version = "HTTP/1." + std::to_string(head.minor_version);
  req.headers = head.headers;
  ParseQueryString(head.query, req.params);
  req.remote_addr = conn.remote_addr;
  req.remote_port = conn.remote_port;
  req.local_addr = conn.local_addr;
  req.local_port = conn.local_port;
  if (auto range = req.headers.find("Range"); range != req.headers.end() && (head.method == "GET" || head.method == "HEAD")) {
    if (auto ranges = ParseRangeHeader(range->second)) req.ranges = std::move(*ranges);
  }

  BodyReader body(conn, options_);
  httplib::ContentReader reader(
      [&body](httplib::ContentReceiver receiver) { return body.Read(receiver); },
      [&body](httplib::MultipartContentHeader header, httplib::ContentReceiver receiver) {
        return body.ReadMultipart(header, receiver);
      });
  httplib::Response res;
  try {
    handler_(req, res, head.HasBody() ? &reader : nullptr);
  } catch (const std::exception& e) {
    spdlog::error("unhandled exception in {} {}: {}", req.method, req.path, e.what());
    res = httplib::Response();
    res.status = 500;
    res.set_content(R"({"error":{"code":"internal","message":"the server failed to handle the request","details":{}}})",
                    "application/json");
  }
  bool keep_alive = head.keep_alive && body.complete() && !stopping_;
  bool written = WriteResponse(conn, req, res, keep_alive);
  if (logger_) logger_(req, res);
  if (streaming) body_streams_--;
  if (!written) {
    {
      std::lock_guard lock(mu_);
      busy_.erase(conn.fd.get());
    }
      open_--;
    return;  // the last reference closes the socket
  }
  GiveBack(conn_ptr, !keep_alive);
}

bool Server::Impl::WriteResponse(Connection& conn, const httplib::Request& req, httplib::Response& res,
                                 bool& keep_alive) {
  const int fd = conn.fd.get();
  const int timeout = options_.write_timeout_ms;
  if (res.status < 0) res.status = 200;
  const bool head_only = req.method == "HEAD";
  const bool bodyless_status = res.status < 200 || res.status == 204 || res.status == 304;

  enum class Body { kString, kSized, kChunked, kUntilClose } kind = Body::kString;
  uint64_t start = 0;
  uint64_t length = res.body.size();
  if (res.content_provider_) {
    if (res.content_length_ > 0) {
      kind = Body::kSized;
      length = res.content_length_;
      if (res.status == 200 && req.ranges.size() == 1) {
        auto [first, last] = req.ranges[0];
        // The handler checked the range against the file (StreamBlob);
        // anything else still unresolved is served whole.
        if (first >= 0 && last >= first && static_cast<uint64_t>(last) < res.content_length_) {
          res.status = 206;
          start = static_cast<uint64_t>(first);
          length = static_cast<uint64_t>(last - first + 1);
          res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                              std::to_string(res.content_length_));
        }
      }
      if (!res.has_header("Accept-Ranges")) res.set_header("Accept-Ranges", "bytes");
    } else if (res.is_chunked_content_provider_ && req.version == "HTTP/1.1") {
      kind = Body::kChunked;
    } else {
      kind = Body::kUntilClose;
      keep_alive = false;
    }
  }

  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + ReasonPhrase(res.status) + "\r\n";
  for (const auto& [name, value] : res.headers) {
    if (IEquals(name, "Content-Length") || IEquals(name, "Transfer-Encoding") || IEquals(name, "Connection")) continue;
    // Header injection: a value with a line break would start new fields.
    if (value.find_first_of("\r\n") != std::string::npos || name.find_first_of("\r\n: ") != std::string::npos) continue;
    head += name + ": " + value + "\r\n";
  }
  if (!bodyless_status) {
    if (kind == Body::kChunked) {
      head += "Transfer-Encoding: chunked\r\n";
    } else if (kind != Body::kUntilClose) {
      head += "Content-Length: " + std::to_string(length) + "\r\n";
    }
  }
  head += "Date: " + HttpDate() + "\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";

  if (head_only || bodyless_status) return SendAll(fd, head, timeout);
  if (kind == Body::kString) {
    iovec iov[2] = {{head.data(), head.size()}, {res.body.data(), res.body.size()}};
    return SendAll(fd, iov, 2, timeout);
  }
  if (!SendAll(fd, head, timeout, /*more=*/true)) return false;

  bool ok = true;
  httplib::DataSink sink;
  sink.is_writable = [&] { return ok && !PeerGone(fd); };
  try {
    if (kind == Body::kSized) {
      uint64_t offset = start;
      const uint64_t end = start + length;
      sink.write = [&](const char* data, size_t n) {
        if (!ok) return false;
        n = static_cast<size_t>(std::min<uint64_t>(n, end - offset));
        ok = SendAll(fd, std::string_view(data, n), timeout);
        offset += n;
        return ok;
      };
      sink.done = [] {};
      while (ok && offset < end) {
        if (!res.content_provider_(offset, end - offset, sink)) ok = false;
      }
    } else {
      bool finished = false;
      uint64_t offset = 0;
      sink.done = [&] { finished = true; };
      sink.write = [&](const char* data, size_t n) {
        if (!ok) return false;
        if (n == 0) return true;
        if (kind == Body::kChunked) {
          char size_line[32];
          int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
          iovec iov[3] = {{size_line, static_cast<size_t>(len)}, {const_cast<char*>(data), n}, {const_cast<char*>("\r\n"), 2}};
          ok = SendAll(fd, iov, 3, timeout);
        } else {
          ok = SendAll(fd, std::string_view(data, n), timeout);
        }
        offset += n;
        return ok;
      };
      while (ok && !finished) {
        if (!res.content_provider_(offset, 0, sink)) ok = false;
      }
      if (ok && kind == Body::kChunked) ok = SendAll(fd, "0\r\n\r\n", timeout);
    }
  } catch (const std::exception& e) {
    spdlog::error("response body of {} {} failed: {}", req.method, req.path, e.what());
    ok = false;
  }
  res.content_provider_success_ = ok;
  if (kind == Body::kUntilClose) keep_alive = false;
  return ok;
}

Server::Server(ServerOptions options, Handler handler, Logger logger)
    : impl_(std::make_unique<Impl>(options, std::move(handler), std::move(logger))) {}

Server::~Server() = default;

Result<int> Server::Bind(const std::string& host, int port) { return impl_->Bind(host, port); }
Status Server::Run() { return impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
size_t Server::open_connections() const { return impl_->open_connections(); }

}  // namespace cutroom::http
