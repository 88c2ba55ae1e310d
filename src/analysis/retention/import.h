// Imported audience retention: an uploaded body, as a platform or a person
// gives it, read into ratio points for ResampleRatioPoints (curve.h).
//
// The format is found from the content, never from a client's content type
// (browsers and curl label CSV and JSON inconsistently):
//   youtube_analytics  A YouTube Analytics API reports.query response: an
//       object with "columnHeaders" (kind "youtubeAnalytics#resultTable")
//       and "rows". Columns are found by name, in any order:
//       elapsedVideoTimeRatio (the position, 0.01..1.0 in 100 steps; each
//       value ends its interval), audienceWatchRatio (the share, a ratio
//       that may exceed 1 because re-watches count) and, optionally,
//       relativeRetentionPerformance (0..1 against videos of similar
//       length). Other columns (video, startedWatching, ...) are ignored.
//       Cells may be numbers or numeric strings (older clients return
//       strings). Rows are sorted by position, because their order is the
//       query's `sort` parameter's business; a table holding several
//       videos, or no rows (YouTube omits them when a video has too few
//       views), is refused.
//   studio_csv  A YouTube Studio audience-retention export, or the same
//       table saved from a spreadsheet. Encodings: UTF-8 with or without a
//       BOM, UTF-16 LE or BE with a BOM (or without one when the first
//       character is ASCII, which Windows tools sometimes write).
//       The header is the first non-blank line; its separator (tab,
//       semicolon or comma, most frequent outside quotes, ties in that
//       order) applies to the whole file; fields may be quoted with ""
//       escapes and may span lines. Headers are matched case-insensitively
//       after trimming and collapsing spaces, against exactly:
//         position:  "video position (%)", "video position", "position",
//                    "elapsed video time ratio", "elapsedvideotimeratio",
//                    "time"
//         retention: "absolute audience retention (%)",
//                    "absolute audience retention", "audience retention (%)",
//                    "audience retention", "retention", "audience watch
//                    ratio", "audiencewatchratio", "% of viewers"
//         relative (optional): "relative audience retention (%)",
//                    "relative audience retention", "relative retention
//                    performance", "relativeretentionperformance"
//       These are Studio's English column names, the API's names (spelled
//       out and as-is, for tables pulled from the API into a sheet) and
//       the short names people type; when several match, the earlier one
//       in each list wins. Matching is exact rather than by substring so
//       that "Relative audience retention (%)" is never taken for the
//       absolute curve. Each column is read as a whole:
//       positions are timestamps ("0:35", "1:02:03", "0:35.5"; converted
//       with duration_s) when any cell holds a ':', else percentages
//       0..100 when any cell has a '%' or exceeds 1.5, else ratios 0..1;
//       shares and relative values are percentages under the same rule,
//       else ratios.
//       Cells may carry spaces or no-break spaces around them and a
//       leading '+'; with a tab or semicolon separator a decimal comma
//       ("98,5") is accepted (European locales). Blank lines and summary
//       rows (first cell "Total" or "Totals") are skipped.
//   points  {"points": [[t, share], ...]} with optional "unit" ("s" or
//       "ratio") and "share_unit" ("ratio" or "percent"): t is seconds when
//       "unit" is "s" or, with no unit, when any t exceeds 1; else a ratio.
//
// Everything else is refused with InvalidArgument, and nothing is returned
// in part. Messages name the place: "line 14, column 'Audience retention
// (%)': 'abc' is not a number" for CSV (lines are 1-based, counted in the
// decoded text), "rows[12], column 'audienceWatchRatio': ..." and
// "points[3], column 'share': ..." for JSON. Refused: an empty body or one
// over kMaxRetentionImportBytes, an unknown format, JSON that does not
// parse, UTF-16 with an odd byte count or a broken surrogate, no position
// or no retention column (the headers found are listed), fewer than 2
// points, cells that are not finite numbers, positions outside 0..1
// (0..100%, or past the duration by more than a second for times: those
// within a second are clamped to the end, as exports round to whole
// seconds), positions that do not increase (repeats included), negative
// shares, shares over kMaxRetentionShare, relative values outside 0..1,
// and seconds or timestamps when duration_s is not positive.
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace cutroom::analysis {

// Larger bodies are refused before any parsing: a real curve is 100 rows
// (the API) or a few thousand (per-second CSVs), well under 1 MB.
inline constexpr size_t kMaxRetentionImportBytes = 5 * 1024 * 1024;
// A share above this is a broken export or a unit mix-up, not re-watching:
// even looping Shorts stay within a few times their viewers.
inline constexpr double kMaxRetentionShare = 20;

struct RetentionImport {
  std::string format;  // "youtube_analytics" | "studio_csv" | "points"
  // (position as a ratio of the duration 0..1, share of starting viewers,
  // may exceed 1), increasing in position.
  std::vector<std::pair<double, double>> points;
  // (ratio, relativeRetentionPerformance 0..1) where the input gives it,
  // else empty.
  std::vector<std::pair<double, double>> relative;
  // What was assumed or skipped, for the uploader: the encoding, units
  // decided for a column, skipped summary rows, clamped end positions.
  std::vector<std::string> notes;
};

// Reads an uploaded retention body (see above). duration_s is the video's
// duration, used only for seconds and timestamps.
Result<RetentionImport> ParseRetentionImport(std::string_view body, double duration_s);

}  // namespace cutroom::analysis
