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

// How a caller steers an import.
struct ImportControl {
  // Polled during the download; true stops it (Cancelled).
  std::function<bool()> should_stop;
  // Bytes received and the total (0 when unknown).
  std::function<void(uint64_t, uint64_t)> progress;
  // Mark the pending row failed on error. A caller that will retry keeps
  // it pending and marks it only when it gives up.
  bool mark_failed = true;
};

class UrlImporter {
 public:
  UrlImporter(IngestService* ingest, const UrlFetcher* fetcher) : ingest_(ingest), fetcher_(fetcher) {}

  // Checks the URL's form and that its host resolves to at least one
  // address the policy allows (InvalidArgument / PermissionDenied). The
  // connect-time check stays authoritative; this only fails fast.
  Status Preflight(const std::string& url) const;

  // Downloads url into the pending row request.existing_video_id (or a new
  // row).
  Result<db::MediaRow> Import(const std::string& url, IngestRequest request, const ImportControl& control = {}) const;

  // Probes url remotely and stores a reference row.
  Result<db::MediaRow> Reference(const std::string& url, IngestRequest request) const;

 private:
  IngestService* ingest_;
  const UrlFetcher* fetcher_;
};

// The file name at the end of a URL's path, or "".
std::string FilenameFromUrl(const std::string& url);

}  // namespace cutroom::ingest
