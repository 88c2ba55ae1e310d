// Local-disk BlobStore: blobs are files under a root directory; writers
// stage under <root>/.staging and rename into place on Commit.
#include <chrono>
#include <filesystem>
#include <vector>

#include "storage/blob_store.h"
#include "storage/s3_blob_store.h"

namespace cutroom::storage {
namespace {

std::string ParentDir(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : path.substr(0, pos);
}

class LocalBlobWriter : public BlobWriter {
 public:
  LocalBlobWriter(Env* env, std::unique_ptr<WritableFile> file, std::string staging, std::string final_path)
      : env_(env), file_(std::move(file)), staging_(std::move(staging)), final_(std::move(final_path)) {}

  ~LocalBlobWriter() override {
    if (!committed_) {
      file_->Close().IgnoreError();
      env_->RemoveFile(staging_).IgnoreError();
    }
  }

  Status Append(const void* data, size_t size) override {
    if (committed_) return Status::FailedPrecondition("blob already committed");
    return file_->Append(data, size);
  }

  Status Commit() override {
    if (committed_) return Status::FailedPrecondition("blob already committed");
    CUTROOM_RETURN_IF_ERROR(file_->Sync());
    CUTROOM_RETURN_IF_ERROR(file_->Close());
    std::string dir = ParentDir(final_);
    CUTROOM_RETURN_IF_ERROR(env_->CreateDirs(dir));
    CUTROOM_RETURN_IF_ERROR(env_->RenameFile(staging_, final_));
    CUTROOM_RETURN_IF_ERROR(env_->SyncDir(dir));
    committed_ = true;
    return Status::Ok();
  }

  uint64_t bytes_written() const override { return file_->size(); }
  std::string staging_path() const override { return committed_ ? final_ : staging_; }

 private:
  Env* env_;
  std::unique_ptr<WritableFile> file_;
  std::string staging_;
  std::string final_;
  bool committed_ = false;
};

class LocalBlobReader : public BlobReader {
 public:
  explicit LocalBlobReader(std::unique_ptr<ReadableFile> file) : file_(std::move(file)) {}
  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) const override { return file_->ReadAt(offset, buf, n); }
  uint64_t size() const override { return file_->size(); }

 private:
  std::unique_ptr<ReadableFile> file_;
};

class LocalBlobStore : public BlobStore {
 public:
  LocalBlobStore(Env* env, std::string root) : env_(env), root_(std::move(root)) {}

  Status Init() {
    CUTROOM_RETURN_IF_ERROR(env_->CreateDirs(root_));
    return env_->CreateDirs(StagingDir());
  }

  Result<std::unique_ptr<BlobWriter>> NewWriter(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    unsigned char rnd[8];
    env_->RandomBytes(rnd, sizeof rnd);
    std::string staging = StagingDir() + "/";
    for (unsigned char c : rnd) {
      staging += "0123456789abcdef"[c >> 4];
      staging += "0123456789abcdef"[c & 15];
    }
    CUTROOM_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(staging, true));
    return std::unique_ptr<BlobWriter>(new LocalBlobWriter(env_, std::move(file), staging, PathOf(key)));
  }

  Result<std::unique_ptr<BlobReader>> OpenReader(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    auto file = env_->NewReadableFile(PathOf(key));
    if (!file.ok()) {
      if (file.status().IsNotFound()) return Status::NotFound("blob " + key + " does not exist");
      return file.status();
    }
    return std::unique_ptr<BlobReader>(new LocalBlobReader(std::move(file).value()));
  }

  bool Exists(const std::string& key) override { return ValidateKey(key).ok() && env_->FileExists(PathOf(key)); }

  Result<uint64_t> Size(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    return env_->FileSize(PathOf(key));
  }

  Status Delete(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    Status st = env_->RemoveFile(PathOf(key));
    if (st.IsNotFound()) return Status::NotFound("blob " + key + " does not exist");
    return st;
  }

  Result<uint64_t> FreeSpace() override { return env_->FreeSpace(root_); }
  Status CheckWritable() override { return env_->CheckWritable(StagingDir()); }

  Result<std::string> LocalPath(const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    return PathOf(key);
  }

  std::string Describe() const override { return "file://" + root_; }

  Result<std::vector<Listed>> List() override { return Walk(root_, true); }
  Result<std::vector<Listed>> ListStaging() override { return Walk(StagingDir(), false); }

  Status DeleteStaging(const std::string& name) override {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
      return Status::InvalidArgument("not a staged write: " + name);
    }
    return env_->RemoveFile(StagingDir() + "/" + name);
  }

  Status AdoptFile(const std::string& local_path, const std::string& key) override {
    CUTROOM_RETURN_IF_ERROR(ValidateKey(key));
    std::string target = PathOf(key);
    std::string dir = ParentDir(target);
    CUTROOM_RETURN_IF_ERROR(env_->CreateDirs(dir));
    Status renamed = env_->RenameFile(local_path, target);
    if (renamed.ok()) return env_->SyncDir(dir);
    // Another filesystem (EXDEV) or similar: copy through a writer, which
    // keeps the publish atomic, then drop the source.
    CUTROOM_ASSIGN_OR_RETURN(auto in, env_->NewReadableFile(local_path));
    CUTROOM_ASSIGN_OR_RETURN(auto writer, NewWriter(key));
    std::vector<char> buf(1 << 20);
    uint64_t offset = 0;
    while (true) {
      CUTROOM_ASSIGN_OR_RETURN(size_t n, in->ReadAt(offset, buf.data(), buf.size()));
      if (n == 0) break;
      CUTROOM_RETURN_IF_ERROR(writer->Append(buf.data(), n));
      offset += n;
    }
    CUTROOM_RETURN_IF_ERROR(writer->Commit());
    return env_->RemoveFile(local_path);
  }

 private:
  // Files under dir (keys relative to the root, or names in the staging
  // folder), skipping the staging folder when listing committed blobs.
  Result<std::vector<Listed>> Walk(const std::string& dir, bool skip_staging) const {
    namespace fs = std::filesystem;
    std::vector<Listed> out;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return out;
    const auto now = fs::file_time_type::clock::now();
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (skip_staging && it->is_directory() && it->path().filename() == fs::path(StagingDir()).filename()) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      Listed l;
      l.key = fs::relative(it->path(), dir, ec).generic_string();
      l.size = it->file_size(ec);
      l.age_s = std::chrono::duration_cast<std::chrono::seconds>(now - it->last_write_time(ec)).count();
      out.push_back(std::move(l));
    }
    if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
    return out;
  }

  std::string StagingDir() const { return root_ + "/.staging"; }
  std::string PathOf(const std::string& key) const { return root_ + "/" + key; }

  Env* env_;
  std::string root_;
};

}  // namespace

Status BlobStore::Put(const std::string& key, std::string_view data) {
  CUTROOM_ASSIGN_OR_RETURN(auto writer, NewWriter(key));
  CUTROOM_RETURN_IF_ERROR(writer->Append(data.data(), data.size()));
  return writer->Commit();
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& url, Env* env) {
  constexpr std::string_view kFile = "file://";
  if (url.rfind(kFile, 0) == 0) {
    std::string root = url.substr(kFile.size());
    if (root.empty()) return Status::InvalidArgument("blob URL '" + url + "' has no directory");
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    auto store = std::make_unique<LocalBlobStore>(env, root);
    CUTROOM_RETURN_IF_ERROR(store->Init().WithContext("blob store " + url));
    return std::unique_ptr<BlobStore>(std::move(store));
  }
  if (url.rfind("s3://", 0) == 0) {
    Config config = Config::Defaults();
    CUTROOM_RETURN_IF_ERROR(config.Set("storage.blob_url", url));
    return Open(config, env);
  }
  return Status::InvalidArgument("unsupported blob URL '" + url + "' (expected file://DIR or s3://bucket/prefix)");
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const Config& config, Env* env) {
  std::string url = config.GetString("storage.blob_url");
  if (url.rfind("s3://", 0) != 0) return Open(url, env);
  CUTROOM_ASSIGN_OR_RETURN(S3StoreOptions options, S3StoreOptions::FromConfig(config, Config::ProcessEnvironment()));
  auto store = OpenS3BlobStore(std::move(options), env);
  if (!store.ok()) return store.status().WithContext("blob store " + url);
  return store;
}

Status CopyBlobToFile(BlobStore& store, const std::string& key, const std::string& path, Env* env) {
  CUTROOM_ASSIGN_OR_RETURN(auto reader, store.OpenReader(key));
  CUTROOM_ASSIGN_OR_RETURN(auto out, env->NewWritableFile(path, true));
  // 4 MiB matches the S3 reader's largest read-ahead: one GET per chunk.
  std::vector<char> buf(4u << 20);
  Status st;
  for (uint64_t offset = 0; st.ok() && offset < reader->size();) {
    auto n = reader->ReadAt(offset, buf.data(), buf.size());
    if (!n.ok()) {
      st = n.status();
    } else if (*n == 0) {
      st = Status::Corruption("blob " + key + " ended before its size (" + std::to_string(reader->size()) + " bytes)");
    } else {
      st = out->Append(buf.data(), *n);
      offset += *n;
    }
  }
  if (st.ok()) st = out->Sync();
  Status closed = out->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) env->RemoveFile(path).IgnoreError();
  return st.WithContext("copying blob " + key + " to " + path);
}

Status ValidateKey(std::string_view key) {
  if (key.empty() || key.size() > 512) return Status::InvalidArgument("invalid blob key (empty or too long)");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument("invalid blob key '" + std::string(key) + "'");
    }
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-';
      if (!ok) return Status::InvalidArgument("invalid blob key '" + std::string(key) + "'");
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::string MakeKey(std::string_view area, std::string_view id, std::string_view name) {
  std::string key;
  key.append(area).append("/").append(id).append("/").append(name);
  return key;
}

}  // namespace cutroom::storage
