#include "edit/render/renderer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
}

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "edit/render/audio_graph.h"
#include "media/av_util.h"

namespace cutroom::edit {
namespace {

using media::AvError;
using media::CodecContextPtr;
using media::DictPtr;
using media::FormatContextPtr;
using media::FramePtr;
using media::PacketPtr;

struct SwrFreer {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
using SwrPtr = std::unique_ptr<SwrContext, SwrFreer>;
struct AudioFifoFreer {
  void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoFreer>;
// A muxer context together with the file it writes.
struct OutputFreer {
  void operator()(AVFormatContext* ctx) const {
    if (ctx->pb && !(ctx->oformat->flags & AVFMT_NOFILE)) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputFreer>;
// Sample buffers from av_samples_alloc: one allocation behind data[0].
struct SampleBuffer {
  std::array<uint8_t*, AV_NUM_DATA_POINTERS> data{};
  int capacity = 0;  // samples
  SampleBuffer() = default;
  SampleBuffer(const SampleBuffer&) = delete;
  SampleBuffer& operator=(const SampleBuffer&) = delete;
  ~SampleBuffer() { av_freep(&data[0]); }
  void Reset() {
    av_freep(&data[0]);
    data.fill(nullptr);
    capacity = 0;
  }
  // Room for `samples`; with `silent`, a fresh buffer of silence.
  Status Reserve(int channels, int samples, AVSampleFormat format, bool silent = false) {
    if (samples <= capacity && !silent) return Status::Ok();
    Reset();
    int rc = av_samples_alloc(data.data(), nullptr, channels, samples, format, 0);
    if (rc < 0) return AvError(rc, "allocate an audio buffer");
    if (silent) av_samples_set_silence(data.data(), 0, samples, channels, format);
    capacity = samples;
    return Status::Ok();
  }
};

constexpr int kMinOutputSide = 16;
constexpr int kMaxOutputSide = 4096;
constexpr int kMaxThreads = 64;
constexpr int kMaxRateKbps = 200000;
constexpr double kMinSpeed = 0.5, kMaxSpeed = 2.0;  // atempo's range in one pass
constexpr double kMinTargetLufs = -70, kMaxTargetLufs = -5;  // loudnorm's
constexpr int64_t kMaxSourcePixels = 16384LL * 16384LL;
// Container durations are rounded and sometimes a little short of the
// last frame's end; a range may overrun them by this much.
constexpr double kRangeSlackS = 0.01;
// Demuxers interleave streams within a few seconds; a stream with nothing
// before this far past a range's end has nothing more in the range.
constexpr double kMaxInterleaveS = 10;
// Frames decoded ahead for the next range while the other stream finishes
// the current one. Past these the next range seeks instead.
constexpr size_t kMaxQueuedVideoFrames = 32;
constexpr double kMaxQueuedAudioS = kMaxInterleaveS + 2;
// Within this, a decoded audio frame that does not start where the one
// before ended is taken as contiguous (timestamps rounded by the container).
constexpr double kAudioJitterS = 0.002;
constexpr double kAudioFadeS = 0.005;
// Silence after a range at another speed, to push out what atempo holds
// back (EndAudioRange); about twice its window.
constexpr double kTempoTailS = 0.1;
constexpr int kMaxConsecutiveDecodeErrors = 48;
// Filtered frames waiting for the encoder thread: enough to ride out x264's
// uneven pace (its lookahead takes several frames before it returns any),
// few enough that memory stays small at 4096x4096.
constexpr size_t kEncodeQueueFrames = 8;
constexpr double kLetterboxTolerance = 0.01;
// The fit layout's background: blurred at this fraction of the output's
// size, with a box radius of this share of its shorter side, three times
// (close to a Gaussian), and its colours brought to this share of their
// strength (so the foreground stands out).
constexpr int kFitBackgroundDivisor = 4;
constexpr double kFitBlurShare = 0.125;
constexpr int kFitBlurPasses = 3;
constexpr double kFitBackgroundLevel = 0.55;
constexpr int kAudiogramWidth = 1280, kAudiogramHeight = 720;
constexpr double kAudiogramFps = 25;
constexpr const char* kAudiogramColor = "0x5FD3FF";
constexpr const char* kX264Presets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                        "medium",    "slow",      "slower",   "veryslow", "placebo"};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string Size(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// --- validation that needs no media ------------------------------------------------

Status ValidateSpec(const RenderSpec& spec) {
  if (spec.source_path.empty()) return Status::InvalidArgument("render: no source file");
  if (spec.ranges.empty()) return Status::InvalidArgument("render: no ranges to render");
  for (size_t i = 0; i < spec.ranges.size(); ++i) {
    const TimeRange& r = spec.ranges[i];
    const std::string which = "render: range " + std::to_string(i + 1) + " (" + Num(r.start_s) + ".." +
                              Num(r.end_s) + " s)";
    if (!std::isfinite(r.start_s) || !std::isfinite(r.end_s)) return Status::InvalidArgument(which + " is not finite");
    if (r.start_s < 0) return Status::InvalidArgument(which + " starts before the media");
    if (r.end_s < r.start_s) return Status::InvalidArgument(which + " ends before it starts");
    if (r.end_s == r.start_s) return Status::InvalidArgument(which + " is empty");
    if (!(r.speed >= kMinSpeed && r.speed <= kMaxSpeed)) {
      return Status::InvalidArgument(which + " has speed " + Num(r.speed) + ", outside " + Num(kMinSpeed) + ".." +
                                     Num(kMaxSpeed));
    }
  }
  if ((spec.out_width == 0) != (spec.out_height == 0)) {
    return Status::InvalidArgument("render: give both out_width and out_height, or neither");
  }
  if (spec.out_width != 0) {
    for (int side : {spec.out_width, spec.out_height}) {
      if (side < kMinOutputSide || side > kMaxOutputSide || side % 2 != 0) {
        return Status::InvalidArgument("render: output size " + Size(spec.out_width, spec.out_height) +
                                       " must be even numbers in " + std::to_string(kMinOutputSide) + ".." +
                                       std::to_string(kMaxOutputSide));
      }
    }
  }
  if ((spec.crop_width == 0) != (spec.crop_height == 0)) {
    return Status::InvalidArgument("render: give both crop_width and crop_height, or neither");
  }
  if (spec.crop_width != 0) {
    if (spec.crop_width < 2 || spec.crop_height < 2 || spec.crop_width % 2 != 0 || spec.crop_height % 2 != 0) {
      return Status::InvalidArgument("render: crop size " + Size(spec.crop_width, spec.crop_height) +
                                     " must be positive even numbers");
    }
  } else if (!spec.crop_path.empty()) {
    return Status::InvalidArgument("render: a crop path needs a crop size");
  }
  for (size_t i = 0; i < spec.crop_path.size(); ++i) {
    if (!std::isfinite(spec.crop_path[i].t_s)) return Status::InvalidArgument("render: crop key time is not finite");
    if (i > 0 && spec.crop_path[i].t_s < spec.crop_path[i - 1].t_s) {
      return Status::InvalidArgument("render: crop keys must be in time order (key " + std::to_string(i + 1) +
                                     " at " + Num(spec.crop_path[i].t_s) + " s comes before the one before it)");
    }
  }
  for (size_t i = 0; i < spec.layout.size(); ++i) {
    const double t = spec.layout[i].start_s;
    if (!std::isfinite(t) || t < 0) {
      return Status::InvalidArgument("render: layout segment " + std::to_string(i + 1) + " starts at " + Num(t) +
                                     " s; starts must be finite and >= 0");
    }
    if (i > 0 && t <= spec.layout[i - 1].start_s) {
      return Status::InvalidArgument("render: layout segments must start in increasing time (segment " +
                                     std::to_string(i + 1) + " at " + Num(t) + " s)");
    }
  }
  if (spec.crf < 0 || spec.crf > 51) {
    return Status::InvalidArgument("render: crf " + std::to_string(spec.crf) + " is outside 0..51");
  }
  if (std::find(std::begin(kX264Presets), std::end(kX264Presets), spec.preset) == std::end(kX264Presets)) {
    return Status::InvalidArgument("render: unknown x264 preset '" + spec.preset + "'");
  }
  if (!std::isfinite(spec.fps) || spec.fps < 0 || spec.fps > 240) {
    return Status::InvalidArgument("render: fps " + Num(spec.fps) + " is outside 0..240");
  }
  if (spec.audio_bitrate < 16000 || spec.audio_bitrate > 512000) {
    return Status::InvalidArgument("render: audio bitrate " + std::to_string(spec.audio_bitrate) +
                                   " is outside 16000..512000");
  }
  if (spec.maxrate_kbps < 0 || spec.maxrate_kbps > kMaxRateKbps || spec.bufsize_kbps < 0 ||
      spec.bufsize_kbps > kMaxRateKbps || (spec.maxrate_kbps == 0) != (spec.bufsize_kbps == 0)) {
    return Status::InvalidArgument("render: maxrate " + std::to_string(spec.maxrate_kbps) + " kbit/s and bufsize " +
                                   std::to_string(spec.bufsize_kbps) + " kbit must both be 0 or both 1.." +
                                   std::to_string(kMaxRateKbps));
  }
  if (spec.threads < 0 || spec.threads > kMaxThreads) {
    return Status::InvalidArgument("render: threads must be 0.." + std::to_string(kMaxThreads));
  }
  if (!(spec.target_lufs >= kMinTargetLufs && spec.target_lufs <= kMaxTargetLufs)) {
    return Status::InvalidArgument("render: target loudness " + Num(spec.target_lufs) + " LUFS is outside " +
                                   Num(kMinTargetLufs) + ".." + Num(kMaxTargetLufs));
  }
  return Status::Ok();
}

// --- the output file ---------------------------------------------------------------

// A file next to the final path that becomes it on Commit and is removed
// otherwise.
class TempOutput {
 public:
  static Result<std::unique_ptr<TempOutput>> Create(const std::string& final_path) {
    std::string pattern = final_path + ".partial-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    int fd = mkstemp(buf.data());
    if (fd < 0) {
      return Status::IOError("cannot create a file next to " + final_path + ": " + std::strerror(errno));
    }
    close(fd);
    return std::unique_ptr<TempOutput>(new TempOutput(buf.data(), final_path));
  }
  ~TempOutput() {
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  TempOutput(const TempOutput&) = delete;
  TempOutput& operator=(const TempOutput&) = delete;

  const std::string& path() const { return path_; }
  Status Commit() {
    std::error_code ec;
    std::filesystem::rename(path_, final_, ec);
    if (ec) return Status::IOError("cannot move the render to " + final_ + ": " + ec.message());
    committed_ = true;
    return Status::Ok();
  }

 private:
  TempOutput(std::string path, std::string final_path) : path_(std::move(path)), final_(std::move(final_path)) {}
  std::string path_, final_;
  bool committed_ = false;
};

// A write of the output the disk refused (ENOSPC, EDQUOT):
// ResourceExhausted with ingest::IsInsufficientStorage's marker (the API's
// 507), naming the file. Other failures keep their own status.
bool DiskFull(int rc) { return rc == AVERROR(ENOSPC) || rc == AVERROR(EDQUOT); }
Status DiskFullError(int rc, const std::string& path) {
  char err[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(rc, err, sizeof err);
  return Status::ResourceExhausted("insufficient storage: render: cannot write " + path + ": " + err);
}

// --- filter graphs -----------------------------------------------------------------

Result<AVFilterContext*> AddFilter(AVFilterGraph* graph, const char* name, const std::string& args) {
  const AVFilter* filter = avfilter_get_by_name(name);
  if (!filter) return Status::NotSupported(std::string("this libavfilter has no ") + name + " filter");
  AVFilterContext* ctx = nullptr;
  const std::string label = std::string(name) + "_" + std::to_string(graph->nb_filters);
  int rc = avfilter_graph_create_filter(&ctx, filter, label.c_str(), args.empty() ? nullptr : args.c_str(), nullptr,
                                        graph);
  if (rc < 0) return AvError(rc, std::string("set up the ") + name + " filter (" + args + ")");
  return ctx;
}

// The ass filter, configured through its option rather than a filter
// string so that the path needs no escaping.
Result<AVFilterContext*> AddCaptions(AVFilterGraph* graph, const std::string& ass_path) {
  const AVFilter* filter = avfilter_get_by_name("ass");
  if (!filter) return Status::NotSupported("this libavfilter has no ass filter (libass)");
  AVFilterContext* ctx = avfilter_graph_alloc_filter(graph, filter, "captions");
  if (!ctx) return Status::ResourceExhausted("out of memory");
  int rc = av_opt_set(ctx, "filename", ass_path.c_str(), AV_OPT_SEARCH_CHILDREN);
  if (rc >= 0) rc = avfilter_init_str(ctx, nullptr);
  if (rc < 0) return Status::InvalidArgument("cannot load the captions " + ass_path + " (not an ASS file libass reads)");
  return ctx;
}

Status LinkChain(const std::vector<AVFilterContext*>& chain) {
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    int rc = avfilter_link(chain[i], 0, chain[i + 1], 0);
    if (rc < 0) return AvError(rc, "link filters");
  }
  return Status::Ok();
}

// --- geometry ----------------------------------------------------------------------

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};

// Source geometry and the mapping from a crop in display pixels (sample
// aspect ratio and rotation applied) to the coded picture.
struct Geometry {
  int coded_w = 0, coded_h = 0;
  AVRational sar_q{1, 1};
  double sar = 1;            // sample aspect ratio (pixel width / height)
  int rotation = 0;          // clockwise degrees to show upright
  int upright_w = 0, upright_h = 0;  // display size before rotation (SAR applied)
  int display_w = 0, display_h = 0;  // after rotation
  bool cropped = false;
  int crop_w = 0, crop_h = 0;  // display pixels
  bool quarter() const { return rotation == 90 || rotation == 270; }

  // The crop at display corner (x, y) as a rectangle before rotation.
  Rect Unrotate(double x, double y) const {
    const double w = crop_w, h = crop_h, W = upright_w, H = upright_h;
    switch (rotation) {
      case 90: return {y, H - x - w, h, w};
      case 180: return {W - x - w, H - y - h, w, h};
      case 270: return {W - y - h, x, h, w};
      default: return {x, y, w, h};
    }
  }
};

int RoundDownTo(int v, int multiple) { return v / multiple * multiple; }
int EvenDown(int v) { return v & ~1; }

AVRational FrameRateOf(const AVStream* st) {
  if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) return st->avg_frame_rate;
  if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0) return st->r_frame_rate;
  return {25, 1};
}

// --- the render ----------------------------------------------------------------------

class Renderer {
 public:
  // measuring: a pass over the ranges' audio alone, for MeasureLoudness.
  Renderer(const RenderSpec& spec, const RenderProgress& progress, const RenderCancelled& cancelled,
           bool measuring = false)
      : spec_(spec), progress_(progress), cancelled_(cancelled), measuring_(measuring) {}
  ~Renderer() {
    StopEncoder();
    av_channel_layout_uninit(&out_layout_);
    av_channel_layout_uninit(&swr_in_layout_);
  }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  Result<RenderResult> Run(const std::string& output_path);
  // The loudness of the audio a render of the spec would encode (its
  // ranges cut, faded and retimed), decoding nothing else and writing
  // nothing. REQUIRES: constructed with measuring.
  Result<Loudness> MeasureLoudness();

 private:
  // Per decoded stream: the decoder and frames decoded but not used yet.
  struct Input {
    int index = -1;
    AVStream* stream = nullptr;
    CodecContextPtr dec;
    std::deque<FramePtr> queue;
    bool eof = false;     // the decoder is drained
    bool broken = false;  // frames were dropped since the last seek: the next range must seek
    int consecutive_errors = 0;
    Status last_error;
    explicit operator bool() const { return index >= 0; }
  };
  enum class Take { kUsed, kDone };  // kDone: the frame is past the range, left queued

  Status OpenSource();
  Status ValidateAgainstSource();
  Status OpenDecoder(Input& in);
  void PlanTimeline();
  Status OpenOutput(const std::string& path);
  Status OpenVideoEncoder();
  Status ChooseAudioFormat();
  Status OpenAudioEncoder();
  Status OpenNormalizer(const Loudness& measured);

  Status RenderRanges();
  Status RenderRange(size_t k, bool seek, bool continue_next);
  bool CanContinue(size_t k) const;
  Status Seek(double start_s);
  Status Feed(Input& in, const AVPacket* pkt);
  Status NoteDecodeError(Input& in, int rc);
  Status CheckCancelled() const;
  void ReportProgress(double done);

  // Video.
  int64_t VideoTick(const AVFrame* f) const;
  Result<Take> TakeVideo(const FramePtr& f, size_t k);
  Status EmitVideo(const AVFrame* f, int64_t out_tick);
  Status BuildPictureGraph(const AVFrame* f, LayoutMode mode);
  Status BuildFitGraph(AVFilterGraph* g, std::vector<AVFilterContext*>& chain);
  Status AddRotation(AVFilterGraph* g, std::vector<AVFilterContext*>& chain);
  size_t LayoutAt(int64_t out_tick) const;
  Status SwitchLayout(size_t segment);
  Status BuildAudiogramGraph();
  Status FinishPictureGraph(std::vector<AVFilterContext*>& chain, const std::string& what);
  Status DrainGraph();
  Status FinishVideo();
  // The encoder thread.
  void StartEncoder();
  void StopEncoder();
  Status Enqueue(FramePtr f);
  void EncodeLoop();
  Status EncodeVideo(FramePtr f);
  Status SendVideo(AVFrame* f);
  Status EndVideoStream();

  // Audio.
  int64_t AudioSample(const AVFrame* f);
  Result<Take> TakeAudio(const FramePtr& f);
  Status ConvertAudio(const uint8_t* const* data, int samples, bool flush);
  Status KeepRangeAudio(uint8_t* const* planes, int count);
  Status DrainTempo();
  Status FeedSilence(int64_t samples);
  void FadeRangeEdges(uint8_t* const* planes, int count);
  Status EnsureResampler(AVSampleFormat format, const AVChannelLayout& layout, int rate);
  Status FlushResampler();
  Status EndAudioRange();
  Status EncodeAudio(bool flush);
  Status NormalizeAudio(bool flush);
  Status SendAudio(AVAudioFifo* fifo, bool flush);
  Status WritePacket(AVPacket* pkt, const AVCodecContext* enc, AVStream* st);

  const RenderSpec& spec_;
  const RenderProgress& progress_;
  const RenderCancelled& cancelled_;
  const bool measuring_;

  FormatContextPtr fmt_;
  Input video_, audio_;
  Geometry geo_;
  double duration_s_ = -1;  // unknown: negative
  int64_t origin_us_ = 0;   // container start time, AV_TIME_BASE units
  bool audiogram_ = false;
  int out_w_ = 0, out_h_ = 0;
  int align_x_ = 2, align_y_ = 2;  // chroma alignment of crop corners

  // The output timeline: ranges laid end to end, in ticks of tl_.
  AVRational tl_{1, 90000};
  std::vector<int64_t> range_start_, range_end_, range_out_;  // source start/end, output start
  int64_t total_ticks_ = 0;
  int64_t frame_ticks_ = 1;  // one source frame

  // Decoding position within the current range.
  FramePtr held_;  // the last frame before the range start
  bool emitted_in_range_ = false;
  int64_t last_out_tick_ = INT64_MIN;
  int64_t video_skip_below_ = INT64_MIN;  // non-reference frames before this tick are not decoded

  int in_rate_ = 0, out_rate_ = 0;
  AVChannelLayout out_layout_{};
  int64_t in_origin_samples_ = 0;
  int64_t in_pos_ = 0, in_end_ = 0;  // source samples still wanted in this range: [in_pos_, in_end_)
  int64_t expected_first_ = INT64_MIN;  // where the next decoded audio frame should start
  int64_t range_written_ = 0, range_samples_ = 0;  // output samples of this range written / due
  bool fade_in_ = false, fade_out_ = false;
  SwrPtr swr_;
  AVSampleFormat swr_in_format_ = AV_SAMPLE_FMT_NONE;
  AVChannelLayout swr_in_layout_{};
  int swr_in_rate_ = 0;
  SampleBuffer silence_, converted_;
  AudioFifoPtr fifo_;  // the ranges' audio, cut, faded and retimed
  int64_t audio_out_pts_ = 0;
  std::unique_ptr<AudioGraph> tempo_;  // this range's tempo change; none at speed 1
  // Loudness: measured in a measuring pass, normalised in a render.
  std::unique_ptr<LoudnessMeter> meter_;
  std::unique_ptr<AudioGraph> normalizer_;
  AudioFifoPtr normalized_;  // the normalizer's output, waiting to be cut into encoder frames
  int64_t normalizer_in_ = 0, normalizer_out_ = 0;  // samples

  // Output. The temporary file outlives the muxer writing it (members are
  // destroyed in reverse order), so a failed render closes, then removes it.
  std::unique_ptr<TempOutput> temp_;
  OutputPtr out_;
  CodecContextPtr venc_, aenc_;
  AVStream* vst_ = nullptr;
  AVStream* ast_ = nullptr;
  FilterGraphPtr graph_;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  int graph_w_ = 0, graph_h_ = 0, graph_format_ = -1;  // the decoded frames the graph takes
  int graph_crop_w_ = 0, graph_crop_h_ = 0;             // the crop on them
  // The layout: segments of one mode each (neighbours of the same mode
  // merged), their starts in timeline ticks; the graph serves one segment.
  std::vector<LayoutMode> layout_mode_;
  std::vector<int64_t> layout_tick_;
  size_t graph_segment_ = 0;
  LayoutMode graph_mode_ = LayoutMode::kCrop;
  std::mutex mux_mu_;  // the muxer takes audio packets here and video packets on the encoder thread

  // Video encoding runs on a thread of its own, fed filtered frames
  // through a short queue: decoding and filtering the next frames overlaps
  // the calls into x264, which otherwise leave its worker threads idle
  // while the caller prepares the next picture.
  std::thread encoder_;
  std::mutex encode_mu_;
  std::condition_variable encode_cv_;
  std::deque<FramePtr> encode_queue_;  // guarded by encode_mu_, as are the next four
  bool encode_closed_ = false;         // no more frames will come
  bool encode_abort_ = false;          // stop without finishing the stream
  bool encode_exited_ = false;
  Status encode_status_;
  // Used by the encoder thread only (read by Run once it has exited).
  FramePtr enc_held_;                     // held back until the next frame tells its duration
  std::map<int64_t, int64_t> durations_;  // encoder pts -> duration
  PacketPtr vpkt_;
  int64_t video_packets_ = 0;
  int64_t video_end_ = 0;  // encoder time base
  PacketPtr pkt_;
  double last_progress_ = -1;
};

Result<RenderResult> Renderer::Run(const std::string& output_path) {
  CUTROOM_RETURN_IF_ERROR(ValidateSpec(spec_));
  if (output_path.empty()) return Status::InvalidArgument("render: no output path");
  if (!spec_.ass_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec_.ass_path, ec)) {
      return Status::NotFound("render: caption file " + spec_.ass_path + " does not exist");
    }
  }
  CUTROOM_RETURN_IF_ERROR(OpenSource());
  CUTROOM_RETURN_IF_ERROR(ValidateAgainstSource());
  if (video_) CUTROOM_RETURN_IF_ERROR(OpenDecoder(video_));
  if (audio_) CUTROOM_RETURN_IF_ERROR(OpenDecoder(audio_));
  pkt_.reset(av_packet_alloc());
  if (!pkt_) return Status::ResourceExhausted("out of memory");
  std::optional<Loudness> loudness;
  if (audio_ && spec_.normalize_audio) {
    const RenderProgress no_progress;
    Renderer measure(spec_, no_progress, cancelled_, true);
    CUTROOM_ASSIGN_OR_RETURN(loudness, measure.MeasureLoudness());
  }

  CUTROOM_ASSIGN_OR_RETURN(temp_, TempOutput::Create(output_path));
  CUTROOM_RETURN_IF_ERROR(OpenOutput(temp_->path()));
  PlanTimeline();
  // Silence (or under 0.4 s of sound) has no loudness to bring to a target.
  if (loudness && loudness->audible()) CUTROOM_RETURN_IF_ERROR(OpenNormalizer(*loudness));
  vpkt_.reset(av_packet_alloc());
  if (!vpkt_) return Status::ResourceExhausted("out of memory");
  StartEncoder();

  CUTROOM_RETURN_IF_ERROR(RenderRanges());
  if (audio_) {
    CUTROOM_RETURN_IF_ERROR(EncodeAudio(true));
  }
  CUTROOM_RETURN_IF_ERROR(FinishVideo());
  if (audio_) {
    int rc = avcodec_send_frame(aenc_.get(), nullptr);
    if (rc < 0) return AvError(rc, "flush the audio encoder");
    while ((rc = avcodec_receive_packet(aenc_.get(), pkt_.get())) == 0) {
      CUTROOM_RETURN_IF_ERROR(WritePacket(pkt_.get(), aenc_.get(), ast_));
    }
    if (rc != AVERROR_EOF) return AvError(rc, "encode audio");
  }
  int rc = av_write_trailer(out_.get());
  if (DiskFull(rc)) return DiskFullError(rc, temp_->path());
  if (rc < 0) return AvError(rc, "finish writing " + output_path).WithContext("render");
  rc = avio_closep(&out_->pb);
  if (DiskFull(rc)) return DiskFullError(rc, temp_->path());
  if (rc < 0) return Status::IOError("render: cannot write " + output_path);
  out_.reset();
  CUTROOM_RETURN_IF_ERROR(temp_->Commit());
  ReportProgress(1.0);

  RenderResult result;
  result.duration_s = static_cast<double>(video_end_) * av_q2d(venc_->time_base);
  result.width = out_w_;
  result.height = out_h_;
  result.has_audio = static_cast<bool>(audio_);
  result.video_frames = video_packets_;
  return result;
}

Result<Loudness> Renderer::MeasureLoudness() {
  CUTROOM_RETURN_IF_ERROR(OpenSource());
  if (!audio_) return Loudness{};
  CUTROOM_RETURN_IF_ERROR(OpenDecoder(audio_));
  pkt_.reset(av_packet_alloc());
  if (!pkt_) return Status::ResourceExhausted("out of memory");
  CUTROOM_RETURN_IF_ERROR(ChooseAudioFormat());
  PlanTimeline();
  CUTROOM_ASSIGN_OR_RETURN(meter_, LoudnessMeter::Create(out_rate_, out_layout_));
  CUTROOM_RETURN_IF_ERROR(RenderRanges());
  CUTROOM_RETURN_IF_ERROR(EncodeAudio(true));
  return meter_->Finish();
}

Status Renderer::RenderRanges() {
  bool continuing = false;
  for (size_t k = 0; k < spec_.ranges.size(); ++k) {
    const bool continue_next = k + 1 < spec_.ranges.size() && CanContinue(k);
    const bool seek = !continuing || video_.broken || audio_.broken;
    CUTROOM_RETURN_IF_ERROR(RenderRange(k, seek, continue_next));
    continuing = continue_next;
  }
  return Status::Ok();
}

Status Renderer::OpenSource() {
  CUTROOM_ASSIGN_OR_RETURN(fmt_, media::OpenMedia(spec_.source_path));
  // Reading stream info decodes a few frames with decoders of its own: they
  // must refuse absurd frame sizes too (a header can declare any).
  media::StreamInfoOptions stream_opts(fmt_->nb_streams, kMaxSourcePixels);
  int rc = avformat_find_stream_info(fmt_.get(), stream_opts.data());
  if (rc < 0) return AvError(rc, "read stream info of " + spec_.source_path);
  bool undecodable = false;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* st = fmt_->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO || (st->disposition & AV_DISPOSITION_ATTACHED_PIC)) continue;
    if (!avcodec_find_decoder(st->codecpar->codec_id)) {
      undecodable = true;
      continue;
    }
    video_.index = static_cast<int>(i);
    break;
  }
  int a = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (a >= 0) {
    if (avcodec_find_decoder(fmt_->streams[a]->codecpar->codec_id)) {
      audio_.index = a;
    } else {
      undecodable = true;
    }
  }
  if (!video_ && !audio_) {
    if (undecodable) return Status::NotSupported("render: the codecs of " + spec_.source_path + " cannot be decoded");
    return Status::InvalidArgument("render: " + spec_.source_path + " has neither video nor audio");
  }
  // A measuring pass reads the audio alone: the demuxer skips the video's
  // packets unread where the container allows (MP4, MOV).
  if (measuring_) video_.index = -1;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    if (static_cast<int>(i) != video_.index && static_cast<int>(i) != audio_.index) {
      fmt_->streams[i]->discard = AVDISCARD_ALL;
    }
  }
  // Image demuxers (png_pipe, jpeg_pipe, ...) give one picture and no clock.
  if (video_ && !audio_ && std::string_view(fmt_->iformat->name).ends_with("_pipe")) {
    return Status::InvalidArgument("render: " + spec_.source_path + " is a still image, with no time to cut");
  }
  if (video_) video_.stream = fmt_->streams[video_.index];
  if (audio_) audio_.stream = fmt_->streams[audio_.index];
  audiogram_ = !video_ && !measuring_;

  if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    duration_s_ = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  origin_us_ = fmt_->start_time != AV_NOPTS_VALUE ? fmt_->start_time : 0;

  if (video_) {
    const AVCodecParameters* par = video_.stream->codecpar;
    if (par->width <= 0 || par->height <= 0 || static_cast<int64_t>(par->width) * par->height > kMaxSourcePixels) {
      return Status::InvalidArgument("render: video frame size " + Size(par->width, par->height) + " of " +
                                     spec_.source_path + " is out of range");
    }
    geo_.coded_w = par->width;
    geo_.coded_h = par->height;
    AVRational sar = av_guess_sample_aspect_ratio(fmt_.get(), video_.stream, nullptr);
    geo_.sar_q = sar.num > 0 && sar.den > 0 ? sar : AVRational{1, 1};
    geo_.sar = av_q2d(geo_.sar_q);
    geo_.upright_w = std::max(1, static_cast<int>(std::lround(par->width * geo_.sar)));
    geo_.upright_h = par->height;
    geo_.rotation = media::DisplayRotation(video_.stream);
    geo_.display_w = geo_.quarter() ? geo_.upright_h : geo_.upright_w;
    geo_.display_h = geo_.quarter() ? geo_.upright_w : geo_.upright_h;
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(par->format));
    if (desc) {
      align_x_ = 1 << desc->log2_chroma_w;
      align_y_ = 1 << desc->log2_chroma_h;
    }
  }
  return Status::Ok();
}

Status Renderer::ValidateAgainstSource() {
  for (size_t i = 0; i < spec_.ranges.size(); ++i) {
    const TimeRange& r = spec_.ranges[i];
    if (duration_s_ >= 0 && (r.end_s > duration_s_ + kRangeSlackS || r.start_s >= duration_s_)) {
      return Status::InvalidArgument("render: range " + std::to_string(i + 1) + " (" + Num(r.start_s) + ".." +
                                     Num(r.end_s) + " s) is outside the media (" + Num(duration_s_) + " s long)");
    }
  }
  if (audiogram_) {
    if (spec_.crop_width != 0) return Status::InvalidArgument("render: the source has no video to crop");
    for (const LayoutSegment& seg : spec_.layout) {
      if (seg.mode == LayoutMode::kFit) return Status::InvalidArgument("render: the source has no video to fit");
    }
    out_w_ = spec_.out_width != 0 ? spec_.out_width : kAudiogramWidth;
    out_h_ = spec_.out_height != 0 ? spec_.out_height : kAudiogramHeight;
    return Status::Ok();
  }
  geo_.cropped = spec_.crop_width != 0;
  geo_.crop_w = geo_.cropped ? spec_.crop_width : geo_.display_w;
  geo_.crop_h = geo_.cropped ? spec_.crop_height : geo_.display_h;
  if (geo_.crop_w > geo_.display_w || geo_.crop_h > geo_.display_h) {
    return Status::InvalidArgument("render: crop " + Size(geo_.crop_w, geo_.crop_h) + " is larger than the frame (" +
                                   Size(geo_.display_w, geo_.display_h) + ")");
  }
  out_w_ = spec_.out_width != 0 ? spec_.out_width : EvenDown(geo_.crop_w);
  out_h_ = spec_.out_height != 0 ? spec_.out_height : EvenDown(geo_.crop_h);
  if (out_w_ < kMinOutputSide || out_h_ < kMinOutputSide || out_w_ > kMaxOutputSide || out_h_ > kMaxOutputSide) {
    return Status::InvalidArgument("render: the output would be " + Size(out_w_, out_h_) + ", outside " +
                                   std::to_string(kMinOutputSide) + ".." + std::to_string(kMaxOutputSide) +
                                   "; set out_width and out_height");
  }
  return Status::Ok();
}

Status Renderer::OpenDecoder(Input& in) {
  const AVCodecParameters* par = in.stream->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  in.dec.reset(avcodec_alloc_context3(codec));
  if (!in.dec) return Status::ResourceExhausted("out of memory");
  int rc = avcodec_parameters_to_context(in.dec.get(), par);
  if (rc < 0) return AvError(rc, "configure the decoder for " + spec_.source_path);
  in.dec->pkt_timebase = in.stream->time_base;
  if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
    in.dec->thread_count = spec_.threads;
    in.dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    in.dec->max_pixels = kMaxSourcePixels;
  }
  rc = avcodec_open2(in.dec.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, std::string("open the ") + codec->name + " decoder for " + spec_.source_path);
  return Status::Ok();
}

void Renderer::PlanTimeline() {
  if (video_) {
    const AVRational tb = video_.stream->time_base;
    // The video stream's own clock keeps frame times exact; a coarse one
    // (under a millisecond's resolution) would round range edges.
    tl_ = tb.num > 0 && tb.den / tb.num >= 1000 ? tb : AVRational{1, 90000};
    frame_ticks_ = std::max<int64_t>(1, av_rescale_q(1, av_inv_q(FrameRateOf(video_.stream)), tl_));
  } else {
    tl_ = {1, out_rate_};
  }
  int64_t out = 0;
  for (const TimeRange& r : spec_.ranges) {
    const int64_t s = std::llround(r.start_s / av_q2d(tl_));
    const int64_t e = std::llround(r.end_s / av_q2d(tl_));
    range_start_.push_back(s);
    range_end_.push_back(e);
    range_out_.push_back(out);
    out += r.speed == 1 ? e - s : std::max<int64_t>(1, std::llround(static_cast<double>(e - s) / r.speed));
  }
  total_ticks_ = out;
  range_out_.push_back(out);
  layout_mode_.clear();
  layout_tick_.clear();
  for (const LayoutSegment& seg : spec_.layout) {
    if (!layout_mode_.empty() && layout_mode_.back() == seg.mode) continue;
    layout_mode_.push_back(seg.mode);
    layout_tick_.push_back(layout_tick_.empty() ? INT64_MIN : std::llround(seg.start_s / av_q2d(tl_)));
  }
  if (layout_mode_.empty()) {
    layout_mode_.push_back(LayoutMode::kCrop);
    layout_tick_.push_back(INT64_MIN);
  }
}

// The segment (of layout_mode_) an output tick falls in.
size_t Renderer::LayoutAt(int64_t out_tick) const {
  auto it = std::upper_bound(layout_tick_.begin(), layout_tick_.end(), out_tick);
  return static_cast<size_t>(std::max<std::ptrdiff_t>(0, std::distance(layout_tick_.begin(), it) - 1));
}

// Ends the running graph where `segment` starts: everything it holds (with
// an fps filter, frames up to that time) goes to the encoder, and the next
// frame builds the segment's graph.
Status Renderer::SwitchLayout(size_t segment) {
  int rc = av_buffersrc_close(src_, layout_tick_[segment], AV_BUFFERSRC_FLAG_PUSH);
  if (rc < 0) return AvError(rc, "end the video filters of a layout");
  CUTROOM_RETURN_IF_ERROR(DrainGraph());
  graph_.reset();
  src_ = sink_ = nullptr;
  return Status::Ok();
}

// --- output --------------------------------------------------------------------------

Status Renderer::OpenOutput(const std::string& path) {
  const std::string url = "file:" + path;
  AVFormatContext* raw = nullptr;
  int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", url.c_str());
  if (rc < 0 || !raw) return AvError(rc, "set up the MP4 muxer");
  out_.reset(raw);
  if (audio_) CUTROOM_RETURN_IF_ERROR(OpenAudioEncoder());  // the audiogram's timeline is the audio's
  CUTROOM_RETURN_IF_ERROR(OpenVideoEncoder());
  rc = avio_open(&out_->pb, url.c_str(), AVIO_FLAG_WRITE);
  if (rc < 0) return Status::IOError("render: cannot write " + path + ": " + AvError(rc, "open").message());
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "movflags", "+faststart", 0);
  rc = avformat_write_header(out_.get(), &raw_opts);
  DictPtr opts(raw_opts);
  if (DiskFull(rc)) return DiskFullError(rc, path);
  if (rc < 0) return AvError(rc, "write the MP4 header");
  return Status::Ok();
}

Status Renderer::OpenVideoEncoder() {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) return Status::NotSupported("render: this libavcodec has no libx264 encoder");
  venc_.reset(avcodec_alloc_context3(codec));
  if (!venc_) return Status::ResourceExhausted("out of memory");
  AVRational rate;
  if (spec_.fps > 0) {
    rate = av_d2q(spec_.fps, 1001000);
  } else if (audiogram_) {
    rate = av_d2q(kAudiogramFps, 1000);
  } else {
    rate = FrameRateOf(video_.stream);
  }
  venc_->width = out_w_;
  venc_->height = out_h_;
  venc_->pix_fmt = AV_PIX_FMT_YUV420P;
  venc_->sample_aspect_ratio = {1, 1};
  venc_->framerate = rate;
  // Frames keep the timeline's clock. With an imposed rate (the fps filter,
  // the audiogram) they sit on that rate's grid, but the clock is a hundred
  // times finer so that the last frame can end where the ranges end.
  if (spec_.fps > 0 || audiogram_) {
    venc_->time_base = av_mul_q(av_inv_q(rate), AVRational{1, 100});
  } else {
    const AVRational tb = video_.stream->time_base;
    venc_->time_base = tb.num > 0 && tb.den / tb.num >= 1000 ? tb : AVRational{1, 90000};
  }
  venc_->thread_count = spec_.threads;
  venc_->color_range = AVCOL_RANGE_MPEG;
  // Scaling keeps the source's YCbCr matrix, so the output says what the
  // source said; untagged sources get what players assume for their size,
  // written down so that the cropped, smaller output is not guessed
  // differently. The audiogram is converted from RGB with BT.601.
  const AVCodecParameters* par = video_ ? video_.stream->codecpar : nullptr;
  const bool hd = par && par->height >= 720;
  AVColorSpace space = par ? par->color_space : AVCOL_SPC_SMPTE170M;
  if (space == AVCOL_SPC_UNSPECIFIED || space == AVCOL_SPC_RGB || space == AVCOL_SPC_RESERVED) {
    space = hd && space != AVCOL_SPC_RGB ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  }
  venc_->colorspace = space;
  venc_->color_primaries = par && par->color_primaries != AVCOL_PRI_UNSPECIFIED && par->color_primaries != AVCOL_PRI_RESERVED
                               ? par->color_primaries
                               : (space == AVCOL_SPC_BT709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M);
  venc_->color_trc = par && par->color_trc != AVCOL_TRC_UNSPECIFIED && par->color_trc != AVCOL_TRC_RESERVED
                         ? par->color_trc
                         : (space == AVCOL_SPC_BT709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M);
  if (out_->oformat->flags & AVFMT_GLOBALHEADER) venc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* raw_opts = nullptr;
  av_dict_set(&raw_opts, "preset", spec_.preset.c_str(), 0);
  av_dict_set(&raw_opts, "crf", std::to_string(spec_.crf).c_str(), 0);
  if (spec_.maxrate_kbps > 0) {
    // CRF with a VBV cap: quality where the picture allows, never more than
    // the cap over a buffer's worth of time.
    venc_->rc_max_rate = static_cast<int64_t>(spec_.maxrate_kbps) * 1000;
    venc_->rc_buffer_size = spec_.bufsize_kbps * 1000;
  }
  int rc = avcodec_open2(venc_.get(), codec, &raw_opts);
  DictPtr opts(raw_opts);
  if (rc < 0) return AvError(rc, "open the libx264 encoder");
  vst_ = avformat_new_stream(out_.get(), nullptr);
  if (!vst_) return Status::ResourceExhausted("out of memory");
  rc = avcodec_parameters_from_context(vst_->codecpar, venc_.get());
  if (rc < 0) return AvError(rc, "describe the video stream");
  vst_->time_base = venc_->time_base;
  vst_->avg_frame_rate = rate;
  return Status::Ok();
}

// The output's sample rate and channel layout, which the ranges' audio is
// converted to on the way in.
Status Renderer::ChooseAudioFormat() {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec) return Status::NotSupported("render: this libavcodec has no AAC encoder");
  const AVCodecParameters* par = audio_.stream->codecpar;
  in_rate_ = par->sample_rate;
  if (in_rate_ <= 0) return Status::InvalidArgument("render: the audio of " + spec_.source_path + " has no sample rate");
  // AAC takes the usual rates; others (192 kHz, 37.8 kHz) are resampled to
  // the next one up, or 48 kHz.
  out_rate_ = 0;
  for (const int* r = codec->supported_samplerates; r && *r; ++r) {
    if (*r == in_rate_) out_rate_ = in_rate_;
  }
  if (out_rate_ == 0) {
    out_rate_ = 48000;
    for (int r : {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}) {
      if (r >= in_rate_) {
        out_rate_ = r;
        break;
      }
    }
  }
  av_channel_layout_default(&out_layout_, par->ch_layout.nb_channels == 1 ? 1 : 2);
  // The FIFO grows as needed; this is its starting size.
  fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, out_layout_.nb_channels, 4096));
  if (!fifo_) return Status::ResourceExhausted("out of memory");
  in_origin_samples_ = av_rescale_q(origin_us_, AV_TIME_BASE_Q, {1, in_rate_});
  return Status::Ok();
}

Status Renderer::OpenAudioEncoder() {
  CUTROOM_RETURN_IF_ERROR(ChooseAudioFormat());
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  aenc_.reset(avcodec_alloc_context3(codec));
  if (!aenc_) return Status::ResourceExhausted("out of memory");
  aenc_->sample_fmt = AV_SAMPLE_FMT_FLTP;
  aenc_->sample_rate = out_rate_;
  int rc = av_channel_layout_copy(&aenc_->ch_layout, &out_layout_);
  if (rc < 0) return AvError(rc, "set the audio channel layout");
  aenc_->bit_rate = spec_.audio_bitrate;
  aenc_->time_base = {1, out_rate_};
  if (out_->oformat->flags & AVFMT_GLOBALHEADER) aenc_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  rc = avcodec_open2(aenc_.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, "open the AAC encoder");
  ast_ = avformat_new_stream(out_.get(), nullptr);
  if (!ast_) return Status::ResourceExhausted("out of memory");
  rc = avcodec_parameters_from_context(ast_->codecpar, aenc_.get());
  if (rc < 0) return AvError(rc, "describe the audio stream");
  ast_->time_base = aenc_->time_base;
  return Status::Ok();
}

Status Renderer::OpenNormalizer(const Loudness& measured) {
  CUTROOM_ASSIGN_OR_RETURN(normalizer_, MakeLoudnormGraph(measured, spec_.target_lufs, out_rate_, out_layout_));
  normalized_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, out_layout_.nb_channels, 4096));
  if (!normalized_) return Status::ResourceExhausted("out of memory");
  return Status::Ok();
}

Status Renderer::WritePacket(AVPacket* pkt, const AVCodecContext* enc, AVStream* st) {
  pkt->stream_index = st->index;
  av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
  std::lock_guard lock(mux_mu_);
  int rc = av_interleaved_write_frame(out_.get(), pkt);
  if (DiskFull(rc)) return DiskFullError(rc, temp_ ? temp_->path() : std::string("the output"));
  if (rc < 0) return Status::IOError("render: cannot write the output: " + AvError(rc, "mux").message());
  return Status::Ok();
}

// --- demuxing and decoding ------------------------------------------------------------

bool Renderer::CanContinue(size_t k) const {
  const TimeRange& cur = spec_.ranges[k];
  const TimeRange& next = spec_.ranges[k + 1];
  if (next.start_s < cur.end_s) return false;
  const double gap = next.start_s - cur.end_s;
  if (!video_) return gap <= kMaxInterleaveS;  // audio decodes far faster than it seeks and settles
  // Decoding on beats seeking when the keyframe a seek would land on is not
  // past where decoding already is.
  AVStream* st = video_.stream;
  const int64_t origin = av_rescale_q(origin_us_, AV_TIME_BASE_Q, st->time_base);
  const int64_t next_ts = origin + std::llround(next.start_s / av_q2d(st->time_base));
  const int64_t cur_end = origin + std::llround(cur.end_s / av_q2d(st->time_base));
  const int idx = av_index_search_timestamp(st, next_ts, AVSEEK_FLAG_BACKWARD);
  if (idx >= 0) {
    const AVIndexEntry* e = avformat_index_get_entry(st, idx);
    if (e) return e->timestamp <= cur_end || gap <= 0.5;
  }
  return gap <= 0.5;
}

Status Renderer::Seek(double start_s) {
  const int64_t ts = origin_us_ + std::llround(start_s * AV_TIME_BASE);
  int rc = avformat_seek_file(fmt_.get(), -1, INT64_MIN, ts, ts, 0);
  if (rc < 0) rc = av_seek_frame(fmt_.get(), -1, ts, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) {
    // Raw streams without an index: from the start, which is where a fresh
    // demuxer is anyway.
    rc = avformat_seek_file(fmt_.get(), -1, INT64_MIN, INT64_MIN, INT64_MIN, 0);
    if (rc < 0 && (video_.eof || audio_.eof || start_s > 0)) {
      return Status::NotSupported("render: cannot seek in " + spec_.source_path);
    }
  }
  for (Input* in : {&video_, &audio_}) {
    if (!*in) continue;
    avcodec_flush_buffers(in->dec.get());
    in->queue.clear();
    in->eof = false;
    in->broken = false;
  }
  expected_first_ = INT64_MIN;
  return Status::Ok();
}

Status Renderer::NoteDecodeError(Input& in, int rc) {
  if (rc == AVERROR(ENOMEM)) return AvError(rc, "decode " + spec_.source_path);
  in.last_error = AvError(rc, "decode " + spec_.source_path);
  if (++in.consecutive_errors >= kMaxConsecutiveDecodeErrors) {
    return Status::InvalidArgument("render: corrupt data: " + std::to_string(in.consecutive_errors) +
                                   " packets in a row failed to decode (" + in.last_error.message() + ")");
  }
  return Status::Ok();
}

// Sends one packet (nullptr: end of stream) and queues every frame that
// comes out.
Status Renderer::Feed(Input& in, const AVPacket* pkt) {
  bool sent = false;
  while (!sent) {
    int rc = avcodec_send_packet(in.dec.get(), pkt);
    if (rc == 0 || rc == AVERROR_EOF) {
      sent = true;
    } else if (rc != AVERROR(EAGAIN)) {
      CUTROOM_RETURN_IF_ERROR(NoteDecodeError(in, rc));
      sent = true;
    }
    while (true) {
      FramePtr f(av_frame_alloc());
      if (!f) return Status::ResourceExhausted("out of memory");
      rc = avcodec_receive_frame(in.dec.get(), f.get());
      if (rc == AVERROR(EAGAIN)) break;
      if (rc == AVERROR_EOF) {
        in.eof = true;
        break;
      }
      if (rc < 0) {
        CUTROOM_RETURN_IF_ERROR(NoteDecodeError(in, rc));
        continue;
      }
      in.consecutive_errors = 0;
      in.queue.push_back(std::move(f));
    }
  }
  return Status::Ok();
}

Status Renderer::CheckCancelled() const {
  if (cancelled_ && cancelled_()) return Status::Cancelled("render cancelled");
  return Status::Ok();
}

void Renderer::ReportProgress(double done) {
  if (!progress_) return;
  done = std::clamp(done, 0.0, 1.0);
  if (done < 1.0 && done - last_progress_ < 0.005) return;
  last_progress_ = done;
  progress_(done);
}

Status Renderer::RenderRange(size_t k, bool seek, bool continue_next) {
  const TimeRange& range = spec_.ranges[k];
  if (seek) CUTROOM_RETURN_IF_ERROR(Seek(range.start_s));
  held_.reset();
  emitted_in_range_ = false;
  const int64_t margin = 2 * frame_ticks_;
  video_skip_below_ = range_start_[k] - margin;
  if (audio_) {
    range_samples_ = av_rescale_q(range_out_[k + 1], tl_, {1, out_rate_}) -
                     av_rescale_q(range_out_[k], tl_, {1, out_rate_});
    range_written_ = 0;
    in_pos_ = std::llround(range.start_s * in_rate_);
    in_end_ = in_pos_ + (range.speed == 1 ? av_rescale(range_samples_, in_rate_, out_rate_)
                                          : std::llround(static_cast<double>(range_samples_) * range.speed * in_rate_ /
                                                         out_rate_));
    // Only ranges at speed 1 continue each other seamlessly: a tempo
    // change starts and ends with each range.
    auto joins = [&](const TimeRange& a, const TimeRange& b) {
      return a.speed == 1 && b.speed == 1 && std::llround(a.end_s * in_rate_) == std::llround(b.start_s * in_rate_);
    };
    fade_in_ = k == 0 || !joins(spec_.ranges[k - 1], range);
    fade_out_ = k + 1 == spec_.ranges.size() || !joins(range, spec_.ranges[k + 1]);
    swr_.reset();  // a fresh resampler per range: nothing of the last range's tail leaks in
    tempo_.reset();
    if (range.speed != 1) {
      CUTROOM_ASSIGN_OR_RETURN(tempo_, MakeTempoGraph(range.speed, out_rate_, out_layout_));
    }
  }
  const int64_t next_start = k + 1 < spec_.ranges.size() ? range_start_[k + 1] : 0;
  bool vdone = !video_, adone = !audio_;
  while (true) {
    while (!vdone && !video_.queue.empty()) {
      CUTROOM_ASSIGN_OR_RETURN(Take t, TakeVideo(video_.queue.front(), k));
      if (t == Take::kDone) {
        vdone = true;
      } else {
        video_.queue.pop_front();
      }
    }
    while (!adone && !audio_.queue.empty()) {
      CUTROOM_ASSIGN_OR_RETURN(Take t, TakeAudio(audio_.queue.front()));
      if (t == Take::kDone) {
        adone = true;
      } else {
        audio_.queue.pop_front();
      }
    }
    if (!vdone && video_.eof && video_.queue.empty()) vdone = true;
    if (!adone && audio_.eof && audio_.queue.empty()) adone = true;
    if (vdone && adone) break;

    CUTROOM_RETURN_IF_ERROR(CheckCancelled());
    int rc = av_read_frame(fmt_.get(), pkt_.get());
    if (rc == AVERROR_EOF) {
      for (Input* in : {&video_, &audio_}) {
        if (*in && !in->eof) CUTROOM_RETURN_IF_ERROR(Feed(*in, nullptr));
        in->eof = true;
      }
      continue;
    }
    if (rc < 0) return AvError(rc, "read " + spec_.source_path).WithContext("render");
    AVPacket* pkt = pkt_.get();
    // A stream that has shown nothing this far past the range's end has
    // nothing more in it (an audio track that ended early).
    const int64_t when = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    if (when != AV_NOPTS_VALUE) {
      const double t = when * av_q2d(fmt_->streams[pkt->stream_index]->time_base) -
                       static_cast<double>(origin_us_) / AV_TIME_BASE;
      if (t > range.end_s + kMaxInterleaveS) {
        vdone = true;
        adone = true;
      }
    }
    Input* in = pkt->stream_index == video_.index ? &video_ : pkt->stream_index == audio_.index ? &audio_ : nullptr;
    if (in && !in->eof) {
      const bool done = in == &video_ ? vdone : adone;
      bool decode = !done;
      if (done && continue_next && !in->broken) {
        // Decoding ahead for the next range, within bounds.
        const bool full = in == &video_ ? in->queue.size() >= kMaxQueuedVideoFrames
                                        : !in->queue.empty() && static_cast<double>(in->queue.size()) *
                                                                        in->queue.front()->nb_samples / in_rate_ >
                                                                    kMaxQueuedAudioS;
        decode = !full;
        if (full) in->broken = true;
      } else if (done) {
        in->broken = true;
      }
      if (decode) {
        if (in == &video_) {
          // Frames before the range (less a margin for the frame on screen
          // at its start) are never shown: only those others need are decoded.
          const int64_t target = done ? next_start - margin : video_skip_below_;
          const bool skippable = pkt->pts != AV_NOPTS_VALUE &&
                                 av_rescale_q(pkt->pts, video_.stream->time_base, tl_) -
                                         av_rescale_q(origin_us_, AV_TIME_BASE_Q, tl_) <
                                     target;
          video_.dec->skip_frame = skippable ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
        }
        Status st = Feed(*in, pkt);
        av_packet_unref(pkt);
        CUTROOM_RETURN_IF_ERROR(st);
        continue;
      }
    }
    av_packet_unref(pkt);
  }
  // The range ended before any frame of it: the one on screen at its start
  // fills it.
  if (video_ && !emitted_in_range_ && held_) CUTROOM_RETURN_IF_ERROR(EmitVideo(held_.get(), range_out_[k]));
  held_.reset();
  if (audio_) CUTROOM_RETURN_IF_ERROR(EndAudioRange());
  return Status::Ok();
}

// --- video ------------------------------------------------------------------------------

int64_t Renderer::VideoTick(const AVFrame* f) const {
  int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  if (ts == AV_NOPTS_VALUE) return INT64_MIN;
  return av_rescale_q(ts, video_.stream->time_base, tl_) - av_rescale_q(origin_us_, AV_TIME_BASE_Q, tl_);
}

Result<Renderer::Take> Renderer::TakeVideo(const FramePtr& f, size_t k) {
  const int64_t tick = VideoTick(f.get());
  if (tick == INT64_MIN) return Take::kUsed;  // no time: cannot be placed
  if (tick >= range_end_[k]) return Take::kDone;
  if (tick < range_start_[k]) {
    held_.reset(av_frame_clone(f.get()));
    if (!held_) return Status::ResourceExhausted("out of memory");
    return Take::kUsed;
  }
  int64_t out = range_out_[k] + tick - range_start_[k];
  if (const double speed = spec_.ranges[k].speed; speed != 1) {
    int64_t into = static_cast<int64_t>(std::floor(static_cast<double>(tick - range_start_[k]) / speed));
    if (speed > 1 && spec_.fps == 0) {
      // Sped up, frames would come closer together than the source's frame
      // rate, which is the output's. With no fps filter to choose among
      // them, each moves back to the slot of that rate (from the range's
      // start) it is in, give or take a quarter frame of rounding; the
      // first for a slot takes it and the rest are dropped (EmitVideo). At
      // double speed that keeps every other frame, on time.
      into = (into + frame_ticks_ / 4) / frame_ticks_ * frame_ticks_;
      if (range_out_[k] + into >= range_out_[k + 1]) return Take::kUsed;
    }
    out = range_out_[k] + std::min(into, range_out_[k + 1] - range_out_[k] - 1);
  }
  if (!emitted_in_range_ && tick > range_start_[k]) {
    if (held_) {
      CUTROOM_RETURN_IF_ERROR(EmitVideo(held_.get(), range_out_[k]));
    } else {
      out = range_out_[k];  // nothing earlier was decoded: this frame starts the range
    }
  }
  held_.reset();
  CUTROOM_RETURN_IF_ERROR(EmitVideo(f.get(), out));
  return Take::kUsed;
}

Status Renderer::EmitVideo(const AVFrame* src, int64_t out_tick) {
  CUTROOM_RETURN_IF_ERROR(CheckCancelled());
  emitted_in_range_ = true;
  if (out_tick <= last_out_tick_) return Status::Ok();  // out of order or repeated: dropped
  const size_t segment = LayoutAt(out_tick);
  if (graph_ && segment != graph_segment_) CUTROOM_RETURN_IF_ERROR(SwitchLayout(segment));
  if (!graph_) {
    graph_segment_ = segment;
    graph_mode_ = layout_mode_[segment];
    CUTROOM_RETURN_IF_ERROR(BuildPictureGraph(src, graph_mode_));
  }
  if (src->width != graph_w_ || src->height != graph_h_ || src->format != graph_format_) {
    return Status::NotSupported("render: the video of " + spec_.source_path + " changes from " +
                                Size(graph_w_, graph_h_) + " to " + Size(src->width, src->height) + " mid-stream");
  }
  FramePtr f(av_frame_clone(src));
  if (!f) return Status::ResourceExhausted("out of memory");
  if (geo_.cropped && graph_mode_ == LayoutMode::kCrop) {
    // Corner in display pixels at this output time, then on the coded picture.
    const double t = static_cast<double>(out_tick) * av_q2d(tl_);
    double x = (geo_.display_w - geo_.crop_w) / 2.0, y = (geo_.display_h - geo_.crop_h) / 2.0;
    const auto& path = spec_.crop_path;
    if (!path.empty()) {
      auto it = std::upper_bound(path.begin(), path.end(), t, [](double v, const CropKey& c) { return v < c.t_s; });
      if (it == path.begin()) {
        x = it->x, y = it->y;
      } else if (it == path.end()) {
        x = path.back().x, y = path.back().y;
      } else {
        const CropKey& a = *std::prev(it);
        const CropKey& b = *it;
        const double u = b.t_s > a.t_s ? (t - a.t_s) / (b.t_s - a.t_s) : 1.0;
        x = a.x + (b.x - a.x) * u;
        y = a.y + (b.y - a.y) * u;
      }
    }
    x = std::clamp(x, 0.0, static_cast<double>(geo_.display_w - geo_.crop_w));
    y = std::clamp(y, 0.0, static_cast<double>(geo_.display_h - geo_.crop_h));
    const Rect r = geo_.Unrotate(x, y);
    const int cw = graph_crop_w_, ch = graph_crop_h_;
    int cx = std::clamp(static_cast<int>(std::lround(r.x / geo_.sar)), 0, f->width - cw);
    int cy = std::clamp(static_cast<int>(std::lround(r.y)), 0, f->height - ch);
    cx = RoundDownTo(cx, align_x_);
    cy = RoundDownTo(cy, align_y_);
    f->crop_left = static_cast<size_t>(cx);
    f->crop_right = static_cast<size_t>(f->width - cx - cw);
    f->crop_top = static_cast<size_t>(cy);
    f->crop_bottom = static_cast<size_t>(f->height - cy - ch);
    int rc = av_frame_apply_cropping(f.get(), AV_FRAME_CROP_UNALIGNED);
    if (rc < 0) return AvError(rc, "crop a frame");
  }
  f->pts = out_tick;
  f->pict_type = AV_PICTURE_TYPE_NONE;
  int rc = av_buffersrc_add_frame_flags(src_, f.get(), 0);
  if (rc < 0) return AvError(rc, "filter a frame");
  last_out_tick_ = out_tick;
  CUTROOM_RETURN_IF_ERROR(DrainGraph());
  ReportProgress(total_ticks_ > 0 ? static_cast<double>(out_tick) / total_ticks_ : 0);
  return Status::Ok();
}

Status Renderer::BuildPictureGraph(const AVFrame* f, LayoutMode mode) {
  const auto format = static_cast<AVPixelFormat>(f->format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM))) {
    return Status::NotSupported("render: the pixel format of " + spec_.source_path + " cannot be cropped");
  }
  align_x_ = 1 << desc->log2_chroma_w;
  align_y_ = 1 << desc->log2_chroma_h;
  graph_w_ = f->width;
  graph_h_ = f->height;
  graph_format_ = f->format;
  // The crop's size on the coded picture: before rotation, in coded pixels,
  // on the chroma grid so that the corner can be too.
  if (geo_.cropped && mode == LayoutMode::kCrop) {
    const int pw = geo_.quarter() ? geo_.crop_h : geo_.crop_w;
    const int ph = geo_.quarter() ? geo_.crop_w : geo_.crop_h;
    graph_crop_w_ = std::clamp(RoundDownTo(static_cast<int>(std::lround(pw / geo_.sar)), align_x_), align_x_, f->width);
    graph_crop_h_ = std::clamp(RoundDownTo(ph, align_y_), align_y_, f->height);
  } else {
    graph_crop_w_ = f->width;
    graph_crop_h_ = f->height;
  }
  // Fit the crop's display aspect ratio into the output; letterbox only
  // when stretching would show.
  const double crop_aspect = static_cast<double>(geo_.crop_w) / geo_.crop_h;
  const double out_aspect = static_cast<double>(out_w_) / out_h_;
  int fit_w = out_w_, fit_h = out_h_;
  if (std::fabs(crop_aspect / out_aspect - 1) > kLetterboxTolerance) {
    if (crop_aspect > out_aspect) {
      fit_h = std::clamp(EvenDown(static_cast<int>(std::lround(out_w_ / crop_aspect))), 2, out_h_);
    } else {
      fit_w = std::clamp(EvenDown(static_cast<int>(std::lround(out_h_ * crop_aspect))), 2, out_w_);
    }
  }
  const int scale_w = geo_.quarter() ? fit_h : fit_w, scale_h = geo_.quarter() ? fit_w : fit_h;

  graph_.reset(avfilter_graph_alloc());
  if (!graph_) return Status::ResourceExhausted("out of memory");
  graph_->nb_threads = spec_.threads;
  AVFilterGraph* g = graph_.get();
  std::vector<AVFilterContext*> chain;
  char args[256];
  std::snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", graph_crop_w_,
                graph_crop_h_, f->format, tl_.num, tl_.den, geo_.sar_q.num, geo_.sar_q.den);
  CUTROOM_ASSIGN_OR_RETURN(src_, AddFilter(g, "buffer", args));
  chain.push_back(src_);
  if (spec_.fps > 0) {
    const AVRational rate = venc_->framerate;
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * fps,
                             AddFilter(g, "fps", "fps=" + std::to_string(rate.num) + "/" + std::to_string(rate.den)));
    chain.push_back(fps);
  }
  if (mode == LayoutMode::kFit) {
    CUTROOM_RETURN_IF_ERROR(BuildFitGraph(g, chain));
    return FinishPictureGraph(chain, "fit layout");
  }
  // Bicubic, as ffmpeg's scale filter, when shrinking: swscale widens the
  // kernel so large reductions do not alias. Lanczos when enlarging (a 9:16
  // crop of a 1080p source is 608 px wide, the output 1080): its wider
  // kernel keeps edges and small text crisper than bicubic.
  const char* flags = scale_w > graph_crop_w_ || scale_h > graph_crop_h_ ? "lanczos" : "bicubic";
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * scale,
                           AddFilter(g, "scale", "w=" + std::to_string(scale_w) + ":h=" + std::to_string(scale_h) +
                                                     ":flags=" + flags + ":out_range=tv"));
  chain.push_back(scale);
  CUTROOM_RETURN_IF_ERROR(AddRotation(g, chain));
  if (fit_w != out_w_ || fit_h != out_h_) {
    const int x = EvenDown((out_w_ - fit_w) / 2), y = EvenDown((out_h_ - fit_h) / 2);
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * pad,
                             AddFilter(g, "pad", "w=" + std::to_string(out_w_) + ":h=" + std::to_string(out_h_) +
                                                     ":x=" + std::to_string(x) + ":y=" + std::to_string(y) +
                                                     ":color=black"));
    chain.push_back(pad);
  }
  return FinishPictureGraph(chain, "video");
}

// Appends (unlinked) what turns the chain's pictures upright: after they
// are scaled, so that fewer pixels are rotated. Nothing when the source
// needs no rotation.
Status Renderer::AddRotation(AVFilterGraph* g, std::vector<AVFilterContext*>& chain) {
  if (geo_.rotation == 90 || geo_.rotation == 270) {
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * t,
                             AddFilter(g, "transpose", geo_.rotation == 90 ? "dir=clock" : "dir=cclock"));
    chain.push_back(t);
  } else if (geo_.rotation == 180) {
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * h, AddFilter(g, "hflip", ""));
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * v, AddFilter(g, "vflip", ""));
    chain.push_back(h);
    chain.push_back(v);
  }
  return Status::Ok();
}

// The fit layout after `chain` (buffer, [fps]): the whole picture fitted
// inside the output, centred, over a blurred and darkened copy of itself
// that covers the output. Leaves the overlay as the chain's one element,
// for FinishPictureGraph to go on from.
Status Renderer::BuildFitGraph(AVFilterGraph* g, std::vector<AVFilterContext*>& chain) {
  const double src_aspect = static_cast<double>(geo_.display_w) / geo_.display_h;
  const double out_aspect = static_cast<double>(out_w_) / out_h_;
  int fg_w = out_w_, fg_h = out_h_;
  if (src_aspect > out_aspect) {
    fg_h = std::clamp(EvenDown(static_cast<int>(std::lround(out_w_ / src_aspect))), 2, out_h_);
  } else {
    fg_w = std::clamp(EvenDown(static_cast<int>(std::lround(out_h_ * src_aspect))), 2, out_w_);
  }
  const int bg_w = std::max(kMinOutputSide, EvenDown(out_w_ / kFitBackgroundDivisor));
  const int bg_h = std::max(kMinOutputSide, EvenDown(out_h_ / kFitBackgroundDivisor));
  int cover_w = bg_w, cover_h = bg_h;  // the picture's shape, just covering the background
  if (src_aspect > static_cast<double>(bg_w) / bg_h) {
    cover_w = std::max(bg_w, EvenDown(static_cast<int>(std::ceil(bg_h * src_aspect))) + 2);
  } else {
    cover_h = std::max(bg_h, EvenDown(static_cast<int>(std::ceil(bg_w / src_aspect))) + 2);
  }
  // Scaling happens before rotation, in the coded picture's orientation.
  auto coded = [&](int w, int h) { return geo_.quarter() ? Size(h, w) : Size(w, h); };
  auto wh = [](const std::string& size) {
    const size_t x = size.find('x');
    return "w=" + size.substr(0, x) + ":h=" + size.substr(x + 1);
  };

  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * split, AddFilter(g, "split", "outputs=2"));
  chain.push_back(split);
  CUTROOM_RETURN_IF_ERROR(LinkChain(chain));
  int rc = 0;
  if (rc < 0) return AvError(rc, "link filters");

  // Foreground: lanczos, whether it shrinks (a 1080p slide into 1080 px of
  // width) or enlarges (a 480p one): text stays as sharp as it can.
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * fg_scale,
                           AddFilter(g, "scale", wh(coded(fg_w, fg_h)) + ":flags=lanczos:out_range=tv"));
  rc = avfilter_link(split, 0, fg_scale, 0);
  if (rc < 0) return AvError(rc, "link filters");
  std::vector<AVFilterContext*> fg_chain = {fg_scale};
  CUTROOM_RETURN_IF_ERROR(AddRotation(g, fg_chain));
  // Opaque: without this, overlay asks for an alpha plane and blends it.
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * fg, AddFilter(g, "format", "pix_fmts=yuv420p"));
  fg_chain.push_back(fg);
  CUTROOM_RETURN_IF_ERROR(LinkChain(fg_chain));

  // Background: small, blurred, dark, then enlarged.
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * bg_scale,
                           AddFilter(g, "scale", wh(coded(cover_w, cover_h)) + ":flags=fast_bilinear:out_range=tv"));
  rc = avfilter_link(split, 1, bg_scale, 0);
  if (rc < 0) return AvError(rc, "link filters");
  std::vector<AVFilterContext*> bg_chain = {bg_scale};
  CUTROOM_RETURN_IF_ERROR(AddRotation(g, bg_chain));
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * bg_crop, AddFilter(g, "crop", wh(Size(bg_w, bg_h))));
  const int radius = std::max(1, static_cast<int>(std::min(bg_w, bg_h) * kFitBlurShare));
  // The chroma planes are half the size (4:2:0 or smaller), and boxblur
  // refuses a radius over half a plane's side.
  const int chroma_radius = std::max(1, std::min(radius / 2, std::min(bg_w, bg_h) / 4 - 1));
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * blur,
                           AddFilter(g, "boxblur", "luma_radius=" + std::to_string(radius) + ":luma_power=" +
                                                       std::to_string(kFitBlurPasses) + ":chroma_radius=" +
                                                       std::to_string(chroma_radius) + ":chroma_power=" +
                                                       std::to_string(kFitBlurPasses)));
  // Luma towards black and chroma towards neutral by the same factor: every
  // RGB channel scales by it (darkening luma alone leaves saturated colours
  // almost as bright).
  char dark[128];
  std::snprintf(dark, sizeof dark, "y=16+(val-16)*%.2f:u=128+(val-128)*%.2f:v=128+(val-128)*%.2f", kFitBackgroundLevel,
                kFitBackgroundLevel, kFitBackgroundLevel);
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * darken, AddFilter(g, "lutyuv", dark));
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * bg_up,
                           AddFilter(g, "scale", wh(Size(out_w_, out_h_)) + ":flags=bilinear:out_range=tv"));
  // The enlarged background keeps the small one's pixel shape; square
  // pixels, so that the overlay's output is what the encoder is told.
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * bg_sar, AddFilter(g, "setsar", "sar=1/1"));
  bg_chain.insert(bg_chain.end(), {bg_crop, blur, darken, bg_up, bg_sar});
  CUTROOM_RETURN_IF_ERROR(LinkChain(bg_chain));

  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * overlay,
                           AddFilter(g, "overlay", "x=" + std::to_string(EvenDown((out_w_ - fg_w) / 2)) +
                                                       ":y=" + std::to_string(EvenDown((out_h_ - fg_h) / 2)) +
                                                       ":format=yuv420"));
  rc = avfilter_link(bg_sar, 0, overlay, 0);
  if (rc >= 0) rc = avfilter_link(fg, 0, overlay, 1);
  if (rc < 0) return AvError(rc, "link filters");
  chain = {overlay};
  return Status::Ok();
}

// The audiogram: the waveform across the middle third of a black frame.
Status Renderer::BuildAudiogramGraph() {
  graph_.reset(avfilter_graph_alloc());
  if (!graph_) return Status::ResourceExhausted("out of memory");
  graph_->nb_threads = spec_.threads;
  AVFilterGraph* g = graph_.get();
  char layout[64];
  if (av_channel_layout_describe(&out_layout_, layout, sizeof layout) < 0) return Status::Internal("channel layout");
  std::vector<AVFilterContext*> chain;
  CUTROOM_ASSIGN_OR_RETURN(src_, AddFilter(g, "abuffer",
                                           "time_base=1/" + std::to_string(out_rate_) + ":sample_rate=" +
                                               std::to_string(out_rate_) + ":sample_fmt=fltp:channel_layout=" + layout));
  chain.push_back(src_);
  const AVRational rate = venc_->framerate;
  const std::string r = std::to_string(rate.num) + "/" + std::to_string(rate.den);
  const int wave_h = std::max(2, EvenDown(out_h_ / 3));
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * waves,
                           AddFilter(g, "showwaves", "s=" + Size(out_w_, wave_h) + ":mode=cline:rate=" + r +
                                                         ":colors=" + kAudiogramColor + ":scale=sqrt"));
  chain.push_back(waves);
  // showwaves's own rate drifts from the one asked for when a frame's
  // samples do not divide evenly into columns.
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * fps, AddFilter(g, "fps", "fps=" + r));
  chain.push_back(fps);
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * pad,
                           AddFilter(g, "pad", "w=" + std::to_string(out_w_) + ":h=" + std::to_string(out_h_) +
                                                   ":x=0:y=" + std::to_string(EvenDown((out_h_ - wave_h) / 2)) +
                                                   ":color=black"));
  chain.push_back(pad);
  return FinishPictureGraph(chain, "audiogram");
}

// The end every picture graph shares: square pixels, 4:2:0, the captions
// when there are any, the sink; then links and configures the graph.
Status Renderer::FinishPictureGraph(std::vector<AVFilterContext*>& chain, const std::string& what) {
  AVFilterGraph* g = graph_.get();
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * sar, AddFilter(g, "setsar", "sar=1/1"));
  CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * yuv, AddFilter(g, "format", "pix_fmts=yuv420p"));
  chain.push_back(sar);
  chain.push_back(yuv);
  if (!spec_.ass_path.empty()) {
    CUTROOM_ASSIGN_OR_RETURN(AVFilterContext * captions, AddCaptions(g, spec_.ass_path));
    chain.push_back(captions);
  }
  CUTROOM_ASSIGN_OR_RETURN(sink_, AddFilter(g, "buffersink", ""));
  chain.push_back(sink_);
  CUTROOM_RETURN_IF_ERROR(LinkChain(chain));
  int rc = avfilter_graph_config(g, nullptr);
  if (rc < 0) return AvError(rc, "configure the " + what + " filters");
  return Status::Ok();
}

Status Renderer::DrainGraph() {
  const AVRational tb = av_buffersink_get_time_base(sink_);
  while (true) {
    FramePtr f(av_frame_alloc());
    if (!f) return Status::ResourceExhausted("out of memory");
    int rc = av_buffersink_get_frame(sink_, f.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return AvError(rc, "filter video");
    if (f->width != out_w_ || f->height != out_h_ || f->format != AV_PIX_FMT_YUV420P) {
      return Status::Internal("render: the filters made " + Size(f->width, f->height) + " pictures");
    }
    f->pts = av_rescale_q(f->pts, tb, venc_->time_base);
    CUTROOM_RETURN_IF_ERROR(Enqueue(std::move(f)));
  }
}

void Renderer::StartEncoder() {
  encoder_ = std::thread([this] { EncodeLoop(); });
}

void Renderer::StopEncoder() {
  if (!encoder_.joinable()) return;
  {
    std::lock_guard lock(encode_mu_);
    encode_closed_ = true;
    encode_abort_ = true;
  }
  encode_cv_.notify_all();
  encoder_.join();
}

Status Renderer::Enqueue(FramePtr f) {
  std::unique_lock lock(encode_mu_);
  encode_cv_.wait(lock, [&] { return encode_queue_.size() < kEncodeQueueFrames || encode_exited_; });
  if (encode_exited_) return encode_status_.ok() ? Status::Internal("render: the video encoder stopped") : encode_status_;
  encode_queue_.push_back(std::move(f));
  lock.unlock();
  encode_cv_.notify_all();
  return Status::Ok();
}

void Renderer::EncodeLoop() {
  Status st;
  bool abort = false;
  while (st.ok()) {
    FramePtr f;
    {
      std::unique_lock lock(encode_mu_);
      encode_cv_.wait(lock, [&] { return !encode_queue_.empty() || encode_closed_; });
      abort = encode_abort_;
      if (abort || encode_queue_.empty()) break;
      f = std::move(encode_queue_.front());
      encode_queue_.pop_front();
    }
    encode_cv_.notify_all();
    st = EncodeVideo(std::move(f));
  }
  if (st.ok() && !abort) st = EndVideoStream();
  {
    std::lock_guard lock(encode_mu_);
    encode_status_ = st;
    encode_exited_ = true;
    encode_queue_.clear();
  }
  encode_cv_.notify_all();
}

// Frames go to the encoder one late: a frame's duration is known when the
// next arrives, and the muxer needs the last one's to end the track where
// the ranges end.
Status Renderer::EncodeVideo(FramePtr f) {
  if (enc_held_) {
    if (f->pts <= enc_held_->pts) return Status::Ok();
    durations_[enc_held_->pts] = f->pts - enc_held_->pts;
    CUTROOM_RETURN_IF_ERROR(SendVideo(enc_held_.get()));
  }
  enc_held_ = std::move(f);
  return Status::Ok();
}

Status Renderer::SendVideo(AVFrame* f) {
  if (f) f->pict_type = AV_PICTURE_TYPE_NONE;
  int rc = avcodec_send_frame(venc_.get(), f);
  if (rc < 0) return AvError(rc, "encode video");
  AVPacket* pkt = vpkt_.get();
  while ((rc = avcodec_receive_packet(venc_.get(), pkt)) == 0) {
    auto it = durations_.find(pkt->pts);
    if (it != durations_.end()) {
      pkt->duration = it->second;
      durations_.erase(it);
    }
    video_end_ = std::max(video_end_, pkt->pts + pkt->duration);
    ++video_packets_;
    CUTROOM_RETURN_IF_ERROR(WritePacket(pkt, venc_.get(), vst_));
  }
  if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) return AvError(rc, "encode video");
  return Status::Ok();
}

// On the encoder thread, after the last frame: the held frame lasts to the
// end of the ranges, then the encoder is drained.
Status Renderer::EndVideoStream() {
  if (enc_held_) {
    const int64_t end = av_rescale_q(total_ticks_, tl_, venc_->time_base);
    durations_[enc_held_->pts] = std::max<int64_t>(1, end - enc_held_->pts);
    CUTROOM_RETURN_IF_ERROR(SendVideo(enc_held_.get()));
    enc_held_.reset();
  }
  return SendVideo(nullptr);
}

Status Renderer::FinishVideo() {
  if (!graph_) return Status::InvalidArgument("render: no video frame could be decoded in the ranges of " + spec_.source_path);
  int rc = av_buffersrc_close(src_, total_ticks_, AV_BUFFERSRC_FLAG_PUSH);
  if (rc < 0) return AvError(rc, "end the video filters");
  CUTROOM_RETURN_IF_ERROR(DrainGraph());
  {
    std::lock_guard lock(encode_mu_);
    encode_closed_ = true;
  }
  encode_cv_.notify_all();
  encoder_.join();
  CUTROOM_RETURN_IF_ERROR(encode_status_);
  if (video_packets_ == 0) return Status::InvalidArgument("render: no video frame in the ranges of " + spec_.source_path);
  return Status::Ok();
}

// --- audio ------------------------------------------------------------------------------

int64_t Renderer::AudioSample(const AVFrame* f) {
  const int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  if (ts == AV_NOPTS_VALUE) return expected_first_;
  int64_t first = av_rescale_q(ts, audio_.stream->time_base, {1, in_rate_}) - in_origin_samples_;
  const int64_t jitter = std::llround(kAudioJitterS * in_rate_);
  if (expected_first_ != INT64_MIN && std::llabs(first - expected_first_) <= jitter) first = expected_first_;
  return first;
}

Result<Renderer::Take> Renderer::TakeAudio(const FramePtr& f) {
  if (f->sample_rate != in_rate_) {
    return Status::NotSupported("render: the audio sample rate of " + spec_.source_path + " changes mid-stream");
  }
  const int64_t first = AudioSample(f.get());
  if (first == INT64_MIN) return Take::kUsed;  // no time at all: cannot be placed
  const int64_t n = f->nb_samples;
  if (first >= in_end_) return Take::kDone;
  if (first + n <= in_pos_) {
    expected_first_ = first + n;
    return Take::kUsed;
  }
  CUTROOM_RETURN_IF_ERROR(CheckCancelled());
  AVChannelLayout layout{};
  if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&layout, f->ch_layout.nb_channels);
  } else {
    int rc = av_channel_layout_copy(&layout, &f->ch_layout);
    if (rc < 0) return AvError(rc, "read the channel layout");
  }
  Status st = EnsureResampler(static_cast<AVSampleFormat>(f->format), layout, f->sample_rate);
  av_channel_layout_uninit(&layout);
  CUTROOM_RETURN_IF_ERROR(st);
  if (first > in_pos_) {
    CUTROOM_RETURN_IF_ERROR(FeedSilence(first - in_pos_));  // a hole in the source audio
    in_pos_ = first;
  }
  const int64_t offset = in_pos_ - first;
  const int count = static_cast<int>(std::min(first + n, in_end_) - in_pos_);
  const auto format = static_cast<AVSampleFormat>(f->format);
  const int bytes = av_get_bytes_per_sample(format);
  const int channels = f->ch_layout.nb_channels;
  std::vector<const uint8_t*> planes;
  if (av_sample_fmt_is_planar(format)) {
    for (int c = 0; c < channels; ++c) planes.push_back(f->extended_data[c] + offset * bytes);
  } else {
    planes.push_back(f->extended_data[0] + offset * bytes * channels);
  }
  CUTROOM_RETURN_IF_ERROR(ConvertAudio(planes.data(), count, false));
  in_pos_ += count;
  if (first + n > in_end_) return Take::kDone;  // the rest may belong to the next range
  expected_first_ = first + n;
  return Take::kUsed;
}

Status Renderer::EnsureResampler(AVSampleFormat format, const AVChannelLayout& layout, int rate) {
  if (swr_ && format == swr_in_format_ && rate == swr_in_rate_ && !av_channel_layout_compare(&layout, &swr_in_layout_)) {
    return Status::Ok();
  }
  if (swr_) CUTROOM_RETURN_IF_ERROR(FlushResampler());
  SwrContext* raw = nullptr;
  // FFmpeg 5.1 declares the input layout non-const; it is only copied.
  int rc = swr_alloc_set_opts2(&raw, &out_layout_, AV_SAMPLE_FMT_FLTP, out_rate_, const_cast<AVChannelLayout*>(&layout),
                               format, rate, 0, nullptr);
  SwrPtr swr(raw);
  if (rc < 0) return AvError(rc, "set up audio conversion");
  rc = swr_init(swr.get());
  if (rc < 0) return AvError(rc, "set up audio conversion");
  swr_ = std::move(swr);
  swr_in_format_ = format;
  swr_in_rate_ = rate;
  av_channel_layout_uninit(&swr_in_layout_);
  rc = av_channel_layout_copy(&swr_in_layout_, &layout);
  if (rc < 0) return AvError(rc, "set up audio conversion");
  silence_.Reset();
  return Status::Ok();
}

// Converts input samples (or, with flush, what the resampler still holds)
// to the output format and, at speed 1, into the FIFO; otherwise through
// the range's tempo change.
Status Renderer::ConvertAudio(const uint8_t* const* data, int samples, bool flush) {
  while (true) {
    const int capacity = std::max(swr_get_out_samples(swr_.get(), flush ? 0 : samples), 64);
    CUTROOM_RETURN_IF_ERROR(converted_.Reserve(out_layout_.nb_channels, capacity, AV_SAMPLE_FMT_FLTP));
    const int got = swr_convert(swr_.get(), converted_.data.data(), capacity, flush ? nullptr : const_cast<const uint8_t**>(data),
                                flush ? 0 : samples);
    if (got < 0) return AvError(got, "convert audio");
    if (!tempo_) {
      CUTROOM_RETURN_IF_ERROR(KeepRangeAudio(converted_.data.data(), got));
    } else if (got > 0) {
      CUTROOM_RETURN_IF_ERROR(tempo_->Push(converted_.data.data(), got));
      CUTROOM_RETURN_IF_ERROR(DrainTempo());
    }
    if (!flush || got == 0) break;
  }
  return EncodeAudio(false);
}

// Output samples of this range into the FIFO, faded at its edges, never
// past the samples it is due.
Status Renderer::KeepRangeAudio(uint8_t* const* planes, int count) {
  const int64_t room = range_samples_ - range_written_;
  const int keep = static_cast<int>(std::clamp<int64_t>(count, 0, room));
  if (keep > 0) {
    FadeRangeEdges(planes, keep);
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(const_cast<uint8_t**>(planes)), keep) < keep) {
      return Status::ResourceExhausted("out of memory");
    }
    range_written_ += keep;
  }
  return Status::Ok();
}

Status Renderer::DrainTempo() {
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(FramePtr f, tempo_->Pull());
    if (!f) return Status::Ok();
    int rc = av_frame_make_writable(f.get());  // faded in place
    if (rc < 0) return AvError(rc, "change the audio's tempo");
    CUTROOM_RETURN_IF_ERROR(KeepRangeAudio(f->extended_data, f->nb_samples));
  }
}

// A cut rarely falls where the waveform crosses zero; the step it leaves
// clicks. Each range fades in and out over a few milliseconds, so joins
// (and the clip's own start and end) meet at silence; ranges that continue
// each other in the source join without a fade.
void Renderer::FadeRangeEdges(uint8_t* const* planes, int count) {
  const int64_t fade = std::min<int64_t>(std::llround(kAudioFadeS * out_rate_), range_samples_ / 2);
  if (fade <= 0) return;
  const int64_t first = range_written_, last = range_written_ + count;  // range positions of planes[][0, count)
  auto apply = [&](int64_t from, int64_t to) {
    for (int64_t p = std::max(from, first); p < std::min(to, last); ++p) {
      const double into = std::min(static_cast<double>(p) + 0.5, static_cast<double>(range_samples_ - p) - 0.5);
      const auto gain = static_cast<float>(std::clamp(into / static_cast<double>(fade), 0.0, 1.0));
      for (int c = 0; c < out_layout_.nb_channels; ++c) reinterpret_cast<float*>(planes[c])[p - first] *= gain;
    }
  };
  if (fade_in_) apply(0, fade);
  if (fade_out_) apply(range_samples_ - fade, range_samples_);
}

Status Renderer::FeedSilence(int64_t samples) {
  constexpr int kChunk = 4096;
  if (silence_.capacity == 0) {
    CUTROOM_RETURN_IF_ERROR(silence_.Reserve(swr_in_layout_.nb_channels, kChunk, swr_in_format_, true));
  }
  while (samples > 0) {
    const int n = static_cast<int>(std::min<int64_t>(samples, kChunk));
    CUTROOM_RETURN_IF_ERROR(ConvertAudio(silence_.data.data(), n, false));
    samples -= n;
  }
  return Status::Ok();
}

Status Renderer::FlushResampler() { return ConvertAudio(nullptr, 0, true); }

Status Renderer::EndAudioRange() {
  if (!swr_) {
    const AVCodecParameters* par = audio_.stream->codecpar;
    AVChannelLayout layout{};
    if (par->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || par->ch_layout.nb_channels <= 0) {
      av_channel_layout_default(&layout, std::max(1, par->ch_layout.nb_channels));
    } else {
      int rc = av_channel_layout_copy(&layout, &par->ch_layout);
      if (rc < 0) return AvError(rc, "read the channel layout");
    }
    const auto format = par->format >= 0 ? static_cast<AVSampleFormat>(par->format) : AV_SAMPLE_FMT_FLTP;
    Status st = EnsureResampler(format, layout, in_rate_);
    av_channel_layout_uninit(&layout);
    CUTROOM_RETURN_IF_ERROR(st);
  }
  if (in_pos_ < in_end_) {
    CUTROOM_RETURN_IF_ERROR(FeedSilence(in_end_ - in_pos_));  // the source audio ended early
    in_pos_ = in_end_;
  }
  CUTROOM_RETURN_IF_ERROR(FlushResampler());
  if (tempo_) {
    // atempo keeps back the end of its last window (tens of milliseconds)
    // when its input ends; silence after the range pushes it out, and is
    // itself cut off.
    const int tail = static_cast<int>(std::llround(kTempoTailS * out_rate_));
    SampleBuffer silence;
    CUTROOM_RETURN_IF_ERROR(silence.Reserve(out_layout_.nb_channels, tail, AV_SAMPLE_FMT_FLTP, true));
    CUTROOM_RETURN_IF_ERROR(tempo_->Push(silence.data.data(), tail));
    CUTROOM_RETURN_IF_ERROR(tempo_->Close());
    CUTROOM_RETURN_IF_ERROR(DrainTempo());
    tempo_.reset();
  }
  // Resampling and tempo changes round; the range gets exactly its share
  // of samples.
  while (range_written_ < range_samples_) {
    const int n = static_cast<int>(std::min<int64_t>(range_samples_ - range_written_, 4096));
    SampleBuffer zeros;
    CUTROOM_RETURN_IF_ERROR(zeros.Reserve(out_layout_.nb_channels, n, AV_SAMPLE_FMT_FLTP, true));
    if (av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(zeros.data.data()), n) < n) {
      return Status::ResourceExhausted("out of memory");
    }
    range_written_ += n;
  }
  return EncodeAudio(false);
}

// n samples from the front of a FIFO, as a frame.
Result<FramePtr> ReadFifo(AVAudioFifo* fifo, int n, int rate, const AVChannelLayout& layout) {
  FramePtr f(av_frame_alloc());
  if (!f) return Status::ResourceExhausted("out of memory");
  f->nb_samples = n;
  f->format = AV_SAMPLE_FMT_FLTP;
  f->sample_rate = rate;
  int rc = av_channel_layout_copy(&f->ch_layout, &layout);
  if (rc >= 0) rc = av_frame_get_buffer(f.get(), 0);
  if (rc < 0) return AvError(rc, "allocate an audio frame");
  if (av_audio_fifo_read(fifo, reinterpret_cast<void**>(f->extended_data), n) < n) {
    return Status::Internal("render: audio FIFO underrun");
  }
  return f;
}

// The ranges' audio, through loudness normalisation when it is on, to the
// encoder (or the loudness meter of a measuring pass).
Status Renderer::EncodeAudio(bool flush) {
  if (!normalizer_) return SendAudio(fifo_.get(), flush);
  CUTROOM_RETURN_IF_ERROR(NormalizeAudio(flush));
  return SendAudio(normalized_.get(), flush);
}

// Moves what the FIFO holds through loudnorm. Its output is cut or padded
// to exactly the samples that went in, so the track keeps its length.
Status Renderer::NormalizeAudio(bool flush) {
  if (const int available = av_audio_fifo_size(fifo_.get()); available > 0) {
    CUTROOM_ASSIGN_OR_RETURN(FramePtr f, ReadFifo(fifo_.get(), available, out_rate_, out_layout_));
    CUTROOM_RETURN_IF_ERROR(normalizer_->Push(std::move(f)));
    normalizer_in_ += available;
  }
  if (flush) CUTROOM_RETURN_IF_ERROR(normalizer_->Close());
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(FramePtr f, normalizer_->Pull());
    if (!f) break;
    const int keep = static_cast<int>(std::clamp<int64_t>(f->nb_samples, 0, normalizer_in_ - normalizer_out_));
    if (av_audio_fifo_write(normalized_.get(), reinterpret_cast<void**>(f->extended_data), keep) < keep) {
      return Status::ResourceExhausted("out of memory");
    }
    normalizer_out_ += keep;
  }
  if (flush && normalizer_out_ < normalizer_in_) {
    const int n = static_cast<int>(normalizer_in_ - normalizer_out_);
    SampleBuffer zeros;
    CUTROOM_RETURN_IF_ERROR(zeros.Reserve(out_layout_.nb_channels, n, AV_SAMPLE_FMT_FLTP, true));
    if (av_audio_fifo_write(normalized_.get(), reinterpret_cast<void**>(zeros.data.data()), n) < n) {
      return Status::ResourceExhausted("out of memory");
    }
    normalizer_out_ += n;
  }
  return Status::Ok();
}

// Encoder frames from a FIFO, all of it with flush (the last frame short).
Status Renderer::SendAudio(AVAudioFifo* fifo, bool flush) {
  const int frame_size = aenc_ && aenc_->frame_size > 0 ? aenc_->frame_size : 1024;
  while (true) {
    const int available = av_audio_fifo_size(fifo);
    if (available == 0 || (available < frame_size && !flush)) return Status::Ok();
    const int n = std::min(available, frame_size);
    CUTROOM_ASSIGN_OR_RETURN(FramePtr f, ReadFifo(fifo, n, out_rate_, out_layout_));
    f->pts = audio_out_pts_;
    audio_out_pts_ += n;
    if (meter_) {
      CUTROOM_RETURN_IF_ERROR(meter_->Push(std::move(f)));
      continue;
    }
    if (audiogram_) {
      if (!graph_) CUTROOM_RETURN_IF_ERROR(BuildAudiogramGraph());
      FramePtr copy(av_frame_clone(f.get()));
      if (!copy) return Status::ResourceExhausted("out of memory");
      int rc = av_buffersrc_add_frame_flags(src_, copy.get(), 0);
      if (rc < 0) return AvError(rc, "draw the audiogram");
      CUTROOM_RETURN_IF_ERROR(DrainGraph());
      ReportProgress(total_ticks_ > 0 ? static_cast<double>(audio_out_pts_) / total_ticks_ : 0);
    }
    int rc = avcodec_send_frame(aenc_.get(), f.get());
    if (rc < 0) return AvError(rc, "encode audio");
    while ((rc = avcodec_receive_packet(aenc_.get(), pkt_.get())) == 0) {
      CUTROOM_RETURN_IF_ERROR(WritePacket(pkt_.get(), aenc_.get(), ast_));
    }
    if (rc != AVERROR(EAGAIN)) return AvError(rc, "encode audio");
  }
}

}  // namespace

Result<RenderResult> Render(const RenderSpec& spec, const std::string& output_path, const RenderProgress& progress,
                            const RenderCancelled& cancelled) {
  Renderer renderer(spec, progress, cancelled);
  return renderer.Run(output_path);
}

}  // namespace cutroom::edit
