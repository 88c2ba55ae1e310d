#include "media/av_util.h"

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

Result<FormatContextPtr> OpenLocalMedia(const std::string& path) {
  InitAvLogging();
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

void InitAvLogging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(AvLogCallback); });
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
