// The "frames" stage: samples a video's frames (at an interval, one per
// scene, or at its key frames), skips near-duplicates, and stores each
// kept frame as a JPEG asset (kind "frame", at most 640 px wide) with a
// `frames` row: features (brightness, contrast, sharpness, motion, faces),
// perceptual hash, and optionally OCR text and an LLM description.
//
// Job params (all optional; ValidateFramesParams checks them):
//   mode        "interval" (default) | "scenes" | "keyframes"
//   interval_s  seconds between samples in interval mode: > 0, <= 3600;
//               default 5. Widened when the video would need more than
//               max_frames samples, so the samples still span it.
//   max_frames  most frames sampled, 1..5000; default 300. In scenes and
//               keyframes mode the times are thinned evenly to fit.
//   faces       detect faces (default true)
//   ocr         read visible text (default false)
//   describe    describe each kept frame with the vision model (default
//               false; needs llm.base_url and llm.model)
//   prompt      the instruction for describe, at most 4000 characters;
//               default kDefaultFramePrompt
//   dedupe      skip frames within kNearDuplicateDistance bits of the last
//               kept frame's perceptual hash (default true)
//
// Scenes mode takes the middle of every scene of the video's newest
// succeeded scenes run. Re-running replaces all of the video's previous
// frames rows and frame assets, and only once the new run has stored
// everything (files first, then rows in one transaction, then the old
// files go); a failed or cancelled run leaves the previous frames alone.
//
// Thread-safety: RunFrames is reentrant (one job per call).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jobs/worker_pool.h"

namespace cutroom::analysis {

// Frames whose perceptual hashes differ by at most this many bits (of 64)
// look the same: the same shot with noise, compression, a speaker's lips
// and hands moving (1 s apart in broadcast and film footage: 0-5 bits
// within a steady shot, 7-14 with people walking through it, 20 and more
// across a cut). Compared with the last kept frame, so a slow change
// still yields a new frame once it adds up.
inline constexpr int kNearDuplicateDistance = 6;

struct FramesParams {
  std::string mode = "interval";
  double interval_s = 5;
  int max_frames = 300;
  bool faces = true;
  bool ocr = false;
  bool describe = false;
  std::string prompt;  // empty: kDefaultFramePrompt
  bool dedupe = true;
};

// Parses and checks a frames job's params. InvalidArgument naming the
// field and its limit for a value of the wrong type or out of range, and
// for unknown fields.
Result<FramesParams> ParseFramesParams(const nlohmann::json& params);
Status ValidateFramesParams(const nlohmann::json& params);

// The handler of "frames" jobs. The job must name a video that is ready
// and has a processing run (EnqueueRequest::processing_kind "frames").
// InvalidArgument ("has no video stream") for audio-only media and for
// undecodable (corrupt) video, with an error log line; FailedPrecondition
// for mode "scenes" before the video has scenes, and (llm_not_configured)
// for describe without an LLM; Cancelled when the job is cancelled. URL
// references are read in place (analysis/source_media.h).
Status RunFrames(jobs::JobContext& ctx);

}  // namespace cutroom::analysis
