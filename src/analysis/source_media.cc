#include "analysis/source_media.h"

#include <mutex>

#include "ingest/address_policy.h"
#include "ingest/remote_source.h"
#include "ingest/url_fetcher.h"
#include "ingest/url_import.h"
#include "storage/blob_store.h"

namespace cutroom::analysis {

struct SourceMedia::RemoteState {
  // A URL reference: fetcher, url and expected version...
  std::unique_ptr<ingest::UrlFetcher> fetcher;
  std::string url;
  std::optional<ingest::RemoteValidator> expected;
  // ...or a stored blob without a local path (S3): store and key.
  storage::BlobStore* blobs = nullptr;
  std::string key;
  std::mutex mu;
  Status first_error;  // the first remote failure: later ones follow from it
  uint64_t requests = 0;
  uint64_t bytes = 0;
};

namespace {

// An HttpRangeSource that reports its first error and its traffic to the
// SourceMedia that made it.
class ReportingSource : public media::RandomAccessSource {
 public:
  ReportingSource(std::shared_ptr<SourceMedia::RemoteState> state, ingest::HttpRangeSource source)
      : state_(std::move(state)), source_(std::move(source)) {}
  ~ReportingSource() override { Settle(); }

  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) override { return Note(source_.ReadAt(offset, buf, n)); }
  Result<uint64_t> Size() override { return Note(source_.Size()); }

 private:
  template <typename T>
  Result<T> Note(Result<T> r);
  void Settle();

  std::shared_ptr<SourceMedia::RemoteState> state_;
  ingest::HttpRangeSource source_;
  ingest::RemoteFetchStats settled_{};
};

template <typename T>
Result<T> ReportingSource::Note(Result<T> r) {
  Settle();
  if (!r.ok()) {
    std::lock_guard lock(state_->mu);
    if (state_->first_error.ok()) state_->first_error = r.status();
  }
  return r;
}

void ReportingSource::Settle() {
  std::lock_guard lock(state_->mu);
  state_->requests += static_cast<uint64_t>(source_.requests()) - settled_.requests;
  state_->bytes += source_.bytes() - settled_.bytes;
  settled_.requests = static_cast<uint64_t>(source_.requests());
  settled_.bytes = source_.bytes();
}

void NoteError(SourceMedia::RemoteState& state, const Status& st) {
  std::lock_guard lock(state.mu);
  if (state.first_error.ok()) state.first_error = st;
}

// A stored blob read through its BlobReader (ranged GETs with read-ahead
// for S3), reporting its first error and its traffic like ReportingSource.
class BlobSource : public media::RandomAccessSource {
 public:
  BlobSource(std::shared_ptr<SourceMedia::RemoteState> state, std::unique_ptr<storage::BlobReader> reader)
      : state_(std::move(state)), reader_(std::move(reader)) {}
  ~BlobSource() override { Settle(); }

  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) override {
    auto r = reader_->ReadAt(offset, buf, n);
    Settle();
    if (!r.ok()) NoteError(*state_, r.status());
    return r;
  }
  Result<uint64_t> Size() override { return reader_->size(); }

 private:
  void Settle() {
    std::lock_guard lock(state_->mu);
    state_->requests += reader_->fetch_requests() - settled_.requests;
    state_->bytes += reader_->fetch_bytes() - settled_.bytes;
    settled_ = {reader_->fetch_requests(), reader_->fetch_bytes()};
  }

  std::shared_ptr<SourceMedia::RemoteState> state_;
  std::unique_ptr<storage::BlobReader> reader_;
  ingest::RemoteFetchStats settled_{};
};

}  // namespace

Result<SourceMedia> SourceMedia::Open(const jobs::JobServices& s, const db::MediaRow& media) {
  SourceMedia out;
  if (media.storage_key) {
    auto local = s.blobs->LocalPath(*media.storage_key);
    if (local.ok() || local.status().code() != StatusCode::kNotSupported) {
      CUTROOM_ASSIGN_OR_RETURN(out.path_, std::move(local));
      if (!s.env->FileExists(out.path_)) {
        // Deleted behind cutroom's back: say so, rather than let a decoder
        // fail on it as if the media had no stream.
        return Status::NotFound("the stored file of video " + media.video_id + " (" + *media.storage_key +
                                ") is missing: it was removed outside cutroom (`cutroom fsck` lists such media)");
      }
      return out;
    }
    // No local file (S3): decode through the store's own reader, registered
    // as a remote input like a URL reference.
    auto state = std::make_shared<RemoteState>();
    state->blobs = s.blobs;
    state->key = *media.storage_key;
    out.state_ = state;
    out.remote_ = std::make_shared<media::ScopedRemoteInput>(
        media.video_id, [state]() -> Result<std::unique_ptr<media::RandomAccessSource>> {
          auto reader = state->blobs->OpenReader(state->key);
          if (!reader.ok()) {
            NoteError(*state, reader.status());
            return reader.status();
          }
          return std::unique_ptr<media::RandomAccessSource>(
              std::make_unique<BlobSource>(state, std::move(reader).value()));
        });
    out.path_ = out.remote_->path();
    return out;
  }
  if (media.source_type != "reference" || !media.source_url || media.source_url->empty()) {
    return Status::FailedPrecondition("video " + media.video_id + " has no stored file and no URL to read");
  }
  CUTROOM_ASSIGN_OR_RETURN(auto policy, ingest::AddressPolicy::FromConfig(*s.config));
  auto state = std::make_shared<RemoteState>();
  state->fetcher = std::make_unique<ingest::UrlFetcher>(std::move(policy));
  state->url = *media.source_url;
  if (media.metadata.is_object() && media.metadata.contains("reference")) {
    state->expected = ingest::RemoteValidator::FromJson(media.metadata["reference"]);
  } else if (media.metadata.is_object() && media.metadata.contains("reference_size_bytes") &&
             media.metadata["reference_size_bytes"].is_number_unsigned()) {
    // Added before validators were kept: the size is all there is.
    ingest::RemoteValidator v;
    v.size = media.metadata["reference_size_bytes"].get<uint64_t>();
    state->expected = v;
  }
  std::string name = ingest::FilenameFromUrl(state->url);
  out.state_ = state;
  out.remote_ = std::make_shared<media::ScopedRemoteInput>(
      name.empty() ? "reference" : name, [state]() -> Result<std::unique_ptr<media::RandomAccessSource>> {
        return std::unique_ptr<media::RandomAccessSource>(std::make_unique<ReportingSource>(
            state, ingest::HttpRangeSource(state->fetcher.get(), state->url, state->expected)));
      });
  out.path_ = out.remote_->path();
  return out;
}

Status SourceMedia::Explain(const Status& failure) const {
  if (failure.ok() || !state_) return failure;
  std::lock_guard lock(state_->mu);
  return state_->first_error.ok() ? failure : state_->first_error;
}

bool SourceMedia::stored_blob() const { return state_ && state_->blobs != nullptr; }

uint64_t SourceMedia::requests() const {
  if (!state_) return 0;
  std::lock_guard lock(state_->mu);
  return state_->requests;
}

uint64_t SourceMedia::bytes_fetched() const {
  if (!state_) return 0;
  std::lock_guard lock(state_->mu);
  return state_->bytes;
}

Status RunWithSource(jobs::JobContext& ctx, const std::function<Status(std::optional<SourceMedia>&)>& body) {
  std::optional<SourceMedia> source;
  Status st = body(source);
  if (!source) return st;
  LogRemoteReads(ctx, *source);
  return source->Explain(st);
}

void LogRemoteReads(jobs::JobContext& ctx, const SourceMedia& source) {
  if (!source.remote()) return;
  uint64_t bytes = source.bytes_fetched();
  std::string what = source.stored_blob()
                         ? "read the stored file through ranged reads: " + std::to_string(source.requests()) +
                               " request(s), " + std::to_string(bytes) + " bytes"
                         : "read the URL reference remotely: " + std::to_string(source.requests()) + " request(s), " +
                               std::to_string(bytes) + " bytes (the rest came from the block cache)";
  ctx.Log("info", what, {{"remote_requests", source.requests()}, {"remote_bytes", bytes}});
}

}  // namespace cutroom::analysis
