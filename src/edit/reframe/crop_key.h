// CropKey: where a moving crop window sits at one moment. A crop path is a
// list of keys in time order; players and renderers interpolate the corner
// linearly between keys and hold it before the first and after the last.
// Kept in a header of its own so the renderer can take paths without
// depending on the planner.
// Thread-safety: a value type.
#pragma once

namespace cutroom::edit {

struct CropKey {
  double t_s = 0;  // seconds from the start of the framed piece (the render's output time)
  int x = 0;       // top-left corner of the crop, in source (display) pixels
  int y = 0;
};

}  // namespace cutroom::edit
