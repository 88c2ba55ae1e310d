// The http_request fuzz target (targets.h): cutroom's HTTP/1.1 front on a
// byte stream as a client sends it, without sockets.
//
// Input: byte 0 says how many piece sizes follow (0-3); each of those bytes
// is a size (1-64). The rest is the stream: request heads (FindHeadEnd,
// ParseRequestHead), each followed by its body, which goes through the
// ChunkedDecoder when chunked and, decoded, through a MultipartParser
// (boundary from Content-Type, else "cutroomfuzz"), fed in pieces of those
// sizes in turn (so every delimiter gets split at every position) and again
// in one piece. Up to 16 pipelined requests. Header values also go through
// DecodePercent, ParseQueryString, ParseRangeHeader and MultipartBoundary.
//
// Invariants checked (a violation aborts, which libFuzzer reports):
//   - FindHeadEnd ends on a LF inside the buffer and finds nothing earlier;
//   - a parsed head never has both Content-Length and chunked, chunked only
//     on HTTP/1.1, a NUL-free path, at most kMaxHeaderFields fields, a target
//     of at most kMaxRequestTarget bytes; a refusal is one of the statuses
//     the server answers with (400, 414, 417, 431, 501, 505);
//   - the ChunkedDecoder never consumes more than it is given, stops early
//     only when done or failed, hands on no more payload than it consumed;
//   - the MultipartParser hands on no more data than it was given;
//   - both decoders give the same result (payload, parts, done, failed)
//     however the bytes are split;
//   - DecodePercent never grows its input; ParseRangeHeader gives 1-16
//     ranges of values >= -1, never both ends absent; MultipartBoundary
//     gives 1-70 printable characters or nothing.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/targets.h"
#include "http/body_parsers.h"
#include "http/request_head.h"

namespace cutroom::fuzz {
namespace {

[[noreturn]] void Violated(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "http_request invariant violated: %s %.*s\n", what, static_cast<int>(std::min<size_t>(detail.size(), 300)),
               detail.data());
  std::abort();
}

#define HTTP_FUZZ_CHECK(cond, ...) \
  do {                             \
    if (!(cond)) Violated(#cond __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

// Piece sizes from the input; empty means one piece.
struct Splitter {
  std::vector<size_t> sizes;
  size_t next = 0;
  size_t Next(size_t left) {
    if (sizes.empty()) return left;
    size_t n = sizes[next++ % sizes.size()];
    return std::min(n, left);
  }
};

void CheckHeaderValue(std::string_view value) {
  for (bool plus : {false, true}) {
    std::string decoded = http::DecodePercent(value, plus);
    HTTP_FUZZ_CHECK(decoded.size() <= value.size(), value);
    if (!plus && value.find('%') == std::string_view::npos) HTTP_FUZZ_CHECK(decoded == value, value);
  }
  httplib::Params params;
  http::ParseQueryString(value, params);
  for (const auto& [key, v] : params) HTTP_FUZZ_CHECK(!key.empty(), value);
  HTTP_FUZZ_CHECK(params.size() <= value.size(), value);
  if (auto ranges = http::ParseRangeHeader(value)) {
    HTTP_FUZZ_CHECK(!ranges->empty() && ranges->size() <= 16, value);
    for (const auto& [first, last] : *ranges) {
      HTTP_FUZZ_CHECK(first >= -1 && last >= -1 && !(first == -1 && last == -1), value);
    }
  }
  HTTP_FUZZ_CHECK(!http::ParseRangeHeader(value, 1) || http::ParseRangeHeader(value, 1)->size() == 1, value);
  std::string boundary = http::MultipartBoundary(value);
  HTTP_FUZZ_CHECK(boundary.size() <= 70, value);
  for (char c : boundary) {
    auto u = static_cast<unsigned char>(c);
    HTTP_FUZZ_CHECK(u >= 0x20 && u < 0x7f, value);
  }
}

void CheckHead(const http::RequestHead& h) {
  HTTP_FUZZ_CHECK(!(h.chunked && h.content_length), h.target);
  HTTP_FUZZ_CHECK(!h.method.empty(), h.target);
  HTTP_FUZZ_CHECK(h.minor_version >= 0 && h.minor_version <= 9, h.target);
  HTTP_FUZZ_CHECK(!(h.chunked && h.minor_version == 0), h.target);
  HTTP_FUZZ_CHECK(!h.expect_continue || h.minor_version >= 1, h.target);
  HTTP_FUZZ_CHECK(h.path.find('\0') == std::string::npos, h.target);
  HTTP_FUZZ_CHECK(!h.path.empty() && (h.path.front() == '/' || h.path == "*"), h.target);
  HTTP_FUZZ_CHECK(h.target.size() <= http::kMaxRequestTarget, h.target);
  HTTP_FUZZ_CHECK(h.headers.size() <= http::kMaxHeaderFields, h.target);
  HTTP_FUZZ_CHECK(h.HasBody() == (h.chunked || h.content_length.value_or(0) > 0), h.target);
  HTTP_FUZZ_CHECK(h.query.find('#') == std::string::npos, h.query);
  httplib::Params params;
  http::ParseQueryString(h.query, params);
  for (const auto& [name, value] : h.headers) CheckHeaderValue(value);
}

struct Part {
  std::string name, filename, content_type, data;
  bool operator==(const Part&) const = default;
};

struct MultipartResult {
  std::vector<Part> parts;
  bool ok = true;
  bool done = false;
  size_t fed = 0;
  size_t emitted = 0;
  bool operator==(const MultipartResult& o) const {
    return parts == o.parts && ok == o.ok && done == o.done;
  }
};

class MultipartRun {
 public:
  explicit MultipartRun(const std::string& boundary) : parser_(boundary) {}
  void Feed(std::string_view bytes) {
    if (!r_.ok || bytes.empty()) return;
    r_.fed += bytes.size();
    r_.ok = parser_.Feed(
        bytes.data(), bytes.size(),
        [this](const httplib::MultipartFormData& part) {
          r_.parts.push_back({part.name, part.filename, part.content_type, ""});
          return true;
        },
        [this](const char* data, size_t n) {
          HTTP_FUZZ_CHECK(!r_.parts.empty(), "data before any part");
          r_.parts.back().data.append(data, n);
          r_.emitted += n;
          return true;
        });
    HTTP_FUZZ_CHECK(r_.emitted <= r_.fed, "multipart emitted more than it was given");
    if (!r_.ok) HTTP_FUZZ_CHECK(!parser_.error().empty(), "a multipart failure without a reason");
  }
  const MultipartResult& Finish() {
    r_.done = parser_.done();
    HTTP_FUZZ_CHECK(!(r_.done && !r_.ok), "multipart done and failed");
    return r_;
  }

 private:
  http::MultipartParser parser_;
  MultipartResult r_;
};

struct ChunkedResult {
  std::string payload;
  bool done = false, failed = false;
  size_t consumed = 0;
};

// Decodes the chunked body at the start of stream, fed in the splitter's
// pieces; every decoded piece also goes to multipart.
ChunkedResult DecodeChunked(std::string_view stream, Splitter& split, MultipartRun& multipart) {
  http::ChunkedDecoder decoder;
  ChunkedResult r;
  size_t offset = 0;
  while (offset < stream.size() && !decoder.done() && !decoder.failed()) {
    size_t n = split.Next(stream.size() - offset);
    size_t emitted_before = r.payload.size();
    size_t used = decoder.Feed(stream.data() + offset, n, [&](const char* data, size_t len) {
      r.payload.append(data, len);
      return true;
    });
    HTTP_FUZZ_CHECK(used <= n, "ChunkedDecoder consumed more than it was given");
    HTTP_FUZZ_CHECK(used == n || decoder.done() || decoder.failed(), "ChunkedDecoder stopped early");
    HTTP_FUZZ_CHECK(r.payload.size() - emitted_before <= used, "ChunkedDecoder emitted more than it consumed");
    multipart.Feed(std::string_view(r.payload).substr(emitted_before));
    offset += used;
    r.consumed += used;
  }
  r.done = decoder.done();
  r.failed = decoder.failed();
  HTTP_FUZZ_CHECK(!(r.done && r.failed), "ChunkedDecoder done and failed");
  HTTP_FUZZ_CHECK(!r.failed || !decoder.error().empty(), "a chunked failure without a reason");
  HTTP_FUZZ_CHECK(r.payload.size() <= r.consumed, "chunked payload larger than its coding");
  return r;
}

std::string BoundaryOf(const http::RequestHead& h) {
  auto it = h.headers.find("Content-Type");
  std::string b = it == h.headers.end() ? "" : http::MultipartBoundary(it->second);
  return b.empty() ? "cutroomfuzz" : b;
}

}  // namespace

int HttpRequest(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Splitter split;
  size_t nsizes = data[0] % 4;
  size_t pos = 1;
  for (; pos < size && split.sizes.size() < nsizes; ++pos) split.sizes.push_back(data[pos] % 64 + 1);
  std::string_view rest(reinterpret_cast<const char*>(data) + pos, size - pos);

  for (int request = 0; request < 16 && !rest.empty(); ++request) {
    auto end = http::FindHeadEnd(rest);
    http::RequestHead head;
    if (!end) {
      // An incomplete head: the server waits for more. Parsing what there is
      // must still be safe.
      if (!http::ParseRequestHead(rest, head)) CheckHead(head);
      break;
    }
    HTTP_FUZZ_CHECK(*end >= 1 && *end <= rest.size() && rest[*end - 1] == '\n', "FindHeadEnd out of bounds");
    HTTP_FUZZ_CHECK(http::FindHeadEnd(rest.substr(0, *end)) == end, "FindHeadEnd depends on what follows");
    HTTP_FUZZ_CHECK(!http::FindHeadEnd(rest.substr(0, *end - 1)), "FindHeadEnd found an earlier end");
    if (auto error = http::ParseRequestHead(rest.substr(0, *end), head)) {
      const int s = error->status;
      HTTP_FUZZ_CHECK(s == 400 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505, error->message);
      HTTP_FUZZ_CHECK(!error->message.empty(), "a refusal without a reason");
      break;  // the server answers the error and closes the connection
    }
    CheckHead(head);
    rest.remove_prefix(*end);

    const std::string boundary = BoundaryOf(head);
    if (head.chunked) {
      MultipartRun split_parts(boundary), whole_parts(boundary);
      ChunkedResult pieces = DecodeChunked(rest, split, split_parts);
      Splitter whole;
      MultipartRun unused(boundary);
      ChunkedResult once = DecodeChunked(rest, whole, unused);
      HTTP_FUZZ_CHECK(pieces.payload == once.payload && pieces.done == once.done && pieces.failed == once.failed,
                      "ChunkedDecoder depends on how the bytes are split");
      if (once.done) HTTP_FUZZ_CHECK(pieces.consumed == once.consumed, "chunked body ends differ with splitting");
      whole_parts.Feed(once.payload);
      HTTP_FUZZ_CHECK(split_parts.Finish() == whole_parts.Finish(), "MultipartParser depends on how the bytes are split");
      if (!once.done) break;  // incomplete or malformed: the connection ends here
      rest.remove_prefix(once.consumed);
      continue;
    }
    const uint64_t length = head.content_length.value_or(0);
    std::string_view body = rest.substr(0, static_cast<size_t>(std::min<uint64_t>(length, rest.size())));
    if (!body.empty()) {
      MultipartRun split_parts(boundary), whole_parts(boundary);
      for (size_t offset = 0; offset < body.size();) {
        size_t n = split.Next(body.size() - offset);
        split_parts.Feed(body.substr(offset, n));
        offset += n;
      }
      whole_parts.Feed(body);
      HTTP_FUZZ_CHECK(split_parts.Finish() == whole_parts.Finish(), "MultipartParser depends on how the bytes are split");
    }
    if (length > rest.size()) break;  // the body is still arriving
    rest.remove_prefix(static_cast<size_t>(length));
  }
  return 0;
}

}  // namespace cutroom::fuzz
