// IngestService: the one path by which media enters cutroom.
//
// Bytes stream into the blob store while their SHA-256 is computed; the
// staged copy is probed by content (file names and client types are hints
// only); media that libavformat cannot read is refused and nothing is kept.
// Success publishes the blob and creates (or completes) a `ready` media row
// in one step, so no row ever points at a partial file.
//
// Entry points: a push session (multipart uploads, URL imports), a pull
// reader (local files), and an already-staged file (finished tus uploads).
// Thread-safety: the service is safe to share; a session belongs to one
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/hash.h"
#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"
#include "media/probe.h"
#include "storage/blob_store.h"

namespace cutroom::ingest {

struct IngestRequest {
  std::string owner_id;
  std::string original_filename;  // a hint, stored for display
  std::string title;              // defaults to the file name without extension
  std::string source_type = "upload";
  std::string source_url;
  // Declared size when known in advance: checked against limits and free
  // space before any byte is read.
  std::optional<uint64_t> declared_size;
  // Complete this pending row (made by CreatePending) instead of inserting.
  std::string existing_video_id;
  // Extra metadata merged into media.metadata (client hints, upload id).
  nlohmann::json metadata = nlohmann::json::object();
  // Called with the bytes received so far.
  std::function<void(uint64_t)> on_progress;
};

// Reads up to n bytes into buf; 0 means end of input.
using ByteReader = std::function<Result<size_t>(char* buf, size_t n)>;

// What media may be (limits.max_duration_s, limits.max_pixels); 0: no limit.
struct MediaLimits {
  double max_duration_s = 0;
  int64_t max_pixels = 0;
  static MediaLimits FromConfig(const Config& config);
};

struct IngestDeps {
  Env* env;
  db::Database* db;
  storage::BlobStore* blobs;
  IdGenerator* ids;
  uint64_t max_upload_bytes;
  // Called after a media row becomes ready (the server queues thumbnails).
  std::function<void(const db::MediaRow&)> on_ready;
  MediaLimits limits;
};

class IngestService;

// One upload in progress. Destroying it without Finish() discards the data.
class IngestSession {
 public:
  // ResourceExhausted over the size limit or when the disk is full.
  Status Append(const void* data, size_t size);
  uint64_t bytes() const { return bytes_; }
  // A title that arrived after the data started (multipart field order).
  void set_title(std::string title) { request_.title = std::move(title); }
  // Probes the data and publishes it. InvalidArgument when it is empty or
  // not media (the API's 415).
  Result<db::MediaRow> Finish();

 private:
  friend class IngestService;
  IngestSession(IngestService* service, IngestRequest request, std::string video_id, std::string key,
                std::unique_ptr<storage::BlobWriter> writer, Digest sha);

  IngestService* service_;
  IngestRequest request_;
  std::string video_id_;
  std::string key_;
  std::unique_ptr<storage::BlobWriter> writer_;
  Digest sha_;
  uint64_t bytes_ = 0;
};

class IngestService {
 public:
  explicit IngestService(IngestDeps deps) : deps_(deps) {}

  Result<std::unique_ptr<IngestSession>> Begin(IngestRequest request);

  // Errors: InvalidArgument (empty input, not media: the API's 415),
  // ResourceExhausted (over max_upload_bytes: 413; no disk space: 507),
  // IOError.
  Result<db::MediaRow> IngestFromReader(const ByteReader& read, IngestRequest request);

  // A local file, streamed (never read whole into memory).
  Result<db::MediaRow> IngestLocalFile(const std::string& path, IngestRequest request);

  // A complete file already staged on local disk by the caller (a finished
  // tus upload): probed in place, then moved into the blob store. sha256 is
  // the hex digest when the caller computed it while receiving; empty makes
  // the service read the file once to compute it. The file is consumed on
  // success and left for the caller to delete on failure.
  Result<db::MediaRow> IngestStagedFile(const std::string& path, const std::string& sha256, IngestRequest request);

  // A `pending` media row for data that will arrive later (URL imports);
  // complete it with IngestRequest::existing_video_id or MarkFailed.
  Result<db::MediaRow> CreatePending(const IngestRequest& request);
  // Sets status `failed` with error on a media row; never deletes it.
  Status MarkFailed(const std::string& video_id, const std::string& error);

  // Stores a probed URL reference (source_type `reference`): no bytes are
  // kept; processing reads from the URL.
  Result<db::MediaRow> CreateReference(const IngestRequest& request, const media::ProbeResult& probe);

  const IngestDeps& deps() const { return deps_; }

 private:
  friend class IngestSession;
  // Probes path and publishes via publish(); builds and stores the row.
  Result<db::MediaRow> Complete(const std::string& probe_path, const std::function<Status()>& publish,
                                const std::string& video_id, const std::string& key, uint64_t size,
                                const std::string& sha256, const IngestRequest& request);

  IngestDeps deps_;
};

// Copies a probe's findings into a media row.
void ApplyProbe(const media::ProbeResult& probe, db::MediaRow& row);

// Whether a status from IngestService means "the disk is full" (507) rather
// than "too large" (413): the message carries this marker.
bool IsInsufficientStorage(const Status& status);
// Whether a status means the content is not media cutroom can read (415).
bool IsUnsupportedMedia(const Status& status);
// Whether a status means the media is over MediaLimits (422).
bool IsOverMediaLimit(const Status& status);
// InvalidArgument "media_limit_exceeded: ..." when a probe is over limits.
Status CheckMediaLimits(const media::ProbeResult& probe, const MediaLimits& limits);

}  // namespace cutroom::ingest
