#include "api/dto.h"

namespace cutroom::api {
namespace {

template <typename T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json VideoJson(const db::MediaRow& m) {
  return {
      {"video_id", m.video_id},
      {"id", m.video_id},
      {"media_type", Opt(m.media_type)},
      {"source_type", m.source_type},
      {"source_url", Opt(m.source_url)},
      {"status", m.status},
      {"title", Opt(m.title)},
      {"original_filename", Opt(m.original_filename)},
      {"mime_type", Opt(m.mime_type)},
      {"container", Opt(m.container)},
      {"size_bytes", Opt(m.size_bytes)},
      {"sha256", Opt(m.sha256)},
      {"duration_s", Opt(m.duration_s)},
      {"width", Opt(m.width)},
      {"height", Opt(m.height)},
      {"fps", Opt(m.fps)},
      {"video_codec", Opt(m.video_codec)},
      {"audio_codec", Opt(m.audio_codec)},
      {"rotation", Opt(m.rotation)},
      {"bitrate", Opt(m.bitrate)},
      {"error", Opt(m.error)},
      {"metadata", m.metadata},
      {"created_at", m.created_at},
      {"updated_at", m.updated_at},
  };
}

nlohmann::json JobJson(const db::JobRow& j) {
  return {
      {"job_id", j.job_id},
      {"kind", j.kind},
      {"video_id", Opt(j.video_id)},
      {"status", j.status},
      {"progress", j.progress},
      {"attempts", j.attempts},
      {"max_attempts", j.max_attempts},
      {"error", Opt(j.error)},
      {"result", j.result},
      {"params", j.params},
      {"processing_id", Opt(j.processing_id)},
      {"depends_on", j.depends_on},
      {"cancel_requested", j.cancel_requested},
      {"run_after", j.run_after},
      {"created_at", j.created_at},
      {"started_at", Opt(j.started_at)},
      {"finished_at", Opt(j.finished_at)},
  };
}

Result<db::MediaRow> OwnedMedia(db::Repositories& repos, const std::string& video_id, const std::string& owner) {
  auto media = repos.media.Get(video_id);
  if (!media.ok() || media->owner_id != owner) return Status::NotFound("video " + video_id + " does not exist");
  return media;
}

}  // namespace cutroom::api
