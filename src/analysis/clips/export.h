// Clip exports for editors and players: an OpenTimelineIO timeline, a CMX
// 3600 edit decision list, and SRT/WebVTT captions timed to the clip.
//
// A clip is one or more ranges of one source file, joined in order. Range
// edges are snapped to whole frames of the source (OTIO and EDL count in
// frames), and every export uses the same snapped ranges so they agree
// with each other frame for frame:
//   OTIO  Timeline.1 > Stack.1 > Track.1 (Video, and Audio when the source
//         has audio) > Clip.2 per range, each with an ExternalReference.1
//         (target_url, available_range = the whole media) and a
//         source_range in RationalTime.1 at the media rate; Marker.2 on
//         each clip at the hook and at every sentence start inside it.
//   EDL   TITLE/FCM header, one event per range (reel AX with a FROM CLIP
//         NAME comment), source and record timecodes at the media rate;
//         drop-frame for 29.97 and 59.94 fps; record time from 01:00:00:00.
//   SRT/VTT  the transcript's sentences inside the ranges re-timed so the
//         clip starts at 0 (words cut by a range edge clipped to it), built
//         into cues by analysis::BuildCues.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "analysis/transcribe/transcript.h"
#include "core/result.h"

namespace cutroom::analysis {

struct ClipRange {
  double start_s = 0;
  double end_s = 0;
};

struct ClipExportSpec {
  std::string name;         // timeline and clip name (the clip's title)
  std::string media_url;    // the source as editors should find it: a file name, path or URL
  std::string media_name;   // its display name ("talk.mp4"); empty: taken from media_url
  double media_duration_s = 0;
  double fps = 0;           // the source's frame rate
  bool has_video = true;
  bool has_audio = true;
  std::vector<ClipRange> ranges;  // source times, in playing order
  std::string hook;         // marker text at the clip start; empty: its first sentence
};

// InvalidArgument naming the problem: no ranges, a range that is empty,
// reversed or outside [0, media_duration_s], an fps outside (0, 1000], no
// media_url, neither video nor audio.
Status ValidateClipExport(const ClipExportSpec& spec);

Result<std::string> ExportOtio(const ClipExportSpec& spec, const Transcript& transcript);
Result<std::string> ExportEdl(const ClipExportSpec& spec);
Result<std::string> ExportSrt(const ClipExportSpec& spec, const Transcript& transcript);
Result<std::string> ExportVtt(const ClipExportSpec& spec, const Transcript& transcript);

// The transcript re-timed to the clip: one segment per sentence piece
// inside the ranges, times from 0 at the clip start. Words belong to the
// range holding their middle and are clipped to it. Used for the
// captions and available to renderers.
// REQUIRES: ValidateClipExport(spec).ok().
Transcript RetimeTranscript(const ClipExportSpec& spec, const Transcript& transcript);

// "01:02:03:04" (or "01:02:03;04" drop-frame) for a frame count at fps.
std::string Timecode(int64_t frame, double fps);

}  // namespace cutroom::analysis
