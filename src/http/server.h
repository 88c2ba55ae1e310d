// cutroom's HTTP/1.1 server: an epoll front that owns every connection
// while it is idle or still sending its request head, and a pool of
// workers that only ever see complete request heads.
//
// Why not cpp-httplib's server: it gives each connection a worker thread
// from its first byte, so 20 clients that send half a header and wait hold
// all its threads until their read timeout, and nothing else is answered
// (slowloris). Here waiting costs a file descriptor and a small buffer in
// the epoll loop, which enforces the deadlines:
//   - a request head must arrive whole within header_timeout of its first
//     byte (408, then close); heads over max_header_bytes get 431;
//   - an idle keep-alive connection is closed after keep_alive;
//   - a small body (up to buffered_body_limit, i.e. every JSON request) is
//     read by the loop too, under the same deadline, before a worker runs;
//   - larger or chunked bodies (uploads) stream in a worker straight from
//     the socket in large reads, at most max_body_streams at once (503 with
//     Retry-After beyond), and must keep up min_body_rate bytes/s over each
//     body_rate_window or the connection is closed (408);
//   - a response write that makes no progress for write_timeout closes.
// The pool keeps core_threads and grows to max_threads for slow handlers
// (event streams, downloads); when all are busy and max_queue requests
// wait, new ones get 503.
//
// Requests and responses are cpp-httplib's structs, so handlers are
// unchanged: bodies come through an httplib::ContentReader (plain and
// multipart), responses may use content providers (sized with one byte
// range, chunked, or close-delimited).
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"

namespace cutroom::http {

struct ServerOptions {
  size_t core_threads = 16;
  size_t max_threads = 256;
  size_t max_queue = 1024;
  size_t max_body_streams = 64;
  size_t max_connections = 10000;
  int header_timeout_ms = 10'000;
  int keep_alive_ms = 5'000;
  int write_timeout_ms = 30'000;
  uint64_t min_body_rate = 1024;  // bytes per second, over each window
  int body_rate_window_ms = 20'000;
  size_t max_header_bytes = 64 * 1024;
  size_t buffered_body_limit = 64 * 1024;
  uint64_t max_body_bytes = uint64_t{1} << 40;  // backstop: 413 before reading
};

// Handles one request completely; reader is null when it has no body.
using Handler = std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader* reader)>;
// Called after each response is written (or failed to be).
using Logger = std::function<void(const httplib::Request&, const httplib::Response&)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler, Logger logger = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on host:port (port 0 picks a free one); returns the port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(); in-flight requests finish (event streams and
  // stalled transfers are cut).
  Status Run();
  // From any thread, also before Run().
  void Stop();

  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutroom::http
