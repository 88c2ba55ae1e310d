#include "storage/s3_blob_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cstring>
#include <ctime>

namespace cutroom::storage {
namespace {

constexpr uint64_t kMaxParts = 10000;  // S3's limit per multipart upload
constexpr std::string_view kMultipartPrefix = "multipart/";

std::string RandomHex(Env* env, size_t bytes) {
  std::string out;
  std::vector<unsigned char> rnd(bytes);
  env->RandomBytes(rnd.data(), rnd.size());
  for (unsigned char c : rnd) {
    out += "0123456789abcdef"[c >> 4];
    out += "0123456789abcdef"[c & 15];
  }
  return out;
}

// "2026-05-28T12:00:00.000Z" as milliseconds since the epoch; 0 when
// unreadable (the entry then looks old, which only matters to fsck's grace).
int64_t ParseIsoTime(const std::string& s) {
  tm t{};
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min,
                  &t.tm_sec) != 6) {
    return 0;
  }
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000;
}

class S3BlobStore;

class S3BlobWriter : public BlobWriter {
 public:
  S3BlobWriter(S3BlobStore* store, Env* env, std::unique_ptr<WritableFile> file, std::string staging, std::string key)
      : store_(store), env_(env), file_(std::move(file)), staging_(std::move(staging)), key_(std::move(key)) {}
  ~S3BlobWriter() override {
    if (!committed_) {
      file_->Close().IgnoreError();
      env_->RemoveFile(staging_).IgnoreError();
    }
  }

  Status Append(const void* data, size_t size) override {
    if (committed_) return Status::FailedPrecondition("blob already committed");
    return file_->Append(data, size);
  }
  Status Commit() override;
  uint64_t bytes_written() const override { return file_->size(); }
  std::string staging_path() const override { return committed_ ? "" : staging_; }

 private:
  S3BlobStore* store_;
  Env* env_;
  std::unique_ptr<WritableFile> file_;
  std::string staging_;
  std::string key_;
  bool committed_ = false;
};

// Ranged GETs through a read-ahead buffer; see the header for why.
class S3BlobReader : public BlobReader {
 public:
  S3BlobReader(S3Client* client, std::string object, uint64_t size, std::string etag, size_t read_ahead,
               size_t max_read_ahead)
      : client_(client),
        object_(std::move(object)),
        size_(size),
        etag_(std::move(etag)),
        read_ahead_(read_ahead),
        max_read_ahead_(std::max(read_ahead, max_read_ahead)),
        window_(read_ahead) {}

  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const override {
    if (offset >= size_) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
    auto* out = static_cast<char*>(buf);
    size_t done = 0;
    while (done < n) {
      uint64_t pos = offset + done;
      if (pos >= buffer_start_ && pos < buffer_start_ + buffer_.size()) {
        size_t from = static_cast<size_t>(pos - buffer_start_);
        size_t take = std::min(n - done, buffer_.size() - from);
        std::memcpy(out + done, buffer_.data() + from, take);
        done += take;
        continue;
      }
      // Reading on from the end of the buffer: the demuxer streams, so
      // fetch more at a time; a jump elsewhere (a seek) starts small again.
      bool sequential = !buffer_.empty() && pos == buffer_start_ + buffer_.size();
      window_ = sequential ? std::min(window_ * 2, max_read_ahead_) : read_ahead_;
      uint64_t want = std::min<uint64_t>(std::max<uint64_t>(n - done, window_), size_ - pos);
      CUTROOM_RETURN_IF_ERROR(Fetch(pos, want));
      if (buffer_.empty()) break;  // the object shrank under us: Fetch says so
    }
    return done;
  }
  uint64_t size() const override { return size_; }
  uint64_t fetch_requests() const override { return requests_; }
  uint64_t fetch_bytes() const override { return bytes_; }

 private:
  Status Fetch(uint64_t pos, uint64_t length) const {
    S3Request req;
    req.method = "GET";
    req.key = object_;
    req.headers.emplace_back("range", "bytes=" + std::to_string(pos) + "-" + std::to_string(pos + length - 1));
    if (!etag_.empty()) req.headers.emplace_back("if-match", etag_);
    req.max_reply_bytes = static_cast<size_t>(length) + 1;
    ++requests_;
    CUTROOM_ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
    if (resp.status == 412) {
      return Status::FailedPrecondition("blob " + object_ + " changed while it was being read (" + client_->Where() + ")");
    }
    if (!resp.ok()) return client_->ErrorOf(req, resp);
    // Services that ignore If-Match (s3rver, some gateways) still send the
    // ETag of what they served.
    std::string etag = resp.Header("etag");
    if (!etag_.empty() && !etag.empty() && etag != etag_) {
      return Status::FailedPrecondition("blob " + object_ + " changed while it was being read (" + client_->Where() + ")");
    }
    // A 200 is the whole object (a server that ignores ranges): keep the
    // part asked for.
    if (resp.status == 200 && pos > 0) {
      if (resp.body.size() < pos) return Status::Corruption("blob " + object_ + " is shorter than its listed size");
      resp.body.erase(0, static_cast<size_t>(pos));
    }
    if (resp.body.size() > length) resp.body.resize(static_cast<size_t>(length));
    if (resp.body.empty()) return Status::Corruption("blob " + object_ + " is shorter than its listed size");
    bytes_ += resp.body.size();
    buffer_ = std::move(resp.body);
    buffer_start_ = pos;
    return Status::Ok();
  }

  S3Client* client_;
  std::string object_;
  uint64_t size_;
  std::string etag_;
  size_t read_ahead_;
  size_t max_read_ahead_;
  // One thread reads at a time (BlobReader's contract); ReadAt is const
  // for callers, the buffer is its cache.
  mutable size_t window_;
  mutable std::string buffer_;
  mutable uint64_t buffer_start_ = 0;
  mutable uint64_t requests_ = 0;
  mutable uint64_t bytes_ = 0;
};

class S3BlobStore : public BlobStore {
 public:
  S3BlobStore(S3StoreOptions options, Env* env, std::unique_ptr<S3Client> client)
      : options_(std::move(options)), env_(env), client_(std::move(client)) {}

  Status Init() { return env_->CreateDirs(options_.staging_dir); }

  Result<std::unique_ptr<BlobWriter>> NewWriter(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    std::string staging = options_.staging_dir + "/" + RandomHex(env_, 8);
    CUTROOM_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(staging, true));
    return std::unique_ptr<BlobWriter>(new S3BlobWriter(this, env_, std::move(file), staging, key));
  }

  Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    CUTROOM_ASSIGN_OR_RETURN(S3Response head, Head(key));
    return std::unique_ptr<BlobReader>(new S3BlobReader(client_.get(), Object(key), ContentLength(head),
                                                        head.Header("etag"), options_.read_ahead,
                                                        options_.max_read_ahead));
  }

  Status Put(const std::string& key, std::string_view data) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    // Small blobs (thumbnails, frames, JSON) go up straight from memory.
    if (data.size() < PartSize(data.size())) return PutObject(Object(key), data);
    return BlobStore::Put(key, data);
  }

  bool Exists(const std::string& key) override { return ValidateKey(key).ok() && Head(key).ok(); }

  Result<uint64_t> Size(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    CUTROOM_ASSIGN_OR_RETURN(S3Response head, Head(key));
    return ContentLength(head);
  }

  Status Delete(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    // S3 answers 204 for absent keys too; the interface promises NotFound.
    CUTROOM_RETURN_IF_ERROR(Head(key).status());
    S3Request req;
    req.method = "DELETE";
    req.key = Object(key);
    return Check(req);
  }

  Result<uint64_t> FreeSpace() override { return env_->FreeSpace(options_.staging_dir); }

  Status CheckWritable() override {
    CUTROOM_RETURN_IF_ERROR(env_->CheckWritable(options_.staging_dir));
    std::string probe = Object(".cutroom-probe/" + RandomHex(env_, 8));
    Status put = PutObject(probe, "probe");
    if (!put.ok()) return Status(put.code(), "S3 " + client_->Where() + " refuses writes: " + put.message());
    S3Request req;
    req.method = "DELETE";
    req.key = probe;
    return Check(req);
  }

  Result<std::string> LocalPath(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    return Status::NotSupported("blob " + key + " lives in S3 (" + client_->Where() +
                                "): it has no local path; read it with OpenReader");
  }

  Result<std::vector<Listed>> List() override {
    std::vector<Listed> out;
    std::string token;
    const int64_t now = env_->NowMs();
    while (true) {
      S3Request req;
      req.method = "GET";
      req.query = {{"list-type", "2"}, {"prefix", ListPrefix()}};
      if (!token.empty()) req.query.emplace_back("continuation-token", token);
      CUTROOM_ASSIGN_OR_RETURN(S3Response resp, SendChecked(req));
      for (std::string_view entry : XmlElements(resp.body, "Contents")) {
        // A service may answer keys outside the prefix asked for (or a
        // broken reply none at all): those are not ours.
        std::string full = XmlText(entry, "Key");
        if (full.rfind(ListPrefix(), 0) != 0) continue;
        std::string key = full.substr(ListPrefix().size());
        // Only keys cutroom could have written (others are not ours to report
        // or delete).
        if (!ValidateKey(key).ok() || key.rfind(".cutroom-probe/", 0) == 0) continue;
        Listed l;
        l.key = key;
        l.size = std::strtoull(XmlText(entry, "Size").c_str(), nullptr, 10);
        l.age_s = std::max<int64_t>(0, (now - ParseIsoTime(XmlText(entry, "LastModified"))) / 1000);
        out.push_back(std::move(l));
      }
      std::string next = XmlText(resp.body, "NextContinuationToken");
      if (XmlText(resp.body, "IsTruncated") != "true" || next.empty()) break;
      if (next == token) return Status::Unavailable("the S3 listing of " + ListPrefix() + " repeats its page; giving up");
      token = std::move(next);
    }
    return out;
  }

  Result<std::vector<Listed>> ListStaging() override {
    std::vector<Listed> out;
    const int64_t now = env_->NowMs();
    CUTROOM_ASSIGN_OR_RETURN(auto names, env_->ListDir(options_.staging_dir));
    for (const auto& name : names) {
      std::string path = options_.staging_dir + "/" + name;
      Listed l;
      l.key = name;
      l.size = env_->FileSize(path).value_or(0);
      struct stat st {};
      l.age_s = ::stat(path.c_str(), &st) == 0 ? std::max<int64_t>(0, now / 1000 - st.st_mtime) : 0;
      out.push_back(std::move(l));
    }
    // Unfinished multipart uploads (a crash mid-Commit) keep their parts,
    // billed, until aborted.
    std::string key_marker, upload_marker;
    while (true) {
      S3Request req;
      req.method = "GET";
      req.query = {{"uploads", ""}, {"prefix", ListPrefix()}};
      if (!key_marker.empty()) req.query.emplace_back("key-marker", key_marker);
      if (!upload_marker.empty()) req.query.emplace_back("upload-id-marker", upload_marker);
      CUTROOM_ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
      if (resp.status == 501) break;  // not implemented by this service (s3rver)
      if (!resp.ok()) return client_->ErrorOf(req, resp);
      for (std::string_view entry : XmlElements(resp.body, "Upload")) {
        std::string full = XmlText(entry, "Key");
        if (full.rfind(ListPrefix(), 0) != 0) continue;
        std::string key = full.substr(ListPrefix().size());
        Listed l;
        l.key = std::string(kMultipartPrefix) + XmlText(entry, "UploadId") + "/" + key;
        l.age_s = std::max<int64_t>(0, (now - ParseIsoTime(XmlText(entry, "Initiated"))) / 1000);
        out.push_back(std::move(l));
      }
      std::string next_key = XmlText(resp.body, "NextKeyMarker");
      std::string next_upload = XmlText(resp.body, "NextUploadIdMarker");
      if (XmlText(resp.body, "IsTruncated") != "true" || next_key.empty()) break;
      if (next_key == key_marker && next_upload == upload_marker) {
        return Status::Unavailable("the S3 listing of unfinished uploads repeats its page; giving up");
      }
      key_marker = std::move(next_key);
      upload_marker = std::move(next_upload);
    }
    return out;
  }

  Status DeleteStaging(const std::string& name) override {
    if (name.rfind(kMultipartPrefix, 0) == 0) {
      std::string rest = name.substr(kMultipartPrefix.size());
      auto slash = rest.find('/');
      if (slash == std::string::npos || slash == 0) return Status::InvalidArgument("not a staged write: " + name);
      std::string key = rest.substr(slash + 1);
      CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
      return Abort(Object(key), rest.substr(0, slash));
    }
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return Status::InvalidArgument("not a staged write: " + name);
    }
    return env_->RemoveFile(options_.staging_dir + "/" + name);
  }

  Status AdoptFile(const std::string& local_path, const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    CUTROOM_RETURN_IF_ERROR(Upload(local_path, key));
    return env_->RemoveFile(local_path);
  }

  std::string Describe() const override {
    return "s3://" + client_->options().bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix) + " at " +
           client_->options().endpoint;
  }

  // Uploads a complete local file under key: one PUT below the part size,
  // else a multipart upload that is aborted on any failure.
  Status Upload(const std::string& path, const std::string& key) {
    CUTROOM_ASSIGN_OR_RETURN(auto file, env_->NewReadableFile(path));
    const uint64_t size = file->size();
    const uint64_t part_size = PartSize(size);
    if (size < part_size) {
      std::string data(static_cast<size_t>(size), '\0');
      CUTROOM_RETURN_IF_ERROR(ReadFully(*file, 0, data));
      return PutObject(Object(key), data);
    }
    return Multipart(*file, Object(key), part_size);
  }

 private:
  std::string Object(const std::string& key) const { return options_.prefix.empty() ? key : options_.prefix + "/" + key; }
  std::string ListPrefix() const { return options_.prefix.empty() ? "" : options_.prefix + "/"; }

  // The configured part size, raised (to whole MiB) when a file would need
  // more than S3's 10,000 parts.
  uint64_t PartSize(uint64_t size) const {
    uint64_t part = std::max<uint64_t>(options_.part_size, 1);
    if (size / part >= kMaxParts) part = ((size / kMaxParts) / (1u << 20) + 1) * (1u << 20);
    return part;
  }

  static uint64_t ContentLength(const S3Response& r) {
    return std::strtoull(r.Header("content-length").c_str(), nullptr, 10);
  }

  static Status ReadFully(ReadableFile& file, uint64_t offset, std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      CUTROOM_ASSIGN_OR_RETURN(size_t n, file.ReadAt(offset + done, data.data() + done, data.size() - done));
      if (n == 0) return Status::IOError("file ended early while uploading it to S3");
      done += n;
    }
    return Status::Ok();
  }

  Result<S3Response> Head(const std::string& key) {
    S3Request req;
    req.method = "HEAD";
    req.key = Object(key);
    return SendChecked(req);
  }

  Result<S3Response> SendChecked(const S3Request& req) {
    CUTROOM_ASSIGN_OR_RETURN(S3Response resp, client_->Send(req));
    if (!resp.ok()) return client_->ErrorOf(req, resp);
    return resp;
  }

  Status Check(const S3Request& req) { return SendChecked(req).status(); }

  Status PutObject(const std::string& object, std::string_view data) {
    S3Request req;
    req.method = "PUT";
    req.key = object;
    req.body = data;
    req.headers.emplace_back("content-type", "application/octet-stream");
    return Check(req);
  }

  Status Abort(const std::string& object, const std::string& upload_id) {
    S3Request req;
    req.method = "DELETE";
    req.key = object;
    req.query = {{"uploadId", upload_id}};
    Status st = Check(req);
    if (st.IsNotFound()) return Status::Ok();  // NoSuchUpload: already gone
    return st;
  }

  Status Multipart(ReadableFile& file, const std::string& object, uint64_t part_size) {
    S3Request start;
    start.method = "POST";
    start.key = object;
    start.query = {{"uploads", ""}};
    CUTROOM_ASSIGN_OR_RETURN(S3Response started, SendChecked(start));
    std::string upload_id = XmlText(started.body, "UploadId");
    if (upload_id.empty()) return Status::Corruption("S3 " + client_->Where() + " started an upload without an UploadId");
    Status st = UploadParts(file, object, upload_id, part_size);
    if (st.ok()) return st;
    Status aborted = Abort(object, upload_id);
    std::string note = aborted.ok() ? " (the upload was aborted)"
                                    : " (aborting the upload failed too, `cutroom fsck --repair` removes it: " +
                                          aborted.message() + ")";
    return Status(st.code(), "multipart upload of " + object + " failed: " + st.message() + note);
  }

  // Part index (0-based) of the file, into data (reused), its ETag into etag.
  Status UploadPart(ReadableFile& file, const std::string& object, const std::string& upload_id, uint64_t index,
                    uint64_t part_size, std::string& data, std::string& etag) {
    const uint64_t offset = index * part_size;
    data.resize(static_cast<size_t>(std::min(part_size, file.size() - offset)));
    CUTROOM_RETURN_IF_ERROR(ReadFully(file, offset, data));
    S3Request part;
    part.method = "PUT";
    part.key = object;
    part.query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id}};
    part.body = data;
    CUTROOM_ASSIGN_OR_RETURN(S3Response resp, SendChecked(part));
    etag = resp.Header("etag");
    if (etag.empty()) {
      return Status::Corruption("S3 " + client_->Where() + " stored part " + std::to_string(index + 1) + " without an ETag");
    }
    return Status::Ok();
  }

  // Parts go up upload_concurrency at a time (one connection each): one
  // S3 connection rarely fills a link, and hashing one part overlaps
  // sending another. The first failure stops the others taking new parts.
  Status UploadParts(ReadableFile& file, const std::string& object, const std::string& upload_id, uint64_t part_size) {
    const uint64_t size = file.size();
    const uint64_t parts = (size + part_size - 1) / part_size;
    std::vector<std::string> etags(parts);
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    Status first_error;
    auto work = [&] {
      std::string data;
      while (!failed.load()) {
        uint64_t i = next.fetch_add(1);
        if (i >= parts) break;
        Status st = UploadPart(file, object, upload_id, i, part_size, data, etags[i]);
        if (!st.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = st;
          failed = true;
        }
      }
    };
    size_t threads = static_cast<size_t>(std::clamp<uint64_t>(parts, 1, std::max(1, options_.upload_concurrency)));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (!first_error.ok()) return first_error;

    std::string complete = "<CompleteMultipartUpload>";
    for (uint64_t i = 0; i < parts; ++i) {
      complete += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(etags[i]) +
                  "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";
    S3Request finish;
    finish.method = "POST";
    finish.key = object;
    finish.query = {{"uploadId", upload_id}};
    finish.body = complete;
    finish.headers.emplace_back("content-type", "application/xml");
    CUTROOM_ASSIGN_OR_RETURN(S3Response done, SendChecked(finish));
    // S3 may answer 200 and report the failure in the body, since it
    // starts replying before the parts are assembled.
    if (done.body.find("<Error>") != std::string::npos) {
      S3Response as_error = done;
      as_error.status = 500;
      return client_->ErrorOf(finish, as_error);
    }
    return Status::Ok();
  }

  S3StoreOptions options_;
  Env* env_;
  std::unique_ptr<S3Client> client_;

  friend class S3BlobWriter;
};

Status S3BlobWriter::Commit() {
  if (committed_) return Status::FailedPrecondition("blob already committed");
  CUTROOM_RETURN_IF_ERROR(file_->Close());
  CUTROOM_RETURN_IF_ERROR(store_->Upload(staging_, key_));
  committed_ = true;
  env_->RemoveFile(staging_).IgnoreError();  // published; a leftover is only fsck's to tidy
  return Status::Ok();
}

bool ValidBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

}  // namespace

Result<S3StoreOptions> S3StoreOptions::FromConfig(const Config& config,
                                                  const std::map<std::string, std::string>& environment) {
  std::string url = config.GetString("storage.blob_url");
  constexpr std::string_view kScheme = "s3://";
  if (url.rfind(kScheme, 0) != 0) return Status::InvalidArgument("blob URL '" + url + "' is not s3://bucket[/prefix]");
  std::string rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  S3StoreOptions o;
  auto slash = rest.find('/');
  o.client.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) o.prefix = rest.substr(slash + 1);
  if (!ValidBucketName(o.client.bucket)) {
    return Status::InvalidArgument("blob URL '" + url +
                                   "': the bucket name must be 3-63 characters of a-z, 0-9, '.' and '-'");
  }
  if (!o.prefix.empty() && !ValidateKey(o.prefix).ok()) {
    return Status::InvalidArgument("blob URL '" + url + "': the prefix must be '/'-separated parts of A-Z a-z 0-9 _ . -");
  }
  o.client.region = config.GetString("storage.s3_region");
  if (o.client.region.empty()) o.client.region = "us-east-1";
  o.client.endpoint = config.GetString("storage.s3_endpoint");
  if (o.client.endpoint.empty()) o.client.endpoint = "https://s3." + o.client.region + ".amazonaws.com";
  o.client.path_style = config.GetBool("storage.s3_path_style");
  auto get = [&](const char* name) {
    auto it = environment.find(name);
    return it == environment.end() ? std::string() : it->second;
  };
  o.client.credentials.access_key = get("AWS_ACCESS_KEY_ID");
  o.client.credentials.secret_key = get("AWS_SECRET_ACCESS_KEY");
  o.client.credentials.session_token = get("AWS_SESSION_TOKEN");
  if (o.client.credentials.access_key.empty() || o.client.credentials.secret_key.empty()) {
    return Status::InvalidArgument("storage.blob_url is " + url +
                                   " but the S3 credentials are missing: set AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)");
  }
  o.staging_dir = config.GetString("storage.data_dir") + "/tmp/s3-staging";
  return o;
}

Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(S3StoreOptions options, Env* env) {
  CUTROOM_ASSIGN_OR_RETURN(auto client, S3Client::Create(options.client, env));
  auto store = std::make_unique<S3BlobStore>(std::move(options), env, std::move(client));
  CUTROOM_RETURN_IF_ERROR(store->Init().WithContext("S3 staging directory"));
  return std::unique_ptr<BlobStore>(std::move(store));
}

}  // namespace cutroom::storage
