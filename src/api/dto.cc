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

}  // namespace cutroom::api
