// Thumbnails: JPEG encoding of decoded frames (libavcodec's mjpeg encoder),
// a poster frame that shows something, and a sprite sheet of evenly spaced
// tiles with the WebVTT track players use for seek-bar previews.
//
// Everything decodes through VideoDecoder, so the same demuxer whitelist,
// size limits and rotation apply. Results own their bytes.
// Thread-safety: all functions are reentrant.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::media {

// Baseline JPEG (4:2:0, full range) of a frame in any PixelFormat; quality
// 1 (smallest) .. 100 (best). InvalidArgument for an empty or inconsistent
// frame or a quality out of range.
Result<std::string> EncodeJpeg(const VideoFrame& frame, int quality);

struct Poster {
  std::string jpeg;
  double ts_s = 0;  // time of the chosen frame
  int width = 0;
  int height = 0;
};

// A representative frame: candidates at 10%, 20%, ... 90% of the duration
// are tried in order and the first that is neither dark, blown out nor flat
// (mean and spread of the luma of a small gray copy) wins; if none is, the
// most detailed candidate. Stills give their only frame. The poster is the
// display size, shrunk to max_width when wider. Errors as VideoDecoder::Open.
Result<Poster> MakePoster(const std::string& path, int max_width = 1280);

struct SpriteTile {
  double start_s = 0;  // the tile shows the frame at start_s and stands for [start_s, end_s)
  double end_s = 0;
  int x = 0;  // top-left corner in the sheet
  int y = 0;
};

struct SpriteSheet {
  std::string jpeg;
  int tile_width = 0;
  int tile_height = 0;
  int columns = 0;
  int rows = 0;
  std::vector<SpriteTile> tiles;  // row by row
};

// One tile every interval_s seconds (0: the smallest interval, in whole
// tenths of a second, that needs at most max_tiles tiles); when interval_s
// would need more than max_tiles, the interval grows so the tiles still
// cover the whole video. Tiles are tile_width wide (16..1920) and keep the
// display aspect ratio; columns (1..100) per row. The last tile ends at the
// duration.
Result<SpriteSheet> MakeSpriteSheet(const std::string& path, double interval_s = 0, int tile_width = 160,
                                    int columns = 10, int max_tiles = 100);

// WebVTT thumbnails track for a sheet served at image_url:
//   WEBVTT
//
//   00:00:00.000 --> 00:00:05.000
//   image_url#xywh=0,0,160,90
std::string SpriteVtt(const SpriteSheet& sheet, const std::string& image_url);

}  // namespace cutroom::media
