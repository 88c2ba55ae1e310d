// For components that use libav* directly (media, edit/render): RAII
// owners for libav* handles and the one place libav error codes become
// Status.
#pragma once

extern "C" {
#include <libswscale/swscale.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
}

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "media/decoder.h"
#include "media/probe.h"

namespace cutroom::media {

// Closes the context, then frees the custom I/O of a remote input it owns
// (OpenMedia keeps that in AVFormatContext::opaque, which cutroom uses for
// nothing else).
struct FormatContextCloser {
  void operator()(AVFormatContext* ctx) const;
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
struct SwsFreer {
  void operator()(SwsContext* c) const { sws_freeContext(c); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsFreer>;
struct DictFreer {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
using DictPtr = std::unique_ptr<AVDictionary, DictFreer>;

// A packed (one-plane) picture in a buffer swscale may use: rows start
// 64-byte aligned and slack follows the last row, because swscale's SIMD
// paths read and write whole blocks past the end of a row. Packed
// VideoFrame pixels are exactly width * channels * height bytes, so they
// go through one of these on the way in and out of swscale.
class PaddedImage {
 public:
  // ResourceExhausted when the buffer cannot be allocated.
  Status Allocate(int width, int height, int channels);
  uint8_t* data() { return buffer_.get(); }
  int linesize() const { return linesize_; }
  void CopyFromPacked(const uint8_t* packed);
  void CopyToPacked(uint8_t* packed) const;

 private:
  struct AvFree {
    void operator()(uint8_t* p) const { av_free(p); }
  };
  std::unique_ptr<uint8_t, AvFree> buffer_;
  size_t capacity_ = 0;
  int row_bytes_ = 0;
  int linesize_ = 0;
  int height_ = 0;
};

// Per-stream options for avformat_find_stream_info, which decodes a few
// frames with decoders of its own: they must honour the pixel limit too.
class StreamInfoOptions {
 public:
  StreamInfoOptions(unsigned streams, int64_t max_pixels) : dicts_(streams, nullptr) {
    for (auto& d : dicts_) av_dict_set_int(&d, "max_pixels", max_pixels, 0);
  }
  ~StreamInfoOptions() {
    for (auto& d : dicts_) av_dict_free(&d);
  }
  StreamInfoOptions(const StreamInfoOptions&) = delete;
  StreamInfoOptions& operator=(const StreamInfoOptions&) = delete;
  AVDictionary** data() { return dicts_.empty() ? nullptr : dicts_.data(); }

 private:
  std::vector<AVDictionary*> dicts_;
};

// The demuxers cutroom accepts. A whitelist rather than probing with
// everything: playlist and script demuxers (hls, concat, ffmetadata) open
// other files or URLs named inside an upload, and some (tty, image2) decide
// by file name. Probing, decoding and audio extraction share it, so a file
// that probes as media also decodes, and nothing outside it does.
extern const char* const kDemuxerWhitelist;

// Opens media by content, through the whitelist: a local file through the
// file protocol only ("file:" keeps a path that looks like a URL from
// choosing a protocol), or a remote input's pseudo-path
// (media/remote_input.h) through its own AVIOContext and no protocol at
// all. Stream info is not read yet. InvalidArgument ("not a media file")
// when no whitelisted demuxer recognises it.
Result<FormatContextPtr> OpenMedia(const std::string& path);

// A format context reading from a RandomAccessSource it owns. Same
// whitelist and errors as OpenMedia.
Result<FormatContextPtr> OpenMediaSource(std::unique_ptr<RandomAccessSource> source, const std::string& name);

// Clockwise degrees (0, 90, 180, 270) a player turns the stream's picture,
// from its display matrix (av_display_rotation_get counts counter-clockwise).
int DisplayRotation(const AVStream* stream);

// The deprecated full-range "J" formats become their plain twin, with
// full_range set to say so; swscale warns about (and mishandles) the J
// ones. Other formats come back as they are, full_range untouched.
AVPixelFormat WithoutJ(AVPixelFormat f, bool& full_range);

// libav's pixel format for one of cutroom's (media/decoder.h).
AVPixelFormat ToAvPixelFormat(PixelFormat format);

// Converts a negative libav return code into a Status with context.
// AVERROR_INVALIDDATA and friends become InvalidArgument (bad input), ENOENT
// NotFound, EIO IOError, the rest Internal.
Status AvError(int code, const std::string& context);

// The most libav may allocate at once. A demuxer sizes some buffers from
// what the file's header declares (a WAV INFO chunk of 1.9 GB in an 88-byte
// file, found by the media_probe fuzz target), so without a cap one small
// hostile upload makes the probe commit gigabytes. Legitimate allocations
// are far smaller: an 8K RGBA picture is 133 MB, and cutroom refuses larger
// dimensions before decoding (media.max_pixels).
inline constexpr size_t kMaxLibavAllocation = size_t{256} << 20;

// Once per process: routes libav's own log lines through spdlog (at debug
// level) and caps libav's allocations at kMaxLibavAllocation.
void InitLibav();

}  // namespace cutroom::media
