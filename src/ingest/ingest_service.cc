#include "ingest/ingest_service.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "core/hash.h"
#include "db/tables.h"
#include "media/probe.h"

namespace cutroom::ingest {
namespace {

constexpr std::string_view kInsufficientStorage = "insufficient storage: ";
constexpr size_t kChunk = 1 << 20;

std::string Stem(const std::string& filename) {
  std::string base = std::filesystem::path(filename).filename().string();
  auto dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
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

}  // namespace

bool IsInsufficientStorage(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted &&
         status.message().find(kInsufficientStorage) != std::string::npos;
}

Result<db::MediaRow> IngestService::IngestFromReader(const ByteReader& read, IngestRequest request) {
  if (request.declared_size) {
    if (*request.declared_size > deps_.max_upload_bytes) {
      return Status::ResourceExhausted("upload of " + std::to_string(*request.declared_size) +
                                       " bytes exceeds the limit of " + std::to_string(deps_.max_upload_bytes) +
                                       " bytes");
    }
    CUTROOM_RETURN_IF_ERROR(CheckSpace(*deps_.blobs, *request.declared_size));
  }
  std::string video_id = deps_.ids->Next(kVideoIdPrefix);
  std::string key = storage::MakeKey("media", video_id, "source");
  CUTROOM_ASSIGN_OR_RETURN(auto writer, deps_.blobs->NewWriter(key));
  CUTROOM_ASSIGN_OR_RETURN(auto sha, Digest::Create("sha256"));

  std::vector<char> buf(kChunk);
  uint64_t total = 0;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(size_t n, read(buf.data(), buf.size()));
    if (n == 0) break;
    total += n;
    if (total > deps_.max_upload_bytes) {
      return Status::ResourceExhausted("upload exceeds the limit of " + std::to_string(deps_.max_upload_bytes) +
                                       " bytes");
    }
    sha.Update(buf.data(), n);
    Status st = writer->Append(buf.data(), n);
    if (st.code() == StatusCode::kResourceExhausted) {
      return Status::ResourceExhausted(std::string(kInsufficientStorage) + st.message());
    }
    CUTROOM_RETURN_IF_ERROR(st);
    if (request.on_progress) request.on_progress(total);
  }
  if (total == 0) return Status::InvalidArgument("the file is empty");

  // Probe the staged bytes: they have no file name, so only content counts.
  auto probe = media::ProbeMedia(writer->staging_path());
  if (!probe.ok()) {
    if (probe.status().IsInvalidArgument()) return probe.status();
    return Status::InvalidArgument("not a media file cutroom can read (" + probe.status().message() + ")");
  }
  CUTROOM_RETURN_IF_ERROR(writer->Commit());

  db::MediaRow row;
  row.video_id = video_id;
  row.owner_id = request.owner_id;
  row.source_type = request.source_type;
  if (!request.source_url.empty()) row.source_url = request.source_url;
  row.storage_key = key;
  if (!request.original_filename.empty()) row.original_filename = request.original_filename;
  std::string title = request.title.empty() ? Stem(request.original_filename) : request.title;
  if (!title.empty()) row.title = title;
  row.media_type = probe->media_type;
  row.mime_type = probe->mime_type;
  row.container = probe->container;
  row.size_bytes = static_cast<int64_t>(total);
  row.sha256 = sha.FinishHex();
  row.duration_s = probe->duration_s;
  row.width = probe->width;
  row.height = probe->height;
  row.fps = probe->fps;
  row.video_codec = probe->video_codec;
  row.audio_codec = probe->audio_codec;
  row.rotation = probe->rotation;
  row.bitrate = probe->bitrate;
  row.status = "ready";
  row.metadata = {{"format_name", probe->format_name}, {"variable_frame_rate", probe->variable_frame_rate}};
  if (probe->audio_sample_rate) row.metadata["audio_sample_rate"] = *probe->audio_sample_rate;
  if (probe->audio_channels) row.metadata["audio_channels"] = *probe->audio_channels;
  if (probe->coded_width) row.metadata["coded_width"] = *probe->coded_width;
  if (probe->coded_height) row.metadata["coded_height"] = *probe->coded_height;
  if (probe->frame_count) row.metadata["frame_count"] = *probe->frame_count;

  db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
  auto inserted = repos.media.Insert(row);
  if (!inserted.ok()) {
    deps_.blobs->Delete(key).IgnoreError();  // no orphan blob without a row
    return inserted.status();
  }
  spdlog::info("ingested {} ({} bytes, {} {})", video_id, total, row.media_type.value_or("?"),
               row.container.value_or("?"));
  return inserted;
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

}  // namespace cutroom::ingest
