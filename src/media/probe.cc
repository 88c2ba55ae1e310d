#include "media/probe.h"

#include <cmath>
#include <string_view>

#include "media/av_util.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/opt.h>
}

namespace cutroom::media {
namespace {

bool IsImageDemuxer(std::string_view name) {
  return name.ends_with("_pipe") || name == "gif";
}

std::string ContainerName(const AVFormatContext* fmt) {
  std::string_view names = fmt->iformat->name;
  if (names.starts_with("mov,mp4")) {
    const AVDictionaryEntry* brand = av_dict_get(fmt->metadata, "major_brand", nullptr, 0);
    if (brand && std::string_view(brand->value).starts_with("qt")) return "mov";
    if (brand && std::string_view(brand->value).starts_with("M4A")) return "m4a";
    return "mp4";
  }
  if (names.starts_with("matroska,webm")) return "matroska";
  if (names.ends_with("_pipe")) return std::string(names.substr(0, names.size() - 5));
  auto comma = names.find(',');
  return std::string(names.substr(0, comma));
}

std::string MimeType(const std::string& container, const std::string& media_type,
                     const std::optional<std::string>& vcodec) {
  if (container == "mp4") return media_type == "audio" ? "audio/mp4" : "video/mp4";
  if (container == "m4a") return "audio/mp4";
  if (container == "mov") return "video/quicktime";
  if (container == "matroska") {
    bool webm_codec = vcodec && (*vcodec == "vp8" || *vcodec == "vp9" || *vcodec == "av1");
    if (media_type == "audio") return "audio/x-matroska";
    return webm_codec ? "video/webm" : "video/x-matroska";
  }
  if (container == "avi") return "video/x-msvideo";
  if (container == "flv") return "video/x-flv";
  if (container == "mpegts") return "video/mp2t";
  if (container == "mpeg" || container == "mpegvideo") return "video/mpeg";
  if (container == "ogg") return media_type == "audio" ? "audio/ogg" : "video/ogg";
  if (container == "wav" || container == "w64") return "audio/wav";
  if (container == "mp3") return "audio/mpeg";
  if (container == "flac") return "audio/flac";
  if (container == "aac") return "audio/aac";
  if (container == "opus") return "audio/opus";
  if (container == "aiff") return "audio/aiff";
  if (container == "png") return "image/png";
  if (container == "jpeg") return "image/jpeg";
  if (container == "webp") return "image/webp";
  if (container == "gif") return "image/gif";
  if (container == "bmp") return "image/bmp";
  if (container == "tiff") return "image/tiff";
  if (container == "asf") return "video/x-ms-asf";
  if (container == "ivf") return "video/x-ivf";
  if (container == "h264") return "video/h264";
  if (container == "hevc") return "video/h265";
  return media_type + "/x-" + container;
}


double Rational(AVRational r) { return r.den ? static_cast<double>(r.num) / r.den : 0.0; }


struct AvioContextFreer {
  void operator()(AVIOContext* ctx) const {
    if (!ctx) return;
    av_freep(&ctx->buffer);
    avio_context_free(&ctx);
  }
};

int ReadSource(void* opaque, uint8_t* buf, int size) {
  auto* io = static_cast<std::pair<RandomAccessSource*, int64_t>*>(opaque);
  auto n = io->first->ReadAt(static_cast<uint64_t>(io->second), buf, static_cast<size_t>(size));
  if (!n.ok()) return AVERROR(EIO);
  if (*n == 0) return AVERROR_EOF;
  io->second += static_cast<int64_t>(*n);
  return static_cast<int>(*n);
}

int64_t SeekSource(void* opaque, int64_t offset, int whence) {
  auto* io = static_cast<std::pair<RandomAccessSource*, int64_t>*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) {
    auto size = io->first->Size();
    return size.ok() ? static_cast<int64_t>(*size) : AVERROR(ENOSYS);
  }
  int64_t base = 0;
  if (whence == SEEK_CUR) base = io->second;
  else if (whence == SEEK_END) {
    auto size = io->first->Size();
    if (!size.ok()) return AVERROR(ENOSYS);
    base = static_cast<int64_t>(*size);
  } else if (whence != SEEK_SET) {
    return AVERROR(EINVAL);
  }
  if (base + offset < 0) return AVERROR(EINVAL);
  io->second = base + offset;
  return io->second;
}

Result<ProbeResult> Inspect(AVFormatContext* raw_ctx, const std::string& what, const ProbeOptions& options);

}  // namespace

Result<ProbeResult> ProbeMedia(const std::string& path, const ProbeOptions& options) {
  CUTROOM_ASSIGN_OR_RETURN(FormatContextPtr fmt, OpenMedia(path));
  return Inspect(fmt.release(), path, options);
}

Result<ProbeResult> ProbeMediaSource(RandomAccessSource& source, const ProbeOptions& options) {
  InitLibav();
  constexpr int kBufferSize = 64 * 1024;
  std::pair<RandomAccessSource*, int64_t> io{&source, 0};
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (!buffer) return Status::ResourceExhausted("out of memory");
  std::unique_ptr<AVIOContext, AvioContextFreer> avio(
      avio_alloc_context(buffer, kBufferSize, 0, &io, ReadSource, nullptr, SeekSource));
  if (!avio) {
    av_free(buffer);
    return Status::ResourceExhausted("out of memory");
  }
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) return Status::ResourceExhausted("out of memory");
  raw->pb = avio.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "format_whitelist", kDemuxerWhitelist, 0);
  av_dict_set(&raw_opts, "protocol_whitelist", "", 0);
  DictPtr opts(raw_opts);
  int rc = avformat_open_input(&raw, "", nullptr, &raw_opts);  // frees raw on failure
  opts.release();
  opts.reset(raw_opts);
  if (rc < 0) {
    if (rc == AVERROR_INVALIDDATA || rc == AVERROR(EINVAL)) {
      return Status::InvalidArgument("not a media file cutroom can read (no known container format)");
    }
    return AvError(rc, "open remote media");
  }
  // The format context must close before the AVIO context it reads from.
  auto result = Inspect(raw, "remote media", options);
  return result;
}

namespace {

Result<ProbeResult> Inspect(AVFormatContext* raw_ctx, const std::string& what, const ProbeOptions& options) {
  FormatContextPtr fmt(raw_ctx);
  int rc = avformat_find_stream_info(fmt.get(), nullptr);
  if (rc < 0) return AvError(rc, "read stream info of " + what);

  ProbeResult out;
  out.format_name = fmt->iformat->name;
  out.container = ContainerName(fmt.get());

  const AVStream* video = nullptr;
  const AVStream* audio = nullptr;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    const AVCodecParameters* par = st->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      if (par->codec_id == AV_CODEC_ID_NONE || par->width <= 0 || par->height <= 0) continue;
      if (!video) video = st;
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO && par->codec_id != AV_CODEC_ID_NONE) {
      if (!audio) audio = st;
    }
  }
  if (!video && !audio) {
    return Status::InvalidArgument("not a media file cutroom can read (container " + out.container +
                                   " has no decodable audio, video or image stream)");
  }

  if (fmt->duration > 0 && fmt->duration != AV_NOPTS_VALUE) {
    out.duration_s = static_cast<double>(fmt->duration) / AV_TIME_BASE;
  }
  if (fmt->bit_rate > 0) out.bitrate = fmt->bit_rate;

  if (video) {
    const AVCodecParameters* par = video->codecpar;
    if (static_cast<int64_t>(par->width) * par->height > options.max_pixels) {
      return Status::InvalidArgument("video frame " + std::to_string(par->width) + "x" + std::to_string(par->height) +
                                     " exceeds the limit of " + std::to_string(options.max_pixels) + " pixels");
    }
    out.video_codec = avcodec_get_name(par->codec_id);
    out.coded_width = par->width;
    out.coded_height = par->height;
    AVRational sar = av_guess_sample_aspect_ratio(fmt.get(), const_cast<AVStream*>(video), nullptr);
    double display_w = par->width;
    if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) display_w = par->width * Rational(sar);
    int64_t w = std::lround(display_w);
    int64_t h = par->height;
    out.rotation = DisplayRotation(video);
    if (out.rotation == 90 || out.rotation == 270) std::swap(w, h);
    out.width = w;
    out.height = h;
    double avg = Rational(video->avg_frame_rate);
    double real = Rational(video->r_frame_rate);
    if (avg > 0) out.fps = avg;
    else if (real > 0) out.fps = real;
    // r_frame_rate is the smallest rate that represents every timestamp; an
    // average well below it means frames are dropped or spaced unevenly.
    if (avg > 0 && real > 0 && std::fabs(avg - real) / real > 0.01) out.variable_frame_rate = true;
    if (video->nb_frames > 0) out.frame_count = video->nb_frames;
  }
  if (audio) {
    out.audio_codec = avcodec_get_name(audio->codecpar->codec_id);
    out.audio_sample_rate = audio->codecpar->sample_rate;
    out.audio_channels = audio->codecpar->ch_layout.nb_channels;
  }

  std::string_view demuxer = fmt->iformat->name;
  if (video && IsImageDemuxer(demuxer) && (demuxer != "gif" || !out.duration_s || *out.duration_s <= 0.1)) {
    out.media_type = "image";
    out.fps.reset();
    out.duration_s.reset();
  } else if (video) {
    out.media_type = "video";
  } else {
    out.media_type = "audio";
  }
  out.mime_type = MimeType(out.container, out.media_type, out.video_codec);
  return out;
}

}  // namespace
}  // namespace cutroom::media
