// HttpRangeSource: a remote file read with HTTP range requests through the
// SSRF-safe UrlFetcher, for probing and processing URL references without
// storing them.
//
// Reads go through a process-wide block cache (1 MiB blocks, LRU, bounded
// by SetRemoteCacheBytes), so a demuxer's small reads and seeks cost one
// request per block, and the stages that read the same reference one after
// another (thumbnails, scenes, frames, audio) fetch it about once while it
// fits. Sequential reads fetch several blocks per request.
//
// Every response is checked against the validators seen when the reference
// was added (size, ETag, Last-Modified): a file that changed fails with
// FailedPrecondition "reference_changed: ..." instead of mixing bytes of two
// files. A server that stops honouring ranges fails with NotSupported
// "range_not_supported: ...".
// Thread-safety: one thread per source; the shared cache is thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ingest/url_fetcher.h"
#include "media/probe.h"

namespace cutroom::ingest {

// What identifies one version of a remote file.
struct RemoteValidator {
  uint64_t size = 0;
  std::string etag;           // "" when the server sends none
  std::string last_modified;  // "" when the server sends none

  nlohmann::json ToJson() const;
  // From media.metadata.reference (absent fields stay empty).
  static RemoteValidator FromJson(const nlohmann::json& j);
  // The cache key's version part.
  std::string Key() const { return std::to_string(size) + "|" + etag + "|" + last_modified; }
};

// Requests and bytes fetched by every HttpRangeSource of this process (for
// logs, metrics and tests).
struct RemoteFetchStats {
  uint64_t requests = 0;
  uint64_t bytes = 0;
};
RemoteFetchStats RemoteFetchTotals();

// Caps the shared block cache (default 256 MiB); 0 disables it.
void SetRemoteCacheBytes(uint64_t bytes);

class HttpRangeSource : public media::RandomAccessSource {
 public:
  static constexpr size_t kBlockSize = 1 << 20;
  // Sequential reads fetch this many blocks per request.
  static constexpr size_t kReadAheadBlocks = 4;

  // expected: the version the caller saw before (references being analysed);
  // nullopt when the source is new (a reference being added).
  HttpRangeSource(const UrlFetcher* fetcher, std::string url, std::optional<RemoteValidator> expected = std::nullopt)
      : fetcher_(fetcher), url_(std::move(url)), expected_(std::move(expected)) {}

  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) override;
  Result<uint64_t> Size() override;

  // The version the server answered with (after the first read).
  const std::optional<RemoteValidator>& seen() const { return seen_; }
  int requests() const { return requests_; }
  uint64_t bytes() const { return bytes_; }
  // The last fetch error; libavformat only sees "I/O error".
  const Status& last_error() const { return last_error_; }

 private:
  Status Fetch(uint64_t first_block, size_t blocks);
  // One byte from the server, so that a changed file is noticed even when
  // every block comes from the cache.
  Status Revalidate();
  Status CheckVersion(const FetchResult& result);

  const UrlFetcher* fetcher_;
  std::string url_;
  std::optional<RemoteValidator> expected_;
  std::optional<RemoteValidator> seen_;
  std::optional<uint64_t> size_;
  std::optional<uint64_t> last_block_read_;
  // The block the last read came from, held so a run of small reads in it
  // does not touch the shared cache each time.
  uint64_t held_index_ = UINT64_MAX;
  std::shared_ptr<const std::string> held_;
  bool revalidated_ = false;
  int requests_ = 0;
  uint64_t bytes_ = 0;
  Status last_error_;
};

}  // namespace cutroom::ingest
