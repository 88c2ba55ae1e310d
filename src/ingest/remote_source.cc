#include "ingest/remote_source.h"

#include "core/metrics.h"

#include <cstring>
#include <list>
#include <map>
#include <condition_variable>
#include <mutex>
#include <set>

namespace cutroom::ingest {
namespace {

std::atomic<uint64_t> g_requests{0};
std::atomic<uint64_t> g_bytes{0};

// Blocks of remote files, least recently used first out. Keyed by the URL
// and the file's version, so a changed file never reads stale blocks.
class BlockCache {
 public:
  static BlockCache& Instance() {
    static BlockCache* cache = new BlockCache();  // never destroyed: used until exit
    return *cache;
  }

  // The block when cached. Otherwise, when another reader is fetching it,
  // waits for that fetch and looks again; when nobody is, marks it as being
  // fetched by the caller (who must Release it) and returns null. So
  // stages reading one reference at once fetch each block once.
  std::shared_ptr<const std::string> FindOrClaim(const std::string& file, uint64_t index) {
    std::unique_lock lock(mu_);
    Key key{file, index};
    for (;;) {
      auto it = map_.find(key);
      if (it != map_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.second);
        return it->second.first;
      }
      if (!in_flight_.count(key)) break;
      fetched_.wait(lock);
    }
    in_flight_.insert(std::move(key));
    return nullptr;
  }

  // Claims up to max blocks from `from` on that nobody holds or fetches;
  // returns how many (consecutive) it claimed.
  size_t ClaimMore(const std::string& file, uint64_t from, size_t max) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (; n < max; ++n) {
      Key key{file, from + n};
      if (map_.count(key) || in_flight_.count(key)) break;
      in_flight_.insert(std::move(key));
    }
    return n;
  }

  void Release(const std::string& file, uint64_t from, size_t n) {
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < n; ++i) in_flight_.erase({file, from + i});
    }
    fetched_.notify_all();
  }

  void Put(const std::string& file, uint64_t index, std::shared_ptr<const std::string> block) {
    std::lock_guard lock(mu_);
    if (block->size() > capacity_) return;
    Key key{file, index};
    auto it = map_.find(key);
    if (it != map_.end()) {
      bytes_ -= it->second.first->size();
      lru_.erase(it->second.second);
      map_.erase(it);
    }
    lru_.push_front(key);
    bytes_ += block->size();
    map_.emplace(std::move(key), std::make_pair(std::move(block), lru_.begin()));
    EvictLocked();
  }

  void SetCapacity(uint64_t bytes) {
    std::lock_guard lock(mu_);
    capacity_ = bytes;
    EvictLocked();
  }

 private:
  using Key = std::pair<std::string, uint64_t>;

  void EvictLocked() {
    while (bytes_ > capacity_ && !lru_.empty()) {
      auto it = map_.find(lru_.back());
      bytes_ -= it->second.first->size();
      map_.erase(it);
      lru_.pop_back();
    }
  }

  std::mutex mu_;
  std::condition_variable fetched_;
  std::set<Key> in_flight_;
  std::list<Key> lru_;  // most recent first
  std::map<Key, std::pair<std::shared_ptr<const std::string>, std::list<Key>::iterator>> map_;
  uint64_t bytes_ = 0;
  uint64_t capacity_ = 256ull << 20;
};

bool Differ(const std::string& a, const std::string& b) { return !a.empty() && !b.empty() && a != b; }

// Why two versions of a file are not the same one ("" when they may be).
std::string VersionDifference(const RemoteValidator& before, const RemoteValidator& now) {
  if (before.size && now.size && before.size != now.size) {
    return "its size changed from " + std::to_string(before.size) + " to " + std::to_string(now.size) + " bytes";
  }
  if (Differ(before.etag, now.etag)) return "its ETag changed from " + before.etag + " to " + now.etag;
  if (Differ(before.last_modified, now.last_modified)) {
    return "its Last-Modified changed from " + before.last_modified + " to " + now.last_modified;
  }
  return "";
}

}  // namespace

nlohmann::json RemoteValidator::ToJson() const {
  nlohmann::json j = {{"size_bytes", size}};
  if (!etag.empty()) j["etag"] = etag;
  if (!last_modified.empty()) j["last_modified"] = last_modified;
  return j;
}

RemoteValidator RemoteValidator::FromJson(const nlohmann::json& j) {
  RemoteValidator v;
  if (!j.is_object()) return v;
  if (j.contains("size_bytes") && j["size_bytes"].is_number_unsigned()) v.size = j["size_bytes"].get<uint64_t>();
  if (j.contains("etag") && j["etag"].is_string()) v.etag = j["etag"].get<std::string>();
  if (j.contains("last_modified") && j["last_modified"].is_string()) {
    v.last_modified = j["last_modified"].get<std::string>();
  }
  return v;
}

RemoteFetchStats RemoteFetchTotals() { return {g_requests.load(), g_bytes.load()}; }

void SetRemoteCacheBytes(uint64_t bytes) { BlockCache::Instance().SetCapacity(bytes); }

Status HttpRangeSource::CheckVersion(const FetchResult& result) {
  RemoteValidator now;
  now.size = result.total_size.value_or(0);
  now.etag = result.etag;
  now.last_modified = result.last_modified;
  for (const auto* before : {expected_ ? &*expected_ : nullptr, seen_ ? &*seen_ : nullptr}) {
    if (!before) continue;
    std::string why = VersionDifference(*before, now);
    if (!why.empty()) {
      return Status::FailedPrecondition("reference_changed: the file at " + url_ + " is not the one that was added (" +
                                        why + "); add the URL again to analyse the new file");
    }
  }
  if (!seen_) seen_ = now;
  return Status::Ok();
}

Status HttpRangeSource::Fetch(uint64_t first_block, size_t blocks) {
  uint64_t begin = first_block * kBlockSize;
  uint64_t end = begin + blocks * kBlockSize;  // exclusive
  if (size_) end = std::min(end, *size_);
  std::string data;
  FetchOptions options;
  options.range = std::make_pair(begin, end - 1);
  // A server that ignores Range sends the whole file: stop it early.
  options.max_bytes = end - begin;
  options.total_timeout_s = 120;
  ++requests_;
  g_requests.fetch_add(1);
  auto result = fetcher_->Fetch(url_, options, [&data](const char* p, size_t n) {
    data.append(p, n);
    return Status::Ok();
  });
  g_bytes.fetch_add(data.size());
  bytes_ += data.size();
  Metrics::Global().Add("cutroom_reference_fetched_bytes_total", {}, static_cast<double>(data.size()));
  Metrics::Global().Add("cutroom_reference_requests_total", {});
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kResourceExhausted) {
      return Status::NotSupported("range_not_supported: " + url_ +
                                  " answers a byte range with the whole file; import the URL instead (mode=import)");
    }
    return result.status();
  }
  if (result->http_status == 200 && begin == 0 && result->content_length && *result->content_length <= end) {
    result->total_size = *result->content_length;  // a small file sent whole
  } else if (result->http_status != 206) {
    return Status::NotSupported("range_not_supported: " + url_ + " does not answer byte ranges (HTTP " +
                                std::to_string(result->http_status) + "); import the URL instead (mode=import)");
  }
  CUTROOM_RETURN_IF_ERROR(CheckVersion(*result));
  if (result->total_size) size_ = *result->total_size;
  uint64_t expected_bytes = size_ ? std::min(end, *size_) - begin : end - begin;
  if (data.size() != expected_bytes) {
    return Status::Unavailable("short read from " + url_ + ": " + std::to_string(data.size()) + " of " +
                               std::to_string(expected_bytes) + " bytes");
  }
  std::string file_key = url_ + "\n" + seen_->Key();
  for (size_t i = 0; i * kBlockSize < data.size(); ++i) {
    auto block = std::make_shared<const std::string>(data.substr(i * kBlockSize, kBlockSize));
    if (i == 0) {
      held_index_ = first_block;
      held_ = block;
    }
    BlockCache::Instance().Put(file_key, first_block + i, std::move(block));
  }
  if (data.empty()) {
    held_index_ = first_block;
    held_ = std::make_shared<const std::string>();
  }
  return Status::Ok();
}

Status HttpRangeSource::Revalidate() {
  revalidated_ = true;
  // A file of one block is read whole anyway (also from servers that send
  // small files whole instead of a range).
  if (expected_ && expected_->size && expected_->size <= kBlockSize) return Fetch(0, 1);
  FetchOptions options;
  options.range = std::make_pair(uint64_t{0}, uint64_t{0});
  options.max_bytes = 1;
  options.total_timeout_s = 60;
  ++requests_;
  g_requests.fetch_add(1);
  size_t got = 0;
  auto result = fetcher_->Fetch(url_, options, [&got](const char*, size_t n) {
    got += n;
    return Status::Ok();
  });
  g_bytes.fetch_add(got);
  bytes_ += got;
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kResourceExhausted) {
      return Status::NotSupported("range_not_supported: " + url_ +
                                  " answers a byte range with the whole file; import the URL instead (mode=import)");
    }
    return result.status();
  }
  if (result->http_status != 206) {
    return Status::NotSupported("range_not_supported: " + url_ + " does not answer byte ranges (HTTP " +
                                std::to_string(result->http_status) + "); import the URL instead (mode=import)");
  }
  CUTROOM_RETURN_IF_ERROR(CheckVersion(*result));
  if (result->total_size) size_ = *result->total_size;
  return Status::Ok();
}

Result<size_t> HttpRangeSource::ReadAt(uint64_t offset, void* buf, size_t n) {
  if (expected_ && !revalidated_) {
    Status st = Revalidate();
    if (!st.ok()) {
      last_error_ = st;
      return st;
    }
  }
  if (size_ && offset >= *size_) return size_t{0};
  uint64_t index = offset / kBlockSize;
  if (held_index_ != index) {
    const RemoteValidator* version = expected_ ? &*expected_ : seen_ ? &*seen_ : nullptr;
    const bool sequential = last_block_read_ && *last_block_read_ + 1 == index;
    size_t want = sequential ? kReadAheadBlocks : 1;
    if (size_) want = static_cast<size_t>(std::min<uint64_t>(want, (*size_ + kBlockSize - 1) / kBlockSize - index));
    BlockCache& cache = BlockCache::Instance();
    std::string key = version ? url_ + "\n" + version->Key() : "";
    std::shared_ptr<const std::string> cached = version ? cache.FindOrClaim(key, index) : nullptr;
    if (cached) {
      held_index_ = index;
      held_ = std::move(cached);
    } else {
      size_t blocks = version ? 1 + cache.ClaimMore(key, index + 1, want - 1) : want;
      Status st = Fetch(index, blocks);
      if (version) cache.Release(key, index, blocks);
      if (!st.ok()) {
        last_error_ = st;
        return st;
      }
    }
  }
  last_block_read_ = index;
  size_t start = static_cast<size_t>(offset - index * kBlockSize);
  if (start >= held_->size()) return size_t{0};
  size_t take = std::min(n, held_->size() - start);
  std::memcpy(buf, held_->data() + start, take);
  return take;
}

Result<uint64_t> HttpRangeSource::Size() {
  if (expected_ && !revalidated_) {
    Status st = Revalidate();
    if (!st.ok()) {
      last_error_ = st;
      return st;
    }
  }
  if (!size_) {
    Status st = Fetch(0, 1);
    if (!st.ok()) {
      last_error_ = st;
      return st;
    }
  }
  if (!size_) return Status::NotSupported("range_not_supported: the server did not say how large the file is");
  return *size_;
}

}  // namespace cutroom::ingest
