// TimeRange: a span of source time in seconds, [start_s, end_s). A render
// joins a list of them in order; captions are retimed through the same list.
// Thread-safety: a value type.
#pragma once

namespace cutroom::edit {

struct TimeRange {
  double start_s = 0;
  double end_s = 0;
};

}  // namespace cutroom::edit
