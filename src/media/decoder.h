// VideoDecoder: frames of a file's first video stream, in presentation
// order or frame-exactly at a time, scaled and converted to packed RGB, BGR
// or gray, with the stream's display rotation applied.
//
// Files are opened by content through the same demuxer whitelist as
// ProbeMedia (no playlists, no network protocols), and frames larger than
// DecodeOptions::max_pixels are refused before anything is allocated for
// them. Timestamps come from the stream's PTS, so they are exact on
// variable-frame-rate files.
//
// Ownership: a VideoDecoder owns its file handle, decoder and scaler; the
// VideoFrames it returns own their pixels.
// Thread-safety: a VideoDecoder is not thread-safe (one per thread); the
// decoder itself uses DecodeOptions::threads frame threads. ResizeFrame is
// reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::media {

enum class PixelFormat { kGray8, kRgb24, kBgr24 };

// Bytes per pixel of a packed format: 1 or 3.
int ChannelsOf(PixelFormat format);

struct DecodeOptions {
  // Output size after rotation. 0,0: the display size (sample aspect ratio
  // and, with apply_rotation, rotation applied); one of them 0: that side
  // follows the display aspect ratio.
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kRgb24;
  // Turn frames upright by the display matrix (90/180/270 degrees).
  bool apply_rotation = true;
  // Decoder threads; 0 lets libavcodec pick (one per core, plus one).
  int threads = 0;
  // Refuse streams (and output sizes) with more pixels than this: a header
  // can declare any size, and decoding would allocate it.
  int64_t max_pixels = 16384LL * 16384LL;
  // Skip the in-loop deblocking filter (H.264, HEVC...): about a quarter
  // less decoding work for blockier pictures. For analysis that compares
  // shrunken frames (scene detection), never for pictures people see.
  bool skip_loop_filter = false;
};

// A decoded picture as the codec produced it: its own (usually planar YUV)
// pixel format and coded size, not scaled, converted or rotated. The
// pointers belong to the decoder and stay valid until its next call.
struct RawPicture {
  double pts_s = 0;
  int64_t index = 0;
  int width = 0;
  int height = 0;
  int pixel_format = -1;  // an AVPixelFormat
  bool full_range = false;  // JPEG (0-255) rather than MPEG (16-235) levels
  const uint8_t* const* planes = nullptr;
  const int* linesize = nullptr;
};

struct VideoFrame {
  double pts_s = 0;  // presentation time relative to the stream's start time
  int64_t index = 0; // 0-based position in presentation order
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kRgb24;
  std::vector<uint8_t> pixels;  // packed rows, width * ChannelsOf(format) bytes each
};

struct VideoStreamInfo {
  double fps = 0;               // average frame rate; 0 when unknown
  double duration_s = 0;        // 0 when unknown (a still image)
  int display_width = 0;        // upright display size (aspect ratio and rotation applied)
  int display_height = 0;
  int rotation = 0;             // clockwise degrees a player turns the picture: 0, 90, 180, 270
  bool variable_frame_rate = false;
  int64_t frame_count_estimate = 0;  // from the header, or duration * fps
};

class VideoDecoder {
 public:
  // InvalidArgument when the file is not media cutroom reads, is corrupt, or
  // declares frames over options.max_pixels (or options are out of range);
  // NotFound when the file is missing or has no video stream; NotSupported
  // when the video codec cannot be decoded.
  static Result<std::unique_ptr<VideoDecoder>> Open(const std::string& path, const DecodeOptions& options);

  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  const VideoStreamInfo& info() const;

  // Stores the next frame in presentation order in `out` and returns true;
  // false at the end of the stream. After FrameAt, continues with the frame
  // after the one FrameAt returned. Packets the decoder rejects are skipped;
  // InvalidArgument when so many fail in a row (or all of them) that the
  // data is corrupt, IOError when the file cannot be read.
  Result<bool> Next(VideoFrame& out);
  // Next without scaling or conversion, for analysis that reads the
  // codec's planes directly (a fraction of the cost of converting each frame).
  Result<bool> NextRaw(RawPicture& out);

  // The frame displayed at t_s (seconds from the stream start): the last
  // frame whose pts <= t_s, or the first frame when t_s is before it, and
  // the last frame when t_s is past the end. Seeks to the keyframe before
  // it and decodes forward (or just decodes forward when that is closer),
  // discarding non-reference frames it will not return; only the returned
  // frame is converted. The first call reads the packet timestamps of the
  // whole stream once (no decoding) so that the frame, its index and the
  // keyframe to start from are known exactly; streams without any
  // timestamps (raw H.264) count frames from the start instead.
  // InvalidArgument for a non-finite t_s or undecodable data.
  Result<VideoFrame> FrameAt(double t_s);

 private:
  class Impl;
  explicit VideoDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Scales and converts a frame (area averaging when shrinking, bilinear when
// enlarging); pts_s and index are copied. InvalidArgument for an empty frame,
// a pixel buffer that does not match its size, or an out-of-range size.
Result<VideoFrame> ResizeFrame(const VideoFrame& in, int width, int height, PixelFormat format);

}  // namespace cutroom::media
