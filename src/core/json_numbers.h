// Numbers as people and clients read them: JSON that cutroom hands out
// (API responses, SSE events, report.json) carries times to the
// millisecond and other fractions without binary noise, so a clip starts
// at 36.4, not 36.39999999999999.
//
// Times are recognised by name, the convention the whole API follows:
// values under a key that ends in "_s" ("start_s", "duration_s", "t_s"),
// or named "t", "ts", "start", "end" or "ranges" (arrays of [start_s,
// end_s(, speed)]), are rounded to 0.001, arrays and objects below such a
// key included. Every other non-integer number keeps 9 significant
// digits (enough for any score, ratio or frame rate, and for a float's
// round trip; it only removes the tail that binary arithmetic leaves).
// Integers, strings and non-finite values are left alone.
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

namespace cutroom {

// Rounds in place, as described above.
void TidyJsonNumbers(nlohmann::json& value);

// Rounds one time to the millisecond (x.xxx), the rule above for one value.
double RoundToMillisecond(double seconds);

}  // namespace cutroom
