#include "storage/s3_signer.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/hash.h"

namespace cutroom::storage {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with runs of spaces folded to one.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string Scope(const S3SigningInput& in) { return in.amz_date.substr(0, 8) + "/" + in.region + "/s3/aws4_request"; }

// "host;x-amz-date" and the sorted, lower-cased headers behind it.
std::pair<std::string, std::string> CanonicalHeaders(const S3SigningInput& in) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : in.headers) headers.emplace_back(Lower(name), TrimAll(value));
  std::sort(headers.begin(), headers.end());
  std::string canonical;
  std::string signed_names;
  for (const auto& [name, value] : headers) {
    canonical += name + ":" + value + "\n";
    if (!signed_names.empty()) signed_names += ";";
    signed_names += name;
  }
  return {canonical, signed_names};
}

}  // namespace

std::string S3UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = S3UriEncode(k, false);
    v = S3UriEncode(v, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += "&";
    out += k + "=" + v;
  }
  return out;
}

std::string S3CanonicalRequest(const S3SigningInput& in) {
  auto [headers, signed_names] = CanonicalHeaders(in);
  return in.method + "\n" + in.canonical_uri + "\n" + in.canonical_query + "\n" + headers + "\n" + signed_names +
         "\n" + in.payload_sha256;
}

std::string S3Authorization(const S3SigningInput& in, const S3Credentials& credentials) {
  std::string scope = Scope(in);
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + scope + "\n" + Sha256Hex(S3CanonicalRequest(in));
  std::string key = HmacSha256("AWS4" + credentials.secret_key, in.amz_date.substr(0, 8));
  key = HmacSha256(key, in.region);
  key = HmacSha256(key, "s3");
  key = HmacSha256(key, "aws4_request");
  std::string signature = HexEncode(HmacSha256(key, to_sign));
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + scope +
         ",SignedHeaders=" + CanonicalHeaders(in).second + ",Signature=" + signature;
}

std::string S3AmzDate(int64_t epoch_ms) {
  time_t secs = static_cast<time_t>(epoch_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &t);
  return buf;
}

}  // namespace cutroom::storage
