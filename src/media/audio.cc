#include "media/audio.h"

#include <algorithm>
#include <memory>

#include "media/av_util.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
}

namespace cutroom::media {
namespace {

constexpr int kMaxConsecutiveErrors = 48;
// The sink gets chunks of about this many samples (0.5 s at 16 kHz) rather
// than one call per decoded frame.
constexpr size_t kChunkSamples = 8192;
constexpr int64_t kMaxInMemorySamples = 4LL * 3600 * 16000;

struct SwrFreer {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
using SwrContextPtr = std::unique_ptr<SwrContext, SwrFreer>;

struct ChannelLayout {
  AVChannelLayout layout{};
  ChannelLayout() = default;
  ~ChannelLayout() { av_channel_layout_uninit(&layout); }
  ChannelLayout(const ChannelLayout&) = delete;
  ChannelLayout& operator=(const ChannelLayout&) = delete;
};

Result<FormatContextPtr> OpenInput(const std::string& path) {
  CUTROOM_ASSIGN_OR_RETURN(FormatContextPtr fmt, OpenMedia(path));
  int rc;
  rc = avformat_find_stream_info(fmt.get(), nullptr);
  if (rc < 0) return AvError(rc, "read stream info of " + path);
  return fmt;
}

// Decoded frames in, mono S16 chunks out. Rebuilds the resampler when the
// input format changes mid-stream (as it may at a splice).
class Resampler {
 public:
  Resampler(int out_rate, const AudioSink& sink) : out_rate_(out_rate), sink_(sink) {}

  Status Push(const AVFrame* frame) {
    if (frame->sample_rate <= 0 || frame->ch_layout.nb_channels <= 0 || frame->nb_samples < 0) {
      return Status::InvalidArgument("decoded audio has no sample rate or channels");
    }
    if (!swr_ || frame->format != in_format_ || frame->sample_rate != in_rate_ ||
        av_channel_layout_compare(&frame->ch_layout, &in_layout_.layout) != 0) {
      CUTROOM_RETURN_IF_ERROR(Drain());
      CUTROOM_RETURN_IF_ERROR(Configure(frame));
    }
    return Convert(const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
  }

  // Flushes the resampler's delay line and the last partial chunk.
  Status Finish() {
    CUTROOM_RETURN_IF_ERROR(Drain());
    return FlushChunk();
  }

 private:
  Status Configure(const AVFrame* frame) {
    av_channel_layout_uninit(&in_layout_.layout);
    int rc = frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC
                 ? (av_channel_layout_default(&in_layout_.layout, frame->ch_layout.nb_channels), 0)
                 : av_channel_layout_copy(&in_layout_.layout, &frame->ch_layout);
    if (rc < 0) return AvError(rc, "audio channel layout");
    in_format_ = frame->format;
    in_rate_ = frame->sample_rate;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext* raw = nullptr;
    rc = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_S16, out_rate_, &in_layout_.layout,
                             static_cast<AVSampleFormat>(in_format_), in_rate_, 0, nullptr);
    swr_.reset(raw);
    if (rc < 0) return AvError(rc, "configure resampler");
    rc = swr_init(swr_.get());
    if (rc < 0) return AvError(rc, "configure resampler");
    // The frame's layout may have been UNSPEC: compare against what it said.
    av_channel_layout_uninit(&in_layout_.layout);
    rc = av_channel_layout_copy(&in_layout_.layout, &frame->ch_layout);
    if (rc < 0) return AvError(rc, "audio channel layout");
    return Status::Ok();
  }

  Status Convert(const uint8_t** in, int in_samples) {
    int capacity = swr_get_out_samples(swr_.get(), in_samples);
    if (capacity < 0) return AvError(capacity, "resample audio");
    if (capacity == 0) return Status::Ok();
    size_t used = chunk_.size();
    chunk_.resize(used + static_cast<size_t>(capacity));
    uint8_t* out = reinterpret_cast<uint8_t*>(chunk_.data() + used);
    int n = swr_convert(swr_.get(), &out, capacity, in, in_samples);
    if (n < 0) {
      chunk_.resize(used);
      return AvError(n, "resample audio");
    }
    chunk_.resize(used + static_cast<size_t>(n));
    if (chunk_.size() >= kChunkSamples) return FlushChunk();
    return Status::Ok();
  }

  Status Drain() {
    if (!swr_) return Status::Ok();
    while (true) {
      size_t before = chunk_.size();
      CUTROOM_RETURN_IF_ERROR(Convert(nullptr, 0));
      if (chunk_.size() == before) break;
    }
    return Status::Ok();
  }

  Status FlushChunk() {
    if (chunk_.empty()) return Status::Ok();
    Status st = sink_(chunk_.data(), chunk_.size());
    chunk_.clear();
    return st;
  }

  int out_rate_;
  const AudioSink& sink_;
  SwrContextPtr swr_;
  int in_format_ = -1;
  int in_rate_ = 0;
  ChannelLayout in_layout_;
  std::vector<int16_t> chunk_;
};

}  // namespace

Status ExtractAudio(const std::string& path, int sample_rate, const AudioSink& sink) {
  if (sample_rate < 8000 || sample_rate > 192000) {
    return Status::InvalidArgument("sample rate " + std::to_string(sample_rate) + " out of range 8000..192000");
  }
  CUTROOM_ASSIGN_OR_RETURN(FormatContextPtr fmt, OpenInput(path));
  int stream_index = -1;
  bool undecodable = false;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVCodecParameters* par = fmt->streams[i]->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    if (par->codec_id == AV_CODEC_ID_NONE || !avcodec_find_decoder(par->codec_id)) {
      undecodable = true;
      continue;
    }
    stream_index = static_cast<int>(i);
    break;
  }
  if (stream_index < 0) {
    if (undecodable) return Status::NotSupported("the audio codec of " + path + " cannot be decoded");
    return Status::NotFound("no audio stream in " + path);
  }
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index) fmt->streams[i]->discard = AVDISCARD_ALL;
  }
  AVStream* stream = fmt->streams[stream_index];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  CodecContextPtr dec(avcodec_alloc_context3(codec));
  if (!dec) return Status::ResourceExhausted("out of memory");
  int rc = avcodec_parameters_to_context(dec.get(), stream->codecpar);
  if (rc < 0) return AvError(rc, "configure audio decoder for " + path);
  dec->pkt_timebase = stream->time_base;
  rc = avcodec_open2(dec.get(), codec, nullptr);
  if (rc < 0) return AvError(rc, std::string("open ") + codec->name + " decoder for " + path);

  PacketPtr pkt(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!pkt || !frame) return Status::ResourceExhausted("out of memory");
  Resampler resampler(sample_rate, sink);
  int consecutive_errors = 0;
  int64_t errors = 0, frames = 0;
  Status last_error;
  auto note_error = [&](int code) -> Status {
    if (code == AVERROR(ENOMEM)) return AvError(code, "decode audio of " + path);
    ++errors;
    last_error = AvError(code, "decode audio of " + path);
    if (++consecutive_errors >= kMaxConsecutiveErrors) {
      return Status::InvalidArgument("corrupt audio data: " + std::to_string(consecutive_errors) +
                                     " packets in a row failed to decode (" + last_error.message() + ")");
    }
    return Status::Ok();
  };
  // Takes every frame the decoder has ready; true once it reports EOF.
  auto receive = [&](bool& eof) -> Status {
    while (true) {
      int r = avcodec_receive_frame(dec.get(), frame.get());
      if (r == AVERROR(EAGAIN)) return Status::Ok();
      if (r == AVERROR_EOF) {
        eof = true;
        return Status::Ok();
      }
      if (r < 0) {
        CUTROOM_RETURN_IF_ERROR(note_error(r));
        continue;
      }
      consecutive_errors = 0;
      ++frames;
      Status st = resampler.Push(frame.get());
      av_frame_unref(frame.get());
      CUTROOM_RETURN_IF_ERROR(st);
    }
  };

  bool eof = false;
  while (!eof) {
    rc = av_read_frame(fmt.get(), pkt.get());
    if (rc == AVERROR_EOF) {
      rc = avcodec_send_packet(dec.get(), nullptr);
      if (rc < 0 && rc != AVERROR_EOF) return AvError(rc, "flush audio decoder");
      while (!eof) {
        int64_t before = frames + errors;
        CUTROOM_RETURN_IF_ERROR(receive(eof));
        if (!eof && frames + errors == before) break;  // a decoder that never says EOF
      }
      break;
    }
    if (rc < 0) return AvError(rc, "read " + path);
    if (pkt->stream_index != stream_index) {
      av_packet_unref(pkt.get());
      continue;
    }
    // Audio decoders take a packet whenever their output is drained, so
    // sending after receiving everything never meets EAGAIN.
    rc = avcodec_send_packet(dec.get(), pkt.get());
    av_packet_unref(pkt.get());
    if (rc < 0 && rc != AVERROR(EAGAIN)) CUTROOM_RETURN_IF_ERROR(note_error(rc));
    CUTROOM_RETURN_IF_ERROR(receive(eof));
  }
  if (frames == 0 && errors > 0) {
    return Status::InvalidArgument("corrupt audio data: nothing decoded (" + last_error.message() + ")");
  }
  return resampler.Finish();
}

Result<std::vector<int16_t>> ReadAudio16kMono(const std::string& path) {
  std::vector<int16_t> samples;
  Status st = ExtractAudio(path, 16000, [&](const int16_t* data, size_t n) -> Status {
    if (static_cast<int64_t>(samples.size() + n) > kMaxInMemorySamples) {
      return Status::ResourceExhausted("audio of " + path + " is longer than 4 hours; stream it with ExtractAudio");
    }
    samples.insert(samples.end(), data, data + n);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return samples;
}

}  // namespace cutroom::media
