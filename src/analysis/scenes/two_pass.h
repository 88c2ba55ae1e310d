// Scene detection that decodes only part of a long-GOP stream (what
// DetectScenes runs first; scene_detection.h).
//
// Pass 1 reads every packet of the video stream without decoding it: its
// timestamp, size and keyframe flag. Each GOP (keyframe to keyframe) whose
// tail is "steady" (every packet within a factor 3 of the others, the tiny
// ones counted at a floor) is a candidate for skipping; everything else is
// decoded as the single pass would.
// Pass 2 decodes the stream in order. In a candidate GOP, once the first
// frames of the steady tail are decoded, they are compared with each other
// (stationary: no drift, no fade in progress) and with the next GOP's
// keyframe (decoded on its own). The rest of the GOP is skipped when the
// keyframe looks like one more frame of the tail (nothing changed), or
// when it differs by a cut and the encoder put it where no periodic
// keyframe would be (a scenecut keyframe): the cut is then on that
// keyframe. Skipped frames reach the detector as copies of the last
// decoded one, with their own timestamps from the packet scan, so indexes
// and times stay exact (variable frame rate included). Any other outcome
// decodes the GOP in full.
//
// Hard cuts and gradual transitions that change the packet sizes (a cut
// makes an I-frame or a large P-frame; a dissolve or fade costs more bits
// than a steady shot, and a fade to black ends in tiny frames) or that
// start in the sampled frames are found exactly as by the single pass.
// What it can miss: a transition inside a skipped tail that changes
// neither the sizes nor the frames around it (a dissolve between two
// equally noisy shots), or a cut that leaves the sizes steady followed by
// an unrelated scenecut keyframe.
//
// Thread-safety: a function; the decoder runs its own frame threads.
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
// every frame: too little to skip (intra-only or short GOPs; with `force`,
// anything at all is enough), open GOPs, packets without or with repeated
// timestamps, a pixel format ShrinkPlanar cannot read, decoding errors, or
// frames that do not come out as the packet scan said. Errors: Cancelled only.
Result<std::optional<TwoPassResult>> DetectTwoPass(const std::string& path, const SceneParams& params, bool force,
                                                   const DetectProgress& progress, const DetectCancelled& cancelled);

}  // namespace cutroom::analysis::scenes
