// Edit plan exports for editors: one output of an EditPlan (plan.h) as an
// OpenTimelineIO timeline or a CMX 3600 EDL, or every output at once as an
// FCPXML 1.10 document (Final Cut Pro; DaVinci Resolve and Premiere import
// it too), so that an AI edit can be finished by hand.
//
// Every output is a list of ranges of one source file. Range edges are
// snapped to whole frames of the source (SnapPlanOutput), on a grid of
// rational frame durations (1001/30000 s at 29.97, never 1/29.97), and all
// three formats are written from the same snapped ranges, so they agree
// frame for frame. A range keeps its source frames; its length in the
// output is its source frames / speed rounded to whole frames (at least
// one), and the output's ranges follow each other without gaps.
//   OTIO    The clip exporter's timeline (analysis/clips/export.h):
//           Timeline.1 > Stack.1 > Track.1 (Video, and Audio when the media
//           has audio) > Clip.2 per range with an ExternalReference.1.
//           source_range starts at the source in-point and lasts the
//           range's length in the output; a range with speed != 1 carries a
//           LinearTimeWarp.1 (time_scalar = speed), as OTIO's own EDL
//           adapter does. Each clip's metadata holds {"cutroom": {"because",
//           "segment_ids", "word_ids", "range_index"}}.
//   EDL     TITLE/FCM header, one event per range (reel AX, channels B, V or
//           A), drop-frame timecode at 29.97 and 59.94, record time from
//           01:00:00:00. A range with speed != 1 has its real source out and
//           an M2 line (reel, timecode frames per second x speed with one
//           decimal, source in), then "* FROM CLIP NAME:" and "* because:".
//   FCPXML  One format (r1) and one asset (r2, with a media-rep) shared by
//           one project per output inside one library/event. Each range is
//           an asset-clip on the spine: offset = its place in the sequence,
//           start = the source in-point, duration = its length in the
//           sequence, its `because` as a <note>. A range with speed != 1
//           has a two-point linear timeMap over the clip's own local time
//           (time start -> value source in, time start + duration -> value
//           source out), so that start stays the source in-point. Every
//           time is a whole number of frame durations, reduced ("5s",
//           "1001/30000s").
// The media is assumed to start at time 0 (no source timecode).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "edit/plan/plan.h"

namespace cutroom::edit {

// The source the plan was made from, as editors should find it.
struct PlanExportMedia {
  std::string url;         // file name, path or URL; an absolute path becomes file:// in FCPXML
  std::string name;        // display name ("talk.mp4"); empty: the last part of url
  double duration_s = 0;
  double fps = 0;          // the video's frame rate; for audio-only media, the grid to cut on
  int width = 0;           // pixels; 0 when unknown or audio-only
  int height = 0;
  bool has_video = true;
  bool has_audio = true;
  int audio_rate = 48000;  // Hz
  int audio_channels = 2;
};

// One frame lasts num/den seconds: 1001/30000 for 29.97 (and the other
// NTSC rates 23.976, 47.952, 59.94, 119.88 when fps is within 0.01 of
// them), 1/25 for 25, otherwise 1000/round(fps * 1000) reduced.
struct PlanFrameRate {
  int64_t num = 1;
  int64_t den = 25;
  double fps() const { return static_cast<double>(den) / static_cast<double>(num); }
};
PlanFrameRate PlanFrameRateFor(double fps);

// One range of an output on the frame grid.
struct PlanExportClip {
  size_t range_index = 0;     // into PlanOutput::ranges
  int64_t source_in = 0;      // source frames, [source_in, source_out)
  int64_t source_out = 0;
  int64_t record_in = 0;      // frames from the start of the output
  int64_t record_frames = 0;  // length in the output: source frames / speed, at least 1
  double speed = 1.0;
};

// InvalidArgument naming the problem: no url, an fps outside (0, 1000], a
// duration that is not above 0, neither video nor audio.
Status ValidatePlanExportMedia(const PlanExportMedia& media);

// The ranges of plan.outputs[output_index] snapped to frames, in playing
// order. A range whose edges snap to the same frame is dropped (never a
// zero-length clip); one that ends within half a frame past the media is
// clamped to it. InvalidArgument for an output index out of range, bad
// media (above), a range with no times (unresolved ids: run the validator
// first), reversed or outside [0, duration], a speed outside
// kMinRangeSpeed..kMaxRangeSpeed, or an output left with no range of at
// least one frame.
Result<std::vector<PlanExportClip>> SnapPlanOutput(const EditPlan& plan, size_t output_index,
                                                   const PlanExportMedia& media);

// The formats above; each fails as SnapPlanOutput does (FCPXML for any
// output, or a plan with no outputs).
Result<std::string> ExportPlanOtio(const EditPlan& plan, size_t output_index, const PlanExportMedia& media);
Result<std::string> ExportPlanEdl(const EditPlan& plan, size_t output_index, const PlanExportMedia& media);
Result<std::string> ExportPlanFcpxml(const EditPlan& plan, const PlanExportMedia& media);

}  // namespace cutroom::edit
