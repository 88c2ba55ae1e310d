#include "support/disk_full.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>

namespace cutroom::testing {
namespace {

std::atomic<bool> g_armed{false};
std::mutex g_mu;
std::string g_prefix;     // guarded by g_mu
uint64_t g_budget = 0;    // guarded by g_mu
std::atomic<uint64_t> g_refused{0};

ssize_t RawWrite(int fd, const void* buf, size_t n) { return ::syscall(SYS_write, fd, buf, n); }
ssize_t RawPwrite(int fd, const void* buf, size_t n, off_t offset) {
  return ::syscall(SYS_pwrite64, fd, buf, n, offset);
}

bool Covered(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char path[4096];
  ssize_t len = ::readlink(link, path, sizeof path - 1);
  if (len <= 0) return false;
  std::lock_guard lock(g_mu);
  return static_cast<size_t>(len) >= g_prefix.size() && std::string_view(path, static_cast<size_t>(len)).substr(0, g_prefix.size()) == g_prefix;
}

// How many of n bytes written at offset may go through: all that overwrite
// existing bytes, plus what the budget allows of the growth. -1: the
// budget is spent (ENOSPC).
ssize_t Allowed(int fd, off_t offset, size_t n) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return static_cast<ssize_t>(n);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t end = static_cast<uint64_t>(offset) + n;
  const uint64_t growth = end > size ? end - std::max<uint64_t>(size, static_cast<uint64_t>(offset)) : 0;
  std::lock_guard lock(g_mu);
  if (growth <= g_budget) {
    g_budget -= growth;
    return static_cast<ssize_t>(n);
  }
  ++g_refused;
  const uint64_t short_by = growth - g_budget;
  g_budget = 0;
  if (short_by >= n) return -1;
  return static_cast<ssize_t>(n - short_by);
}

}  // namespace

void DiskFull::Arm(const std::string& prefix, uint64_t free_bytes) {
  namespace fs = std::filesystem;
  // Compare against what /proc/self/fd shows: the canonical path.
  const bool dir = !prefix.empty() && prefix.back() == '/';
  fs::path p(dir ? prefix.substr(0, prefix.size() - 1) : prefix);
  std::string canonical = (fs::weakly_canonical(p.parent_path()) / p.filename()).string();
  if (dir) canonical += "/";
  std::lock_guard lock(g_mu);
  g_prefix = canonical;
  g_budget = free_bytes;
  g_refused = 0;
  g_armed = true;
}

void DiskFull::Disarm() { g_armed = false; }

uint64_t DiskFull::refused() { return g_refused.load(); }

}  // namespace cutroom::testing

using cutroom::testing::Allowed;
using cutroom::testing::Covered;
using cutroom::testing::RawPwrite;
using cutroom::testing::RawWrite;
using cutroom::testing::g_armed;

namespace {
// Where a write() on fd lands; -1 for pipes and sockets.
off_t WriteOffset(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND)) {
    struct stat st;
    return ::fstat(fd, &st) == 0 ? st.st_size : 0;
  }
  return ::lseek(fd, 0, SEEK_CUR);
}
}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  if (!g_armed.load(std::memory_order_relaxed) || n == 0 || !Covered(fd)) return RawWrite(fd, buf, n);
  off_t offset = WriteOffset(fd);
  if (offset < 0) return RawWrite(fd, buf, n);
  ssize_t allowed = Allowed(fd, offset, n);
  if (allowed < 0) {
    errno = ENOSPC;
    return -1;
  }
  return RawWrite(fd, buf, static_cast<size_t>(allowed));
}

// libstdc++'s file streams write large pieces with writev.
extern "C" ssize_t writev(int fd, const struct iovec* iov, int count) {
  size_t n = 0;
  for (int i = 0; i < count; ++i) n += iov[i].iov_len;
  off_t offset = -1;
  if (g_armed.load(std::memory_order_relaxed) && n > 0 && Covered(fd)) offset = WriteOffset(fd);
  if (offset < 0) return ::syscall(SYS_writev, fd, iov, count);
  ssize_t allowed = Allowed(fd, offset, n);
  if (allowed < 0) {
    errno = ENOSPC;
    return -1;
  }
  if (static_cast<size_t>(allowed) == n) return ::syscall(SYS_writev, fd, iov, count);
  ssize_t done = 0;  // the part that fits, piece by piece
  for (int i = 0; i < count && done < allowed; ++i) {
    size_t take = std::min<size_t>(iov[i].iov_len, static_cast<size_t>(allowed - done));
    ssize_t w = RawWrite(fd, iov[i].iov_base, take);
    if (w < 0) return done > 0 ? done : -1;
    done += w;
    if (static_cast<size_t>(w) < take) break;
  }
  return done;
}

extern "C" ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  if (!g_armed.load(std::memory_order_relaxed) || n == 0 || !Covered(fd)) return RawPwrite(fd, buf, n, offset);
  ssize_t allowed = Allowed(fd, offset, n);
  if (allowed < 0) {
    errno = ENOSPC;
    return -1;
  }
  return RawPwrite(fd, buf, static_cast<size_t>(allowed), offset);
}

// pwrite is the same call under another name on 64-bit Linux.
extern "C" ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) { return pwrite64(fd, buf, n, offset); }
