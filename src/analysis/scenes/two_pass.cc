#include "analysis/scenes/two_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "analysis/scenes/analysis_frame.h"
#include "media/av_util.h"
#include "media/remote_input.h"

namespace cutroom::analysis::scenes {
namespace {

// Frames of a steady tail decoded before deciding whether to skip the rest.
constexpr int kSamples = 5;
// Packets of a steady tail are all within this factor of each other.
constexpr double kSteadyRatio = 3.0;
// Packet sizes below this many bytes per pixel count as this: tiny frames
// (a still shot) vary a lot relative to their size and mean the same thing.
constexpr double kSizeFloorPerPixel = 1.0 / 2000.0;
// Decoding cost of a frame in bytes of bitstream: its size plus this much
// a pixel for what every frame costs (prediction, reconstruction, output);
// on 1080p H.264 a still frame costs about as much as 16 kB of entropy
// decoding.
constexpr double kCostPerPixel = 0.008;
// Tails shorter than this many frames after the samples are not worth a
// keyframe decode.
constexpr int64_t kMinSkipFrames = 8;
// Without `force`, two passes only when they would skip this share of the
// decoding cost.
constexpr double kMinSkipShare = 0.1;
// After this many tried GOPs in a row that had to be decoded in full, stop
// trying (each try costs a keyframe decode).
constexpr int kMaxMissesInARow = 4;
// A frame whose content score against its neighbour stays under this is
// still (compression noise); twin comparison's low threshold.
constexpr double kStill = 0.8;
// A cut must stand out from the change between frames of the shot before it
// by this factor (the detector's StandsOut).
constexpr double kStandOut = 1.5;
constexpr size_t kMaxPackets = 3'000'000;
constexpr int kMaxSeekPackets = 100'000;
// Work is handed out in runs of whole GOPs of at least this many frames.
constexpr int64_t kMinUnitFrames = 64;
// Decoded frames a worker may hold for the consumer before it waits (about
// 28 kB each at 128 px), and units taken ahead of the one being consumed.
constexpr size_t kMaxQueued = 256;
constexpr int kMaxWorkers = 16;
// Decoder memory the workers may take together: each holds its own
// reference frames (about 20 pictures at most).
constexpr double kWorkerMemoryBytes = 2.0 * 1024 * 1024 * 1024;

// FailedPrecondition: the stream does not suit two passes after all, and
// DetectScenes decodes every frame instead.
Status Unsuitable(const std::string& why) { return Status::FailedPrecondition(why); }

struct Packet {
  int64_t pts = 0;
  int64_t size = 0;
  bool key = false;
};

struct Gop {
  size_t first = 0;  // packets [first, end), decode order; first is the keyframe
  size_t end = 0;
  size_t steady_from = 0;  // first packet of the steady tail (end: none)
  bool try_skip = false;
  bool next_key_periodic = true;  // the next GOP's keyframe may be a scheduled one
  // Closed GOPs: the frames of GOP g are displays [first, end) too.
  int64_t key_display() const { return static_cast<int64_t>(first); }
  int64_t frames() const { return static_cast<int64_t>(end - first); }
};

// What pass 1 found and decided, read-only while the workers run.
struct Plan {
  std::string path;
  SceneParams params;
  const AVCodecParameters* codecpar = nullptr;  // the probing demuxer's, after find_stream_info
  int stream_index = -1;
  AVRational time_base{0, 1};
  int64_t start_pts = 0;
  int downscale = 1;
  std::vector<Packet> packets;        // decode order
  std::vector<int64_t> display_pts;   // pts of each display index (sorted)
  std::vector<size_t> packet_of_display;
  std::vector<Gop> gops;
  std::vector<std::pair<size_t, size_t>> units;  // GOPs [first, second)

  double Seconds(int64_t pts) const { return static_cast<double>(pts - start_pts) * av_q2d(time_base); }
  int64_t DisplayOf(size_t packet) const {
    return std::lower_bound(display_pts.begin(), display_pts.end(), packets[packet].pts) - display_pts.begin();
  }
  double CutLevel() const {
    return params.detector == DetectorKind::kContent && params.threshold >= 0 ? params.threshold
                                                                             : DefaultThreshold(DetectorKind::kContent);
  }
};

// A unit's output, in display order: a decoded frame, or stand-ins for
// displays [frame.index, stand_in_to) made of the last kSamples decoded
// frames (`cycle`, oldest first), so that the detector sees the shot change
// from frame to frame as much as it did (noise, grain) and nothing more.
struct Item {
  AnalysisFrame frame;
  int64_t stand_in_to = -1;
  std::vector<AnalysisFrame> cycle;
};

// Between the workers and the consumer.
struct Exchange {
  struct Output {
    std::vector<Item> items;
    bool done = false;
    Status status;
  };
  std::mutex mu;
  std::condition_variable cv;
  size_t next_unit = 0;  // the next unit a worker takes
  size_t head = 0;       // the unit the consumer reads
  size_t ahead = 0;      // how far past head workers may start
  bool stop = false;
  std::vector<Output> out;
  std::atomic<int> misses_in_a_row{0};
  std::atomic<int> tried{0};
  std::atomic<int> skipped{0};
};

Status Stopped() { return Status::Cancelled("stopped"); }

// Decodes units, one at a time, with a decoder of its own (one thread).
class Worker {
 public:
  Worker(const Plan& plan, Exchange& x) : plan_(plan), x_(x) {}
  void Run();

 private:
  Status Open();
  Status OpenDemuxer(media::FormatContextPtr& fmt) const;
  Status OpenDecoder(media::CodecContextPtr& ctx) const;
  Status RunUnit(size_t u);
  Status RunGop(size_t g);
  Status SeekTo(size_t packet);
  Status ReadPacket(size_t i);
  Status Send(const AVPacket* pkt);
  Status ReceiveAvailable();
  Status OnFrame(const AVFrame* f);
  Status Emit(Item item);
  Status ToAnalysisFrame(const AVFrame* f, int64_t display, AnalysisFrame& out) const;
  // Whether the rest of the GOP may be skipped, judged on the last
  // kSamples frames decoded and the next keyframe (decoded once, on the
  // first call for a GOP).
  bool Decide(bool peek);
  bool PeekKeyframe(size_t packet, AnalysisFrame& out);
  size_t ContiguousStop(const Gop& gop, size_t from) const;

  const Plan& plan_;
  Exchange& x_;
  media::FormatContextPtr fmt_, peek_fmt_;
  media::CodecContextPtr dec_, peek_dec_;
  media::PacketPtr pkt_;
  media::FramePtr frame_;
  size_t next_packet_ = 0;  // the packet fmt_ reads next
  bool held_ = false;       // pkt_ holds packet next_packet_ - 1, not yet returned

  size_t unit_ = 0;
  size_t gop_ = 0;
  int64_t next_display_ = 0;
  bool trying_ = false;
  bool decided_ = false;
  bool skip_ = false;
  bool peeked_ok_ = false;
  int run_ = 0;  // frames of the steady tail decoded in a row
  int64_t emit_from_ = 0;  // frames before this display were emitted already (a GOP decoded again)
  std::array<AnalysisFrame, kSamples> recent_;  // the last decoded frames, by display % kSamples
  AnalysisFrame current_, peeked_;
};

void Worker::Run() {
  const Status opened = Open();
  while (true) {
    size_t u;
    {
      std::unique_lock lock(x_.mu);
      x_.cv.wait(lock, [&] { return x_.stop || x_.next_unit >= plan_.units.size() || x_.next_unit <= x_.head + x_.ahead; });
      if (x_.stop || x_.next_unit >= plan_.units.size()) return;
      u = x_.next_unit++;
    }
    Status st = opened.ok() ? RunUnit(u) : opened;
    {
      std::lock_guard lock(x_.mu);
      x_.out[u].done = true;
      x_.out[u].status = st;
    }
    x_.cv.notify_all();
    if (!st.ok()) return;
  }
}

Status Worker::OpenDemuxer(media::FormatContextPtr& fmt) const {
  auto opened = media::OpenMedia(plan_.path);
  if (!opened.ok()) return Unsuitable(opened.status().message());
  fmt = std::move(*opened);
  const int s = plan_.stream_index;
  if (s >= static_cast<int>(fmt->nb_streams) || av_cmp_q(fmt->streams[s]->time_base, plan_.time_base) != 0 ||
      fmt->streams[s]->codecpar->codec_id != plan_.codecpar->codec_id) {
    return Unsuitable("the file reads differently when opened again");
  }
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (static_cast<int>(i) != s) fmt->streams[i]->discard = AVDISCARD_ALL;
  }
  return Status::Ok();
}

Status Worker::OpenDecoder(media::CodecContextPtr& ctx) const {
  const AVCodec* codec = avcodec_find_decoder(plan_.codecpar->codec_id);
  if (!codec) return Unsuitable("no decoder");
  ctx.reset(avcodec_alloc_context3(codec));
  if (!ctx) return Status::ResourceExhausted("out of memory");
  if (avcodec_parameters_to_context(ctx.get(), plan_.codecpar) < 0) return Unsuitable("decoder parameters");
  ctx->pkt_timebase = plan_.time_base;
  ctx->thread_count = 1;  // the workers are the threads
  ctx->max_pixels = media::DecodeOptions{}.max_pixels;
  ctx->skip_loop_filter = AVDISCARD_ALL;  // as AnalysisFrameSource decodes
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return Unsuitable("cannot open the decoder");
  return Status::Ok();
}

Status Worker::Open() {
  CUTROOM_RETURN_IF_ERROR(OpenDemuxer(fmt_));
  CUTROOM_RETURN_IF_ERROR(OpenDemuxer(peek_fmt_));
  CUTROOM_RETURN_IF_ERROR(OpenDecoder(dec_));
  CUTROOM_RETURN_IF_ERROR(OpenDecoder(peek_dec_));
  pkt_.reset(av_packet_alloc());
  frame_.reset(av_frame_alloc());
  if (!pkt_ || !frame_) return Status::ResourceExhausted("out of memory");
  return Status::Ok();
}

Status Worker::SeekTo(size_t packet) {
  if (packet == next_packet_) return Status::Ok();
  const int64_t ts = plan_.packets[packet].pts;
  if (avformat_seek_file(fmt_.get(), plan_.stream_index, INT64_MIN, ts, ts, 0) < 0) return Unsuitable("seek failed");
  held_ = false;
  for (int n = 0; n < kMaxSeekPackets; ++n) {
    av_packet_unref(pkt_.get());
    if (av_read_frame(fmt_.get(), pkt_.get()) < 0) break;
    if (pkt_->stream_index != plan_.stream_index) continue;
    if (pkt_->pts == ts) {
      held_ = true;
      next_packet_ = packet + 1;
      return Status::Ok();
    }
  }
  return Unsuitable("a seek did not find its keyframe");
}

Status Worker::ReadPacket(size_t i) {
  if (held_ && next_packet_ == i + 1) {
    held_ = false;
    return Status::Ok();
  }
  if (i != next_packet_) return Unsuitable("packets out of order");
  while (true) {
    av_packet_unref(pkt_.get());
    if (av_read_frame(fmt_.get(), pkt_.get()) < 0) return Unsuitable("the stream ended before the packet scan did");
    if (pkt_->stream_index == plan_.stream_index) break;
  }
  if (pkt_->pts != plan_.packets[i].pts) return Unsuitable("packets differ from the packet scan");
  next_packet_ = i + 1;
  return Status::Ok();
}

Status Worker::Send(const AVPacket* pkt) {
  while (true) {
    int rc = avcodec_send_packet(dec_.get(), pkt);
    if (rc == AVERROR(EAGAIN)) {
      CUTROOM_RETURN_IF_ERROR(ReceiveAvailable());  // frames out first, then the packet goes in
      continue;
    }
    if (rc < 0) return Unsuitable("decoding error");
    break;
  }
  return ReceiveAvailable();
}

Status Worker::ReceiveAvailable() {
  while (true) {
    int rc = avcodec_receive_frame(dec_.get(), frame_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return Unsuitable("decoding error");
    Status st = OnFrame(frame_.get());
    av_frame_unref(frame_.get());
    CUTROOM_RETURN_IF_ERROR(st);
  }
}

Status Worker::ToAnalysisFrame(const AVFrame* f, int64_t display, AnalysisFrame& out) const {
  if (f->width <= 0 || f->height <= 0 ||
      static_cast<int64_t>(f->width) * f->height > media::DecodeOptions{}.max_pixels) {
    return Unsuitable("decoded frame size");
  }
  bool full_range = f->color_range == AVCOL_RANGE_JPEG;
  AVPixelFormat format = media::WithoutJ(static_cast<AVPixelFormat>(f->format), full_range);
  if (!CanShrinkPlanar(format)) return Unsuitable("pixel format");
  media::RawPicture pic;
  pic.index = display;
  pic.pts_s = plan_.Seconds(plan_.display_pts[static_cast<size_t>(display)]);
  pic.width = f->width;
  pic.height = f->height;
  pic.pixel_format = format;
  pic.full_range = full_range;
  pic.planes = f->data;
  pic.linesize = f->linesize;
  ShrinkPlanar(pic, plan_.downscale, out);
  return Status::Ok();
}

Status Worker::Emit(Item item) {
  {
    std::unique_lock lock(x_.mu);
    x_.cv.wait(lock, [&] { return x_.stop || unit_ == x_.head || x_.out[unit_].items.size() < kMaxQueued; });
    if (x_.stop) return Stopped();
    x_.out[unit_].items.push_back(std::move(item));
  }
  x_.cv.notify_all();
  return Status::Ok();
}

Status Worker::OnFrame(const AVFrame* f) {
  const int64_t pts = f->best_effort_timestamp;
  const auto& dp = plan_.display_pts;
  auto it = std::lower_bound(dp.begin(), dp.end(), pts);
  if (it == dp.end() || *it != pts || it - dp.begin() != next_display_) {
    return Unsuitable("a frame came out of order or was lost");
  }
  CUTROOM_RETURN_IF_ERROR(ToAnalysisFrame(f, next_display_, current_));
  recent_[static_cast<size_t>(next_display_ % kSamples)] = current_;
  const Gop& gop = plan_.gops[gop_];
  const bool in_tail = next_display_ >= gop.key_display() && next_display_ < gop.key_display() + gop.frames() &&
                       plan_.packet_of_display[static_cast<size_t>(next_display_)] >= gop.steady_from;
  run_ = in_tail ? run_ + 1 : 0;
  ++next_display_;
  if (next_display_ > emit_from_) CUTROOM_RETURN_IF_ERROR(Emit(Item{current_}));
  if (trying_ && !decided_ && run_ >= kSamples) {
    decided_ = true;
    skip_ = Decide(true);
  }
  return Status::Ok();
}

bool Worker::Decide(bool peek) {
  std::array<const AnalysisFrame*, kSamples> s;
  for (int k = 0; k < kSamples; ++k) {
    s[static_cast<size_t>(k)] = &recent_[static_cast<size_t>((next_display_ - kSamples + k) % kSamples)];
  }
  double sum = 0, most = 0;
  for (size_t k = 0; k + 1 < kSamples; ++k) {
    const double d = SceneDetector::ContentScore(*s[k], *s[k + 1]);
    sum += d;
    most = std::max(most, d);
  }
  const double mean = sum / (kSamples - 1);
  // How much one more frame of this shot may differ from the last sample:
  // still frames by compression noise, noisy ones by their noise.
  const double level = std::max(kStill, kStandOut * mean);
  // Stationary: the first and last samples differ no more than neighbours
  // do (no pan, zoom or fade under way), and every change is well below a
  // cut, so that stand-ins made of these frames cannot add one.
  const double drift = SceneDetector::ContentScore(*s[0], *s[kSamples - 1]);
  const double half_cut = plan_.CutLevel() / 2;
  if (drift > level || most > 2 * level || level > half_cut || most > half_cut) return false;
  if (peek) peeked_ok_ = PeekKeyframe(plan_.gops[gop_ + 1].first, peeked_);
  if (!peeked_ok_) return false;
  // Nothing happened (the keyframe is one more frame of this shot), or a
  // cut on the keyframe, which the encoder put where no schedule would.
  const double to_key = SceneDetector::ContentScore(*s[kSamples - 1], peeked_);
  const bool same = to_key <= level;
  const bool cut = !plan_.gops[gop_].next_key_periodic && to_key >= plan_.CutLevel() && to_key >= kStandOut * level;
  return same || cut;
}

bool Worker::PeekKeyframe(size_t packet, AnalysisFrame& out) {
  const int64_t ts = plan_.packets[packet].pts;
  AVFormatContext* fmt = peek_fmt_.get();
  if (avformat_seek_file(fmt, plan_.stream_index, INT64_MIN, ts, ts, 0) < 0) return false;
  media::PacketPtr pkt(av_packet_alloc());
  media::FramePtr frame(av_frame_alloc());
  if (!pkt || !frame) return false;
  bool found = false;
  for (int n = 0; n < kMaxSeekPackets && !found; ++n) {
    av_packet_unref(pkt.get());
    if (av_read_frame(fmt, pkt.get()) < 0) return false;
    found = pkt->stream_index == plan_.stream_index && pkt->pts == ts;
  }
  AVCodecContext* dec = peek_dec_.get();
  bool ok = found && (pkt->flags & AV_PKT_FLAG_KEY) && avcodec_send_packet(dec, pkt.get()) >= 0 &&
            avcodec_send_packet(dec, nullptr) >= 0 && avcodec_receive_frame(dec, frame.get()) >= 0 &&
            frame->best_effort_timestamp == ts &&
            ToAnalysisFrame(frame.get(), static_cast<int64_t>(packet), out).ok();
  avcodec_flush_buffers(dec);
  return ok;
}

size_t Worker::ContiguousStop(const Gop& gop, size_t from) const {
  // The decoded part must be displays key_display.. without holes: B-frames
  // shown before a P-frame are decoded after it.
  int64_t most = -1;
  for (size_t i = gop.first; i < gop.end; ++i) {
    most = std::max(most, plan_.DisplayOf(i));
    if (i + 1 >= from && most == gop.key_display() + static_cast<int64_t>(i - gop.first)) return i + 1;
  }
  return gop.end;
}

Status Worker::RunUnit(size_t u) {
  unit_ = u;
  const auto [first_gop, end_gop] = plan_.units[u];
  const Gop& first = plan_.gops[first_gop];
  const Gop& last = plan_.gops[end_gop - 1];
  CUTROOM_RETURN_IF_ERROR(SeekTo(first.first));
  next_display_ = first.key_display();
  for (size_t g = first_gop; g < end_gop; ++g) CUTROOM_RETURN_IF_ERROR(RunGop(g));
  CUTROOM_RETURN_IF_ERROR(Send(nullptr));
  avcodec_flush_buffers(dec_.get());
  if (next_display_ != last.key_display() + last.frames()) return Unsuitable("the decoder lost frames");
  return Status::Ok();
}

Status Worker::RunGop(size_t g) {
  const Gop& gop = plan_.gops[g];
  gop_ = g;
  trying_ = gop.try_skip && x_.misses_in_a_row < kMaxMissesInARow;
  decided_ = skip_ = peeked_ok_ = false;
  run_ = 0;
  size_t i = gop.first;
  while (i < gop.end && !skip_) {
    CUTROOM_RETURN_IF_ERROR(ReadPacket(i));
    ++i;
    CUTROOM_RETURN_IF_ERROR(Send(pkt_.get()));
  }
  if (trying_) {
    ++x_.tried;
    if (!skip_) ++x_.misses_in_a_row;
  }
  if (!skip_) return Status::Ok();
  const size_t stop = ContiguousStop(gop, i);
  for (; i < stop; ++i) {
    CUTROOM_RETURN_IF_ERROR(ReadPacket(i));
    CUTROOM_RETURN_IF_ERROR(Send(pkt_.get()));
  }
  if (stop >= gop.end) return Status::Ok();
  // Drain what the decoder holds and start afresh at the next keyframe.
  CUTROOM_RETURN_IF_ERROR(Send(nullptr));
  avcodec_flush_buffers(dec_.get());
  if (next_display_ != gop.key_display() + static_cast<int64_t>(stop - gop.first)) {
    return Unsuitable("the decoder held frames back");
  }
  // The frames decoded since the decision must agree with it: they are the
  // ones the stand-ins repeat.
  if (!Decide(false)) {
    ++x_.misses_in_a_row;
    emit_from_ = next_display_;
    next_display_ = gop.key_display();
    trying_ = false;
    CUTROOM_RETURN_IF_ERROR(SeekTo(gop.first));
    for (i = gop.first; i < gop.end; ++i) {
      CUTROOM_RETURN_IF_ERROR(ReadPacket(i));
      CUTROOM_RETURN_IF_ERROR(Send(pkt_.get()));
    }
    return Status::Ok();
  }
  ++x_.skipped;
  x_.misses_in_a_row = 0;
  Item stand_in;
  stand_in.frame.index = next_display_;
  stand_in.stand_in_to = gop.key_display() + gop.frames();
  for (int64_t d = next_display_ - kSamples; d < next_display_; ++d) {
    stand_in.cycle.push_back(recent_[static_cast<size_t>(d % kSamples)]);
  }
  next_display_ = stand_in.stand_in_to;
  CUTROOM_RETURN_IF_ERROR(Emit(std::move(stand_in)));
  for (; i < gop.end; ++i) CUTROOM_RETURN_IF_ERROR(ReadPacket(i));
  return Status::Ok();
}

// Pass 1 on the calling thread, then pass 2's workers, whose frames the
// calling thread hands to the detector in display order.
class TwoPass {
 public:
  TwoPass(std::string path, const SceneParams& params, const DetectProgress& progress,
          const DetectCancelled& cancelled)
      : progress_(progress), cancelled_(cancelled) {
    plan_.path = std::move(path);
    plan_.params = params;
  }

  Status Open();
  Status Scan();
  Status MakePlan(bool force);
  Status Run();
  TwoPassResult Take() &&;

 private:
  Status Consume(Exchange& x);
  // Hands `frame` to the detector as the next display, with its time.
  Status Push(AnalysisFrame& frame);
  double Cost(size_t i) const { return static_cast<double>(plan_.packets[i].size) + pixels_ * kCostPerPixel; }

  Plan plan_;
  DetectProgress progress_;
  DetectCancelled cancelled_;
  media::FormatContextPtr fmt_;
  double pixels_ = 0;
  media::VideoStreamInfo info_;
  std::optional<SceneDetector> detector_;
  int64_t next_display_ = 0;
  int64_t frames_decoded_ = 0;
  int workers_ = 1;
};

Status TwoPass::Open() {
  auto opened = media::OpenMedia(plan_.path);
  if (!opened.ok()) return Unsuitable(opened.status().message());
  fmt_ = std::move(*opened);
  const int64_t max_pixels = media::DecodeOptions{}.max_pixels;
  {
    media::StreamInfoOptions stream_opts(fmt_->nb_streams, max_pixels);
    if (avformat_find_stream_info(fmt_.get(), stream_opts.data()) < 0) return Unsuitable("no stream info");
  }
  // The stream VideoDecoder picks.
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* st = fmt_->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (st->disposition & AV_DISPOSITION_ATTACHED_PIC)) continue;
    if (st->codecpar->codec_id == AV_CODEC_ID_NONE || !avcodec_find_decoder(st->codecpar->codec_id)) continue;
    plan_.stream_index = static_cast<int>(i);
    break;
  }
  if (plan_.stream_index < 0) return Unsuitable("no decodable video stream");
  const AVStream* stream = fmt_->streams[plan_.stream_index];
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    if (static_cast<int>(i) != plan_.stream_index) fmt_->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVCodecParameters* par = stream->codecpar;
  if (par->width <= 0 || par->height <= 0 || par->width > 32768 || par->height > 32768 ||
      static_cast<int64_t>(par->width) * par->height > max_pixels) {
    return Unsuitable("frame size");
  }
  plan_.codecpar = par;
  plan_.time_base = stream->time_base;
  plan_.start_pts = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  pixels_ = static_cast<double>(par->width) * par->height;

  // The same stream description as VideoDecoder's (decoder.cc).
  AVRational sar = av_guess_sample_aspect_ratio(fmt_.get(), const_cast<AVStream*>(stream), nullptr);
  int disp_w = par->width, disp_h = par->height;
  if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
    disp_w = static_cast<int>(std::clamp<int64_t>(std::llround(par->width * av_q2d(sar)), 1, 32768));
  }
  info_.rotation = media::DisplayRotation(stream);
  const bool quarter = info_.rotation == 90 || info_.rotation == 270;
  info_.display_width = quarter ? disp_h : disp_w;
  info_.display_height = quarter ? disp_w : disp_h;
  double avg = av_q2d(stream->avg_frame_rate), real = av_q2d(stream->r_frame_rate);
  info_.fps = avg > 0 ? avg : (real > 0 ? real : 0);
  info_.variable_frame_rate = avg > 0 && real > 0 && std::fabs(avg - real) / real > 0.01;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    info_.duration_s = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    info_.duration_s = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  if (plan_.params.downscale < 0 || plan_.params.downscale > 64) return Unsuitable("downscale");
  plan_.downscale = AnalysisDownscale(info_, plan_.params.downscale);

  int threads = plan_.params.threads > 0 ? plan_.params.threads : static_cast<int>(std::thread::hardware_concurrency());
  const double per_worker = pixels_ * 1.5 * 20;
  threads = std::min({threads, kMaxWorkers, static_cast<int>(kWorkerMemoryBytes / per_worker)});
  workers_ = std::max(1, threads);
  return Status::Ok();
}

Status TwoPass::Scan() {
  AVFormatContext* fmt = fmt_.get();
  const int s = plan_.stream_index;
  media::PacketPtr pkt(av_packet_alloc());
  if (!pkt) return Status::ResourceExhausted("out of memory");
  auto& packets = plan_.packets;
  while (true) {
    int rc = av_read_frame(fmt, pkt.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return Unsuitable("packet scan failed");
    if (pkt->stream_index == s) {
      if (pkt->pts == AV_NOPTS_VALUE || (pkt->flags & (AV_PKT_FLAG_DISCARD | AV_PKT_FLAG_CORRUPT))) {
        av_packet_unref(pkt.get());
        return Unsuitable("packets without timestamps, to discard or corrupt");
      }
      if (packets.size() >= kMaxPackets) return Unsuitable("too many packets");
      packets.push_back({pkt->pts, pkt->size, (pkt->flags & AV_PKT_FLAG_KEY) != 0});
    }
    av_packet_unref(pkt.get());
    if (cancelled_ && (packets.size() & 1023) == 0 && cancelled_()) return Status::Cancelled("scene detection cancelled");
  }
  if (packets.size() < 2 || !packets.front().key) return Unsuitable("does not start with a keyframe");
  auto& dp = plan_.display_pts;
  dp.reserve(packets.size());
  for (const auto& p : packets) dp.push_back(p.pts);
  std::sort(dp.begin(), dp.end());
  if (std::adjacent_find(dp.begin(), dp.end()) != dp.end()) return Unsuitable("repeated timestamps");
  plan_.packet_of_display.resize(packets.size());
  for (size_t i = 0; i < packets.size(); ++i) plan_.packet_of_display[static_cast<size_t>(plan_.DisplayOf(i))] = i;
  return Status::Ok();
}

Status TwoPass::MakePlan(bool force) {
  const auto& packets = plan_.packets;
  auto& gops = plan_.gops;
  for (size_t i = 0; i < packets.size(); ++i) {
    if (!packets[i].key) continue;
    if (!gops.empty()) gops.back().end = i;
    gops.push_back({i, packets.size()});
  }
  // Closed GOPs only: each one's frames are the displays from its keyframe
  // to the next one's, so a GOP decodes alone and skipping the end of one
  // never starves another.
  for (const Gop& gop : gops) {
    for (size_t i = gop.first; i < gop.end; ++i) {
      auto d = plan_.DisplayOf(i);
      if (d < gop.key_display() || d >= gop.key_display() + gop.frames()) return Unsuitable("open GOPs");
    }
  }
  if (gops.size() < 2) return Unsuitable("one GOP");
  // Keyframes an encoder places on a schedule come at the longest distance
  // (in frames or in time); the others were placed where the picture
  // changed (x264's scenecut and the like).
  int64_t max_frames = 0;
  double max_seconds = 0;
  auto seconds_of = [&](size_t g) {
    return plan_.Seconds(packets[gops[g + 1].first].pts) - plan_.Seconds(packets[gops[g].first].pts);
  };
  for (size_t g = 0; g + 1 < gops.size(); ++g) {
    max_frames = std::max(max_frames, gops[g].frames());
    max_seconds = std::max(max_seconds, seconds_of(g));
  }
  const double frame_s = info_.fps > 0 ? 1.0 / info_.fps : 0.0;
  const double floor = std::max(64.0, pixels_ * kSizeFloorPerPixel);
  double total = 0, skippable = 0;
  for (size_t i = 0; i < packets.size(); ++i) total += Cost(i);
  for (size_t g = 0; g < gops.size(); ++g) {
    Gop& gop = gops[g];
    gop.steady_from = gop.end;
    if (g + 1 == gops.size()) break;  // nothing after it to check a skip against
    gop.next_key_periodic = gop.frames() >= max_frames - 1 || seconds_of(g) >= max_seconds - 1.5 * frame_s;
    size_t a = gop.end;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    while (a - 1 > gop.first) {
      const double v = std::max(static_cast<double>(packets[a - 1].size), floor);
      const double nlo = std::min(lo, v), nhi = std::max(hi, v);
      if (nhi > kSteadyRatio * nlo) break;
      lo = nlo;
      hi = nhi;
      --a;
    }
    gop.steady_from = a;
    // A perceptual hash of a flat or noisy picture flips bits from frame to
    // frame, and stand-ins cannot tell the hash detector how much: it gets
    // every frame decoded (in parallel all the same).
    if (plan_.params.detector == DetectorKind::kHash) continue;
    // What a skip would save at best: the tail after the samples (and the
    // frames a decoder holds back), against the keyframe decode it takes.
    const size_t skip_from = std::min(gop.end, a + kSamples + 4);
    if (static_cast<int64_t>(gop.end - skip_from) < kMinSkipFrames) continue;
    double saving = 0;
    for (size_t i = skip_from; i < gop.end; ++i) saving += Cost(i);
    if (saving < 2 * Cost(gops[g + 1].first)) continue;
    gop.try_skip = true;
    skippable += saving;
  }
  if (skippable <= 0 && !force) return Unsuitable("nothing to skip");
  if (!force && skippable < kMinSkipShare * total) return Unsuitable("too little to skip");
  for (size_t g = 0; g < gops.size();) {
    size_t end = g;
    int64_t frames = 0;
    while (end < gops.size() && frames < kMinUnitFrames) frames += gops[end++].frames();
    plan_.units.emplace_back(g, end);
    g = end;
  }
  return Status::Ok();
}

Status TwoPass::Run() {
  detector_.emplace(DetectorOptionsFor(plan_.params, info_.fps));
  Exchange x;
  x.out.resize(plan_.units.size());
  x.ahead = static_cast<size_t>(2 * workers_);
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  const int n = std::min<int>(workers_, static_cast<int>(plan_.units.size()));
  for (int i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<Worker>(plan_, x));
    threads.emplace_back([w = workers.back().get()] { w->Run(); });
  }
  Status st = Consume(x);
  {
    std::lock_guard lock(x.mu);
    x.stop = true;
  }
  x.cv.notify_all();
  for (auto& t : threads) t.join();
  CUTROOM_RETURN_IF_ERROR(st);
  detector_->Finish();
  spdlog::debug("scenes: {}: decoded {} of {} frames with {} worker(s); skipped the tails of {} of {} GOPs tried",
                plan_.path, frames_decoded_, plan_.packets.size(), n, x.skipped.load(), x.tried.load());
  return Status::Ok();
}

Status TwoPass::Push(AnalysisFrame& frame) {
  frame.index = next_display_;
  frame.pts_s = plan_.Seconds(plan_.display_pts[static_cast<size_t>(next_display_)]);
  detector_->Push(frame);
  if ((++next_display_ & 31) == 0) {
    if (cancelled_ && cancelled_()) return Status::Cancelled("scene detection cancelled");
    if (progress_ && info_.duration_s > 0) progress_(std::clamp(frame.pts_s / info_.duration_s, 0.0, 1.0));
  }
  return Status::Ok();
}

Status TwoPass::Consume(Exchange& x) {
  for (size_t u = 0; u < plan_.units.size(); ++u) {
    while (true) {
      std::vector<Item> items;
      bool done;
      Status status;
      {
        std::unique_lock lock(x.mu);
        x.cv.wait(lock, [&] { return !x.out[u].items.empty() || x.out[u].done; });
        items.swap(x.out[u].items);
        done = x.out[u].done;
        status = x.out[u].status;
      }
      x.cv.notify_all();  // a worker may wait for room
      for (Item& item : items) {
        if (item.frame.index != next_display_) return Unsuitable("frames out of order");
        if (item.stand_in_to < 0) {
          CUTROOM_RETURN_IF_ERROR(Push(item.frame));
          ++frames_decoded_;
          continue;
        }
        if (item.cycle.size() != static_cast<size_t>(kSamples)) return Unsuitable("stand-ins without frames");
        // From the newest frame back to it, one sample to the next: every
        // change the detector sees is one it saw between decoded neighbours
        // (or none, once, to make the count come out).
        int64_t n = item.stand_in_to - next_display_;
        if (n % 2 == 1) {
          CUTROOM_RETURN_IF_ERROR(Push(item.cycle[kSamples - 1]));
          --n;
        }
        constexpr int kRound = 2 * (kSamples - 1);
        for (int64_t k = 1; k <= n; ++k) {
          const int64_t phase = k <= n / kRound * kRound ? k % kRound : (k % 2 == 1 ? kRound - 1 : 0);
          const int64_t back = phase <= kSamples - 1 ? phase : kRound - phase;
          CUTROOM_RETURN_IF_ERROR(Push(item.cycle[static_cast<size_t>(kSamples - 1 - back)]));
        }
      }
      if (done) {
        if (!status.ok()) return status;
        break;
      }
    }
    {
      std::lock_guard lock(x.mu);
      x.head = u + 1;
    }
    x.cv.notify_all();
  }
  if (next_display_ != static_cast<int64_t>(plan_.packets.size())) return Unsuitable("frames missing");
  return Status::Ok();
}

TwoPassResult TwoPass::Take() && {
  TwoPassResult r;
  r.info = info_;
  r.info.frame_count_estimate = static_cast<int64_t>(plan_.packets.size());
  r.transitions = detector_->transitions();
  r.frame_times = detector_->frame_times();
  r.frames_decoded = frames_decoded_;
  return r;
}

}  // namespace

DetectorOptions DetectorOptionsFor(const SceneParams& params, double fps) {
  DetectorOptions options;
  options.kind = params.detector;
  options.threshold = params.threshold;
  options.gradual = params.gradual;
  options.fps = fps;
  options.min_scene_len = params.min_scene_len_frames;
  if (params.min_scene_len_s >= 0) {
    options.min_scene_len = static_cast<int64_t>(std::llround(params.min_scene_len_s * (fps > 0 ? fps : 25)));
  }
  return options;
}

Result<std::optional<TwoPassResult>> DetectTwoPass(const std::string& path, const SceneParams& params, bool force,
                                                   const DetectProgress& progress, const DetectCancelled& cancelled) {
  if (params.detector == DetectorKind::kThreshold) return std::optional<TwoPassResult>();
  // Over the network (URL references, blobs in S3) the packet scan would
  // fetch the whole file once more, and fetching is what takes the time.
  if (!force && media::IsRemoteInputPath(path)) return std::optional<TwoPassResult>();
  TwoPass run(path, params, progress, cancelled);
  Status st = run.Open();
  if (st.ok()) st = run.Scan();
  if (st.ok()) st = run.MakePlan(force);
  if (st.ok()) st = run.Run();
  if (st.code() == StatusCode::kCancelled) return st;
  if (!st.ok()) {
    spdlog::debug("scenes: {}: decoding every frame ({})", path, st.message());
    return std::optional<TwoPassResult>();
  }
  return std::optional<TwoPassResult>(std::move(run).Take());
}

}  // namespace cutroom::analysis::scenes
