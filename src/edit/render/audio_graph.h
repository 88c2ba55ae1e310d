// The render's audio steps that libavfilter does: changing tempo without
// changing pitch (atempo), measuring loudness (ebur128) and normalising it
// (loudnorm). Each is a small filter graph over planar float audio at the
// render's output rate and channel layout, fed and drained by hand by the
// renderer (renderer.cc), which owns them. Internal to edit/render: the
// interface speaks libav types.
//
// Loudness normalisation is two-pass: the renderer first runs the ranges'
// audio alone (nothing else decoded) through a LoudnessMeter, then gives
// the measurement to loudnorm, which applies one constant gain ("linear"
// mode) when that reaches the target without the true peaks going over
// the ceiling or the loudness range over its limit, and otherwise falls
// back to its dynamic mode (a gain that follows short-term loudness with a
// 3 s look-ahead, and a true-peak limiter).
//
// Thread-safety: each object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
}

#include "core/result.h"
#include "media/av_util.h"

namespace cutroom::edit {

struct FilterGraphFreer {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphFreer>;

// A chain of audio filters between a source taking planar float at one
// rate and layout and a sink handing out whatever the chain makes.
class AudioGraph {
 public:
  ~AudioGraph();
  AudioGraph(const AudioGraph&) = delete;
  AudioGraph& operator=(const AudioGraph&) = delete;

  // The next `samples` per channel (planes as the graph's input format).
  Status Push(const uint8_t* const* planes, int samples);
  // Takes a frame in the input format; its timestamp is replaced by the
  // count of samples pushed before it.
  Status Push(media::FramePtr frame);
  // No more input: the filters hand out what they still hold.
  Status Close();
  // The next output frame, or null when none is ready yet (or, after
  // Close, none is left).
  Result<media::FramePtr> Pull();

 private:
  friend Result<std::unique_ptr<AudioGraph>> MakeAudioGraph(const std::string& filters, int rate,
                                                            const AVChannelLayout& layout, const std::string& what);
  AudioGraph() = default;

  FilterGraphPtr graph_;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  AVChannelLayout layout_{};
  int rate_ = 0;
  int64_t pushed_ = 0;  // samples, the next input's timestamp
  std::string what_;    // for error messages: "change the tempo"
};

// An AudioGraph running `filters` (a libavfilter chain description) on
// planar float input at `rate` with `layout`. NotSupported when this
// libavfilter lacks a filter; Internal for a description it rejects.
Result<std::unique_ptr<AudioGraph>> MakeAudioGraph(const std::string& filters, int rate, const AVChannelLayout& layout,
                                                   const std::string& what);

// Plays audio `speed` times as fast (0.5..2) at the same pitch (atempo's
// overlap-add); planar float out at the input's rate and layout. Over a
// whole input it makes about samples / speed samples; the caller cuts or
// pads to the exact count.
Result<std::unique_ptr<AudioGraph>> MakeTempoGraph(double speed, int rate, const AVChannelLayout& layout);

// EBU R128 (ITU-R BS.1770) figures of a programme.
struct Loudness {
  double integrated_lufs = -70;  // -70: nothing above the absolute gate (silence, or under 0.4 s)
  double range_lu = 0;
  double true_peak_dbtp = -99;
  // Whether there is anything a gain could bring to a target.
  bool audible() const { return integrated_lufs > -69.9; }
};

// Measures the loudness of what is pushed into it (libavfilter's ebur128,
// true peaks by 4x oversampling).
class LoudnessMeter {
 public:
  static Result<std::unique_ptr<LoudnessMeter>> Create(int rate, const AVChannelLayout& layout);
  Status Push(media::FramePtr frame);
  // Ends the programme; the figures over all of it.
  Result<Loudness> Finish();

 private:
  explicit LoudnessMeter(std::unique_ptr<AudioGraph> graph) : graph_(std::move(graph)) {}
  Status Drain();
  std::unique_ptr<AudioGraph> graph_;
  Loudness last_;
};

// The loudness targets every normalised render gets besides its integrated
// loudness: EBU R128's loudness range limit for broadcast and a true-peak
// ceiling with room for lossy coding (AAC overshoots a little).
constexpr double kNormalizeTruePeakDbtp = -1.5;
constexpr double kNormalizeRangeLu = 11;

// Normalises audio measured as `measured` to `target_lufs` integrated
// (loudnorm), back at the input's rate (loudnorm works at 192 kHz), in
// planar float with the input's layout; about as many samples as went in
// (the resampling rounds), so the caller cuts or pads to the exact count.
// REQUIRES: measured.audible().
Result<std::unique_ptr<AudioGraph>> MakeLoudnormGraph(const Loudness& measured, double target_lufs, int rate,
                                                      const AVChannelLayout& layout);

}  // namespace cutroom::edit
