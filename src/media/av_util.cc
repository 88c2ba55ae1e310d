#include "media/av_util.h"

#include "media/remote_input.h"

#include <cstring>

#include <cmath>
#include <cstdarg>
#include <mutex>
#include <spdlog/spdlog.h>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace cutroom::media {

Status AvError(int code, const std::string& context) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  std::string msg = context + ": " + buf;
  switch (code) {
    case AVERROR_INVALIDDATA:
    case AVERROR_EOF:
    case AVERROR_STREAM_NOT_FOUND:
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
      return Status::InvalidArgument(msg);
    case AVERROR(ENOENT):
      return Status::NotFound(msg);
    case AVERROR(EIO):
    case AVERROR(ETIMEDOUT):
    case AVERROR(ECONNREFUSED):
      return Status::IOError(msg);
    case AVERROR(ENOMEM):
      return Status::ResourceExhausted(msg);
    case AVERROR_EXIT:
    case AVERROR(EINTR):
      return Status::Cancelled(msg);
    default:
      return Status::Internal(msg);
  }
}

const char* const kDemuxerWhitelist =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,mpegvideo,ogg,wav,w64,mp3,flac,aac,asf,"
    "aiff,amr,ac3,eac3,caf,dv,mxf,nut,ivf,h264,hevc,m4v,opus,"
    "png_pipe,jpeg_pipe,webp_pipe,gif,bmp_pipe,tiff_pipe";

namespace {

// The custom I/O of a remote input, owned by its format context.
struct RemoteIo {
  std::unique_ptr<RandomAccessSource> source;
  int64_t position = 0;
  AVIOContext* avio = nullptr;
};

void FreeRemoteIo(RemoteIo* io) {
  if (io->avio) {
    av_freep(&io->avio->buffer);
    avio_context_free(&io->avio);
  }
  delete io;
}

int ReadRemote(void* opaque, uint8_t* buf, int size) {
  auto* io = static_cast<RemoteIo*>(opaque);
  auto n = io->source->ReadAt(static_cast<uint64_t>(io->position), buf, static_cast<size_t>(size));
  if (!n.ok()) return AVERROR(EIO);
  if (*n == 0) return AVERROR_EOF;
  io->position += static_cast<int64_t>(*n);
  return static_cast<int>(*n);
}

int64_t SeekRemote(void* opaque, int64_t offset, int whence) {
  auto* io = static_cast<RemoteIo*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) {
    auto size = io->source->Size();
    return size.ok() ? static_cast<int64_t>(*size) : AVERROR(ENOSYS);
  }
  int64_t base = 0;
  if (whence == SEEK_CUR) {
    base = io->position;
  } else if (whence == SEEK_END) {
    auto size = io->source->Size();
    if (!size.ok()) return AVERROR(ENOSYS);
    base = static_cast<int64_t>(*size);
  } else if (whence != SEEK_SET) {
    return AVERROR(EINVAL);
  }
  if (base + offset < 0) return AVERROR(EINVAL);
  io->position = base + offset;
  return io->position;
}

}  // namespace

void FormatContextCloser::operator()(AVFormatContext* ctx) const {
  auto* io = ctx ? static_cast<RemoteIo*>(ctx->opaque) : nullptr;
  avformat_close_input(&ctx);
  if (io) FreeRemoteIo(io);
}

Result<FormatContextPtr> OpenMediaSource(std::unique_ptr<RandomAccessSource> source, const std::string& name) {
  InitLibav();
  // Large enough that a demuxer's reads are few, small enough per decoder.
  constexpr int kBufferSize = 256 * 1024;
  auto* io = new RemoteIo{std::move(source), 0, nullptr};
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (buffer) io->avio = avio_alloc_context(buffer, kBufferSize, 0, io, ReadRemote, nullptr, SeekRemote);
  if (!io->avio) {
    av_free(buffer);
    FreeRemoteIo(io);
    return Status::ResourceExhausted("out of memory");
  }
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) {
    FreeRemoteIo(io);
    return Status::ResourceExhausted("out of memory");
  }
  raw->pb = io->avio;
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw->opaque = io;
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "format_whitelist", kDemuxerWhitelist, 0);
  av_dict_set(&raw_opts, "protocol_whitelist", "", 0);
  DictPtr opts(raw_opts);
  int rc = avformat_open_input(&raw, "", nullptr, &raw_opts);  // frees raw (not io) on failure
  opts.release();
  opts.reset(raw_opts);
  if (rc < 0) {
    FreeRemoteIo(io);
    if (rc == AVERROR_INVALIDDATA || rc == AVERROR(EINVAL)) {
      return Status::InvalidArgument("not a media file cutroom can read (no known container format)");
    }
    return AvError(rc, "open " + name);
  }
  return FormatContextPtr(raw);
}

Result<FormatContextPtr> OpenMedia(const std::string& path) {
  if (IsRemoteInputPath(path)) {
    CUTROOM_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessSource> source, OpenRemoteInput(path));
    return OpenMediaSource(std::move(source), path);
  }
  InitLibav();
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "format_whitelist", kDemuxerWhitelist, 0);
  av_dict_set(&raw_opts, "protocol_whitelist", "file", 0);
  DictPtr opts(raw_opts);
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, ("file:" + path).c_str(), nullptr, &raw_opts);
  opts.release();
  opts.reset(raw_opts);
  if (rc < 0) {
    if (rc == AVERROR_INVALIDDATA || rc == AVERROR(EINVAL)) {
      return Status::InvalidArgument("not a media file cutroom can read (no known container format)");
    }
    return AvError(rc, "open " + path);
  }
  return FormatContextPtr(raw);
}

int DisplayRotation(const AVStream* st) {
  const uint8_t* matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (!matrix) return 0;
  double theta = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(theta)) return 0;
  int deg = static_cast<int>(std::lround(-theta)) % 360;
  if (deg < 0) deg += 360;
  return ((deg + 45) / 90 % 4) * 90;
}

AVPixelFormat ToAvPixelFormat(PixelFormat f) {
  switch (f) {
    case PixelFormat::kGray8: return AV_PIX_FMT_GRAY8;
    case PixelFormat::kRgb24: return AV_PIX_FMT_RGB24;
    case PixelFormat::kBgr24: return AV_PIX_FMT_BGR24;
  }
  return AV_PIX_FMT_RGB24;
}

namespace {

void AvLogCallback(void* avcl, int level, const char* fmt, va_list vl) {
  if (level > AV_LOG_WARNING) return;
  char line[1024];
  static thread_local int print_prefix = 1;
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!text.empty()) spdlog::debug("libav: {}", text);
}

}  // namespace

void InitLibav() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_callback(AvLogCallback);
    av_max_alloc(kMaxLibavAllocation);
  });
}

AVPixelFormat WithoutJ(AVPixelFormat f, bool& full_range) {
  switch (f) {
    case AV_PIX_FMT_YUVJ420P: full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: full_range = true; return AV_PIX_FMT_YUV411P;
    default: return f;
  }
}

Status PaddedImage::Allocate(int width, int height, int channels) {
  row_bytes_ = width * channels;
  linesize_ = (row_bytes_ + 63) & ~63;
  height_ = height;
  size_t need = static_cast<size_t>(linesize_) * static_cast<size_t>(height) + 256;
  if (need > capacity_) {
    buffer_.reset(static_cast<uint8_t*>(av_malloc(need)));
    if (!buffer_) {
      capacity_ = 0;
      return Status::ResourceExhausted("out of memory for a " + std::to_string(width) + "x" +
                                       std::to_string(height) + " picture");
    }
    capacity_ = need;
  }
  return Status::Ok();
}

void PaddedImage::CopyFromPacked(const uint8_t* packed) {
  for (int y = 0; y < height_; ++y) {
    std::memcpy(buffer_.get() + static_cast<size_t>(y) * linesize_, packed + static_cast<size_t>(y) * row_bytes_,
                static_cast<size_t>(row_bytes_));
  }
}

void PaddedImage::CopyToPacked(uint8_t* packed) const {
  for (int y = 0; y < height_; ++y) {
    std::memcpy(packed + static_cast<size_t>(y) * row_bytes_, buffer_.get() + static_cast<size_t>(y) * linesize_,
                static_cast<size_t>(row_bytes_));
  }
}

}  // namespace cutroom::media
