#include "core/fake_env.h"

namespace cutroom {
namespace {

// Delegates to a real file but fails every Append with a preset status.
class FailingWritableFile : public WritableFile {
 public:
  FailingWritableFile(std::unique_ptr<WritableFile> base, Status failure)
      : base_(std::move(base)), failure_(std::move(failure)) {}
  Status Append(const void*, size_t) override { return failure_; }
  Status Sync() override { return base_->Sync(); }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }

 private:
  std::unique_ptr<WritableFile> base_;
  Status failure_;
};

}  // namespace

FakeEnv::FakeEnv(TimestampMs start_ms, uint64_t seed)
    : EnvWrapper(Env::Default()), now_micros_(start_ms * 1000), rng_(seed) {}

TimestampMs FakeEnv::NowMs() {
  std::lock_guard lock(mu_);
  return now_micros_ / 1000;
}

int64_t FakeEnv::MonotonicMicros() {
  std::lock_guard lock(mu_);
  return now_micros_;
}

void FakeEnv::AdvanceMicros(int64_t micros) {
  std::lock_guard lock(mu_);
  now_micros_ += micros;
}

void FakeEnv::RandomBytes(void* buf, size_t n) {
  std::lock_guard lock(mu_);
  auto* p = static_cast<unsigned char*>(buf);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(rng_());
}

Result<std::unique_ptr<WritableFile>> FakeEnv::NewWritableFile(const std::string& path, bool truncate) {
  CUTROOM_ASSIGN_OR_RETURN(auto file, EnvWrapper::NewWritableFile(path, truncate));
  if (fail_writes_with.ok()) return file;
  return std::unique_ptr<WritableFile>(new FailingWritableFile(std::move(file), fail_writes_with));
}

Result<uint64_t> FakeEnv::FreeSpace(const std::string& path) {
  if (free_space) return *free_space;
  return EnvWrapper::FreeSpace(path);
}

}  // namespace cutroom
