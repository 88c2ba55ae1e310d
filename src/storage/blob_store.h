// BlobStore: where media files and derived assets live.
//
// Keys are always made by cutroom (MakeKey), never taken from user input,
// and every key is validated before it touches a path, so no request can
// reach outside the store. Writes are atomic: a BlobWriter streams into a
// temporary file and Commit() publishes it (fsync, rename, fsync of the
// directory), so a reader sees the whole blob or none of it, even after a
// crash. Reads are positional, for HTTP byte ranges.
//
// Backends: local disk (file://DIR) and S3-compatible object storage
// (s3://bucket/prefix, s3_blob_store.h), which has no local paths: media in
// it is decoded through ranged reads.
// Thread-safety: a BlobStore is safe to share; a writer or reader is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <string_view>

#include "core/config.h"
#include "core/env.h"

namespace cutroom::storage {

// Streams one blob. Destroying it without Commit() discards the data.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status Append(const void* data, size_t size) = 0;
  // Makes the blob durable and visible under its key.
  virtual Status Commit() = 0;
  virtual uint64_t bytes_written() const = 0;
  // A local file holding the bytes written so far, for probing before
  // Commit (libavformat reads files); empty when the backend has none.
  virtual std::string staging_path() const = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const = 0;
  virtual uint64_t size() const = 0;
  // Requests and bytes a remote reader has fetched so far (0 for a local
  // file), for logs and for tests of the read-ahead.
  virtual uint64_t fetch_requests() const { return 0; }
  virtual uint64_t fetch_bytes() const { return 0; }
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // url: "file:///abs/dir", "file://relative/dir" or "s3://bucket[/prefix]"
  // (then with the default storage.s3_* settings and credentials from the
  // process environment).
  static Result<std::unique_ptr<BlobStore>> Open(const std::string& url, Env* env);
  // storage.blob_url with the storage.* settings it needs (S3 endpoint,
  // region, path style, data_dir for staging); S3 credentials come from
  // AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
  static Result<std::unique_ptr<BlobStore>> Open(const Config& config, Env* env);

  virtual Result<std::unique_ptr<BlobWriter>> NewWriter(const std::string& key) = 0;
  virtual Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& key) = 0;
  virtual Status Put(const std::string& key, std::string_view data);
  virtual bool Exists(const std::string& key) = 0;
  virtual Result<uint64_t> Size(const std::string& key) = 0;
  // NotFound when absent.
  virtual Status Delete(const std::string& key) = 0;
  // Bytes that can still be written.
  virtual Result<uint64_t> FreeSpace() = 0;
  // Whether a blob can be written now (for /readyz).
  virtual Status CheckWritable() = 0;
  // A filesystem path libav* can open directly, or NotSupported.
  virtual Result<std::string> LocalPath(const std::string& key) = 0;

  struct Listed {
    std::string key;
    uint64_t size = 0;
    int64_t age_s = 0;  // since it was last written
  };
  // Every committed blob (staged writes excluded), for consistency checks.
  virtual Result<std::vector<Listed>> List() = 0;
  // Staged writes never committed, with their age (a crash leaves them).
  virtual Result<std::vector<Listed>> ListStaging() = 0;
  // Removes one staged write named by ListStaging.
  virtual Status DeleteStaging(const std::string& name) = 0;
  // Moves a complete local file (already fsynced by the caller) into the
  // store under key, atomically; the file is gone from local_path on
  // success. Renames when both are on one filesystem, copies otherwise.
  virtual Status AdoptFile(const std::string& local_path, const std::string& key) = 0;
  virtual std::string Describe() const = 0;
};

// Copies a blob into a local file at path (created or truncated, fsynced),
// through OpenReader, so it works for stores without local paths (S3):
// what callers that hand a file to someone else (renders copied out by the
// CLI, uploads to another service) use instead of LocalPath. On failure the
// partial file is removed.
Status CopyBlobToFile(BlobStore& store, const std::string& key, const std::string& path, Env* env);

// "media/vid_01.../source": keys are built from cutroom ids and fixed names.
// REQUIRES: every part matches [A-Za-z0-9_.-]+ and is not "." or "..".
std::string MakeKey(std::string_view area, std::string_view id, std::string_view name);

// Validates a key: '/'-separated parts of [A-Za-z0-9_.-], no "." or ".."
// parts, no leading '/', at most 512 characters.
Status ValidateKey(std::string_view key);

}  // namespace cutroom::storage
