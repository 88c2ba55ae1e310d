// Env: the seam between cutroom and the operating system.
//
// Everything that reads the wall clock, touches the filesystem or draws
// randomness goes through an Env, so tests can substitute a fake clock, a
// seeded random source or a filesystem that fails on purpose (see
// fake_env.h). Env::Default() is the POSIX implementation; EnvWrapper
// forwards every call so a test overrides only what it needs (LevelDB's
// pattern).
//
// Thread-safety: every method of the default Env is safe to call from any
// thread. A WritableFile/ReadableFile is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom {

// Milliseconds since the Unix epoch, UTC.
using TimestampMs = int64_t;

// A file opened for appending. Close() or destruction releases the handle;
// data is durable only after Sync() returned OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(const void* data, size_t size) = 0;
  virtual Status Sync() = 0;   // fdatasync
  virtual Status Close() = 0;  // idempotent
  virtual uint64_t size() const = 0;
};

// A file opened for positional reads.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset; returns the number read (0 at end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const = 0;
  virtual uint64_t size() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never deleted.
  static Env* Default();

  // Clock.
  virtual TimestampMs NowMs() = 0;
  // Monotonic clock for durations, in microseconds; unrelated to wall time.
  virtual int64_t MonotonicMicros() = 0;
  virtual void SleepForMicros(int64_t micros) = 0;

  // Randomness: fills buf with cryptographically strong bytes in production.
  virtual void RandomBytes(void* buf, size_t n) = 0;

  // Filesystem.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, bool truncate) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Status CreateDirs(const std::string& path) = 0;      // mkdir -p
  virtual Status RemoveFile(const std::string& path) = 0;      // NotFound if absent
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Cuts or extends a file to size bytes.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;          // fsync a directory entry
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Bytes available to an unprivileged writer on the filesystem holding path.
  virtual Result<uint64_t> FreeSpace(const std::string& path) = 0;
  // Whether a directory accepts a new file (create + remove a probe file).
  virtual Status CheckWritable(const std::string& dir);

  // Writes contents durably: temp file in the same directory, fsync, rename,
  // fsync of the directory. Readers see the old or the new file, never a mix.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view contents);
  virtual Result<std::string> ReadFileToString(const std::string& path);
};

// Forwards every call to a target Env; subclass it to override a few.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  TimestampMs NowMs() override { return target_->NowMs(); }
  int64_t MonotonicMicros() override { return target_->MonotonicMicros(); }
  void SleepForMicros(int64_t micros) override { target_->SleepForMicros(micros); }
  void RandomBytes(void* buf, size_t n) override { target_->RandomBytes(buf, n); }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p, bool t) override {
    return target_->NewWritableFile(p, t);
  }
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& p) override {
    return target_->NewReadableFile(p);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return target_->FileSize(p); }
  Status CreateDirs(const std::string& p) override { return target_->CreateDirs(p); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RenameFile(const std::string& f, const std::string& t) override { return target_->RenameFile(f, t); }
  Status TruncateFile(const std::string& p, uint64_t n) override { return target_->TruncateFile(p, n); }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override { return target_->ListDir(d); }
  Result<uint64_t> FreeSpace(const std::string& p) override { return target_->FreeSpace(p); }

 private:
  Env* target_;
};

// RFC 3339 UTC with milliseconds: "2026-11-27T17:57:13.123Z". Fixed width, so
// strings sort in time order.
std::string FormatTimestamp(TimestampMs ms);
Result<TimestampMs> ParseTimestamp(std::string_view text);

}  // namespace cutroom
