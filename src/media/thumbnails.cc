#include "media/thumbnails.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "media/av_util.h"

extern "C" {
#include <libswscale/swscale.h>
}

namespace cutroom::media {
namespace {

// JPEG stores sizes in 16 bits.
constexpr int kMaxJpegSide = 65500;
// A sprite sheet is for a browser: 64 Mpx (192 MB while composed) is plenty.
constexpr int64_t kMaxSheetPixels = 8192LL * 8192LL;
constexpr int kPosterQuality = 85;
constexpr int kSpriteQuality = 75;
// Width of the gray copy a poster candidate is judged on: enough to see
// structure, small enough to ignore noise and cost nothing.
constexpr int kJudgeWidth = 64;


struct LumaStats {
  double mean = 0;
  double stddev = 0;
  double detail = 0;  // mean absolute difference between neighbours
};

Result<LumaStats> Judge(const VideoFrame& frame) {
  int h = std::max(1, static_cast<int>(std::lround(static_cast<double>(kJudgeWidth) * frame.height / frame.width)));
  CUTROOM_ASSIGN_OR_RETURN(VideoFrame gray, ResizeFrame(frame, kJudgeWidth, h, PixelFormat::kGray8));
  LumaStats s;
  const auto& px = gray.pixels;
  double sum = 0, sum_sq = 0, grad = 0;
  int64_t grad_n = 0;
  for (int y = 0; y < gray.height; ++y) {
    for (int x = 0; x < gray.width; ++x) {
      double v = px[static_cast<size_t>(y) * gray.width + x];
      sum += v;
      sum_sq += v * v;
      if (x + 1 < gray.width) {
        grad += std::abs(v - px[static_cast<size_t>(y) * gray.width + x + 1]);
        ++grad_n;
      }
      if (y + 1 < gray.height) {
        grad += std::abs(v - px[static_cast<size_t>(y + 1) * gray.width + x]);
        ++grad_n;
      }
    }
  }
  double n = static_cast<double>(px.size());
  s.mean = sum / n;
  s.stddev = std::sqrt(std::max(0.0, sum_sq / n - s.mean * s.mean));
  s.detail = grad_n ? grad / static_cast<double>(grad_n) : 0;
  return s;
}

// Not black, not white, not a flat colour (a title card's plain background
// or a fade's middle counts as flat).
bool LooksRepresentative(const LumaStats& s) { return s.mean >= 24 && s.mean <= 235 && s.stddev >= 10; }

std::string VttTime(double t) {
  int64_t ms = std::llround(std::max(0.0, t) * 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

}  // namespace

Result<std::string> EncodeJpeg(const VideoFrame& frame, int quality) {
  if (quality < 1 || quality > 100) return Status::InvalidArgument("JPEG quality must be 1..100");
  const int ch = ChannelsOf(frame.format);
  if (frame.width <= 0 || frame.height <= 0 || frame.width > kMaxJpegSide || frame.height > kMaxJpegSide ||
      frame.pixels.size() != static_cast<size_t>(frame.width) * frame.height * ch) {
    return Status::InvalidArgument("cannot encode a " + std::to_string(frame.width) + "x" +
                                   std::to_string(frame.height) + " frame of " +
                                   std::to_string(frame.pixels.size()) + " bytes as JPEG");
  }
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) return Status::NotSupported("libavcodec has no MJPEG encoder");
  CodecContextPtr enc(avcodec_alloc_context3(codec));
  FramePtr yuv(av_frame_alloc());
  PacketPtr pkt(av_packet_alloc());
  if (!enc || !yuv || !pkt) return Status::ResourceExhausted("out of memory");

  // Plain 4:2:0 marked full range is what JFIF means by YCbCr (the
  // deprecated YUVJ formats said the same thing less clearly).
  enc->width = frame.width;
  enc->height = frame.height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->color_range = AVCOL_RANGE_JPEG;
  enc->time_base = AVRational{1, 25};
  enc->flags |= AV_CODEC_FLAG_QSCALE;
  // libavcodec's scale: 2 (best) .. 31 (smallest).
  const int qscale = 2 + static_cast<int>(std::lround((100 - quality) * 29.0 / 99.0));
  enc->global_quality = FF_QP2LAMBDA * qscale;
  int rc = avcodec_open2(enc.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "open JPEG encoder");

  yuv->format = AV_PIX_FMT_YUV420P;
  yuv->width = frame.width;
  yuv->height = frame.height;
  yuv->color_range = AVCOL_RANGE_JPEG;
  yuv->quality = enc->global_quality;
  rc = av_frame_get_buffer(yuv.get(), 0);
  if (rc < 0) return AvError(rc, "allocate JPEG input");

  SwsContextPtr sws(sws_getContext(frame.width, frame.height, ToAvPixelFormat(frame.format),
                                                           frame.width, frame.height, AV_PIX_FMT_YUV420P,
                                                           SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!sws) return Status::Internal("cannot convert to YUV 4:2:0");
  // Full range in and out, BT.601 as JFIF specifies.
  const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
  sws_setColorspaceDetails(sws.get(), bt601, 1, bt601, 1, 0, 1 << 16, 1 << 16);
  // swscale reads past the end of packed rows: convert from a padded copy.
  PaddedImage padded;
  CUTROOM_RETURN_IF_ERROR(padded.Allocate(frame.width, frame.height, ch));
  padded.CopyFromPacked(frame.pixels.data());
  const uint8_t* src_data[4] = {padded.data(), nullptr, nullptr, nullptr};
  int src_linesize[4] = {padded.linesize(), 0, 0, 0};
  if (sws_scale(sws.get(), src_data, src_linesize, 0, frame.height, yuv->data, yuv->linesize) <= 0) {
    return Status::Internal("conversion to YUV 4:2:0 failed");
  }

  rc = avcodec_send_frame(enc.get(), yuv.get());
  if (rc < 0) return AvError(rc, "encode JPEG");
  rc = avcodec_send_frame(enc.get(), nullptr);
  if (rc < 0) return AvError(rc, "encode JPEG");
  rc = avcodec_receive_packet(enc.get(), pkt.get());
  if (rc < 0) return AvError(rc, "encode JPEG");
  return std::string(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size));
}

Result<Poster> MakePoster(const std::string& path, int max_width) {
  if (max_width < 16 || max_width > 16384) return Status::InvalidArgument("poster max_width must be 16..16384");
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, VideoDecoder::Open(path, DecodeOptions{}));
  if (decoder->info().display_width > max_width) {
    // Reopened at the final size so frames are scaled once, by the decoder.
    DecodeOptions options;
    options.width = max_width;
    CUTROOM_ASSIGN_OR_RETURN(decoder, VideoDecoder::Open(path, options));
  }
  std::vector<double> candidates;
  const double duration = decoder->info().duration_s;
  if (duration > 0) {
    for (int k = 1; k <= 9; ++k) candidates.push_back(duration * k / 10);
  } else {
    candidates.push_back(0);
  }

  std::optional<VideoFrame> chosen;
  double best_detail = -1;
  Status last_error;
  for (double t : candidates) {
    auto frame = decoder->FrameAt(t);
    if (!frame.ok()) {
      // A damaged stretch of the file; another candidate may decode.
      last_error = frame.status();
      continue;
    }
    CUTROOM_ASSIGN_OR_RETURN(LumaStats stats, Judge(*frame));
    if (LooksRepresentative(stats)) {
      chosen = std::move(*frame);
      break;
    }
    if (stats.detail > best_detail) {
      best_detail = stats.detail;
      chosen = std::move(*frame);
    }
  }
  if (!chosen) return last_error.ok() ? Status::InvalidArgument("no frame decoded in " + path) : last_error;
  Poster poster;
  CUTROOM_ASSIGN_OR_RETURN(poster.jpeg, EncodeJpeg(*chosen, kPosterQuality));
  poster.ts_s = chosen->pts_s;
  poster.width = chosen->width;
  poster.height = chosen->height;
  return poster;
}

Result<SpriteSheet> MakeSpriteSheet(const std::string& path, double interval_s, int tile_width, int columns,
                                    int max_tiles) {
  if (!std::isfinite(interval_s) || interval_s < 0) return Status::InvalidArgument("sprite interval must be >= 0");
  if (tile_width < 16 || tile_width > 1920) return Status::InvalidArgument("sprite tile_width must be 16..1920");
  if (columns < 1 || columns > 100) return Status::InvalidArgument("sprite columns must be 1..100");
  if (max_tiles < 1 || max_tiles > 10000) return Status::InvalidArgument("sprite max_tiles must be 1..10000");

  DecodeOptions options;
  options.width = tile_width;
  CUTROOM_ASSIGN_OR_RETURN(auto decoder, VideoDecoder::Open(path, options));
  const double duration = decoder->info().duration_s;
  if (duration <= 0) return Status::InvalidArgument("no duration (a still image?): " + path);

  double interval = interval_s;
  if (interval == 0) {
    // Whole tenths keep cue times readable; previews finer than a second
    // are of no use on a seek bar.
    interval = std::max(1.0, std::ceil(duration / max_tiles * 10) / 10);
  }
  if (std::ceil(duration / interval - 1e-9) > max_tiles) interval = duration / max_tiles;
  const int count = std::clamp(static_cast<int>(std::ceil(duration / interval - 1e-9)), 1, max_tiles);

  SpriteSheet sheet;
  sheet.columns = std::min(columns, count);
  sheet.rows = (count + sheet.columns - 1) / sheet.columns;
  VideoFrame canvas;
  for (int i = 0; i < count; ++i) {
    const double start = i * interval;
    CUTROOM_ASSIGN_OR_RETURN(VideoFrame tile, decoder->FrameAt(start));
    if (i == 0) {
      sheet.tile_width = tile.width;
      sheet.tile_height = tile.height;
      const int64_t w = static_cast<int64_t>(tile.width) * sheet.columns;
      const int64_t h = static_cast<int64_t>(tile.height) * sheet.rows;
      if (w > kMaxJpegSide || h > kMaxJpegSide || w * h > kMaxSheetPixels) {
        return Status::InvalidArgument("sprite sheet " + std::to_string(w) + "x" + std::to_string(h) +
                                       " is too large for JPEG; use fewer or smaller tiles");
      }
      canvas.width = static_cast<int>(w);
      canvas.height = static_cast<int>(h);
      canvas.format = PixelFormat::kRgb24;
      canvas.pixels.assign(static_cast<size_t>(w * h * 3), 0);
    }
    SpriteTile t;
    t.start_s = start;
    t.end_s = std::min(duration, (i + 1) * interval);
    if (i == count - 1) t.end_s = duration;
    t.x = (i % sheet.columns) * sheet.tile_width;
    t.y = (i / sheet.columns) * sheet.tile_height;
    const size_t row_bytes = static_cast<size_t>(sheet.tile_width) * 3;
    for (int y = 0; y < sheet.tile_height; ++y) {
      std::copy_n(tile.pixels.data() + y * row_bytes, row_bytes,
                  canvas.pixels.data() + (static_cast<size_t>(t.y + y) * canvas.width + t.x) * 3);
    }
    sheet.tiles.push_back(t);
  }
  CUTROOM_ASSIGN_OR_RETURN(sheet.jpeg, EncodeJpeg(canvas, kSpriteQuality));
  return sheet;
}

std::string SpriteVtt(const SpriteSheet& sheet, const std::string& image_url) {
  std::string out = "WEBVTT\n";
  for (const SpriteTile& t : sheet.tiles) {
    out += "\n" + VttTime(t.start_s) + " --> " + VttTime(t.end_s) + "\n";
    out += image_url + "#xywh=" + std::to_string(t.x) + "," + std::to_string(t.y) + "," +
           std::to_string(sheet.tile_width) + "," + std::to_string(sheet.tile_height) + "\n";
  }
  return out;
}

}  // namespace cutroom::media
