// HttpRangeSource: a remote file read with HTTP range requests through the
// SSRF-safe UrlFetcher, for probing and later processing URL references
// without downloading them. Reads are served from a window cache (one
// request per window), so libavformat's small sequential reads cost one
// request per megabyte, not one per read.
// Thread-safety: one thread at a time.
#pragma once

#include <string>

#include "ingest/url_fetcher.h"
#include "media/probe.h"

namespace cutroom::ingest {

class HttpRangeSource : public media::RandomAccessSource {
 public:
  HttpRangeSource(const UrlFetcher* fetcher, std::string url, size_t window = 1 << 20)
      : fetcher_(fetcher), url_(std::move(url)), window_(window) {}

  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) override;
  Result<uint64_t> Size() override;
  int requests() const { return requests_; }
  // The last fetch error; libavformat only sees "I/O error".
  const Status& last_error() const { return last_error_; }

 private:
  Status Load(uint64_t offset);
  Status LoadWindow(uint64_t offset);

  const UrlFetcher* fetcher_;
  std::string url_;
  size_t window_;
  std::optional<uint64_t> size_;
  uint64_t cache_offset_ = 0;
  std::string cache_;
  int requests_ = 0;
  Status last_error_;
};

}  // namespace cutroom::ingest
