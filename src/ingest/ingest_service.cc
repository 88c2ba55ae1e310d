#include "ingest/ingest_service.h"

#include <magic.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "core/metrics.h"
#include "db/tables.h"

namespace cutroom::ingest {
namespace {

constexpr std::string_view kInsufficientStorage = "insufficient storage: ";
constexpr std::string_view kNotMedia = "not a media file";
constexpr size_t kChunk = 1 << 20;

std::string Stem(const std::string& filename) {
  std::string base = std::filesystem::path(filename).filename().string();
  auto dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// libmagic's MIME guess for a file that libavformat refused, so the error
// can say what the file is ("text/html") rather than only what it is not.
std::string DescribeContent(const std::string& path) {
  struct MagicCloser {
    void operator()(magic_t m) const { magic_close(m); }
  };
  std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser> magic(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR));
  if (!magic || magic_load(magic.get(), nullptr) != 0) return "";
  const char* type = magic_file(magic.get(), path.c_str());
  return type ? type : "";
}

Status CheckSpace(storage::BlobStore& blobs, uint64_t needed) {
  auto free = blobs.FreeSpace();
  if (!free.ok()) return Status::Ok();  // unknown: let the write itself fail
  if (*free < needed) {
    return Status::ResourceExhausted(std::string(kInsufficientStorage) + std::to_string(needed) +
                                     " bytes needed, " + std::to_string(*free) + " free in " + blobs.Describe());
  }
  return Status::Ok();
}

Status TooLarge(uint64_t size, uint64_t limit) {
  return Status::ResourceExhausted("upload of " + std::to_string(size) + " bytes exceeds the limit of " +
                                   std::to_string(limit) + " bytes");
}

}  // namespace

bool IsInsufficientStorage(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find(kInsufficientStorage) != std::string::npos;
}

namespace {
constexpr std::string_view kOverLimit = "media_limit_exceeded: ";
}  // namespace

MediaLimits MediaLimits::FromConfig(const Config& config) {
  MediaLimits l;
  l.max_duration_s = static_cast<double>(std::max<int64_t>(0, config.GetInt("limits.max_duration_s")));
  l.max_pixels = std::max<int64_t>(0, config.GetInt("limits.max_pixels"));
  return l;
}

bool IsOverMediaLimit(const Status& status) {
  return status.IsInvalidArgument() && status.message().rfind(kOverLimit, 0) == 0;
}

Status CheckMediaLimits(const media::ProbeResult& probe, const MediaLimits& limits) {
  double duration = probe.duration_s.value_or(0);
  if (limits.max_duration_s > 0 && duration > limits.max_duration_s) {
    return Status::InvalidArgument(std::string(kOverLimit) + "the media lasts " + std::to_string(std::lround(duration)) +
                                   " s, over the limit of " + std::to_string(std::lround(limits.max_duration_s)) +
                                   " s (limits.max_duration_s)");
  }
  int64_t pixels = static_cast<int64_t>(probe.width.value_or(0)) * probe.height.value_or(0);
  if (limits.max_pixels > 0 && pixels > limits.max_pixels) {
    return Status::InvalidArgument(std::string(kOverLimit) + "the picture is " + std::to_string(probe.width.value_or(0)) +
                                   "x" + std::to_string(probe.height.value_or(0)) + ", over the limit of " +
                                   std::to_string(limits.max_pixels) + " pixels (limits.max_pixels)");
  }
  return Status::Ok();
}

bool IsUnsupportedMedia(const Status& status) {
  return status.IsInvalidArgument() && status.message().find(kNotMedia) != std::string::npos;
}

void ApplyProbe(const media::ProbeResult& probe, db::MediaRow& row) {
  row.media_type = probe.media_type;
  row.mime_type = probe.mime_type;
  row.container = probe.container;
  row.duration_s = probe.duration_s;
  row.width = probe.width;
  row.height = probe.height;
  row.fps = probe.fps;
  row.video_codec = probe.video_codec;
  row.audio_codec = probe.audio_codec;
  row.rotation = probe.rotation;
  row.bitrate = probe.bitrate;
  if (!row.metadata.is_object()) row.metadata = nlohmann::json::object();
  row.metadata["format_name"] = probe.format_name;
  row.metadata["variable_frame_rate"] = probe.variable_frame_rate;
  if (probe.audio_sample_rate) row.metadata["audio_sample_rate"] = *probe.audio_sample_rate;
  if (probe.audio_channels) row.metadata["audio_channels"] = *probe.audio_channels;
  if (probe.coded_width) row.metadata["coded_width"] = *probe.coded_width;
  if (probe.coded_height) row.metadata["coded_height"] = *probe.coded_height;
  if (probe.frame_count) row.metadata["frame_count"] = *probe.frame_count;
}

IngestSession::IngestSession(IngestService* service, IngestRequest request, std::string video_id, std::string key,
                             std::unique_ptr<storage::BlobWriter> writer, Digest sha)
    : service_(service),
      request_(std::move(request)),
      video_id_(std::move(video_id)),
      key_(std::move(key)),
      writer_(std::move(writer)),
      sha_(std::move(sha)) {}

Status IngestSession::Append(const void* data, size_t size) {
  uint64_t limit = service_->deps_.max_upload_bytes;
  if (bytes_ + size > limit) return TooLarge(bytes_ + size, limit);
  Status st = writer_->Append(data, size);
  if (st.code() == StatusCode::kResourceExhausted) {
    return Status::ResourceExhausted(std::string(kInsufficientStorage) + st.message());
  }
  CUTROOM_RETURN_IF_ERROR(st);
  sha_.Update(data, size);
  bytes_ += size;
  if (request_.on_progress) request_.on_progress(bytes_);
  return Status::Ok();
}

Result<db::MediaRow> IngestSession::Finish() {
  if (bytes_ == 0) return Status::InvalidArgument(std::string(kNotMedia) + " (the file is empty)");
  storage::BlobWriter* writer = writer_.get();
  return service_->Complete(writer_->staging_path(), [writer] { return writer->Commit(); }, video_id_, key_, bytes_,
                            sha_.FinishHex(), request_);
}

Result<std::unique_ptr<IngestSession>> IngestService::Begin(IngestRequest request) {
  if (request.declared_size) {
    if (*request.declared_size > deps_.max_upload_bytes) return TooLarge(*request.declared_size, deps_.max_upload_bytes);
    CUTROOM_RETURN_IF_ERROR(CheckSpace(*deps_.blobs, *request.declared_size));
  }
  std::string video_id =
      request.existing_video_id.empty() ? deps_.ids->Next(kVideoIdPrefix) : request.existing_video_id;
  std::string key = storage::MakeKey("media", video_id, "source");
  CUTROOM_ASSIGN_OR_RETURN(auto writer, deps_.blobs->NewWriter(key));
  CUTROOM_ASSIGN_OR_RETURN(auto sha, Digest::Create("sha256"));
  return std::unique_ptr<IngestSession>(
      new IngestSession(this, std::move(request), video_id, key, std::move(writer), std::move(sha)));
}

Result<db::MediaRow> IngestService::Complete(const std::string& probe_path, const std::function<Status()>& publish,
                                             const std::string& video_id, const std::string& key, uint64_t size,
                                             const std::string& sha256, const IngestRequest& request) {
  // The probe sees bytes without a file name, so only content counts.
  auto probe = media::ProbeMedia(probe_path);
  if (!probe.ok()) {
    std::string what = DescribeContent(probe_path);
    std::string detail = probe.status().message();
    if (detail.find(kNotMedia) == std::string::npos) detail = std::string(kNotMedia) + " cutroom can read (" + detail + ")";
    if (!what.empty()) detail += "; the content looks like " + what;
    return Status::InvalidArgument(detail);
  }
  CUTROOM_RETURN_IF_ERROR(CheckMediaLimits(*probe, deps_.limits));
  CUTROOM_RETURN_IF_ERROR(publish());

  db::MediaRow row;
  db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
  if (!request.existing_video_id.empty()) {
    auto existing = repos.media.Get(request.existing_video_id);
    if (!existing.ok()) {
      deps_.blobs->Delete(key).IgnoreError();
      return existing.status();
    }
    row = *existing;
  } else {
    row.video_id = video_id;
    row.owner_id = request.owner_id;
    row.source_type = request.source_type;
    if (!request.source_url.empty()) row.source_url = request.source_url;
  }
  row.storage_key = key;
  if (!request.original_filename.empty()) row.original_filename = request.original_filename;
  std::string title = request.title.empty() ? Stem(request.original_filename) : request.title;
  if (!title.empty() && !row.title) row.title = title;
  row.size_bytes = static_cast<int64_t>(size);
  row.sha256 = sha256;
  row.metadata = row.metadata.is_object() ? row.metadata : nlohmann::json::object();
  for (const auto& [k, v] : request.metadata.items()) row.metadata[k] = v;
  if (row.metadata.contains("import")) row.metadata["import"] = {{"bytes", size}, {"total", size}};
  ApplyProbe(*probe, row);
  row.status = "ready";
  row.error.reset();

  auto stored = request.existing_video_id.empty() ? repos.media.Insert(row) : repos.media.Update(row);
  if (!stored.ok()) {
    deps_.blobs->Delete(key).IgnoreError();  // no orphan blob without a row
    return stored.status();
  }
  Metrics::Global().Add("cutroom_ingested_bytes_total", {{"source", request.source_type}},
                        static_cast<double>(size));
  Metrics::Global().Add("cutroom_ingested_media_total", {{"source", request.source_type}});
  spdlog::info("ingested {} ({} bytes, {} {})", video_id, size, row.media_type.value_or("?"),
               row.container.value_or("?"));
  if (deps_.on_ready) deps_.on_ready(*stored);
  return stored;
}

Result<db::MediaRow> IngestService::IngestFromReader(const ByteReader& read, IngestRequest request) {
  CUTROOM_ASSIGN_OR_RETURN(auto session, Begin(std::move(request)));
  std::vector<char> buf(kChunk);
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
    CUTROOM_RETURN_IF_ERROR(session->Append(buf.data(), n));
  }
  return session->Finish();
}

Result<db::MediaRow> IngestService::IngestLocalFile(const std::string& path, IngestRequest request) {
  CUTROOM_ASSIGN_OR_RETURN(auto file, deps_.env->NewReadableFile(path));
  request.declared_size = file->size();
  if (request.original_filename.empty()) request.original_filename = std::filesystem::path(path).filename().string();
  uint64_t offset = 0;
  ReadableFile* f = file.get();
  return IngestFromReader(
      [f, &offset](char* buf, size_t n) -> Result<size_t> {
        CUTROOM_ASSIGN_OR_RETURN(size_t got, f->ReadAt(offset, buf, n));
        offset += got;
        return got;
      },
      std::move(request));
}

Result<db::MediaRow> IngestService::IngestStagedFile(const std::string& path, const std::string& sha256,
                                                     IngestRequest request) {
  CUTROOM_ASSIGN_OR_RETURN(uint64_t size, deps_.env->FileSize(path));
  if (size == 0) return Status::InvalidArgument(std::string(kNotMedia) + " (the file is empty)");
  std::string digest = sha256;
  if (digest.empty()) {
    CUTROOM_ASSIGN_OR_RETURN(auto file, deps_.env->NewReadableFile(path));
    CUTROOM_ASSIGN_OR_RETURN(auto sha, Digest::Create("sha256"));
    std::vector<char> buf(kChunk);
    uint64_t offset = 0;
    while (true) {
      CUTROOM_ASSIGN_OR_RETURN(size_t n, file->ReadAt(offset, buf.data(), buf.size()));
      if (n == 0) break;
      sha.Update(buf.data(), n);
      offset += n;
    }
    digest = sha.FinishHex();
  }
  std::string video_id =
      request.existing_video_id.empty() ? deps_.ids->Next(kVideoIdPrefix) : request.existing_video_id;
  std::string key = storage::MakeKey("media", video_id, "source");
  storage::BlobStore* blobs = deps_.blobs;
  return Complete(path, [blobs, &path, &key] { return blobs->AdoptFile(path, key); }, video_id, key, size, digest,
                  request);
}

Result<db::MediaRow> IngestService::CreatePending(const IngestRequest& request) {
  db::MediaRow row;
  row.owner_id = request.owner_id;
  row.source_type = request.source_type;
  if (!request.source_url.empty()) row.source_url = request.source_url;
  if (!request.title.empty()) row.title = request.title;
  if (!request.original_filename.empty()) row.original_filename = request.original_filename;
  row.status = "pending";
  row.metadata = request.metadata.is_object() ? request.metadata : nlohmann::json::object();
  db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
  return repos.media.Insert(row);
}

Status IngestService::MarkFailed(const std::string& video_id, const std::string& error) {
  db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto row, repos.media.Get(video_id));
  row.status = "failed";
  row.error = error;
  return repos.media.Update(row).status();
}

Result<db::MediaRow> IngestService::CreateReference(const IngestRequest& request, const media::ProbeResult& probe) {
  CUTROOM_RETURN_IF_ERROR(CheckMediaLimits(probe, deps_.limits));
  db::MediaRow row;
  row.owner_id = request.owner_id;
  row.source_type = "reference";
  row.source_url = request.source_url;
  if (!request.title.empty()) row.title = request.title;
  if (!request.original_filename.empty()) row.original_filename = request.original_filename;
  row.metadata = request.metadata.is_object() ? request.metadata : nlohmann::json::object();
  ApplyProbe(probe, row);
  row.status = "ready";
  db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
  return repos.media.Insert(row);
}

}  // namespace cutroom::ingest
