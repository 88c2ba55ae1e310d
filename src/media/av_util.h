// Internal to media/: RAII owners for libav* handles and the one place
// libav error codes become Status.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <memory>
#include <string>

#include "core/status.h"

namespace cutroom::media {

struct FormatContextCloser {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
struct CodecContextFreer {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

using FormatContextPtr = std::unique_ptr<AVFormatContext, FormatContextCloser>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;

// Converts a negative libav return code into a Status with context.
// AVERROR_INVALIDDATA and friends become InvalidArgument (bad input), ENOENT
// NotFound, EIO IOError, the rest Internal.
Status AvError(int code, const std::string& context);

// Routes libav's own log lines through spdlog (at debug level), once.
void InitAvLogging();

}  // namespace cutroom::media
