// FakeEnv: a deterministic Env for tests.
//
// The clock stands still until the test advances it (SleepForMicros advances
// it instead of sleeping), randomness comes from a seeded generator, and the
// filesystem is the real one underneath (tests use a temporary directory).
// Set fail_writes_with to make every new WritableFile's Append fail, which
// simulates a full or broken disk.
// Thread-safety: the clock and random source are guarded by a mutex.
#pragma once

#include <mutex>
#include <random>

#include "core/env.h"

namespace cutroom {

class FakeEnv : public EnvWrapper {
 public:
  explicit FakeEnv(TimestampMs start_ms = 1'780'000'000'000, uint64_t seed = 42);

  TimestampMs NowMs() override;
  int64_t MonotonicMicros() override;
  void SleepForMicros(int64_t micros) override { AdvanceMicros(micros); }
  void RandomBytes(void* buf, size_t n) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, bool truncate) override;
  Result<uint64_t> FreeSpace(const std::string& path) override;

  void AdvanceMs(int64_t ms) { AdvanceMicros(ms * 1000); }
  void AdvanceMicros(int64_t micros);

  // When set, appends to files opened afterwards fail with this status.
  Status fail_writes_with;
  // When set, FreeSpace reports this many bytes.
  std::optional<uint64_t> free_space;

 private:
  std::mutex mu_;
  int64_t now_micros_;
  std::mt19937_64 rng_;
};

}  // namespace cutroom
