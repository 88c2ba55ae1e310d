// Parsing of an HTTP/1.x request head (request line and header fields),
// of query strings and of Range headers.
//
// Pure functions over bytes that arrived from the network: they never
// throw, never read past what they are given, and every limit is explicit.
// What they refuse maps to a status the server answers with (400, 414,
// 431, 501, 505) before any handler runs. Request smuggling is refused at
// the door: both Content-Length and Transfer-Encoding, two different
// Content-Lengths, or a transfer coding other than "chunked" (RFC 9112
// 6.1, 6.3).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cutroom::http {

inline constexpr size_t kMaxRequestTarget = 8 * 1024;
inline constexpr size_t kMaxHeaderFields = 100;

struct HeadError {
  int status = 400;     // what the server answers with
  std::string message;  // why, for the error body
};

struct RequestHead {
  std::string method;
  std::string target;   // as sent
  std::string path;     // percent-decoded, without the query
  std::string query;    // raw, without '?'
  int minor_version = 1;  // HTTP/1.<minor>
  httplib::Headers headers;

  bool chunked = false;                // Transfer-Encoding: chunked
  std::optional<uint64_t> content_length;
  bool expect_continue = false;        // Expect: 100-continue
  bool keep_alive = true;              // what the client asked for

  bool HasBody() const { return chunked || content_length.value_or(0) > 0; }
};

// Where the head ends in buf: the offset just past the blank line, or
// nullopt while it is incomplete. Bare LF line ends are accepted.
std::optional<size_t> FindHeadEnd(std::string_view buf);

// Parses a complete head (as located by FindHeadEnd).
std::optional<HeadError> ParseRequestHead(std::string_view head, RequestHead& out);

// "%41+b" -> "A b" when plus_is_space, "A+b" otherwise. Malformed escapes
// are kept as they are.
std::string DecodePercent(std::string_view in, bool plus_is_space);

// "a=1&b=x%20y&c" into params (c maps to "").
void ParseQueryString(std::string_view query, httplib::Params& params);

// "bytes=0-99, 200-, -50" into ranges (-1 for an absent end); nullopt when
// the header is malformed or names more than max_ranges ranges, which the
// server then ignores (RFC 9110 14.2: a server may ignore Range).
std::optional<httplib::Ranges> ParseRangeHeader(std::string_view value, size_t max_ranges = 16);

// The boundary parameter of a multipart Content-Type, or "" when there is
// none or it is not a valid boundary (RFC 2046 5.1.1: 1-70 characters).
std::string MultipartBoundary(std::string_view content_type);

// The standard reason phrase of a status code ("" for unknown codes).
const char* ReasonPhrase(int status);

}  // namespace cutroom::http
