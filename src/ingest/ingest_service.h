// IngestService: the one path by which media enters cutroom.
//
// Bytes stream into the blob store while their SHA-256 is computed; the
// staged copy is probed by content (file names and client types are hints
// only); media that libavformat cannot read is refused and nothing is kept.
// Success publishes the blob and creates a `ready` media row in one step, so
// no row ever points at a partial file.
//
// The browser upload, tus and URL import paths of the upload issue all end
// in IngestFromReader.
// Thread-safety: safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/config.h"
#include "core/ids.h"
#include "db/database.h"
#include "db/rows.h"
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
  // Called with the bytes received so far.
  std::function<void(uint64_t)> on_progress;
};

// Reads up to n bytes into buf; 0 means end of input.
using ByteReader = std::function<Result<size_t>(char* buf, size_t n)>;

struct IngestDeps {
  Env* env;
  db::Database* db;
  storage::BlobStore* blobs;
  IdGenerator* ids;
  uint64_t max_upload_bytes;
};

class IngestService {
 public:
  explicit IngestService(IngestDeps deps) : deps_(deps) {}

  // Errors: InvalidArgument (empty input, not media: the API's 415),
  // ResourceExhausted (over max_upload_bytes: 413; no disk space: 507),
  // IOError.
  Result<db::MediaRow> IngestFromReader(const ByteReader& read, IngestRequest request);

  // A local file, streamed (never read whole into memory).
  Result<db::MediaRow> IngestLocalFile(const std::string& path, IngestRequest request);

 private:
  IngestDeps deps_;
};

// Whether a status from IngestService means "the disk is full" (507) rather
// than "too large" (413): the message carries this marker.
bool IsInsufficientStorage(const Status& status);

}  // namespace cutroom::ingest
