#include "ingest/tus_service.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "db/tables.h"

namespace cutroom::ingest {
namespace {

constexpr std::string_view kConflict = "conflict: ";
constexpr std::string_view kGone = "gone: ";
constexpr std::string_view kChecksumMismatch = "checksum mismatch: ";
// Small pieces of a PATCH body are gathered up to kGather bytes before a
// write; pieces of kDirectWrite and more are written as they come. Fifty
// uploads at once raised the server's peak RSS by 2.4 MiB each with a
// 1 MiB gather buffer, by 1.1 MiB each with these (the server's 512 KiB
// read buffer included; bench/upload/concurrent.sh).
constexpr size_t kGather = 256 << 10;
constexpr size_t kDirectWrite = 64 << 10;

Status Conflict(const std::string& msg) { return Status::FailedPrecondition(std::string(kConflict) + msg); }
Status Gone(const std::string& msg) { return Status::FailedPrecondition(std::string(kGone) + msg); }

// A write of the part file the disk refused (ENOSPC, EDQUOT: the Env's
// ResourceExhausted) is the API's 507, not a size limit's 413. The upload
// keeps its durable bytes; the client resumes from its offset later.
Status DiskFull(const Status& st, uint64_t durable) {
  if (st.code() != StatusCode::kResourceExhausted) return st;
  return Status::ResourceExhausted("insufficient storage: " + st.message() + "; the upload keeps its first " +
                                   std::to_string(durable) + " bytes, resume from there once space is free");
}

// The durable points inside one long PATCH body (every
// TusOptions::durable_every bytes: fdatasync, then the offset recorded)
// run on a thread of their own while the body keeps streaming in. Run in
// line, each stalled the stream for the disk's flush, about 40 ms per
// 64 MiB on the development VM and a quarter of a 4 GiB single-PATCH
// upload's time. One point runs at a time: starting the next waits for
// the one before, which holds the stream back only when the disk is
// behind. Destruction waits too, so no point outlives the file it syncs.
class BackgroundDurablePoints {
 public:
  BackgroundDurablePoints() = default;
  BackgroundDurablePoints(const BackgroundDurablePoints&) = delete;
  BackgroundDurablePoints& operator=(const BackgroundDurablePoints&) = delete;
  ~BackgroundDurablePoints() { Wait().IgnoreError(); }

  // Runs point (which makes the bytes up to end durable and records them)
  // on its own thread. Call Wait() first.
  void Start(const std::function<Status()>& point, uint64_t end) {
    end_ = end;
    pending_ = true;
    try {
      thread_ = std::thread([this, point] { status_ = point(); });
    } catch (const std::system_error&) {
      status_ = point();  // no thread to be had (a process limit): in line
    }
  }
  // Waits for the point under way, if any; its failure. After an OK, the
  // bytes up to durable_end() are on disk and recorded.
  Status Wait() {
    if (!pending_) return Status::Ok();
    if (thread_.joinable()) thread_.join();
    pending_ = false;
    if (status_.ok()) durable_end_ = end_;
    return std::exchange(status_, Status::Ok());
  }
  uint64_t durable_end() const { return durable_end_; }

 private:
  std::thread thread_;
  bool pending_ = false;
  Status status_;
  uint64_t end_ = 0;
  uint64_t durable_end_ = 0;
};

bool HasMarker(const Status& st, std::string_view marker) {
  return st.message().compare(0, marker.size(), marker) == 0;
}

// The video a finish of this upload already registered, if a crash cut
// that finish between the media row and the upload's own row.
Result<std::optional<db::MediaRow>> FindFinished(const IngestDeps& deps, const std::string& owner_id,
                                                 const std::string& upload_id, const std::string& sha256) {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, deps.db->Query("SELECT video_id, metadata FROM media WHERE sha256 = ? AND "
                                                     "owner_id = ? AND metadata LIKE ?",
                                                     {sha256, owner_id, "%" + upload_id + "%"}));
  for (size_t i = 0; i < rows.size(); ++i) {
    auto meta = nlohmann::json::parse(rows.Text(i, "metadata").value_or(""), nullptr, false);
    if (!meta.is_object() || meta.value("upload_id", "") != upload_id) continue;
    db::Repositories repos(*deps.db, deps.env, deps.ids);
    CUTROOM_ASSIGN_OR_RETURN(auto media, repos.media.Get(*rows.Text(i, "video_id")));
    return std::optional<db::MediaRow>(std::move(media));
  }
  return std::optional<db::MediaRow>();
}

std::string EncodeMetadata(const nlohmann::json& metadata) {
  std::string out;
  if (!metadata.is_object()) return out;
  for (const auto& [k, v] : metadata.items()) {
    if (!out.empty()) out += ",";
    out += k;
    std::string value = v.is_string() ? v.get<std::string>() : "";
    if (!value.empty()) out += " " + Base64Encode(value);
  }
  return out;
}

}  // namespace

bool IsTusConflict(const Status& s) { return s.code() == StatusCode::kFailedPrecondition && HasMarker(s, kConflict); }
bool IsTusGone(const Status& s) { return s.code() == StatusCode::kFailedPrecondition && HasMarker(s, kGone); }
bool IsTusChecksumMismatch(const Status& s) { return s.IsInvalidArgument() && HasMarker(s, kChecksumMismatch); }

std::string HttpDate(TimestampMs ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &t);
  return buf;
}

Result<std::map<std::string, std::string>> ParseTusMetadata(const std::string& header) {
  std::map<std::string, std::string> out;
  if (header.size() > 64 * 1024) return Status::InvalidArgument("Upload-Metadata is too long");
  size_t i = 0;
  while (i <= header.size() && !header.empty()) {
    size_t comma = header.find(',', i);
    if (comma == std::string::npos) comma = header.size();
    std::string pair = header.substr(i, comma - i);
    while (!pair.empty() && pair.front() == ' ') pair.erase(0, 1);
    while (!pair.empty() && pair.back() == ' ') pair.pop_back();
    if (pair.empty()) return Status::InvalidArgument("Upload-Metadata has an empty entry");
    auto space = pair.find(' ');
    std::string key = pair.substr(0, space);
    for (char c : key) {
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
        return Status::InvalidArgument("Upload-Metadata key '" + key + "' has invalid characters");
      }
    }
    std::string value;
    if (space != std::string::npos) {
      auto decoded = Base64Decode(pair.substr(space + 1));
      if (!decoded.ok()) {
        return Status::InvalidArgument("Upload-Metadata value of '" + key + "' is not base64: " +
                                       decoded.status().message());
      }
      value = *decoded;
    }
    if (out.count(key)) return Status::InvalidArgument("Upload-Metadata repeats the key '" + key + "'");
    out[key] = value;
    i = comma + 1;
    if (comma == header.size()) break;
  }
  return out;
}

Result<TusChecksum> ParseTusChecksum(const std::string& header) {
  auto space = header.find(' ');
  if (space == std::string::npos) return Status::InvalidArgument("Upload-Checksum must be 'ALGORITHM BASE64'");
  TusChecksum c;
  c.algorithm = header.substr(0, space);
  if (c.algorithm != "sha1" && c.algorithm != "md5" && c.algorithm != "sha256") {
    return Status::InvalidArgument("unsupported checksum algorithm '" + c.algorithm + "' (sha1, md5, sha256)");
  }
  auto digest = Base64Decode(header.substr(space + 1));
  if (!digest.ok()) return Status::InvalidArgument("Upload-Checksum digest is not base64");
  size_t want = c.algorithm == "sha1" ? 20 : c.algorithm == "md5" ? 16 : 32;
  if (digest->size() != want) {
    return Status::InvalidArgument("Upload-Checksum digest has the wrong length for " + c.algorithm);
  }
  c.digest = *digest;
  return c;
}

TusService::TusService(IngestService* ingest, TusOptions options) : ingest_(ingest), options_(std::move(options)) {}

Status TusService::Init() { return ingest_->deps().env->CreateDirs(options_.staging_dir); }

std::string TusService::PartPath(const std::string& upload_id) const {
  return options_.staging_dir + "/" + upload_id + ".part";
}

std::shared_ptr<TusService::State> TusService::StateFor(const std::string& upload_id) {
  std::lock_guard lock(states_mu_);
  auto& slot = states_[upload_id];
  if (!slot) slot = std::make_shared<State>();
  return slot;
}

void TusService::DropState(const std::string& upload_id) {
  std::lock_guard lock(states_mu_);
  states_.erase(upload_id);
}

Result<TusUpload> TusService::Create(const std::string& owner_id, std::optional<uint64_t> length,
                                     const std::string& metadata_header) {
  const IngestDeps& deps = ingest_->deps();
  if (length && *length > options_.max_size) {
    return Status::ResourceExhausted("Upload-Length " + std::to_string(*length) + " exceeds Tus-Max-Size " +
                                     std::to_string(options_.max_size));
  }
  if (length && *length == 0) return Status::InvalidArgument("not a media file cutroom can read (the upload is empty)");
  CUTROOM_ASSIGN_OR_RETURN(auto metadata, ParseTusMetadata(metadata_header));
  if (length) {
    auto free = deps.blobs->FreeSpace();
    if (free.ok() && *free < *length) {
      return Status::ResourceExhausted("insufficient storage: " + std::to_string(*length) + " bytes needed, " +
                                       std::to_string(*free) + " free");
    }
  }
  db::UploadRow row;
  row.upload_id = deps.ids->Next(kUploadIdPrefix);
  row.owner_id = owner_id;
  if (length) row.length = static_cast<int64_t>(*length);
  row.metadata = nlohmann::json::object();
  for (const auto& [k, v] : metadata) row.metadata[k] = v;
  row.storage_key = row.upload_id + ".part";
  row.status = "active";
  TimestampMs expires = deps.env->NowMs() + options_.expiry_ms;
  row.expires_at = FormatTimestamp(expires);
  {
    CUTROOM_ASSIGN_OR_RETURN(auto file, deps.env->NewWritableFile(PartPath(row.upload_id), true));
    CUTROOM_RETURN_IF_ERROR(file->Close());
    CUTROOM_RETURN_IF_ERROR(deps.env->SyncDir(options_.staging_dir));
  }
  db::Repositories repos(*deps.db, deps.env, deps.ids);
  auto inserted = repos.uploads.Insert(row);
  if (!inserted.ok()) {
    deps.env->RemoveFile(PartPath(row.upload_id)).IgnoreError();
    return inserted.status();
  }
  TusUpload up;
  up.upload_id = row.upload_id;
  up.owner_id = owner_id;
  up.length = length;
  up.metadata_header = EncodeMetadata(row.metadata);
  up.expires_at_ms = expires;
  up.status = "active";
  return up;
}

Result<TusUpload> TusService::Load(const std::string& owner_id, const std::string& upload_id) {
  const IngestDeps& deps = ingest_->deps();
  db::Repositories repos(*deps.db, deps.env, deps.ids);
  auto row = repos.uploads.Get(upload_id);
  if (!row.ok() || row->owner_id != owner_id || row->status == "terminated") {
    return Status::NotFound("upload " + upload_id + " does not exist");
  }
  TusUpload up;
  up.upload_id = row->upload_id;
  up.owner_id = row->owner_id;
  if (row->length) up.length = static_cast<uint64_t>(*row->length);
  up.offset = static_cast<uint64_t>(row->offset);
  up.metadata_header = EncodeMetadata(row->metadata);
  up.status = row->status;
  up.video_id = row->video_id.value_or("");
  if (row->expires_at) up.expires_at_ms = ParseTimestamp(*row->expires_at).value_or(0);
  if (up.status == "active" && up.expires_at_ms && up.expires_at_ms <= deps.env->NowMs()) {
    row->status = "expired";
    repos.uploads.Update(*row).status().IgnoreError();
    deps.env->RemoveFile(PartPath(upload_id)).IgnoreError();
    DropState(upload_id);
    up.status = "expired";
  }
  if (up.status == "expired") return Gone("upload " + upload_id + " expired");
  if (up.status == "failed") return Gone("upload " + upload_id + " failed: its content was not usable media");
  return up;
}

Result<TusUpload> TusService::Get(const std::string& owner_id, const std::string& upload_id) {
  return Load(owner_id, upload_id);
}

Status TusService::RecordProgress(TusUpload& upload, uint64_t chunk_offset, uint64_t chunk_size,
                                  const std::string& checksum) {
  const IngestDeps& deps = ingest_->deps();
  TimestampMs now = deps.env->NowMs();
  upload.offset = chunk_offset + chunk_size;
  upload.expires_at_ms = now + options_.expiry_ms;
  return deps.db->Transaction([&](db::DbSession& tx) -> Status {
    std::string ts = FormatTimestamp(now);
    std::vector<db::DbValue> params = {static_cast<int64_t>(upload.offset), FormatTimestamp(upload.expires_at_ms), ts};
    params.push_back(upload.length ? db::DbValue(static_cast<int64_t>(*upload.length)) : db::DbValue());
    params.push_back(upload.upload_id);
    CUTROOM_RETURN_IF_ERROR(
        tx.Execute("UPDATE uploads SET \"offset\" = ?, expires_at = ?, updated_at = ?, length = ? WHERE upload_id = ?",
                   params)
            .status());
    db::Repositories repos(tx, deps.env, deps.ids);
    db::UploadChunkRow chunk;
    chunk.upload_id = upload.upload_id;
    chunk.offset = static_cast<int64_t>(chunk_offset);
    chunk.size = static_cast<int64_t>(chunk_size);
    if (!checksum.empty()) chunk.checksum = checksum;
    chunk.received_at = ts;
    return repos.upload_chunks.Insert(chunk).status();
  });
}

Result<TusUpload> TusService::Patch(const std::string& owner_id, const std::string& upload_id, uint64_t offset,
                                    std::optional<uint64_t> declared_length, std::optional<uint64_t> content_length,
                                    const std::optional<TusChecksum>& checksum, const BodyFeeder& body) {
  const IngestDeps& deps = ingest_->deps();
  std::shared_ptr<State> state = StateFor(upload_id);
  std::unique_lock lock(state->lock, std::defer_lock);
  if (!lock.try_lock_for(std::chrono::seconds(30))) {
    return Conflict("another request is still writing to upload " + upload_id);
  }
  CUTROOM_ASSIGN_OR_RETURN(TusUpload up, Load(owner_id, upload_id));
  if (up.status == "completed") return Conflict("upload " + upload_id + " is already complete");
  if (offset != up.offset) {
    return Conflict("Upload-Offset " + std::to_string(offset) + " does not match the upload's offset " +
                    std::to_string(up.offset));
  }
  if (declared_length) {
    if (up.length && *up.length != *declared_length) {
      return Status::InvalidArgument("Upload-Length cannot change once set (it is " + std::to_string(*up.length) + ")");
    }
    if (*declared_length > options_.max_size) {
      return Status::ResourceExhausted("Upload-Length exceeds Tus-Max-Size " + std::to_string(options_.max_size));
    }
    if (*declared_length < offset) return Status::InvalidArgument("Upload-Length is below the current offset");
    up.length = declared_length;
  }
  uint64_t limit = up.length ? *up.length : options_.max_size;
  if (content_length && offset + *content_length > limit) {
    return Status::ResourceExhausted("the chunk would end at byte " + std::to_string(offset + *content_length) +
                                     ", past the upload's length of " + std::to_string(limit));
  }

  std::string path = PartPath(upload_id);
  // Bytes past the durable offset were never acknowledged: cut them off.
  CUTROOM_RETURN_IF_ERROR(deps.env->TruncateFile(path, offset));
  CUTROOM_ASSIGN_OR_RETURN(auto file, deps.env->NewWritableFile(path, false));
  if (!state->sha256 || state->hashed != offset) {
    state->sha256.reset();
    if (offset == 0) {
      CUTROOM_ASSIGN_OR_RETURN(auto d, Digest::Create("sha256"));
      state->sha256.emplace(std::move(d));
      state->hashed = 0;
    }
  }
  std::optional<Digest> check;
  if (checksum) {
    CUTROOM_ASSIGN_OR_RETURN(auto d, Digest::Create(checksum->algorithm));
    check.emplace(std::move(d));
  }

  uint64_t received = 0;
  uint64_t committed = offset;  // durable and recorded
  uint64_t requested = offset;  // where the last durable point started in the background ends
  BackgroundDurablePoints points;
  Status failure;
  std::string buffer;  // gathers small pieces; large ones are written as they come
  auto flush = [&]() -> Status {
    if (buffer.empty()) return Status::Ok();
    Status st = file->Append(buffer.data(), buffer.size());
    buffer.clear();
    return DiskFull(st, committed);
  };
  bool whole = body([&](const char* data, size_t n) {
    if (offset + received + n > limit) {
      failure = Status::ResourceExhausted("the upload's data exceeds its length of " + std::to_string(limit));
      return false;
    }
    received += n;
    if (check) check->Update(data, n);
    if (state->sha256) state->sha256->Update(data, n);
    if (n >= kDirectWrite) {
      // Large pieces go straight to the file (after what was gathered):
      // no copy, and an upload holds at most kGather bytes of its own.
      failure = flush();
      if (failure.ok()) failure = DiskFull(file->Append(data, n), committed);
      if (!failure.ok()) return false;
    } else {
      buffer.append(data, n);
      if (buffer.size() >= kGather) {
        failure = flush();
        if (!failure.ok()) return false;
      }
    }
    if (!check && offset + received - requested >= options_.durable_every) {
      failure = points.Wait();
      if (!failure.ok()) return false;
      committed = std::max(committed, points.durable_end());
      failure = flush();  // a durable point covers every byte received, gathered ones too
      if (!failure.ok()) return false;
      const uint64_t from = committed, to = offset + received;
      requested = to;
      // up belongs to the point until the next Wait(): nothing here reads it.
      points.Start(
          [&file, &up, this, from, to] {
            Status st = DiskFull(file->Sync(), from);
            if (st.ok()) st = RecordProgress(up, from, to - from, "");
            return st;
          },
          to);
    }
    return true;
  });
  if (Status st = points.Wait(); !st.ok()) {
    if (failure.ok()) failure = st;
  } else {
    committed = std::max(committed, points.durable_end());
  }

  auto discard_to_committed = [&]() {
    state->sha256.reset();
    file->Close().IgnoreError();
    deps.env->TruncateFile(path, committed).IgnoreError();
  };
  if (failure.ok() && !whole && check) {
    failure = Status::InvalidArgument("the chunk ended early; with Upload-Checksum it is discarded");
  }
  if (failure.ok()) failure = flush();
  if (failure.ok() && check) {
    std::string got = check->FinishRaw();
    if (got != checksum->digest) {
      failure = Status::InvalidArgument(std::string(kChecksumMismatch) + "the " + checksum->algorithm +
                                        " of the chunk does not match Upload-Checksum; the chunk was discarded");
    }
  }
  if (failure.ok()) failure = DiskFull(file->Sync(), committed);
  if (failure.ok()) failure = DiskFull(file->Close(), committed);
  if (!failure.ok()) {
    discard_to_committed();
    return failure;
  }
  uint64_t end = offset + received;
  if (end > committed || declared_length) {
    CUTROOM_RETURN_IF_ERROR(RecordProgress(up, committed, end - committed,
                                           checksum ? checksum->algorithm + " " + Base64Encode(checksum->digest) : ""));
  }
  if (state->sha256) state->hashed = end;
  if (!whole) spdlog::info("upload {}: the client stopped after {} bytes; kept them", upload_id, received);
  if (up.length && up.offset == *up.length) return FinishUpload(std::move(up), *state);
  return up;
}

Result<TusUpload> TusService::FinishUpload(TusUpload upload, State& state) {
  const IngestDeps& deps = ingest_->deps();
  std::string sha = state.sha256 && state.hashed == upload.offset ? state.sha256->FinishHex() : "";
  state.sha256.reset();
  db::Repositories repos(*deps.db, deps.env, deps.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto row, repos.uploads.Get(upload.upload_id));
  std::string path = PartPath(upload.upload_id);
  if (sha.empty()) {  // resumed in another process, or a finish cut short: hash what is on disk
    CUTROOM_ASSIGN_OR_RETURN(auto file, deps.env->NewReadableFile(path));
    CUTROOM_ASSIGN_OR_RETURN(auto digest, Digest::Create("sha256"));
    std::vector<char> buf(1 << 20);
    for (uint64_t at = 0;;) {
      CUTROOM_ASSIGN_OR_RETURN(size_t n, file->ReadAt(at, buf.data(), buf.size()));
      if (n == 0) break;
      digest.Update(buf.data(), n);
      at += n;
    }
    sha = digest.FinishHex();
  }
  auto complete = [&](const db::MediaRow& media) -> Result<TusUpload> {
    row.status = "completed";
    row.video_id = media.video_id;
    row.checksum = "sha256 " + media.sha256.value_or("");
    row.offset = static_cast<int64_t>(upload.offset);
    CUTROOM_RETURN_IF_ERROR(repos.uploads.Update(row).status());
    // The part file outlives the registration so that a crash before this
    // point can finish again; it goes only now (fsck removes a leftover).
    deps.env->RemoveFile(path).IgnoreError();
    DropState(upload.upload_id);
    upload.status = "completed";
    upload.video_id = media.video_id;
    return upload;
  };
  CUTROOM_ASSIGN_OR_RETURN(auto earlier, FindFinished(deps, upload.owner_id, upload.upload_id, sha));
  if (earlier) {
    spdlog::info("upload {}: an interrupted finish had registered {}", upload.upload_id, earlier->video_id);
    return complete(*earlier);
  }
  IngestRequest request;
  request.owner_id = upload.owner_id;
  auto meta = row.metadata;
  auto text = [&meta](const char* key) {
    return meta.contains(key) && meta[key].is_string() ? meta[key].get<std::string>() : std::string();
  };
  request.original_filename = text("filename");
  if (request.original_filename.empty()) request.original_filename = text("name");
  request.title = text("title");
  request.metadata = {{"upload_id", upload.upload_id}};
  if (!text("filetype").empty()) request.metadata["client_filetype"] = text("filetype");
  // The blob store adopts (moves) a second name of the part file, so the
  // part stays until the upload's row says completed: a crash between the
  // move and the rows leaves an orphan blob (fsck) and an upload that
  // finishes again, never an upload whose bytes are gone. Where no hard
  // link can be made, the part itself is adopted.
  std::string adopt = PartPath(upload.upload_id + ".finishing");
  deps.env->RemoveFile(adopt).IgnoreError();  // left by a crash
  if (::link(path.c_str(), adopt.c_str()) != 0) adopt = path;
  auto media = ingest_->IngestStagedFile(adopt, sha, request);
  if (!media.ok()) {
    deps.env->RemoveFile(adopt).IgnoreError();
    deps.env->RemoveFile(path).IgnoreError();
    row.status = "failed";
    repos.uploads.Update(row).status().IgnoreError();
    DropState(upload.upload_id);
    return media.status();
  }
  return complete(*media);
}

Status TusService::Terminate(const std::string& owner_id, const std::string& upload_id) {
  std::shared_ptr<State> state = StateFor(upload_id);
  std::unique_lock lock(state->lock, std::defer_lock);
  if (!lock.try_lock_for(std::chrono::seconds(30))) return Conflict("upload " + upload_id + " is busy");
  const IngestDeps& deps = ingest_->deps();
  db::Repositories repos(*deps.db, deps.env, deps.ids);
  auto row = repos.uploads.Get(upload_id);
  if (!row.ok() || row->owner_id != owner_id || row->status == "terminated") {
    return Status::NotFound("upload " + upload_id + " does not exist");
  }
  row->status = "terminated";
  CUTROOM_RETURN_IF_ERROR(repos.uploads.Update(*row).status());
  Status removed = deps.env->RemoveFile(PartPath(upload_id));
  if (!removed.ok() && !removed.IsNotFound()) spdlog::warn("terminate {}: {}", upload_id, removed.ToString());
  lock.unlock();
  DropState(upload_id);
  return Status::Ok();
}

Result<int> TusService::SweepExpired() {
  const IngestDeps& deps = ingest_->deps();
  CUTROOM_ASSIGN_OR_RETURN(auto rows,
                           deps.db->Query("SELECT upload_id FROM uploads WHERE status = 'active' AND expires_at <= ?",
                                          {FormatTimestamp(deps.env->NowMs())}));
  int expired = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string id = *rows.Text(i, "upload_id");
    std::shared_ptr<State> state = StateFor(id);
    std::unique_lock lock(state->lock, std::try_to_lock);
    if (!lock.owns_lock()) continue;  // being written to right now: not idle
    CUTROOM_ASSIGN_OR_RETURN(int64_t n, deps.db->Execute("UPDATE uploads SET status = 'expired', updated_at = ? WHERE "
                                                         "upload_id = ? AND status = 'active' AND expires_at <= ?",
                                                         {FormatTimestamp(deps.env->NowMs()), id,
                                                          FormatTimestamp(deps.env->NowMs())}));
    if (n == 0) continue;
    deps.env->RemoveFile(PartPath(id)).IgnoreError();
    lock.unlock();
    DropState(id);
    ++expired;
  }
  if (expired) spdlog::info("expired {} idle upload(s)", expired);
  return expired;
}

}  // namespace cutroom::ingest
