// Burned-in captions: an ASS (Advanced SubStation Alpha) document made from
// timed transcript words, for libavfilter's `ass` filter (libass) to draw
// onto a render (renderer.h).
//
// Words arrive in source time; the render joins source ranges in order, so
// each word is moved onto the output timeline of the range it falls in, at
// the range's speed (x seconds into a range at speed s is x / s seconds
// into its output; a word in two overlapping ranges appears twice, words
// outside every range are dropped, words cut by a range edge are clipped
// to it). Words are then
// grouped into short pages of at most max_lines lines of at most
// max_chars_per_line characters; a page also ends at a pause, after a
// sentence and at every join between ranges. With highlight on, each page
// is written as one Dialogue per word, showing the whole page with the word
// being spoken in the highlight colour (inline override tags), the way
// short-form captions are read.
//
// A title can go over the opening seconds: large bold text near the top
// (in the middle when the captions are at the top), wrapped by libass to
// the width, fading in and out.
//
// The document's PlayResX/PlayResY are the output size, so font sizes,
// outlines and margins are output pixels.
// Thread-safety: pure functions, reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "analysis/transcribe/transcript.h"
#include "core/result.h"
#include "edit/render/time_range.h"

namespace cutroom::edit {

enum class CaptionPosition { kBottom, kMiddle, kTop };

struct CaptionStyle {
  std::string font = "DejaVu Sans";
  // Font size in output pixels (libass scales the font so that its
  // ascender-to-descender height is this).
  int size = 48;
  uint32_t primary_color = 0xFFFFFF;    // 0xRRGGBB, the words not being spoken
  uint32_t highlight_color = 0xFFD21F;  // the word being spoken
  uint32_t outline_color = 0x000000;
  double outline_width = 4;  // pixels
  bool bold = true;
  CaptionPosition position = CaptionPosition::kBottom;
  // Pixels from the bottom (or top) edge; unused in the middle position.
  // The sides always keep 4% of the width.
  int margin = 60;
  bool uppercase = false;
  int max_chars_per_line = 24;  // Unicode code points, spaces included
  int max_lines = 2;
  bool highlight = true;
};

// The default style for an output size. Portrait and square outputs get
// shorter lines (24 and 32 characters) than landscape ones (42); the size
// is 5.5% of the height unless a full line would then be wider than the
// frame, in which case it is as large as fits; the margin keeps captions
// clear of the controls short-form players draw over the bottom of a
// portrait video (15% of the height there, 6% otherwise).
// REQUIRES: out_w > 0, out_h > 0.
CaptionStyle DefaultCaptionStyle(int out_w, int out_h);

// A style from JSON; every field is optional and missing ones take the
// default for the output size (sizes that depend on others, such as the
// font size on max_chars_per_line, follow the given ones):
//   {"font": "DejaVu Sans", "size": 8..300, "primary_color": "#RRGGBB",
//    "highlight_color": "#RRGGBB", "outline_color": "#RRGGBB",
//    "outline_width": 0..50, "bold": bool, "position": "bottom|middle|top",
//    "margin": 0..half the output height, "uppercase": bool,
//    "max_chars_per_line": 4..200, "max_lines": 1..6, "highlight": bool}
// InvalidArgument naming the field for a wrong type or value and for an
// unknown field (a misspelt field would otherwise be ignored silently),
// and for a non-object or a non-positive output size.
Result<CaptionStyle> CaptionStyleFromJson(const nlohmann::json& json, int out_w, int out_h);

struct AssTitle {
  // UTF-8, drawn as written: braces and backslashes are text, not tags.
  // A line break starts a new line; other control characters and runs of
  // white space become single spaces. Empty: no title.
  std::string text;
  // Shown from output time 0 for this long (at most the output's length);
  // not positive: no title.
  double duration_s = 3;
};

// The complete ASS document for `words` (source times, any order) shown
// over the output of a render that joins `ranges` (source times, each at
// its speed) in order, drawn at play_w x play_h. Events are in output
// time, in order. No words inside the ranges gives a valid document
// without events.
std::string BuildAssCaptions(const std::vector<analysis::TranscriptWord>& words, const std::vector<TimeRange>& ranges,
                             const CaptionStyle& style, int play_w, int play_h);
// The same with `title` over the start (its Dialogue first, on a layer
// above the captions, in style "Title": the captions' font and colours at a
// size that fits about 16 characters a line, at most 8% of the height).
// With no words it is a document holding only the title.
std::string BuildAssCaptions(const std::vector<analysis::TranscriptWord>& words, const std::vector<TimeRange>& ranges,
                             const CaptionStyle& style, int play_w, int play_h, const AssTitle& title);

}  // namespace cutroom::edit
