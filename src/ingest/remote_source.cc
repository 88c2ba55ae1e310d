#include "ingest/remote_source.h"

#include <cstring>

namespace cutroom::ingest {

Status HttpRangeSource::Load(uint64_t offset) {
  Status st = LoadWindow(offset);
  if (!st.ok()) last_error_ = st;
  return st;
}

Status HttpRangeSource::LoadWindow(uint64_t offset) {
  std::string data;
  FetchOptions options;
  options.range = std::make_pair(offset, offset + window_ - 1);
  // A server that ignores Range sends the whole file: stop it early.
  options.max_bytes = window_;
  options.total_timeout_s = 60;
  ++requests_;
  auto result = fetcher_->Fetch(url_, options, [&data](const char* p, size_t n) {
    data.append(p, n);
    return Status::Ok();
  });
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kResourceExhausted) {
      return Status::NotSupported("the server does not support byte ranges; import the URL instead (mode=import)");
    }
    return result.status();
  }
  if (result->http_status == 200 && offset == 0 && result->content_length &&
      *result->content_length <= window_) {
    size_ = *result->content_length;  // small file sent whole
  } else if (result->http_status != 206) {
    return Status::NotSupported("the server does not support byte ranges (HTTP " +
                                std::to_string(result->http_status) + "); import the URL instead (mode=import)");
  }
  if (result->total_size) size_ = result->total_size;
  cache_offset_ = offset;
  cache_ = std::move(data);
  return Status::Ok();
}

Result<size_t> HttpRangeSource::ReadAt(uint64_t offset, void* buf, size_t n) {
  if (size_ && offset >= *size_) return size_t{0};
  if (offset < cache_offset_ || offset >= cache_offset_ + cache_.size()) {
    CUTROOM_RETURN_IF_ERROR(Load(offset));
    if (cache_.empty()) return size_t{0};
  }
  size_t start = static_cast<size_t>(offset - cache_offset_);
  size_t take = std::min(n, cache_.size() - start);
  std::memcpy(buf, cache_.data() + start, take);
  return take;
}

Result<uint64_t> HttpRangeSource::Size() {
  if (!size_) CUTROOM_RETURN_IF_ERROR(Load(0));
  if (!size_) return Status::NotSupported("the server did not say how large the file is");
  return *size_;
}

}  // namespace cutroom::ingest
