// TimeRange: a span of source time in seconds, [start_s, end_s), played at
// `speed`. A render joins a list of them in order; captions are retimed
// through the same list. A range lasts (end_s - start_s) / speed in the
// output: at 2.0 it plays twice as fast (half as long), at 0.5 half as
// fast, the audio's pitch unchanged either way (renderer.h).
// Thread-safety: a value type.
#pragma once

namespace cutroom::edit {

struct TimeRange {
  double start_s = 0;
  double end_s = 0;
  double speed = 1.0;  // playback rate, 0.5..2.0 (renderer.h)

  // Seconds in the output.
  double duration_s() const { return (end_s - start_s) / speed; }
};

}  // namespace cutroom::edit
