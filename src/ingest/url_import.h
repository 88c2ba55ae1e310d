// UrlImporter: media from a URL, downloaded (import) or referenced.
//
// Import streams the body through the SSRF-safe fetcher into an
// IngestSession, so it gets the same limits, hashing, content detection and
// atomic publish as an upload; progress is written to the media row's
// metadata ("import": {"bytes", "total"}) about once a second. Reference
// probes the remote file through range requests and stores only the URL.
// Thread-safety: safe to share; each call is independent.
#pragma once

#include <atomic>
#include <string>

#include "ingest/ingest_service.h"
#include "ingest/url_fetcher.h"

namespace cutroom::ingest {

class UrlImporter {
 public:
  UrlImporter(IngestService* ingest, const UrlFetcher* fetcher) : ingest_(ingest), fetcher_(fetcher) {}

  // Checks the URL's form and that its host resolves to at least one
  // address the policy allows (InvalidArgument / PermissionDenied). The
  // connect-time check stays authoritative; this only fails fast.
  Status Preflight(const std::string& url) const;

  // Downloads url into the pending row request.existing_video_id (or a new
  // row). On failure the pending row is marked failed with the error.
  // cancel, when set to true, stops the download; progress, when set, hears
  // (bytes received, total or 0).
  Result<db::MediaRow> Import(const std::string& url, IngestRequest request, const std::atomic<bool>* cancel,
                              const std::function<void(uint64_t, uint64_t)>& progress = {}) const;

  // Probes url remotely and stores a reference row.
  Result<db::MediaRow> Reference(const std::string& url, IngestRequest request) const;

 private:
  IngestService* ingest_;
  const UrlFetcher* fetcher_;
};

// The file name at the end of a URL's path, or "".
std::string FilenameFromUrl(const std::string& url);

}  // namespace cutroom::ingest
