// AWS Signature Version 4 for S3 requests, computed here rather than by
// libcurl's CURLOPT_AWS_SIGV4: Debian 12's curl (7.88) neither hashes a body
// sent through a read callback nor canonicalises the query string (sorting
// and encoding came in curl 8.x), so multipart uploads ("?uploads=",
// "?partNumber=N&uploadId=U") and streamed parts would be signed wrongly
// for real S3. The rules follow AWS's "Signature Calculations for the
// Authorization Header" and are checked against its worked examples.
//
// The payload is always signed (x-amz-content-sha256 is the body's SHA-256),
// so a body damaged on the way is refused by the service.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cutroom::storage {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty unless temporary credentials
};

// Percent-encodes per RFC 3986 as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - . _ ~) stay, everything else becomes %XX (upper case);
// '/' stays when keep_slash (object key paths).
std::string S3UriEncode(std::string_view s, bool keep_slash);

// "a=1&b=" from unencoded pairs: encoded, sorted by name then value, and
// "=" kept for empty values. The same string is both signed and sent.
std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> query);

struct S3SigningInput {
  std::string method;           // "GET", "PUT", ...
  std::string canonical_uri;    // already encoded path, e.g. "/bucket/media/x"
  std::string canonical_query;  // from S3CanonicalQuery
  // Headers to sign, names in any case (host, x-amz-date and
  // x-amz-content-sha256 must be among them).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256;   // hex
  std::string amz_date;         // "20130524T000000Z"
  std::string region;           // "us-east-1"
};

// The canonical request (exposed so tests can compare it with AWS's).
std::string S3CanonicalRequest(const S3SigningInput& in);

// The Authorization header's value.
std::string S3Authorization(const S3SigningInput& in, const S3Credentials& credentials);

// "20130524T000000Z" for milliseconds since the epoch (UTC).
std::string S3AmzDate(int64_t epoch_ms);

}  // namespace cutroom::storage
