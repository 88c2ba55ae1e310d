#include "media/av_util.h"

#include <cstdarg>
#include <mutex>
#include <spdlog/spdlog.h>

extern "C" {
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

}  // namespace cutroom::media
