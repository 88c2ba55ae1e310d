#include "http/body_parsers.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "http/request_head.h"

namespace cutroom::http {
namespace {

constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxTrailer = 8 * 1024;
constexpr size_t kMaxPartHeaders = 8 * 1024;
constexpr size_t kMaxPreamble = 64 * 1024;
constexpr size_t kMaxPadding = 256;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits "form-data; name=\"a;b\"; filename=x" on the semicolons outside
// quoted strings and unquotes the values.
std::vector<std::pair<std::string, std::string>> DispositionParams(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = value.find(';');
  if (i == std::string_view::npos) return params;
  ++i;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ';')) ++i;
    size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string name(Trim(value.substr(i, eq - i)));
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      while (i < value.size() && value[i] != '"') {
        // Browsers escape only '"' (as %22) and keep backslashes, so a
        // backslash is taken literally except before a quote.
        if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '"') ++i;
        v.push_back(value[i++]);
      }
      ++i;  // closing quote
      while (i < value.size() && value[i] != ';') ++i;
    } else {
      size_t end = value.find(';', i);
      if (end == std::string_view::npos) end = value.size();
      v = std::string(Trim(value.substr(i, end - i)));
      i = end;
    }
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    params.emplace_back(std::move(name), std::move(v));
  }
  return params;
}

}  // namespace

void ChunkedDecoder::Fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
}

size_t ChunkedDecoder::Feed(const char* data, size_t n, const httplib::ContentReceiver& on_data) {
  size_t i = 0;
  while (i < n && state_ != State::kDone && state_ != State::kFailed) {
    switch (state_) {
      case State::kSize:
      case State::kTrailer: {
        const char* lf = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
        size_t take = lf ? static_cast<size_t>(lf - (data + i)) : n - i;
        line_.append(data + i, take);
        i += take;
        size_t limit = state_ == State::kSize ? kMaxChunkLine : kMaxTrailer;
        if (line_.size() > limit) {
          Fail(state_ == State::kSize ? "a chunk size line is too long" : "the chunked trailer is too long");
          break;
        }
        if (!lf) break;
        ++i;  // the LF
        std::string_view line(line_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (state_ == State::kTrailer) {
          if (line.empty()) state_ = State::kDone;
          line_.clear();
          break;
        }
        size_t end = line.find(';');
        std::string_view hex = Trim(line.substr(0, end));
        if (hex.empty() || hex.size() > 15) {
          Fail("a chunk size must be 1-15 hex digits");
          break;
        }
        uint64_t size = 0;
        for (char c : hex) {
          int d = HexDigit(c);
          if (d < 0) {
            Fail("a chunk size is not hexadecimal");
            break;
          }
          size = size * 16 + static_cast<uint64_t>(d);
        }
        if (state_ == State::kFailed) break;
        line_.clear();
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - i));
        if (!on_data(data + i, take)) {
          aborted_ = true;
          Fail("the receiver stopped");
          return i;
        }
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        // CRLF after the chunk's data (a bare LF is tolerated).
        char c = data[i++];
        if (c == '\r') break;
        if (c != '\n') {
          Fail("a chunk's data is not followed by CRLF");
          break;
        }
        state_ = State::kSize;
        break;
      }
      case State::kDone:
      case State::kFailed:
        break;
    }
  }
  return i;
}

MultipartParser::MultipartParser(std::string boundary) : delimiter_("\r\n--" + std::move(boundary)) {
  // The first delimiter need not follow a line break: pretend one came
  // before the body, so every delimiter looks the same.
  buf_ = "\r\n";
}

bool MultipartParser::Fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  return false;
}

bool MultipartParser::ParsePartHeaders(std::string_view block, httplib::MultipartFormData& part) {
  bool disposition = false;
  while (!block.empty()) {
    size_t lf = block.find('\n');
    std::string_view line = block.substr(0, lf);
    block.remove_prefix(lf == std::string_view::npos ? block.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail("a part header line has no ':'");
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Content-Type")) {
      part.content_type = std::string(value);
    } else if (IEquals(name, "Content-Disposition")) {
      size_t semi = value.find(';');
      if (!IEquals(Trim(value.substr(0, semi)), "form-data")) return Fail("a part's Content-Disposition is not form-data");
      std::string filename_star;
      for (auto& [key, v] : DispositionParams(value)) {
        if (key == "name") part.name = v;
        if (key == "filename") part.filename = v;
        if (key == "filename*") filename_star = v;
      }
      // RFC 5987 ext-value: charset'lang'percent-encoded; only UTF-8 is taken.
      if (!filename_star.empty()) {
        size_t q1 = filename_star.find('\'');
        size_t q2 = q1 == std::string::npos ? q1 : filename_star.find('\'', q1 + 1);
        if (q2 != std::string::npos && IEquals(std::string_view(filename_star).substr(0, q1), "UTF-8")) {
          part.filename = DecodePercent(std::string_view(filename_star).substr(q2 + 1), false);
        }
      }
      disposition = true;
    }
  }
  if (!disposition) return Fail("a part has no Content-Disposition header");
  return true;
}

bool MultipartParser::Feed(const char* data, size_t n, const httplib::MultipartContentHeader& on_header,
                           const httplib::ContentReceiver& on_data) {
  if (state_ == State::kFailed) return false;
  if (state_ == State::kDone) return true;
  buf_.append(data, n);
  while (true) {
    switch (state_) {
      case State::kPreamble: {
        size_t at = buf_.find(delimiter_);
        if (at == std::string::npos) {
          size_t keep = std::min(buf_.size(), delimiter_.size() - 1);
          preamble_seen_ += buf_.size() - keep;
          buf_.erase(0, buf_.size() - keep);
          if (preamble_seen_ > kMaxPreamble) return Fail("no multipart boundary in the first 64 KiB of the body");
          return true;
        }
        buf_.erase(0, at + delimiter_.size());
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kAfterDelimiter: {
        if (buf_.size() < 2) return true;
        if (buf_.compare(0, 2, "--") == 0) {
          state_ = State::kDone;
          buf_.clear();
          return true;
        }
        // Transport padding (RFC 2046 5.1.1), then the line break.
        size_t i = 0;
        while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
        if (i > kMaxPadding) return Fail("too much padding after a multipart boundary");
        if (i == buf_.size() || (buf_[i] == '\r' && i + 1 == buf_.size())) return true;
        if (buf_[i] == '\r' && buf_[i + 1] == '\n') {
          buf_.erase(0, i + 2);
        } else if (buf_[i] == '\n') {
          buf_.erase(0, i + 1);
        } else {
          return Fail("a multipart boundary is followed by something other than a line break");
        }
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        // The block ends at the first empty line (CRLF or bare LF, the
        // earliest of either, so how the bytes were split cannot matter);
        // a part may have no headers at all only in theory (form-data
        // needs a disposition).
        size_t end = std::string::npos;
        size_t skip = 0;
        if (buf_.compare(0, 2, "\r\n") == 0) {
          end = 0;
          skip = 2;
        } else if (!buf_.empty() && buf_[0] == '\n') {
          end = 0;
          skip = 1;
        } else {
          size_t crlf = buf_.find("\n\r\n");
          size_t lf = buf_.find("\n\n");
          if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) {
            end = crlf + 1;
            skip = 2;
          } else if (lf != std::string::npos) {
            end = lf + 1;
            skip = 1;
          }
        }
        if (end == std::string::npos) {
          if (buf_.size() > kMaxPartHeaders) return Fail("a part's headers are longer than 8 KiB");
          return true;
        }
        if (end > kMaxPartHeaders) return Fail("a part's headers are longer than 8 KiB");
        httplib::MultipartFormData part;
        if (!ParsePartHeaders(std::string_view(buf_).substr(0, end), part)) return false;
        buf_.erase(0, end + skip);
        if (!on_header(part)) {
          aborted_ = true;
          return Fail("the receiver stopped");
        }
        state_ = State::kBody;
        break;
      }
      case State::kBody: {
        size_t at = buf_.find(delimiter_);
        size_t emit = at != std::string::npos ? at : buf_.size() - std::min(buf_.size(), delimiter_.size() - 1);
        if (emit > 0 && !on_data(buf_.data(), emit)) {
          aborted_ = true;
          return Fail("the receiver stopped");
        }
        if (at == std::string::npos) {
          buf_.erase(0, emit);
          return true;
        }
        buf_.erase(0, at + delimiter_.size());
        state_ = State::kAfterDelimiter;
        break;
      }
      case State::kDone:
        return true;
      case State::kFailed:
        return false;
    }
  }
}

}  // namespace cutroom::http
