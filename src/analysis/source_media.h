// SourceMedia: a path the media functions can read for a media row's
// source: the stored file; for a blob store without local paths (S3) a
// remote input (media/remote_input.h) read through the store's BlobReader
// (ranged GETs with read-ahead); or for a URL reference a remote input read
// with HTTP ranges through the SSRF-safe fetcher and checked against the
// version seen when it was added.
//
// Stages hold a SourceMedia for as long as they decode. libav reports a
// failed remote read only as "I/O error"; Explain() puts back the reason
// (reference_changed, range_not_supported, the network error).
// Thread-safety: path() may be read from any thread; the sources it opens
// are one per decoder.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "db/rows.h"
#include "jobs/worker_pool.h"
#include "media/remote_input.h"

namespace cutroom::analysis {

class SourceMedia {
 public:
  // FailedPrecondition when the media has neither a stored file nor a URL.
  static Result<SourceMedia> Open(const jobs::JobServices& s, const db::MediaRow& media);

  const std::string& path() const { return path_; }
  bool remote() const { return remote_ != nullptr; }
  // Whether it is a stored blob read remotely (S3) rather than a URL.
  bool stored_blob() const;
  // The error a remote read met, when `failure` came from one; else failure.
  Status Explain(const Status& failure) const;
  // Requests and bytes this source's reads fetched so far (0 when local).
  uint64_t requests() const;
  uint64_t bytes_fetched() const;

  // Shared with the sources it opens (defined in the .cc).
  struct RemoteState;

 private:
  std::string path_;
  std::shared_ptr<RemoteState> state_;
  std::shared_ptr<media::ScopedRemoteInput> remote_;
};

// Runs a stage body that opens its media into `source` (SourceMedia::Open),
// then logs what remote reads cost and puts back the reason of a remote
// failure (Explain).
Status RunWithSource(jobs::JobContext& ctx, const std::function<Status(std::optional<SourceMedia>&)>& body);

// Logs (info) what reading a remote source cost, requests and bytes;
// nothing for a local file.
void LogRemoteReads(jobs::JobContext& ctx, const SourceMedia& source);

}  // namespace cutroom::analysis
