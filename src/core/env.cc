#include "core/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace cutroom {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(msg);
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(msg);
  return Status::IOError(msg);
}

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { int f = fd_; fd_ = -1; return f; }
  int Reset() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size), writeback_from_(size) {}
  ~PosixWritableFile() override { Close().IgnoreError(); }

  Status Append(const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_.get(), p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      p += w;
      n -= static_cast<size_t>(w);
      size_ += static_cast<uint64_t>(w);
    }
    // Large files are written towards a Sync(): start the disk on each
    // 8 MiB as it is appended instead of leaving it all to fdatasync, so a
    // Sync() (an upload's durable point, a blob's commit) has little left
    // to wait for and the page cache holds few dirty pages. A hint only:
    // failures surface at Sync().
    if (size_ - writeback_from_ >= kWritebackStep) {
      ::sync_file_range(fd_.get(), static_cast<off_t>(writeback_from_), static_cast<off_t>(size_ - writeback_from_),
                        SYNC_FILE_RANGE_WRITE);
      writeback_from_ = size_;
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fdatasync(fd_.get()) != 0) return PosixError("fdatasync " + path_, errno);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_.get() < 0) return Status::Ok();
    if (fd_.Reset() != 0) return PosixError("close " + path_, errno);
    return Status::Ok();
  }
  uint64_t size() const override { return size_; }

 private:
  static constexpr uint64_t kWritebackStep = 8ull << 20;
  std::string path_;
  Fd fd_;
  uint64_t size_;
  uint64_t writeback_from_;
};

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const override {
    while (true) {
      ssize_t r = ::pread(fd_.get(), buf, n, static_cast<off_t>(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + path_, errno);
      }
      return static_cast<size_t>(r);
    }
  }
  uint64_t size() const override { return size_; }

 private:
  std::string path_;
  Fd fd_;
  uint64_t size_;
};

class PosixEnv : public Env {
 public:
  TimestampMs NowMs() override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<TimestampMs>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }
  int64_t MonotonicMicros() override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  }
  void SleepForMicros(int64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
  void RandomBytes(void* buf, size_t n) override {
    auto* p = static_cast<unsigned char*>(buf);
    while (n > 0) {
      ssize_t r = ::getrandom(p, n, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        std::abort();  // the kernel's CSPRNG failing leaves nothing safe to do
      }
      p += r;
      n -= static_cast<size_t>(r);
    }
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, bool truncate) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st {};
    ::fstat(fd, &st);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat " + path, err);
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + " is a directory");
    }
    return std::unique_ptr<ReadableFile>(new PosixReadableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status CreateDirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return PosixError("mkdir " + path, ec.value());
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink " + path, errno);
    return Status::Ok();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename " + from + " to " + to, errno);
    return Status::Ok();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return PosixError("truncate " + path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return PosixError("open dir " + dir, errno);
    if (::fsync(fd.get()) != 0) return PosixError("fsync dir " + dir, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return PosixError("opendir " + dir, errno);
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    return names;
  }

  Result<uint64_t> FreeSpace(const std::string& path) override {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return PosixError("statvfs " + path, errno);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }
};

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Status Env::CheckWritable(const std::string& dir) {
  unsigned char rnd[6];
  RandomBytes(rnd, sizeof rnd);
  std::string probe = dir + "/.writable-probe-";
  for (unsigned char c : rnd) probe += "0123456789abcdef"[c & 15];
  CUTROOM_ASSIGN_OR_RETURN(auto file, NewWritableFile(probe, true));
  Status st = file->Append("x", 1);
  Status closed = file->Close();
  Status removed = RemoveFile(probe);
  CUTROOM_RETURN_IF_ERROR(st);
  CUTROOM_RETURN_IF_ERROR(closed);
  return removed;
}

Status Env::WriteFileAtomic(const std::string& path, std::string_view contents) {
  unsigned char rnd[6];
  RandomBytes(rnd, sizeof rnd);
  std::string tmp = path + ".tmp-";
  for (unsigned char c : rnd) tmp += "0123456789abcdef"[c & 15];
  {
    CUTROOM_ASSIGN_OR_RETURN(auto file, NewWritableFile(tmp, true));
    Status st = file->Append(contents.data(), contents.size());
    if (st.ok()) st = file->Sync();
    Status closed = file->Close();
    if (st.ok()) st = closed;
    if (!st.ok()) {
      RemoveFile(tmp).IgnoreError();
      return st;
    }
  }
  Status st = RenameFile(tmp, path);
  if (!st.ok()) {
    RemoveFile(tmp).IgnoreError();
    return st;
  }
  return SyncDir(DirName(path));
}

Result<std::string> Env::ReadFileToString(const std::string& path) {
  CUTROOM_ASSIGN_OR_RETURN(auto file, NewReadableFile(path));
  std::string out;
  out.resize(file->size());
  size_t done = 0;
  while (done < out.size()) {
    CUTROOM_ASSIGN_OR_RETURN(size_t n, file->ReadAt(done, out.data() + done, out.size() - done));
    if (n == 0) break;
    done += n;
  }
  out.resize(done);
  return out;
}

std::string FormatTimestamp(TimestampMs ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  tm t{};
  gmtime_r(&secs, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, millis);
  return buf;
}

Result<TimestampMs> ParseTimestamp(std::string_view text) {
  int y, mo, d, h, mi, s, ms = 0;
  std::string str(text);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6) {
    return Status::InvalidArgument("not an RFC 3339 timestamp: '" + str + "'");
  }
  std::string_view rest = std::string_view(str).substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (digits < 3) { ms = ms * 10 + (rest[i] - '0'); ++digits; }
      ++i;
    }
    while (digits < 3) { ms *= 10; ++digits; }
    rest = rest.substr(i);
  }
  if (rest != "Z" && rest != "+00:00") {
    return Status::InvalidArgument("timestamp must be UTC (end in Z): '" + str + "'");
  }
  tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  time_t secs = timegm(&t);
  return static_cast<TimestampMs>(secs) * 1000 + ms;
}

}  // namespace cutroom
