// S3Client: signed HTTP requests to one bucket of an S3-compatible service
// (AWS S3, MinIO, Cloudflare R2, Garage, s3rver), over libcurl.
//
// Every request is signed with SigV4 (s3_signer.h) over its whole body,
// which the caller holds in memory (objects under the part size, or one
// part). Transport errors, 500/502/503/504 and 429 are retried with
// exponential backoff (max_attempts in all); anything else is returned at
// once. Errors name the operation, the bucket, the endpoint and the S3
// error code, because "403" alone does not tell an operator whether the
// key, the clock or the bucket policy is wrong.
//
// Internal to storage: curl types stay in the .cc.
// Thread-safety: Send may be called from any number of threads; easy
// handles (and so their connections) are pooled and reused.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env.h"
#include "storage/s3_signer.h"

namespace cutroom::storage {

struct S3ClientOptions {
  std::string endpoint;  // "https://s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  std::string bucket;
  // true: http://endpoint/bucket/key (MinIO, Garage, s3rver); false:
  // http://bucket.endpoint/key (AWS's preferred form, R2).
  bool path_style = false;
  S3Credentials credentials;
  int max_attempts = 4;           // the first try and 3 retries
  int64_t first_backoff_ms = 200; // doubled after each failed try
  long connect_timeout_s = 10;
  // A transfer slower than 1 KiB/s for this long is abandoned (and retried):
  // no overall timeout, since a part on a slow link may take minutes.
  long stall_timeout_s = 60;
};

struct S3Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // object key in the bucket; empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;    // unencoded
  std::vector<std::pair<std::string, std::string>> headers;  // extra, signed
  std::string_view body;
  // Replies with a longer body fail (a bounded read is never unbounded).
  size_t max_reply_bytes = 16u << 20;
};

struct S3Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  bool ok() const { return status >= 200 && status < 300; }
  std::string Header(const std::string& lower_name) const;
};

class S3Client {
 public:
  // InvalidArgument for an endpoint that is not http(s)://host[:port].
  static Result<std::unique_ptr<S3Client>> Create(S3ClientOptions options, Env* env);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // The final response whatever its status (after retries for the
  // retryable ones); Unavailable when no response came at all.
  Result<S3Response> Send(const S3Request& request);

  // The Status for a response that is not 2xx: 404 NotFound, 401/403
  // PermissionDenied, 412 FailedPrecondition, 429/5xx Unavailable, other
  // 4xx FailedPrecondition; the message names what, where and the S3 code.
  Status ErrorOf(const S3Request& request, const S3Response& response) const;

  const S3ClientOptions& options() const { return options_; }
  // "bucket 'b' at http://127.0.0.1:9000"
  std::string Where() const;
  // Requests sent so far, retries included (for logs and tests).
  uint64_t requests() const { return requests_.load(); }

 private:
  S3Client(S3ClientOptions options, Env* env, std::string scheme, std::string authority);
  // Idle easy handles, kept so their connections are reused (defined in
  // the .cc, where curl's types live).
  struct Pool;
  Result<S3Response> SendOnce(const S3Request& request);

  S3ClientOptions options_;
  Env* env_;
  std::string scheme_;
  std::string authority_;  // host[:port] of the endpoint
  std::unique_ptr<Pool> pool_;
  std::atomic<uint64_t> requests_{0};
};

// The text of the first <tag>...</tag> at or after *from (advanced past it
// when given), entities decoded; empty when absent. S3's replies are
// flat, fixed-shape XML, so a full parser would add nothing.
std::string XmlText(std::string_view xml, std::string_view tag, size_t* from = nullptr);
// Each <tag>...</tag> element's inner XML, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
// "&amp;" -> "&" etc. for text put into a request body.
std::string XmlEscape(std::string_view s);

}  // namespace cutroom::storage
