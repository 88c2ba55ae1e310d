// UrlFetcher: SSRF-safe HTTP(S) downloads with libcurl.
//
// Only http and https, for the first request and every redirect (at most
// max_redirects). The address of every connection is checked at connect
// time against an AddressPolicy, so a public host that redirects to, or
// resolves to, a private address is refused before a byte is sent.
// Proxies from the environment are ignored (they would hide the real
// address). The body streams to a sink; the size limit is enforced while
// streaming as well as from Content-Length.
// Thread-safety: a UrlFetcher is immutable and may be shared; each Fetch
// uses its own curl handle.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "ingest/address_policy.h"

namespace cutroom::ingest {

struct FetchOptions {
  uint64_t max_bytes = 0;           // 0: no limit
  long connect_timeout_s = 10;
  long total_timeout_s = 3600;      // whole transfer
  long low_speed_timeout_s = 60;    // abort when under 1 KiB/s this long
  int max_redirects = 5;
  // Byte range [first, last] (inclusive), for reads of remote references.
  std::optional<std::pair<uint64_t, uint64_t>> range;
  // Called now and then with bytes received and the total (0 if unknown);
  // returning false cancels the transfer.
  std::function<bool(uint64_t received, uint64_t total)> on_progress;
};

struct FetchResult {
  long http_status = 0;
  std::string effective_url;    // after redirects
  std::string content_type;
  uint64_t bytes = 0;
  std::optional<uint64_t> content_length;
  std::optional<uint64_t> total_size;  // from Content-Range on ranged reads
  std::string etag;           // the ETag header as sent (quotes, W/ included); "" if none
  std::string last_modified;  // the Last-Modified header; "" if none
  std::string filename;         // from the last path segment, a display hint
};

// Receives body bytes; a non-OK status aborts the transfer with that status.
using FetchSink = std::function<Status(const char* data, size_t size)>;

class UrlFetcher {
 public:
  explicit UrlFetcher(AddressPolicy policy) : policy_(std::move(policy)) {}

  // InvalidArgument for a URL that is not http(s) or is malformed;
  // PermissionDenied when a connection would reach a refused address;
  // ResourceExhausted over max_bytes; Unavailable for network errors,
  // timeouts, 429 and 5xx (worth retrying); NotFound for other HTTP errors
  // (404, 403, ...); Cancelled when on_progress said stop.
  Result<FetchResult> Fetch(const std::string& url, const FetchOptions& options, const FetchSink& sink) const;

  // Parses and checks a URL before any network use: scheme http(s), a host,
  // no credentials.
  static Status ValidateUrl(const std::string& url);

  const AddressPolicy& policy() const { return policy_; }

 private:
  AddressPolicy policy_;
};

}  // namespace cutroom::ingest
