#include "edit/render/audio_graph.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/dict.h>
#include <libavutil/samplefmt.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cutroom::edit {
namespace {

using media::AvError;
using media::FramePtr;

struct InOutFreer {
  void operator()(AVFilterInOut* io) const { avfilter_inout_free(&io); }
};
using InOutPtr = std::unique_ptr<AVFilterInOut, InOutFreer>;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

Result<std::string> LayoutName(const AVChannelLayout& layout) {
  char buf[64];
  if (av_channel_layout_describe(&layout, buf, sizeof buf) < 0) {
    return Status::Internal("render: cannot name a channel layout");
  }
  return std::string(buf);
}

Status Require(const char* filter) {
  if (avfilter_get_by_name(filter)) return Status::Ok();
  return Status::NotSupported(std::string("render: this libavfilter has no ") + filter + " filter");
}

// The end of every chain that hands audio back to the renderer: planar
// float at the render's rate and layout, whatever the filters chose.
Result<std::string> BackToInput(int rate, const AVChannelLayout& layout) {
  CUTROOM_ASSIGN_OR_RETURN(std::string name, LayoutName(layout));
  return "aformat=sample_fmts=fltp:sample_rates=" + std::to_string(rate) + ":channel_layouts=" + name;
}

}  // namespace

AudioGraph::~AudioGraph() { av_channel_layout_uninit(&layout_); }

Result<std::unique_ptr<AudioGraph>> MakeAudioGraph(const std::string& filters, int rate, const AVChannelLayout& layout,
                                                   const std::string& what) {
  std::unique_ptr<AudioGraph> g(new AudioGraph());
  g->what_ = what;
  g->rate_ = rate;
  int rc = av_channel_layout_copy(&g->layout_, &layout);
  if (rc < 0) return AvError(rc, what);
  g->graph_.reset(avfilter_graph_alloc());
  if (!g->graph_) return Status::ResourceExhausted("out of memory");
  // Audio filters here are cheap next to video; a thread pool per range
  // would cost more than it saves.
  g->graph_->nb_threads = 1;
  CUTROOM_ASSIGN_OR_RETURN(std::string layout_name, LayoutName(layout));
  const std::string src_args = "time_base=1/" + std::to_string(rate) + ":sample_rate=" + std::to_string(rate) +
                               ":sample_fmt=fltp:channel_layout=" + layout_name;
  rc = avfilter_graph_create_filter(&g->src_, avfilter_get_by_name("abuffer"), "in", src_args.c_str(), nullptr,
                                    g->graph_.get());
  if (rc < 0) return AvError(rc, what + ": set up the audio source (" + src_args + ")");
  rc = avfilter_graph_create_filter(&g->sink_, avfilter_get_by_name("abuffersink"), "out", nullptr, nullptr,
                                    g->graph_.get());
  if (rc < 0) return AvError(rc, what + ": set up the audio sink");
  // The description's open ends: its input is fed by "in", its output
  // feeds "out".
  InOutPtr outputs(avfilter_inout_alloc()), inputs(avfilter_inout_alloc());
  if (!outputs || !inputs) return Status::ResourceExhausted("out of memory");
  outputs->name = av_strdup("in");
  outputs->filter_ctx = g->src_;
  inputs->name = av_strdup("out");
  inputs->filter_ctx = g->sink_;
  if (!outputs->name || !inputs->name) return Status::ResourceExhausted("out of memory");
  AVFilterInOut* raw_inputs = inputs.release();
  AVFilterInOut* raw_outputs = outputs.release();
  rc = avfilter_graph_parse_ptr(g->graph_.get(), filters.c_str(), &raw_inputs, &raw_outputs, nullptr);
  inputs.reset(raw_inputs);
  outputs.reset(raw_outputs);
  if (rc < 0) return Status::Internal(AvError(rc, what + ": set up \"" + filters + "\"").message());
  rc = avfilter_graph_config(g->graph_.get(), nullptr);
  if (rc < 0) return Status::Internal(AvError(rc, what + ": configure \"" + filters + "\"").message());
  return g;
}

Status AudioGraph::Push(const uint8_t* const* planes, int samples) {
  if (samples <= 0) return Status::Ok();
  FramePtr f(av_frame_alloc());
  if (!f) return Status::ResourceExhausted("out of memory");
  f->nb_samples = samples;
  f->format = AV_SAMPLE_FMT_FLTP;
  f->sample_rate = rate_;
  int rc = av_channel_layout_copy(&f->ch_layout, &layout_);
  if (rc >= 0) rc = av_frame_get_buffer(f.get(), 0);
  if (rc < 0) return AvError(rc, what_ + ": allocate an audio frame");
  const size_t bytes = static_cast<size_t>(samples) * sizeof(float);
  for (int c = 0; c < layout_.nb_channels; ++c) std::memcpy(f->extended_data[c], planes[c], bytes);
  return Push(std::move(f));
}

Status AudioGraph::Push(FramePtr frame) {
  frame->pts = pushed_;
  pushed_ += frame->nb_samples;
  int rc = av_buffersrc_add_frame_flags(src_, frame.get(), 0);
  if (rc < 0) return AvError(rc, what_);
  return Status::Ok();
}

Status AudioGraph::Close() {
  int rc = av_buffersrc_close(src_, pushed_, 0);
  if (rc < 0) return AvError(rc, what_);
  return Status::Ok();
}

Result<FramePtr> AudioGraph::Pull() {
  FramePtr f(av_frame_alloc());
  if (!f) return Status::ResourceExhausted("out of memory");
  int rc = av_buffersink_get_frame(sink_, f.get());
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return FramePtr();
  if (rc < 0) return AvError(rc, what_);
  return f;
}

Result<std::unique_ptr<AudioGraph>> MakeTempoGraph(double speed, int rate, const AVChannelLayout& layout) {
  CUTROOM_RETURN_IF_ERROR(Require("atempo"));
  CUTROOM_ASSIGN_OR_RETURN(std::string back, BackToInput(rate, layout));
  char tempo[32];
  std::snprintf(tempo, sizeof tempo, "%.9g", speed);
  return MakeAudioGraph(std::string("atempo=tempo=") + tempo + "," + back, rate, layout, "change the audio's tempo");
}

Result<std::unique_ptr<LoudnessMeter>> LoudnessMeter::Create(int rate, const AVChannelLayout& layout) {
  CUTROOM_RETURN_IF_ERROR(Require("ebur128"));
  CUTROOM_ASSIGN_OR_RETURN(auto graph, MakeAudioGraph("ebur128=metadata=1:peak=true", rate, layout,
                                                      "measure the loudness"));
  return std::unique_ptr<LoudnessMeter>(new LoudnessMeter(std::move(graph)));
}

Status LoudnessMeter::Push(FramePtr frame) {
  CUTROOM_RETURN_IF_ERROR(graph_->Push(std::move(frame)));
  return Drain();
}

// ebur128 writes the running figures into the metadata of the frame in
// which each 100 ms step ends; the last ones cover the whole programme.
Status LoudnessMeter::Drain() {
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(FramePtr f, graph_->Pull());
    if (!f) return Status::Ok();
    auto get = [&](const char* key, double* v) {
      const AVDictionaryEntry* e = av_dict_get(f->metadata, key, nullptr, 0);
      if (e) *v = std::strtod(e->value, nullptr);
      return e != nullptr;
    };
    get("lavfi.r128.I", &last_.integrated_lufs);
    get("lavfi.r128.LRA", &last_.range_lu);
    double peak = 0, channel_peak = 0;
    bool any = false;
    for (int c = 0; c < f->ch_layout.nb_channels; ++c) {
      const std::string key = "lavfi.r128.true_peaks_ch" + std::to_string(c);
      if (get(key.c_str(), &channel_peak)) {
        any = true;
        peak = std::max(peak, channel_peak);
      }
    }
    if (any) last_.true_peak_dbtp = peak > 0 ? 20 * std::log10(peak) : -99;
  }
}

Result<Loudness> LoudnessMeter::Finish() {
  CUTROOM_RETURN_IF_ERROR(graph_->Close());
  CUTROOM_RETURN_IF_ERROR(Drain());
  return last_;
}

Result<std::unique_ptr<AudioGraph>> MakeLoudnormGraph(const Loudness& measured, double target_lufs, int rate,
                                                      const AVChannelLayout& layout) {
  CUTROOM_RETURN_IF_ERROR(Require("loudnorm"));
  CUTROOM_ASSIGN_OR_RETURN(std::string back, BackToInput(rate, layout));
  // loudnorm takes a measured value of 0 (and a threshold of -70) as "not
  // measured" and then refuses linear mode; a steady tone truly measures a
  // range of 0. ebur128 does not report the gate threshold itself: it is
  // 10 LU under the mean loudness of the blocks above the absolute gate,
  // which for the programmes normalised here is about 10 LU under the
  // integrated loudness. loudnorm uses it only to seed its dynamic mode.
  const double measured_i = std::clamp(measured.integrated_lufs, -99.0, -0.01);
  const double measured_lra = std::clamp(measured.range_lu, 0.01, 99.0);
  const double measured_tp = std::clamp(measured.true_peak_dbtp, -99.0, 99.0);
  double measured_thresh = std::clamp(measured_i - 10, -99.0, -0.01);
  if (std::fabs(measured_thresh + 70) < 0.01) measured_thresh = -70.01;
  const std::string loudnorm = "loudnorm=I=" + Number(target_lufs) + ":TP=" + Number(kNormalizeTruePeakDbtp) +
                               ":LRA=" + Number(kNormalizeRangeLu) + ":measured_I=" + Number(measured_i) +
                               ":measured_LRA=" + Number(measured_lra) + ":measured_TP=" + Number(measured_tp) +
                               ":measured_thresh=" + Number(measured_thresh) + ":linear=true";
  return MakeAudioGraph(loudnorm + ",aresample=" + std::to_string(rate) + "," + back, rate, layout,
                        "normalise the loudness");
}

}  // namespace cutroom::edit
