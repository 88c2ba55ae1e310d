#include "media/decoder.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "media/av_util.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace cutroom::media {
namespace {

// A decoder that fails this many packets in a row is reading garbage, not a
// stream with a damaged spot.
constexpr int kMaxConsecutiveErrors = 48;
// Past this many packets the timestamp index (8 bytes a packet) is not built
// and FrameAt falls back to seeking by time alone (about 13 h at 60 fps).
constexpr size_t kMaxIndexedPackets = 3'000'000;
constexpr int kMaxSide = 32768;
constexpr int kMaxThreads = 64;


Result<FormatContextPtr> OpenInput(const std::string& path, int64_t max_pixels, bool find_stream_info) {
  CUTROOM_ASSIGN_OR_RETURN(FormatContextPtr fmt, OpenMedia(path));
  int rc;
  if (find_stream_info) {
    StreamInfoOptions stream_opts(fmt->nb_streams, max_pixels);
    rc = avformat_find_stream_info(fmt.get(), stream_opts.data());
    if (rc < 0) return AvError(rc, "read stream info of " + path);
  }
  return fmt;
}



struct SourceImage {
  const uint8_t* const* data;
  const int* linesize;
  int width;
  int height;
  AVPixelFormat format;
  AVColorSpace colorspace;
  AVColorRange range;
};

// Converts pictures to a packed output format with one cached SwsContext,
// rebuilt only when the source or destination geometry changes.
class Scaler {
 public:
  Status Convert(const SourceImage& src, int dst_w, int dst_h, PixelFormat dst_format, uint8_t* dst) {
    bool full_range = false;
    AVPixelFormat src_fmt = WithoutJ(src.format, full_range);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(src_fmt);
    if (!desc) return Status::NotSupported("unknown source pixel format");
    const bool rgb = desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL);
    // Untagged YUV is video range; untagged gray (PNG, BMP) is full range.
    full_range = full_range || src.range == AVCOL_RANGE_JPEG ||
                 (src.range == AVCOL_RANGE_UNSPECIFIED && desc->nb_components < 3);
    AVPixelFormat dst_fmt = ToAvPixelFormat(dst_format);
    Key key{src.width, src.height, src_fmt, src.colorspace, full_range, dst_w, dst_h, dst_fmt};
    if (!ctx_ || !(key == key_)) {
      // Shrinking averages areas (no aliasing on big reductions); enlarging
      // and plain conversion interpolate.
      int flags = static_cast<int64_t>(dst_w) * dst_h < static_cast<int64_t>(src.width) * src.height ? SWS_AREA
                                                                                                      : SWS_BILINEAR;
      ctx_.reset(sws_getContext(src.width, src.height, src_fmt, dst_w, dst_h, dst_fmt, flags, nullptr, nullptr,
                                nullptr));
      if (!ctx_) {
        return Status::NotSupported(std::string("cannot convert pixel format ") +
                                    (av_get_pix_fmt_name(src_fmt) ? av_get_pix_fmt_name(src_fmt) : "?") +
                                    " " + std::to_string(src.width) + "x" + std::to_string(src.height));
      }
      if (!rgb) {
        // Matrix as tagged; untagged video gets BT.601 like ffmpeg's scale
        // filter. Outputs are full range (RGB, and gray as JPEG luma).
        int cs = src.colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : static_cast<int>(src.colorspace);
        sws_setColorspaceDetails(ctx_.get(), sws_getCoefficients(cs), full_range ? 1 : 0,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
      }
      key_ = key;
    }
    CUTROOM_RETURN_IF_ERROR(out_.Allocate(dst_w, dst_h, ChannelsOf(dst_format)));
    uint8_t* dst_data[4] = {out_.data(), nullptr, nullptr, nullptr};
    int dst_linesize[4] = {out_.linesize(), 0, 0, 0};
    int rc = sws_scale(ctx_.get(), src.data, src.linesize, 0, src.height, dst_data, dst_linesize);
    if (rc <= 0) return Status::Internal("pixel conversion failed");
    out_.CopyToPacked(dst);
    return Status::Ok();
  }

 private:
  PaddedImage out_;  // swscale writes past the end of packed rows
  struct Key {
    int src_w, src_h;
    AVPixelFormat src_fmt;
    AVColorSpace colorspace;
    bool full_range;
    int dst_w, dst_h;
    AVPixelFormat dst_fmt;
    bool operator==(const Key&) const = default;
  };
  SwsContextPtr ctx_;
  Key key_{};
};

// Turns a packed picture clockwise by 90, 180 or 270 degrees. Walks the
// destination in tiles so both sides stay in cache.
void RotatePacked(const uint8_t* src, int w, int h, int ch, int rotation, uint8_t* dst) {
  const size_t src_stride = static_cast<size_t>(w) * ch;
  if (rotation == 180) {
    for (int y = 0; y < h; ++y) {
      const uint8_t* s = src + static_cast<size_t>(h - 1 - y) * src_stride;
      uint8_t* d = dst + static_cast<size_t>(y) * src_stride;
      for (int x = 0; x < w; ++x) std::copy_n(s + static_cast<size_t>(w - 1 - x) * ch, ch, d + static_cast<size_t>(x) * ch);
    }
    return;
  }
  // 90 and 270: the destination is h wide and w high.
  const int dw = h, dh = w;
  const size_t dst_stride = static_cast<size_t>(dw) * ch;
  constexpr int kTile = 32;
  for (int ty = 0; ty < dh; ty += kTile) {
    for (int tx = 0; tx < dw; tx += kTile) {
      const int ey = std::min(ty + kTile, dh), ex = std::min(tx + kTile, dw);
      for (int y = ty; y < ey; ++y) {
        uint8_t* d = dst + static_cast<size_t>(y) * dst_stride;
        for (int x = tx; x < ex; ++x) {
          // Clockwise: the destination's row y is the source's column y, read
          // bottom-up; counter-clockwise (270): column w-1-y, read top-down.
          int sx = rotation == 90 ? y : w - 1 - y;
          int sy = rotation == 90 ? h - 1 - x : x;
          std::copy_n(src + static_cast<size_t>(sy) * src_stride + static_cast<size_t>(sx) * ch, ch,
                      d + static_cast<size_t>(x) * ch);
        }
      }
    }
  }
}

Status CheckSize(int w, int h, int64_t max_pixels, const std::string& what) {
  if (w <= 0 || h <= 0 || w > kMaxSide || h > kMaxSide || static_cast<int64_t>(w) * h > max_pixels) {
    return Status::InvalidArgument(what + " " + std::to_string(w) + "x" + std::to_string(h) +
                                   " is outside the limits (1.." + std::to_string(kMaxSide) + " a side, " +
                                   std::to_string(max_pixels) + " pixels)");
  }
  return Status::Ok();
}

}  // namespace

int ChannelsOf(PixelFormat format) { return format == PixelFormat::kGray8 ? 1 : 3; }

class VideoDecoder::Impl {
 public:
  Status Init(const std::string& path, const DecodeOptions& options);
  Result<bool> Next(VideoFrame& out);
  Result<bool> NextRaw(RawPicture& out);
  Result<VideoFrame> FrameAt(double t_s);

  VideoStreamInfo info_;

 private:
  static constexpr int64_t kNoPts = AV_NOPTS_VALUE;

  // The next frame out of the decoder (a stashed one first); false at the end.
  Result<bool> Decode(AVFrame* out);
  Status NoteDecodeError(int rc);
  // Repositions at the keyframe at or before ts (at the start when there is
  // none) and resets the decoder.
  Status Seek(int64_t ts);
  // Repositions at the start of the file, reopening it if the demuxer
  // cannot seek there.
  Status Rewind();
  void ResetDecoder();
  Status BuildIndex();
  Result<VideoFrame> FrameAtIndexed(int64_t limit);
  Result<VideoFrame> FrameAtUnindexed(int64_t limit);
  Result<VideoFrame> FrameAtCounted(double t_s);
  // Decodes forward until the frame with pts == target (indexed) or past
  // limit; leaves the hit in frame_ or the last frame <= limit in best_.
  Result<bool> RollForward(int64_t target, int64_t limit, bool skip_nonref);
  Status Emit(const AVFrame* frame, int64_t index, VideoFrame& out);
  // Emit with the index of the frame's pts in the packet index.
  Status EmitIndexed(const AVFrame* frame, VideoFrame& out);

  int64_t PtsOf(const AVFrame* f) const { return f->best_effort_timestamp; }
  double Seconds(int64_t pts) const { return static_cast<double>(pts - start_pts_) * av_q2d(stream_->time_base); }
  int64_t LimitFor(double t_s) const;
  int64_t EstimateIndex(int64_t pts) const;
  void Stash(AVFrame* f) {
    av_frame_unref(pending_.get());
    av_frame_move_ref(pending_.get(), f);
    has_pending_ = true;
  }

  std::string path_;
  DecodeOptions options_;
  FormatContextPtr fmt_;
  CodecContextPtr dec_;
  AVStream* stream_ = nullptr;
  int stream_index_ = -1;
  int64_t start_pts_ = 0;
  int out_w_ = 0, out_h_ = 0;  // after rotation
  int rotation_ = 0;           // applied rotation

  PacketPtr pkt_;
  bool pkt_held_ = false;  // pkt_ was refused with EAGAIN and must be sent again
  FramePtr frame_, best_, pending_;
  bool has_pending_ = false;
  bool demux_eof_ = false;
  bool drained_ = false;  // the decoder returned EOF; only a seek revives it
  int64_t position_pts_ = kNoPts;  // newest frame taken out of the decoder since the last seek
  int64_t skip_before_pts_ = kNoPts;
  int consecutive_errors_ = 0;
  int64_t decode_errors_ = 0;
  int64_t frames_decoded_ = 0;
  Status last_error_;
  int64_t next_index_ = 0;

  bool index_built_ = false;
  bool index_usable_ = false;
  bool timeless_ = false;  // packets carry no timestamps at all (raw streams)
  bool skipping_safe_ = true;  // cleared when decoded pts turn out not to match packet pts
  // Seeks go this many ticks before the keyframe they aim at. Grows when a
  // seek lands past its target, as MPEG-TS seeks by bisection can.
  int64_t preroll_ = 0;
  std::vector<int64_t> pts_;      // every packet's pts, sorted: presentation order
  std::vector<int64_t> key_pts_;  // keyframes' pts, sorted

  Scaler scaler_;
  std::vector<uint8_t> scratch_;
};

Status VideoDecoder::Impl::Init(const std::string& path, const DecodeOptions& options) {
  path_ = path;
  options_ = options;
  if (options.width < 0 || options.height < 0 || options.width > kMaxSide || options.height > kMaxSide) {
    return Status::InvalidArgument("output size " + std::to_string(options.width) + "x" +
                                   std::to_string(options.height) + " out of range");
  }
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return Status::InvalidArgument("threads must be 0.." + std::to_string(kMaxThreads));
  }
  if (options.max_pixels <= 0) return Status::InvalidArgument("max_pixels must be positive");

  CUTROOM_ASSIGN_OR_RETURN(fmt_, OpenInput(path, options.max_pixels, true));
  bool undecodable_video = false;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* st = fmt_->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (st->disposition & AV_DISPOSITION_ATTACHED_PIC)) continue;
    if (st->codecpar->codec_id == AV_CODEC_ID_NONE || !avcodec_find_decoder(st->codecpar->codec_id)) {
      undecodable_video = true;
      continue;
    }
    stream_index_ = static_cast<int>(i);
    break;
  }
  if (stream_index_ < 0) {
    if (undecodable_video) return Status::NotSupported("the video codec of " + path + " cannot be decoded");
    return Status::NotFound("no video stream in " + path);
  }
  stream_ = fmt_->streams[stream_index_];
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVCodecParameters* par = stream_->codecpar;
  CUTROOM_RETURN_IF_ERROR(CheckSize(par->width, par->height, options.max_pixels, "video frame size"));

  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  dec_.reset(avcodec_alloc_context3(codec));
  if (!dec_) return Status::ResourceExhausted("out of memory");
  int rc = avcodec_parameters_to_context(dec_.get(), par);
  if (rc < 0) return AvError(rc, "configure decoder for " + path);
  dec_->pkt_timebase = stream_->time_base;
  dec_->thread_count = options.threads;
  dec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  dec_->max_pixels = options.max_pixels;
  if (options.skip_loop_filter) dec_->skip_loop_filter = AVDISCARD_ALL;
  rc = avcodec_open2(dec_.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, std::string("open ") + codec->name + " decoder for " + path);

  pkt_.reset(av_packet_alloc());
  frame_.reset(av_frame_alloc());
  best_.reset(av_frame_alloc());
  pending_.reset(av_frame_alloc());
  if (!pkt_ || !frame_ || !best_ || !pending_) return Status::ResourceExhausted("out of memory");

  start_pts_ = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0;

  // Display size: sample aspect ratio applied to the width, then rotation.
  AVRational sar = av_guess_sample_aspect_ratio(fmt_.get(), stream_, nullptr);
  int disp_w = par->width, disp_h = par->height;
  if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
    disp_w = static_cast<int>(std::clamp<int64_t>(std::llround(par->width * av_q2d(sar)), 1, kMaxSide));
  }
  info_.rotation = DisplayRotation(stream_);
  bool quarter = info_.rotation == 90 || info_.rotation == 270;
  info_.display_width = quarter ? disp_h : disp_w;
  info_.display_height = quarter ? disp_w : disp_h;
  rotation_ = options.apply_rotation ? info_.rotation : 0;
  int base_w = options.apply_rotation ? info_.display_width : disp_w;
  int base_h = options.apply_rotation ? info_.display_height : disp_h;
  out_w_ = options.width;
  out_h_ = options.height;
  if (out_w_ == 0 && out_h_ == 0) {
    out_w_ = base_w;
    out_h_ = base_h;
  } else if (out_w_ == 0) {
    out_w_ = static_cast<int>(std::max<int64_t>(1, std::llround(static_cast<double>(out_h_) * base_w / base_h)));
  } else if (out_h_ == 0) {
    out_h_ = static_cast<int>(std::max<int64_t>(1, std::llround(static_cast<double>(out_w_) * base_h / base_w)));
  }
  CUTROOM_RETURN_IF_ERROR(CheckSize(out_w_, out_h_, options.max_pixels, "output size"));

  double avg = av_q2d(stream_->avg_frame_rate), real = av_q2d(stream_->r_frame_rate);
  info_.fps = avg > 0 ? avg : (real > 0 ? real : 0);
  // As in probe.cc: an average well below the timestamp grid's rate means
  // frames are dropped or spaced unevenly.
  info_.variable_frame_rate = avg > 0 && real > 0 && std::fabs(avg - real) / real > 0.01;
  if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0) {
    info_.duration_s = static_cast<double>(stream_->duration) * av_q2d(stream_->time_base);
  } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    info_.duration_s = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  if (stream_->nb_frames > 0) {
    info_.frame_count_estimate = stream_->nb_frames;
  } else if (info_.duration_s > 0 && info_.fps > 0) {
    info_.frame_count_estimate = std::llround(info_.duration_s * info_.fps);
  }
  return Status::Ok();
}

Status VideoDecoder::Impl::NoteDecodeError(int rc) {
  if (rc == AVERROR(ENOMEM)) return AvError(rc, "decode " + path_);
  ++decode_errors_;
  last_error_ = AvError(rc, "decode " + path_);
  if (++consecutive_errors_ >= kMaxConsecutiveErrors) {
    return Status::InvalidArgument("corrupt video data: " + std::to_string(consecutive_errors_) +
                                   " packets in a row failed to decode (" + last_error_.message() + ")");
  }
  return Status::Ok();
}

Result<bool> VideoDecoder::Impl::Decode(AVFrame* out) {
  if (has_pending_) {
    av_frame_unref(out);
    av_frame_move_ref(out, pending_.get());
    has_pending_ = false;
    return true;
  }
  if (drained_) return false;
  while (true) {
    int rc = avcodec_receive_frame(dec_.get(), out);
    if (rc == 0) {
      consecutive_errors_ = 0;
      ++frames_decoded_;
      position_pts_ = PtsOf(out);
      return true;
    }
    if (rc == AVERROR_EOF) {
      drained_ = true;
      if (frames_decoded_ == 0 && decode_errors_ > 0) {
        return Status::InvalidArgument("corrupt video data: no packet decoded (" + last_error_.message() + ")");
      }
      return false;
    }
    if (rc != AVERROR(EAGAIN)) {
      CUTROOM_RETURN_IF_ERROR(NoteDecodeError(rc));
      continue;
    }
    if (demux_eof_) {
      // The flush was sent; a decoder that still wants input is broken.
      drained_ = true;
      return false;
    }
    if (!pkt_held_) {
      rc = av_read_frame(fmt_.get(), pkt_.get());
      if (rc == AVERROR_EOF) {
        demux_eof_ = true;
        rc = avcodec_send_packet(dec_.get(), nullptr);
        if (rc < 0 && rc != AVERROR_EOF) CUTROOM_RETURN_IF_ERROR(NoteDecodeError(rc));
        continue;
      }
      if (rc < 0) return AvError(rc, "read " + path_);
      if (pkt_->stream_index != stream_index_) {
        av_packet_unref(pkt_.get());
        continue;
      }
      pkt_held_ = true;
    }
    // Frames before the one FrameAt wants are never shown, so those nothing
    // else references need not be decoded at all. Frame threads copy this
    // setting when the packet is submitted, i.e. during send.
    bool skippable = skip_before_pts_ != kNoPts && pkt_->pts != AV_NOPTS_VALUE && pkt_->pts < skip_before_pts_;
    dec_->skip_frame = skippable ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    rc = avcodec_send_packet(dec_.get(), pkt_.get());
    if (rc == AVERROR(EAGAIN)) continue;  // take a frame out first, then resend
    av_packet_unref(pkt_.get());
    pkt_held_ = false;
    if (rc < 0) CUTROOM_RETURN_IF_ERROR(NoteDecodeError(rc));
  }
}

Status VideoDecoder::Impl::Seek(int64_t ts) {
  // max_ts = ts: never land after the keyframe we asked for.
  int rc = avformat_seek_file(fmt_.get(), stream_index_, INT64_MIN, ts, ts, 0);
  if (rc < 0) rc = av_seek_frame(fmt_.get(), stream_index_, ts, AVSEEK_FLAG_BACKWARD);
  // No keyframe at or before ts (or no seeking at all): from the start.
  if (rc < 0) return Rewind();
  ResetDecoder();
  return Status::Ok();
}

Status VideoDecoder::Impl::Rewind() {
  int rc = avformat_seek_file(fmt_.get(), stream_index_, INT64_MIN, INT64_MIN, INT64_MIN, 0);
  if (rc < 0) {
    // Raw streams without an index cannot seek back: open the file again.
    CUTROOM_ASSIGN_OR_RETURN(FormatContextPtr fresh, OpenInput(path_, options_.max_pixels, true));
    if (stream_index_ >= static_cast<int>(fresh->nb_streams) ||
        fresh->streams[stream_index_]->codecpar->codec_id != stream_->codecpar->codec_id ||
        av_cmp_q(fresh->streams[stream_index_]->time_base, stream_->time_base) != 0) {
      return Status::Internal("the streams of " + path_ + " changed when it was reopened");
    }
    for (unsigned i = 0; i < fresh->nb_streams; ++i) {
      if (static_cast<int>(i) != stream_index_) fresh->streams[i]->discard = AVDISCARD_ALL;
    }
    av_packet_unref(pkt_.get());  // may refer to the old demuxer's buffers
    fmt_ = std::move(fresh);
    stream_ = fmt_->streams[stream_index_];
  }
  ResetDecoder();
  return Status::Ok();
}

void VideoDecoder::Impl::ResetDecoder() {
  avcodec_flush_buffers(dec_.get());
  av_packet_unref(pkt_.get());
  pkt_held_ = false;
  av_frame_unref(pending_.get());
  has_pending_ = false;
  demux_eof_ = false;
  drained_ = false;
  position_pts_ = kNoPts;
  consecutive_errors_ = 0;
}

Status VideoDecoder::Impl::BuildIndex() {
  index_built_ = true;
  // A second demuxer: the packet scan must not disturb the decoding position.
  auto scan = OpenInput(path_, options_.max_pixels, false);
  if (!scan.ok()) return Status::Ok();  // the index is an optimisation; decode without it
  AVFormatContext* fmt = scan->get();
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index_) fmt->streams[i]->discard = AVDISCARD_ALL;
  }
  PacketPtr pkt(av_packet_alloc());
  if (!pkt) return Status::ResourceExhausted("out of memory");
  bool usable = true;
  int64_t with_time = 0, without_time = 0;
  while (usable) {
    int rc = av_read_frame(fmt, pkt.get());
    if (rc < 0) break;  // EOF, or the same damage the decoder will meet
    if (pkt->stream_index == stream_index_ && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
      ++(pkt->pts == AV_NOPTS_VALUE && pkt->dts == AV_NOPTS_VALUE ? without_time : with_time);
      if (pkt->pts == AV_NOPTS_VALUE || pts_.size() >= kMaxIndexedPackets) {
        usable = false;
      } else {
        pts_.push_back(pkt->pts);
        if (pkt->flags & AV_PKT_FLAG_KEY) key_pts_.push_back(pkt->pts);
      }
    }
    av_packet_unref(pkt.get());
  }
  // Timestamps must be comparable with the decoding demuxer's and unique.
  if (usable && (stream_index_ >= static_cast<int>(fmt->nb_streams) ||
                 av_cmp_q(fmt->streams[stream_index_]->time_base, stream_->time_base) != 0 ||
                 fmt->streams[stream_index_]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)) {
    usable = false;
  }
  std::sort(pts_.begin(), pts_.end());
  std::sort(key_pts_.begin(), key_pts_.end());
  if (usable && std::adjacent_find(pts_.begin(), pts_.end()) != pts_.end()) usable = false;
  index_usable_ = usable && !pts_.empty();
  timeless_ = !index_usable_ && without_time > 0 && with_time == 0;
  if (!index_usable_) {
    pts_.clear();
    pts_.shrink_to_fit();
    key_pts_.clear();
    key_pts_.shrink_to_fit();
  }
  return Status::Ok();
}

int64_t VideoDecoder::Impl::LimitFor(double t_s) const {
  // A thousandth of a tick absorbs the rounding of pts_s back into ticks, so
  // FrameAt(frame.pts_s) finds that frame.
  double ticks = std::clamp(t_s / av_q2d(stream_->time_base), -1e18, 1e18);
  return start_pts_ + static_cast<int64_t>(std::floor(ticks + 1e-3));
}

int64_t VideoDecoder::Impl::EstimateIndex(int64_t pts) const {
  if (pts == kNoPts || info_.fps <= 0) return 0;
  return std::max<int64_t>(0, std::llround(Seconds(pts) * info_.fps));
}

Result<VideoFrame> VideoDecoder::Impl::FrameAt(double t_s) {
  if (!std::isfinite(t_s)) return Status::InvalidArgument("frame time must be finite");
  if (!index_built_) CUTROOM_RETURN_IF_ERROR(BuildIndex());
  int64_t limit = LimitFor(t_s);
  if (index_usable_) return FrameAtIndexed(limit);
  if (timeless_) return FrameAtCounted(t_s);
  return FrameAtUnindexed(limit);
}

Result<bool> VideoDecoder::Impl::RollForward(int64_t target, int64_t limit, bool skip_nonref) {
  av_frame_unref(best_.get());
  skip_before_pts_ = skip_nonref ? target : kNoPts;
  bool hit = false;
  while (true) {
    auto got = Decode(frame_.get());
    if (!got.ok()) {
      skip_before_pts_ = kNoPts;
      return got.status();
    }
    if (!*got) break;
    int64_t p = PtsOf(frame_.get());
    if (p == kNoPts) continue;
    if (target != kNoPts && p == target) {
      hit = true;
      break;
    }
    if (p > limit || (target != kNoPts && p > target)) {
      Stash(frame_.get());  // Next() continues with it
      break;
    }
    av_frame_unref(best_.get());
    av_frame_move_ref(best_.get(), frame_.get());
  }
  skip_before_pts_ = kNoPts;
  return hit;
}

Result<VideoFrame> VideoDecoder::Impl::FrameAtIndexed(int64_t limit) {
  auto it = std::upper_bound(pts_.begin(), pts_.end(), limit);
  size_t index = it == pts_.begin() ? 0 : static_cast<size_t>(it - pts_.begin()) - 1;
  int64_t target = pts_[index];
  auto key_it = std::upper_bound(key_pts_.begin(), key_pts_.end(), target);
  int64_t key = key_it == key_pts_.begin() ? pts_.front() : *std::prev(key_it);

  // Decoding on from where the decoder stands beats seeking when the target
  // lies ahead and no keyframe sits in between (a seek would land at or
  // before the current position anyway).
  bool resume = !drained_ && position_pts_ != kNoPts && key <= position_pts_ &&
                (has_pending_ ? PtsOf(pending_.get()) <= target : position_pts_ < target);

  // Attempts: fast (skipping frames that cannot be the target), then exact
  // from the keyframe, then from further back (a seek that landed past the
  // target, a keyframe whose first frames need the previous ones), then from
  // the start.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool skip = attempt == 0 && skipping_safe_;
    const bool resumed = attempt == 0 && resume;
    if (attempt == 3) {
      CUTROOM_RETURN_IF_ERROR(Rewind());
    } else if (!resumed) {
      CUTROOM_RETURN_IF_ERROR(Seek(key - preroll_));
    }
    CUTROOM_ASSIGN_OR_RETURN(bool hit, RollForward(target, limit, skip));
    VideoFrame out;
    if (hit) {
      CUTROOM_RETURN_IF_ERROR(Emit(frame_.get(), static_cast<int64_t>(index), out));
      next_index_ = static_cast<int64_t>(index) + 1;
      return out;
    }
    if (best_->buf[0] && !skip) {
      // Decoding without skipping went past the indexed pts without
      // producing it: the decoder's timestamps differ from the packets' (or
      // that frame is undecodable). The last frame before it is the answer,
      // and skipping is unsafe from now on.
      skipping_safe_ = false;
      return EmitIndexed(best_.get(), out);
    }
    if (!best_->buf[0] && !resumed) {
      // The first frame after the seek was already past the target.
      const int64_t second = static_cast<int64_t>(1 / av_q2d(stream_->time_base));
      preroll_ = std::min(std::max(preroll_ * 2, second), 60 * second);
    }
    if (attempt == 3 && has_pending_) {
      // Nothing decodable at or before t: the first frame there is.
      CUTROOM_RETURN_IF_ERROR(EmitIndexed(pending_.get(), out));
      av_frame_unref(pending_.get());
      has_pending_ = false;
      return out;
    }
  }
  return Status::InvalidArgument("no decodable frame near " + std::to_string(Seconds(target)) + " s in " + path_);
}

Status VideoDecoder::Impl::EmitIndexed(const AVFrame* frame, VideoFrame& out) {
  int64_t p = PtsOf(frame);
  auto pos = std::lower_bound(pts_.begin(), pts_.end(), p);
  int64_t index = pos != pts_.end() && *pos == p ? pos - pts_.begin() : EstimateIndex(p);
  CUTROOM_RETURN_IF_ERROR(Emit(frame, index, out));
  next_index_ = index + 1;
  return Status::Ok();
}

Result<VideoFrame> VideoDecoder::Impl::FrameAtUnindexed(int64_t limit) {
  // Without packet timestamps the target is only known once a later frame
  // shows up, and a seek may land after t: step back until a frame <= t is
  // seen, ending at the start of the stream.
  const int64_t second = static_cast<int64_t>(1 / av_q2d(stream_->time_base));
  const int64_t steps[] = {0, 2 * second, 10 * second, 60 * second};
  for (int attempt = 0; attempt <= 4; ++attempt) {
    const bool from_start = attempt == 4 || limit - steps[std::min(attempt, 3)] <= start_pts_;
    if (from_start) {
      CUTROOM_RETURN_IF_ERROR(Rewind());
    } else {
      CUTROOM_RETURN_IF_ERROR(Seek(limit - steps[attempt]));
    }
    CUTROOM_RETURN_IF_ERROR(RollForward(kNoPts, limit, false).status());
    VideoFrame out;
    if (best_->buf[0]) {
      int64_t index = EstimateIndex(PtsOf(best_.get()));
      CUTROOM_RETURN_IF_ERROR(Emit(best_.get(), index, out));
      next_index_ = index + 1;
      return out;
    }
    if (from_start) {
      if (!has_pending_) break;
      // t is before the first frame.
      int64_t index = EstimateIndex(PtsOf(pending_.get()));
      CUTROOM_RETURN_IF_ERROR(Emit(pending_.get(), index, out));
      av_frame_unref(pending_.get());
      has_pending_ = false;
      next_index_ = index + 1;
      return out;
    }
  }
  return Status::InvalidArgument("no decodable frame in " + path_);
}

Result<VideoFrame> VideoDecoder::Impl::FrameAtCounted(double t_s) {
  // Nothing to seek by: frame n is shown at n / fps, counting from the
  // start, and reaching it means decoding everything before it.
  if (info_.fps <= 0) return Status::NotSupported("no timestamps and no frame rate in " + path_);
  const int64_t target = std::max<int64_t>(0, static_cast<int64_t>(std::floor(t_s * info_.fps + 1e-6)));
  // Every path keeps next_index_ equal to the frames taken since the start.
  if (drained_ || next_index_ > target) {
    CUTROOM_RETURN_IF_ERROR(Rewind());
    next_index_ = 0;
  }
  av_frame_unref(best_.get());
  int64_t best_index = -1;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(bool got, Decode(frame_.get()));
    if (!got) break;
    const int64_t index = next_index_++;
    if (index == target) {
      VideoFrame out;
      CUTROOM_RETURN_IF_ERROR(Emit(frame_.get(), index, out));
      return out;
    }
    av_frame_unref(best_.get());
    av_frame_move_ref(best_.get(), frame_.get());
    best_index = index;
  }
  if (best_index < 0) return Status::InvalidArgument("no decodable frame in " + path_);
  VideoFrame out;  // t is past the end: the last frame
  CUTROOM_RETURN_IF_ERROR(Emit(best_.get(), best_index, out));
  return out;
}

Result<bool> VideoDecoder::Impl::Next(VideoFrame& out) {
  CUTROOM_ASSIGN_OR_RETURN(bool got, Decode(frame_.get()));
  if (!got) return false;
  CUTROOM_RETURN_IF_ERROR(Emit(frame_.get(), next_index_, out));
  ++next_index_;
  return true;
}

Result<bool> VideoDecoder::Impl::NextRaw(RawPicture& out) {
  CUTROOM_ASSIGN_OR_RETURN(bool got, Decode(frame_.get()));
  if (!got) return false;
  const AVFrame* f = frame_.get();
  CUTROOM_RETURN_IF_ERROR(CheckSize(f->width, f->height, options_.max_pixels, "decoded frame"));
  out.index = next_index_++;
  int64_t p = PtsOf(f);
  out.pts_s = p != kNoPts ? Seconds(p) : (info_.fps > 0 ? static_cast<double>(out.index) / info_.fps : 0.0);
  out.width = f->width;
  out.height = f->height;
  bool full_range = f->color_range == AVCOL_RANGE_JPEG;
  out.pixel_format = WithoutJ(static_cast<AVPixelFormat>(f->format), full_range);
  out.full_range = full_range;
  out.planes = f->data;
  out.linesize = f->linesize;
  return true;
}

Status VideoDecoder::Impl::Emit(const AVFrame* frame, int64_t index, VideoFrame& out) {
  CUTROOM_RETURN_IF_ERROR(CheckSize(frame->width, frame->height, options_.max_pixels, "decoded frame"));
  const int ch = ChannelsOf(options_.format);
  const bool quarter = rotation_ == 90 || rotation_ == 270;
  const int pre_w = quarter ? out_h_ : out_w_, pre_h = quarter ? out_w_ : out_h_;
  out.width = out_w_;
  out.height = out_h_;
  out.format = options_.format;
  out.index = index;
  int64_t p = PtsOf(frame);
  out.pts_s = p != kNoPts ? Seconds(p) : (info_.fps > 0 ? static_cast<double>(index) / info_.fps : 0.0);
  out.pixels.resize(static_cast<size_t>(out_w_) * out_h_ * ch);
  uint8_t* dst = out.pixels.data();
  if (rotation_ != 0) {
    scratch_.resize(out.pixels.size());
    dst = scratch_.data();
  }
  SourceImage src{frame->data, frame->linesize, frame->width, frame->height,
                  static_cast<AVPixelFormat>(frame->format), frame->colorspace, frame->color_range};
  CUTROOM_RETURN_IF_ERROR(scaler_.Convert(src, pre_w, pre_h, options_.format, dst));
  if (rotation_ != 0) RotatePacked(scratch_.data(), pre_w, pre_h, ch, rotation_, out.pixels.data());
  return Status::Ok();
}

VideoDecoder::VideoDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoDecoder::~VideoDecoder() = default;

Result<std::unique_ptr<VideoDecoder>> VideoDecoder::Open(const std::string& path, const DecodeOptions& options) {
  auto impl = std::make_unique<Impl>();
  CUTROOM_RETURN_IF_ERROR(impl->Init(path, options));
  return std::unique_ptr<VideoDecoder>(new VideoDecoder(std::move(impl)));
}

const VideoStreamInfo& VideoDecoder::info() const { return impl_->info_; }
Result<bool> VideoDecoder::Next(VideoFrame& out) { return impl_->Next(out); }
Result<bool> VideoDecoder::NextRaw(RawPicture& out) { return impl_->NextRaw(out); }
Result<VideoFrame> VideoDecoder::FrameAt(double t_s) { return impl_->FrameAt(t_s); }

Result<VideoFrame> ResizeFrame(const VideoFrame& in, int width, int height, PixelFormat format) {
  const int ch = ChannelsOf(in.format);
  if (in.width <= 0 || in.height <= 0 ||
      in.pixels.size() != static_cast<size_t>(in.width) * in.height * ch) {
    return Status::InvalidArgument("frame pixels do not match its size");
  }
  CUTROOM_RETURN_IF_ERROR(CheckSize(width, height, DecodeOptions{}.max_pixels, "output size"));
  // swscale reads past the end of packed rows: convert from a padded copy.
  PaddedImage padded;
  CUTROOM_RETURN_IF_ERROR(padded.Allocate(in.width, in.height, ch));
  padded.CopyFromPacked(in.pixels.data());
  const uint8_t* data[4] = {padded.data(), nullptr, nullptr, nullptr};
  int linesize[4] = {padded.linesize(), 0, 0, 0};
  SourceImage src{data, linesize, in.width, in.height, ToAvPixelFormat(in.format), AVCOL_SPC_RGB,
                  AVCOL_RANGE_JPEG};
  VideoFrame out;
  out.pts_s = in.pts_s;
  out.index = in.index;
  out.width = width;
  out.height = height;
  out.format = format;
  out.pixels.resize(static_cast<size_t>(width) * height * ChannelsOf(format));
  Scaler scaler;
  CUTROOM_RETURN_IF_ERROR(scaler.Convert(src, width, height, format, out.pixels.data()));
  return out;
}

}  // namespace cutroom::media
