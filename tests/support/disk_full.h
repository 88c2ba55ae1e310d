// DiskFull: a simulated full filesystem for the files under a path prefix,
// for fault-injection tests.
//
// Compile disk_full.cc into a test executable (never into a library other
// tests link): it defines write(), writev(), pwrite() and pwrite64(), which
// take precedence over libc's for the whole process (also under ASan), so
// the refusal reaches every writer alike: cutroom's Env, SQLite (pwrite64),
// libavformat's file protocol, libstdc++ streams. While armed, writes that
// grow a file whose path starts with the prefix draw on a byte budget, the
// space left; past it they fail with ENOSPC, after a short write when part
// of the budget is left, as a real disk does. Writes over bytes a file
// already has cost nothing, as on a real full disk. Every other file, and
// every write while disarmed, goes straight to the kernel. No mount, no
// privileges: it works in any CI container.
// Thread-safety: Arm/Disarm and the interposed calls may race freely.
#pragma once

#include <cstdint>
#include <string>

namespace cutroom::testing {

class DiskFull {
 public:
  // Files whose path starts with prefix (a directory's files: "DIR/") get
  // free_bytes more bytes in all, then ENOSPC.
  static void Arm(const std::string& prefix, uint64_t free_bytes);
  // Space comes back.
  static void Disarm();
  // Writes refused (in part or whole) since the last Arm.
  static uint64_t refused();
};

// Arms on construction, disarms on destruction.
class ScopedDiskFull {
 public:
  ScopedDiskFull(const std::string& prefix, uint64_t free_bytes) { DiskFull::Arm(prefix, free_bytes); }
  ~ScopedDiskFull() { DiskFull::Disarm(); }
  ScopedDiskFull(const ScopedDiskFull&) = delete;
  ScopedDiskFull& operator=(const ScopedDiskFull&) = delete;
};

}  // namespace cutroom::testing
