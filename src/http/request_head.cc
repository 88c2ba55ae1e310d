#include "http/request_head.h"

#include <algorithm>
#include <cctype>

namespace cutroom::http {
namespace {

bool IsTokenChar(unsigned char c) {
  // RFC 9110 5.6.2 tchar.
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Whether a comma-separated header value lists token (case-insensitive).
bool ListsToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = TrimOws(value.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;  // 19 digits cannot overflow uint64
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits the next line off s (LF or CRLF); false when there is none.
bool NextLine(std::string_view& s, std::string_view& line) {
  size_t lf = s.find('\n');
  if (lf == std::string_view::npos) return false;
  line = s.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  s.remove_prefix(lf + 1);
  return true;
}

}  // namespace

std::optional<size_t> FindHeadEnd(std::string_view buf) {
  // Leading empty lines before a request line are ignored (RFC 9112 2.2),
  // which the parser does too; the head ends at the first empty line after
  // a non-empty one.
  size_t pos = 0;
  bool seen_line = false;
  while (pos < buf.size()) {
    size_t lf = buf.find('\n', pos);
    if (lf == std::string_view::npos) return std::nullopt;
    size_t len = lf - pos;
    if (len > 0 && buf[lf - 1] == '\r') --len;
    if (len == 0) {
      if (seen_line) return lf + 1;
    } else {
      seen_line = true;
    }
    pos = lf + 1;
  }
  return std::nullopt;
}

std::optional<HeadError> ParseRequestHead(std::string_view head, RequestHead& out) {
  out = RequestHead{};
  std::string_view line;
  do {
    if (!NextLine(head, line)) return HeadError{400, "the request has no request line"};
  } while (line.empty());

  // method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return HeadError{400, "the request line must be 'METHOD TARGET HTTP/1.1'"};
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return HeadError{400, "the request method is not a token"};
  if (target.size() > kMaxRequestTarget) {
    return HeadError{414, "the request target is longer than " + std::to_string(kMaxRequestTarget) + " bytes"};
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' || version[7] > '9') {
    if (version.substr(0, 5) == "HTTP/") return HeadError{505, "only HTTP/1.0 and HTTP/1.1 are served"};
    return HeadError{400, "the request line has no valid HTTP version"};
  }
  out.method = std::string(method);
  out.minor_version = version[7] - '0';
  out.keep_alive = out.minor_version >= 1;
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return HeadError{400, "the request target contains a control character"};
  }
  std::string_view origin = target;
  if (origin.substr(0, 7) == "http://" || origin.substr(0, 8) == "https://") {
    // absolute-form (RFC 9112 3.2.2): the path starts after the authority.
    size_t slash = origin.find('/', origin.find("//") + 2);
    origin = slash == std::string_view::npos ? std::string_view("/") : origin.substr(slash);
  }
  if (origin.empty() || (origin.front() != '/' && !(origin == "*" && method == "OPTIONS"))) {
    return HeadError{400, "the request target must be an absolute path"};
  }
  out.target = std::string(target);
  size_t q = origin.find('?');
  std::string_view raw_path = origin.substr(0, q);
  if (q != std::string_view::npos) out.query = std::string(origin.substr(q + 1));
  size_t hash = out.query.find('#');
  if (hash != std::string::npos) out.query.resize(hash);
  out.path = DecodePercent(raw_path, /*plus_is_space=*/false);
  if (out.path.find('\0') != std::string::npos) return HeadError{400, "the request path contains a NUL byte"};

  std::optional<uint64_t> content_length;
  bool transfer_encoding = false;
  size_t fields = 0;
  while (NextLine(head, line)) {
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      return HeadError{400, "obsolete line folding in header fields is not accepted"};
    }
    if (++fields > kMaxHeaderFields) {
      return HeadError{431, "the request has more than " + std::to_string(kMaxHeaderFields) + " header fields"};
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return HeadError{400, "a header line has no ':'"};
    std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return HeadError{400, "a header field name is not a token"};
    std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f) return HeadError{400, "a header value contains a control character"};
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      auto n = ParseDecimal(value);
      if (!n) return HeadError{400, "Content-Length must be a decimal number"};
      if (content_length && *content_length != *n) return HeadError{400, "two different Content-Length values"};
      content_length = n;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (transfer_encoding || !EqualsIgnoreCase(value, "chunked")) {
        return HeadError{501, "the only transfer coding accepted on requests is 'chunked'"};
      }
      transfer_encoding = true;
    } else if (EqualsIgnoreCase(name, "Connection")) {
      if (ListsToken(value, "close")) out.keep_alive = false;
      if (ListsToken(value, "keep-alive")) out.keep_alive = true;
    } else if (EqualsIgnoreCase(name, "Expect")) {
      if (!EqualsIgnoreCase(value, "100-continue")) return HeadError{417, "only 'Expect: 100-continue' is understood"};
      out.expect_continue = out.minor_version >= 1;
    }
    out.headers.emplace(std::string(name), std::string(value));
  }
  if (transfer_encoding && content_length) {
    return HeadError{400, "a request must not carry both Content-Length and Transfer-Encoding"};
  }
  if (transfer_encoding && out.minor_version == 0) {
    return HeadError{400, "HTTP/1.0 requests cannot use chunked transfer coding"};
  }
  out.chunked = transfer_encoding;
  out.content_length = content_length;
  return std::nullopt;
}

std::string DecodePercent(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void ParseQueryString(std::string_view query, httplib::Params& params) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key = DecodePercent(pair.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? std::string() : DecodePercent(pair.substr(eq + 1), true);
      if (!key.empty()) params.emplace(std::move(key), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

std::optional<httplib::Ranges> ParseRangeHeader(std::string_view value, size_t max_ranges) {
  value = TrimOws(value);
  if (value.substr(0, 6) != "bytes=") return std::nullopt;
  value.remove_prefix(6);
  httplib::Ranges ranges;
  while (true) {
    size_t comma = value.find(',');
    std::string_view spec = TrimOws(value.substr(0, comma));
    size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view first = spec.substr(0, dash);
    std::string_view last = spec.substr(dash + 1);
    if (first.empty() && last.empty()) return std::nullopt;
    // 18 digits keep every value inside ssize_t.
    if (first.size() > 18 || last.size() > 18) return std::nullopt;
    auto a = first.empty() ? std::optional<uint64_t>() : ParseDecimal(first);
    auto b = last.empty() ? std::optional<uint64_t>() : ParseDecimal(last);
    if ((!first.empty() && !a) || (!last.empty() && !b)) return std::nullopt;
    ranges.emplace_back(a ? static_cast<ssize_t>(*a) : -1, b ? static_cast<ssize_t>(*b) : -1);
    if (ranges.size() > max_ranges) return std::nullopt;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return ranges;
}

std::string MultipartBoundary(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (semi == std::string_view::npos) return "";
  std::string_view params = content_type.substr(semi + 1);
  while (!params.empty()) {
    size_t next = params.find(';');
    std::string_view param = TrimOws(params.substr(0, next));
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(TrimOws(param.substr(0, eq)), "boundary")) {
      std::string_view b = TrimOws(param.substr(eq + 1));
      if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
      if (b.empty() || b.size() > 70) return "";
      for (char c : b) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) return "";
      }
      return std::string(b);
    }
    if (next == std::string_view::npos) break;
    params.remove_prefix(next + 1);
  }
  return "";
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 460: return "Checksum Mismatch";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "";
  }
}

}  // namespace cutroom::http
