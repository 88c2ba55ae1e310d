// S3BlobStore: blobs as objects in a bucket of an S3-compatible service
// (storage.blob_url = s3://bucket/prefix), for installs where API servers
// and workers on several machines share one store.
//
// Writes stage locally: a BlobWriter appends to a file under
// <data_dir>/tmp/s3-staging (probing needs a file before Commit) and Commit
// uploads it, with one PUT under the part size or a multipart upload above
// it (parts 4 at a time, each retried; any failure aborts the upload, so no parts are
// left billed and nothing is visible under the key). S3 publishes an object
// only when its PUT or CompleteMultipartUpload succeeds, so a reader sees
// the whole blob or none of it, like the local store's rename.
//
// Reads are ranged GETs through a read-ahead buffer (1 MiB, growing to
// 4 MiB while reads stay sequential), pinned to the ETag seen when the
// reader opened, so an object replaced mid-read fails instead of mixing two
// versions. LocalPath is NotSupported: media is decoded through ranged
// reads (analysis::SourceMedia registers a reader as a remote input).
//
// FreeSpace reports the staging disk's free space, since every write passes
// through it; the bucket itself has no meaningful limit to report.
// ListStaging lists this machine's staged files and the bucket's
// unfinished multipart uploads under the prefix (where the service lists
// them; s3rver does not); DeleteStaging removes a file or aborts an upload.
// Thread-safety: as BlobStore.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/config.h"
#include "storage/blob_store.h"
#include "storage/s3_client.h"

namespace cutroom::storage {

struct S3StoreOptions {
  S3ClientOptions client;
  std::string prefix;       // key prefix inside the bucket, no leading/trailing '/'; may be empty
  std::string staging_dir;  // local directory for staged writes
  // Objects at least this large go up in parts of this size (S3's minimum
  // part is 5 MiB; 8 MiB is what AWS's own tools use). Raised as needed to
  // stay within S3's 10,000 parts.
  uint64_t part_size = 8u << 20;
  // Parts in flight at once (memory: this many part buffers).
  int upload_concurrency = 4;
  // Reads fetch at least this much, doubling up to max while sequential.
  size_t read_ahead = 1u << 20;
  size_t max_read_ahead = 4u << 20;

  // From storage.blob_url (s3://bucket[/prefix]), storage.s3_endpoint,
  // storage.s3_region, storage.s3_path_style and storage.data_dir, with
  // credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
  // AWS_SESSION_TOKEN in environment. InvalidArgument naming the variables
  // when the key or secret is missing, or for a malformed URL.
  static Result<S3StoreOptions> FromConfig(const Config& config, const std::map<std::string, std::string>& environment);
};

// Creates the staging directory; no request is sent (CheckWritable probes
// the bucket).
Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(S3StoreOptions options, Env* env);

}  // namespace cutroom::storage
