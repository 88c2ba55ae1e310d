// Render: one clip from one source file, in-process with libav*: source
// ranges cut and joined in order, each at its own speed, an optional moving
// crop, scaling to the output size, burned-in ASS captions (and title),
// optional loudness normalisation, encoded as H.264 (libx264) + AAC in MP4
// with the index at the front (+faststart).
//
// Only the ranges are decoded: each starts with a seek to the keyframe
// before it (or decoding simply goes on when that keyframe is already behind
// the read position, as for ranges close together), and frames before the
// range are dropped, their non-reference frames not even decoded. The
// frame on screen at a range's start is shown from its first instant; audio
// is cut to the sample and faded over 5 ms at each cut so that joins do not
// click. Output timestamps run on without a gap across joins, audio stays
// on the video's clock (gaps in the source audio become silence), and the
// output lasts the sum of the ranges' output lengths.
//
// Speed: a range of source length L at speed s (0.5..2) lasts L / s in the
// output. Its frames' timestamps are scaled by 1 / s; sped up, frames that
// would come closer together than the output frame rate are dropped (by
// the fps filter when fps is set, otherwise the first frame in each slot
// of the source's frame rate is kept); slowed down, each frame stays on
// screen longer. Its audio goes through libavfilter's atempo (overlap-add:
// the tempo changes, the pitch does not), then is cut to exactly the
// range's output length and faded at the edges like any range. Ranges at
// speed 1 take the path they always took: no filter is added for them.
//
// Loudness (normalize_audio): EBU R128, two-pass. A first pass decodes the
// ranges' audio alone (the video is not decoded, and in MP4 not even read),
// cut, faded and retimed as it will be encoded, and measures it with
// libavfilter's ebur128 (integrated loudness, loudness range, true peak).
// The render then puts the whole audio track through loudnorm (I =
// target_lufs, TP = -1.5 dBTP, LRA = 11 LU) with those measurements:
// one constant gain (linear mode) when that reaches the target without
// the true peaks passing -1.5 dBTP or the range passing 11 LU, otherwise
// loudnorm's dynamic mode (gain following short-term loudness, with a
// true-peak limiter). loudnorm works at 192 kHz; aresample brings it back
// to the encoder's rate. Audio with no measurable loudness (silence, or
// under 0.4 s) is left as it is.
//
// Pictures go: decoder -> crop (the frame's crop fields, no copy) ->
// libavfilter: [fps] -> scale (bicubic; lanczos when enlarging, which keeps
// edges and text sharper at the 1.5-2x a 9:16 crop of a 1080p source
// needs for 1080x1920) -> [rotation] -> [letterbox] ->
// yuv420p -> [ass] -> libx264. The crop is in display pixels (rotation and
// sample aspect ratio applied) and is mapped back onto the coded picture,
// so the expensive steps only see the pixels that are kept. When the crop
// (or source) aspect ratio differs from the output's by more than 1% the
// picture is fitted inside and the rest filled with black.
//
// Layouts (spec.layout): the output timeline may be cut into segments,
// each with its own layout. A crop segment takes the path above (the crop
// window, moving along crop_path). A fit segment shows the whole picture:
// libavfilter: [fps] -> split; foreground scaled to fit inside the output
// (lanczos), centred; background the same picture scaled to cover a
// quarter-size copy of the output (fast bilinear: it is about to be
// blurred), boxblurred twice (radius a tenth of its shorter side, close to
// a Gaussian), darkened to 55% luma, enlarged to the output (bilinear) ->
// overlay -> yuv420p -> [ass] -> libx264. Blurring at a quarter size costs
// a sixteenth of blurring at full size and looks the same once enlarged.
// Each segment gets a graph of its own: at a boundary the running graph is
// closed at the boundary's output time (its fps filter, when there is one,
// fills up to there) and drained, and the next graph takes the first
// frame at or after it, so a layout switches on exactly the first frame
// of its segment and timestamps run on unchanged. Consecutive segments of
// one layout share a graph; with no layout, or one crop layout, the
// render is exactly the one-graph render of before.
//
// Sound goes: decoder -> cut to the range -> swresample (to the output
// rate and layout) -> [atempo] -> fades -> [loudnorm -> aresample] -> AAC.
//
// Audio-only sources become an audiogram: the waveform (libavfilter's
// showwaves) over black at the output size, captions still burned in.
// Sources without audio give a video-only file.
//
// Source times are seconds from the start of the container (its first
// timestamp), the clock every stream of the file shares.
//
// The file is written next to output_path under a temporary name and
// renamed over output_path only when complete; on any failure or
// cancellation nothing is left behind.
//
// Thread-safety: Render is reentrant. It decodes and filters on the
// calling thread and feeds the video encoder from a second thread of its
// own (so that preparing the next pictures overlaps encoding), besides the
// decoder's, libavfilter's and x264's worker threads. progress and
// cancelled are called on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "edit/reframe/crop_key.h"  // CropKey: output time, top-left corner in source display pixels
#include "edit/render/time_range.h"

namespace cutroom::edit {

// How the picture fills the output during a stretch of output time.
enum class LayoutMode {
  kCrop,  // the crop window (crop_width x crop_height along crop_path), letterboxed if its shape differs
  kFit,   // the whole picture fitted inside the output over a blurred, darkened copy of itself
};

struct LayoutSegment {
  double start_s = 0;  // output time the layout starts at; it lasts until the next segment's start
  LayoutMode mode = LayoutMode::kCrop;
};

struct RenderSpec {
  std::string source_path;
  // Source times, joined in this order; each non-empty, inside the media
  // and at a speed in 0.5..2.
  std::vector<TimeRange> ranges;
  // Crop size in source display pixels, even; 0,0: the whole frame.
  int crop_width = 0, crop_height = 0;
  // Empty: a centred crop. Otherwise the corner is interpolated linearly
  // between keys (held before the first and after the last) and clamped so
  // the crop stays inside the frame. Keys in non-decreasing time.
  std::vector<CropKey> crop_path;
  // Layout segments in increasing start_s (finite, >= 0); the first one's
  // mode also covers the output before its start. Empty: kCrop throughout.
  std::vector<LayoutSegment> layout;
  // Even, at most 4096; 0,0: the crop (or source display) size rounded down
  // to even numbers (1280x720 for an audiogram).
  int out_width = 0, out_height = 0;
  std::string ass_path;  // captions (and title) in output time, PlayRes = output size; empty: none
  int crf = 20;          // x264 constant rate factor, 0..51
  // A VBV cap on the CRF encode (x264's vbv-maxrate / vbv-bufsize), in
  // kbit/s and kbit, 0..200000; 0: uncapped. Both or neither.
  int maxrate_kbps = 0, bufsize_kbps = 0;
  std::string preset = "veryfast";  // an x264 preset name
  double fps = 0;        // output frame rate, 0 < fps <= 240; 0: the source's timing (25 for an audiogram)
  int audio_bitrate = 128000;  // AAC, 16000..512000 bits per second
  int threads = 0;       // decoder and encoder threads each, 0..64; 0: as many as there are cores
  // EBU R128 loudness normalisation of the audio to target_lufs integrated
  // (-70..-5; -14 is what the big streaming and short-form platforms play
  // at). Costs a second decode of the ranges' audio alone.
  bool normalize_audio = false;
  double target_lufs = -14;
};

struct RenderResult {
  double duration_s = 0;     // output time, of the video track (the audio track's matches it to the sample)
  int width = 0;
  int height = 0;
  bool has_audio = false;
  int64_t video_frames = 0;  // encoded
};

using RenderProgress = std::function<void(double /*0..1*/)>;
using RenderCancelled = std::function<bool()>;

// Renders spec into output_path (an MP4 whatever its extension).
// InvalidArgument (before anything is written) for a spec that cannot be
// rendered: no ranges, an empty, reversed, non-finite or out-of-media range
// or one with a speed outside 0.5..2, odd or out-of-range sizes, a crop
// larger than the frame or on an audio-only source, unsorted crop keys,
// layout segments out of order or not finite, a fit layout on an
// audio-only source,
// crf/preset/fps/bitrate/threads/target_lufs out of range; and for a source that is not media cutroom reads or has neither
// video nor audio. NotFound for a missing source or caption file;
// NotSupported for a codec that cannot be decoded or a video whose frame
// size changes mid-stream; IOError when the output cannot be written;
// Cancelled when cancelled() returned true (checked at every frame).
// progress gets the share of the output time done, rising to 1 (the
// loudness measuring pass, much quicker than the render, reports none).
Result<RenderResult> Render(const RenderSpec& spec, const std::string& output_path,
                            const RenderProgress& progress = {}, const RenderCancelled& cancelled = {});

}  // namespace cutroom::edit
