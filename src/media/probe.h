// Probe: what a media file is, read from its content by libavformat.
//
// The file name and any client-declared type are ignored: the demuxer's
// probe of the bytes decides. Dimensions are display dimensions (rotation
// and sample aspect ratio applied). Works on local paths and, through a
// RandomAccessSource, on remote references.
// Thread-safety: ProbeMedia is reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace cutroom::media {

struct ProbeResult {
  std::string media_type;  // "video", "audio" or "image"
  std::string mime_type;   // "video/mp4"
  std::string container;   // "mp4", "matroska", "webm", "wav", "png", ...
  std::string format_name; // libavformat's name list ("mov,mp4,m4a,3gp,3g2,mj2")
  std::optional<double> duration_s;
  std::optional<int64_t> width;   // display width
  std::optional<int64_t> height;  // display height
  std::optional<int64_t> coded_width;
  std::optional<int64_t> coded_height;
  std::optional<double> fps;      // average frame rate
  bool variable_frame_rate = false;
  std::optional<std::string> video_codec;
  std::optional<std::string> audio_codec;
  int rotation = 0;               // clockwise degrees to display upright: 0, 90, 180, 270
  std::optional<int64_t> bitrate; // bits per second
  std::optional<int64_t> audio_sample_rate;
  std::optional<int64_t> audio_channels;
  std::optional<int64_t> frame_count;
};

struct ProbeOptions {
  // Refuse frames larger than this (decompression bombs in headers).
  int64_t max_pixels = 16384LL * 16384LL;
};

// Bytes that libavformat reads through cutroom's own I/O instead of its
// protocols: remote references are read through the SSRF-safe fetcher.
class RandomAccessSource {
 public:
  virtual ~RandomAccessSource() = default;
  // Reads up to n bytes at offset; 0 at the end.
  virtual Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) = 0;
  virtual Result<uint64_t> Size() = 0;
};

// InvalidArgument ("not a media file") when no demuxer recognises the
// content or it has no audio, video or image stream; NotFound for a missing
// file. Only local files are opened directly (libavformat's network
// protocols are never used: they cannot be held to cutroom's address policy).
Result<ProbeResult> ProbeMedia(const std::string& path, const ProbeOptions& options = {});
Result<ProbeResult> ProbeMediaSource(RandomAccessSource& source, const ProbeOptions& options = {});

}  // namespace cutroom::media
