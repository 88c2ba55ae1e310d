// Scene detection that decodes only part of a long-GOP stream, in parallel
// (what DetectScenes runs first; scene_detection.h).
//
// Pass 1 reads every packet of the video stream without decoding it: its
// timestamp, size and keyframe flag. A GOP (keyframe to keyframe) whose
// tail is "steady" (every packet within a factor 3 of the others, tiny ones
// counted at a floor) is a candidate for skipping.
// Pass 2 decodes runs of whole GOPs in worker threads, one decoder each
// (closed GOPs decode alone), and the calling thread hands the frames to
// the detector in display order. In a candidate GOP, once the first frames
// of the steady tail are out, they are compared with each other
// (stationary: no drift, no fade under way, every change well under a cut)
// and with the next GOP's keyframe, decoded on its own. The rest of the GOP
// is skipped when the keyframe looks like one more frame of the shot
// (nothing happened), or when it differs by a cut and the encoder put it
// where no schedule would (shorter than the longest GOP: x264's scenecut),
// which places the cut on the keyframe. Skipped frames reach the detector as
// stand-ins (the last decoded frames, back and forth, so it sees the shot's
// own frame-to-frame change) with their own timestamps from the packet scan,
// so frame numbers and times are exact, variable frame rate included. Any
// other outcome decodes the GOP in full.
//
// Hard cuts and gradual transitions that change the packet sizes (a cut
// makes an I-frame or a large or tiny P-frame; a dissolve or fade costs more
// bits than a steady shot, and a fade to black ends in tiny frames), or that
// are under way in the sampled frames, are found exactly as by decoding
// every frame. What it can miss: a transition inside a skipped tail that
// changes neither the sizes nor the frames around it (a dissolve between
// two equally noisy shots), or a cut that leaves the sizes steady followed
// by an unrelated scenecut keyframe.
//
// Thread-safety: DetectTwoPass may be called from any thread; it starts and
// joins its own workers (params.threads of them, at most 16).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/scenes/detector.h"
#include "analysis/scenes/scene_detection.h"
#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis::scenes {

// The detector's options for `params` on a stream of `fps` frames a second.
DetectorOptions DetectorOptionsFor(const SceneParams& params, double fps);

struct TwoPassResult {
  media::VideoStreamInfo info;
  std::vector<Transition> transitions;
  std::vector<double> frame_times;  // every frame's, skipped ones included
  int64_t frames_decoded = 0;
};

// nullopt when the stream does not suit two passes, and the caller decodes
// every frame: too little to skip (one GOP, intra-only or short GOPs; with
// `force`, anything at all is enough), a remote input (unless `force`: the
// scan would fetch it twice), open GOPs, packets without or with repeated
// timestamps, a pixel format ShrinkPlanar cannot read, decoding errors, or
// frames that do not come out as the packet scan said. Errors: Cancelled.
Result<std::optional<TwoPassResult>> DetectTwoPass(const std::string& path, const SceneParams& params, bool force,
                                                   const DetectProgress& progress, const DetectCancelled& cancelled);

}  // namespace cutroom::analysis::scenes
