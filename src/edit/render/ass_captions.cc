#include "edit/render/ass_captions.h"

#include "core/utf8.h"

#include <clocale>
#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>

namespace cutroom::edit {
namespace {

// DejaVu Sans (the caption font) is drawn by libass at an em of about
// size / 1.164 (its ascender plus descender is 1.164 em), and English text
// in its bold face advances about 0.58 em a character, 0.70 em in capitals.
// Only used to choose a default size that fits a full line.
constexpr double kEmPerSize = 1 / 1.164;
constexpr double kAdvanceMixedCase = 0.58;
constexpr double kAdvanceUppercase = 0.70;
constexpr double kSideMarginFraction = 0.04;

// Grouping: a pause this long starts a new page; a page stays up this long
// after its last word unless the next page or the range's end comes first.
constexpr double kPausePageBreakS = 0.6;
constexpr double kLingerS = 0.35;
// A word cut by a range edge keeps its piece inside the range only if the
// piece is at least this long in the output or half the word: shorter
// slivers would flash for a frame or two.
constexpr double kMinClippedWordS = 0.08;

int Portraitness(int w, int h) {
  const double aspect = static_cast<double>(w) / h;
  if (aspect < 0.9) return 0;   // portrait
  if (aspect <= 1.2) return 1;  // square-ish
  return 2;                     // landscape
}

int DefaultMaxChars(int w, int h) {
  static constexpr int kChars[] = {24, 32, 42};
  return kChars[Portraitness(w, h)];
}

int DefaultMargin(int w, int h) {
  static constexpr double kFraction[] = {0.15, 0.08, 0.06};
  return static_cast<int>(std::lround(kFraction[Portraitness(w, h)] * h));
}

int SideMargin(int w) { return static_cast<int>(std::lround(kSideMarginFraction * w)); }

// Titles: large, yet this many characters fit a line (longer titles wrap);
// clear of the status and header bars players draw over the top of a
// portrait video.
constexpr int kTitleCharsPerLine = 16;
constexpr double kTitleSizeFraction = 0.08;
constexpr double kTitleFadeS = 0.3;

int DefaultSize(int w, int h, int max_chars, bool uppercase) {
  const double usable = w - 2.0 * SideMargin(w);
  const double advance = uppercase ? kAdvanceUppercase : kAdvanceMixedCase;
  const double fits = usable / (max_chars * advance * kEmPerSize);
  const double preferred = 0.055 * h;
  return static_cast<int>(std::clamp(std::floor(std::min(fits, preferred)), 8.0, 300.0));
}

double DefaultOutline(int size) { return std::max(1.0, std::round(size / 14.0 * 2) / 2); }

int TitleSize(int w, int h) {
  const double usable = w - 2.0 * SideMargin(w);
  const double fits = usable / (kTitleCharsPerLine * kAdvanceMixedCase * kEmPerSize);
  return static_cast<int>(std::clamp(std::floor(std::min(fits, kTitleSizeFraction * h)), 8.0, 300.0));
}

int TitleMargin(int w, int h) {
  static constexpr double kFraction[] = {0.10, 0.08, 0.06};
  return static_cast<int>(std::lround(kFraction[Portraitness(w, h)] * h));
}

// --- UTF-8 -------------------------------------------------------------------

char32_t ToUpper(char32_t cp) {
  // towupper depends on the locale; a private C.UTF-8 one (built into
  // glibc) maps all of Unicode without touching the process locale.
  static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 'a' + 'A' : cp;
  if (kUtf8 == static_cast<locale_t>(nullptr)) return cp;
  return static_cast<char32_t>(towupper_l(static_cast<wint_t>(cp), kUtf8));
}

// The displayed form of a word: valid UTF-8, control characters and runs
// of white space as single spaces, trimmed, upper-cased when asked; and
// its length in code points.
struct CleanText {
  std::string text;
  int chars = 0;
};

CleanText Clean(std::string_view word, bool uppercase) {
  CleanText out;
  bool pending_space = false;
  for (size_t i = 0; i < word.size();) {
    char32_t cp = NextCodePoint(word, i);
    const bool space = cp < 0x20 || cp == 0x7F || cp == ' ' || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 ||
                       cp == 0x2029;
    if (space) {
      pending_space = !out.text.empty();
      continue;
    }
    if (pending_space) {
      out.text += ' ';
      ++out.chars;
      pending_space = false;
    }
    AppendUtf8(out.text, uppercase ? ToUpper(cp) : cp);
    ++out.chars;
  }
  return out;
}

// ASS text escapes: libass reads \{ and \} as literal braces (a bare brace
// opens or closes an override block), and a backslash before n, N or h is a
// line break or hard space; a word joiner after each backslash keeps it
// from pairing with whatever follows, including the tags written after the
// word.
std::string EscapeAss(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '{' || c == '}') {
      out += '\\';
      out += c;
    } else if (c == '\\') {
      out += "\\\u2060";
    } else {
      out += c;
    }
  }
  return out;
}

// A title's lines, cleaned and escaped like words, joined by hard line
// breaks; empty lines are dropped. libass wraps each further to the width.
std::string TitleText(std::string_view text) {
  std::string out;
  size_t from = 0;
  while (from <= text.size()) {
    const size_t nl = std::min(text.find('\n', from), text.size());
    const CleanText line = Clean(text.substr(from, nl - from), false);
    if (!line.text.empty()) out += (out.empty() ? "" : "\\N") + EscapeAss(line.text);
    from = nl + 1;
  }
  return out;
}

bool EndsSentence(std::string_view text) {
  // Skip closing quotes and brackets: `"Stop."` ends a sentence.
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '"' || text[end - 1] == '\'' || text[end - 1] == ')')) --end;
  if (end == 0) return false;
  const char c = text[end - 1];
  if (c == '.' || c == '!' || c == '?') return true;
  // U+2026 HORIZONTAL ELLIPSIS.
  return end >= 3 && text.substr(end - 3, 3) == "\u2026";
}

// --- ASS syntax ----------------------------------------------------------------

std::string AssColor(uint32_t rgb) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "&H%02X%02X%02X", rgb & 0xFF, (rgb >> 8) & 0xFF, (rgb >> 16) & 0xFF);
  return buf;
}

std::string AssTime(int64_t centiseconds) {
  const int64_t cs = std::max<int64_t>(0, centiseconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld.%02lld", static_cast<long long>(cs / 360000),
                static_cast<long long>(cs / 6000 % 60), static_cast<long long>(cs / 100 % 60),
                static_cast<long long>(cs % 100));
  return buf;
}

int64_t Centiseconds(double t) { return std::llround(t * 100); }

std::string OutlineWidth(double width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", width);
  return buf;
}

// with_title: a second style, "Title", in the captions' font and colours.
std::string Header(const CaptionStyle& style, int play_w, int play_h, bool with_title) {
  std::string font = style.font;
  std::replace(font.begin(), font.end(), ',', ' ');  // commas separate Style fields
  const int alignment = style.position == CaptionPosition::kTop ? 8 : style.position == CaptionPosition::kMiddle ? 5 : 2;
  const std::string outline = OutlineWidth(style.outline_width);
  const std::string side = std::to_string(SideMargin(play_w));
  std::string h;
  h += "[Script Info]\n";
  h += "; Captions made by cutroom\n";
  h += "ScriptType: v4.00+\n";
  h += "PlayResX: " + std::to_string(play_w) + "\n";
  h += "PlayResY: " + std::to_string(play_h) + "\n";
  h += "WrapStyle: 0\n";
  h += "ScaledBorderAndShadow: yes\n";
  h += "\n[V4+ Styles]\n";
  h += "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
       "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
       "MarginR, MarginV, Encoding\n";
  h += "Style: Caption," + font + "," + std::to_string(style.size) + "," + AssColor(style.primary_color) + "," +
       AssColor(style.highlight_color) + "," + AssColor(style.outline_color) + ",&H80000000," +
       (style.bold ? "-1" : "0") + ",0,0,0,100,100,0,0,1," + outline + ",0," + std::to_string(alignment) + "," + side +
       "," + side + "," + std::to_string(style.margin) + ",1\n";
  if (with_title) {
    // Top centre, or the middle when the captions hold the top.
    const int title_size = TitleSize(play_w, play_h);
    const int title_alignment = style.position == CaptionPosition::kTop ? 5 : 8;
    h += "Style: Title," + font + "," + std::to_string(title_size) + "," + AssColor(style.primary_color) + "," +
         AssColor(style.primary_color) + "," + AssColor(style.outline_color) + ",&H80000000,-1,0,0,0,100,100,0,0,1," +
         OutlineWidth(DefaultOutline(title_size)) + ",0," + std::to_string(title_alignment) + "," + side + "," + side +
         "," + std::to_string(TitleMargin(play_w, play_h)) + ",1\n";
  }
  h += "\n[Events]\n";
  h += "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n";
  return h;
}

// --- retiming and grouping -------------------------------------------------------

struct PlacedWord {
  std::string text;  // cleaned, not escaped
  int chars = 0;
  double start = 0;  // output seconds
  double end = 0;
  size_t range = 0;
};

std::vector<PlacedWord> PlaceWords(const std::vector<analysis::TranscriptWord>& words,
                                   const std::vector<TimeRange>& ranges, bool uppercase,
                                   std::vector<double>& range_out_end) {
  std::vector<const analysis::TranscriptWord*> sorted;
  sorted.reserve(words.size());
  for (const auto& w : words) {
    if (std::isfinite(w.start_s)) sorted.push_back(&w);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->start_s < b->start_s; });
  std::vector<PlacedWord> placed;
  double offset = 0;
  range_out_end.clear();
  for (size_t k = 0; k < ranges.size(); ++k) {
    const TimeRange& r = ranges[k];
    const bool usable = std::isfinite(r.start_s) && std::isfinite(r.end_s) && r.end_s > r.start_s &&
                        std::isfinite(r.speed) && r.speed > 0;
    if (usable) {
      for (const auto* w : sorted) {
        const double ws = w->start_s;
        const double we = std::isfinite(w->end_s) ? std::max(w->end_s, ws) : ws;
        double s = std::max(ws, r.start_s), e = std::min(we, r.end_s);
        if (we > ws) {
          if (e <= s) continue;
          if ((e - s) / r.speed < kMinClippedWordS && e - s < 0.5 * (we - ws)) continue;
        } else {
          if (ws < r.start_s || ws >= r.end_s) continue;  // a word without length: a point
          e = s;
        }
        CleanText clean = Clean(w->word, uppercase);
        if (clean.text.empty()) continue;
        placed.push_back({std::move(clean.text), clean.chars, offset + (s - r.start_s) / r.speed,
                          offset + (e - r.start_s) / r.speed, k});
      }
      offset += r.duration_s();
    }
    range_out_end.push_back(offset);
  }
  return placed;
}

int LinesNeeded(const std::vector<PlacedWord>& w, size_t first, size_t last, int max_chars) {
  int lines = 1, width = w[first].chars;
  for (size_t i = first + 1; i < last; ++i) {
    if (width + 1 + w[i].chars <= max_chars) {
      width += 1 + w[i].chars;
    } else {
      ++lines;
      width = w[i].chars;
    }
  }
  return lines;
}

struct Page {
  size_t first = 0, last = 0;  // words [first, last)
  std::vector<size_t> line_starts;  // word indices where lines begin; the first is `first`
};

// Breaks words [first, last) into exactly `lines` lines whose longest is as
// short as possible (balanced lines read better than a full line over a
// one-word line); on ties the upper line is the shorter.
std::vector<size_t> BalanceLines(const std::vector<PlacedWord>& w, size_t first, size_t last, int lines) {
  const size_t n = last - first;
  lines = std::clamp<int>(lines, 1, static_cast<int>(n));
  auto width = [&](size_t a, size_t b) {  // words [a, b) relative to first
    int total = -1;
    for (size_t i = a; i < b; ++i) total += 1 + w[first + i].chars;
    return total;
  };
  constexpr int kInf = std::numeric_limits<int>::max();
  // best[l][i]: the smallest longest line for words [i, n) in l lines.
  std::vector<std::vector<int>> best(lines + 1, std::vector<int>(n + 1, kInf));
  std::vector<std::vector<size_t>> cut(lines + 1, std::vector<size_t>(n + 1, n));
  for (size_t i = 0; i < n; ++i) best[1][i] = width(i, n);
  for (int l = 2; l <= lines; ++l) {
    for (size_t i = 0; i + l <= n; ++i) {
      for (size_t j = i + 1; j + (l - 1) <= n; ++j) {
        if (best[l - 1][j] == kInf) continue;
        const int candidate = std::max(width(i, j), best[l - 1][j]);
        if (candidate < best[l][i]) {
          best[l][i] = candidate;
          cut[l][i] = j;
        }
      }
    }
  }
  std::vector<size_t> starts{first};
  size_t i = 0;
  for (int l = lines; l > 1; --l) {
    i = cut[l][i];
    starts.push_back(first + i);
  }
  return starts;
}

std::vector<Page> Paginate(const std::vector<PlacedWord>& w, const CaptionStyle& style) {
  const int max_chars = std::max(1, style.max_chars_per_line);
  const int max_lines = std::max(1, style.max_lines);
  std::vector<Page> pages;
  size_t first = 0;
  auto close = [&](size_t last) {
    Page page{first, last, {}};
    page.line_starts = BalanceLines(w, first, last, LinesNeeded(w, first, last, max_chars));
    pages.push_back(std::move(page));
    first = last;
  };
  for (size_t i = 1; i < w.size(); ++i) {
    const PlacedWord& prev = w[i - 1];
    const bool new_page = w[i].range != w[first].range || w[i].start - prev.end >= kPausePageBreakS ||
                          EndsSentence(prev.text) || LinesNeeded(w, first, i + 1, max_chars) > max_lines;
    if (new_page) close(i);
  }
  if (!w.empty()) close(w.size());
  return pages;
}

std::string PageText(const std::vector<PlacedWord>& w, const Page& page, const CaptionStyle& style,
                     std::optional<size_t> lit) {
  std::string text;
  size_t line = 1;
  for (size_t i = page.first; i < page.last; ++i) {
    if (i != page.first) {
      const bool breaks = line < page.line_starts.size() && page.line_starts[line] == i;
      text += breaks ? "\\N" : " ";
      if (breaks) ++line;
    }
    if (lit && *lit == i) {
      text += "{\\1c" + AssColor(style.highlight_color) + "&}" + EscapeAss(w[i].text) + "{\\r}";
    } else {
      text += EscapeAss(w[i].text);
    }
  }
  return text;
}

void AddDialogue(std::string& doc, double start, double end, const std::string& text,
                 const char* style_name = "Caption", int layer = 0) {
  const int64_t s = Centiseconds(start), e = Centiseconds(end);
  if (e <= s) return;
  doc += "Dialogue: " + std::to_string(layer) + "," + AssTime(s) + "," + AssTime(e) + "," + style_name + ",,0,0,0,," +
         text + "\n";
}

// --- JSON ------------------------------------------------------------------------

Status FieldError(const std::string& field, const std::string& what) {
  return Status::InvalidArgument("caption style: '" + field + "' " + what);
}

Result<uint32_t> ParseColor(const nlohmann::json& v, const std::string& field) {
  if (!v.is_string()) return FieldError(field, "must be a colour string \"#RRGGBB\"");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 7 || s[0] != '#' ||
      !std::all_of(s.begin() + 1, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    return FieldError(field, "must be a colour \"#RRGGBB\", got \"" + s + "\"");
  }
  return static_cast<uint32_t>(std::stoul(s.substr(1), nullptr, 16));
}

Result<int> ParseInt(const nlohmann::json& v, const std::string& field, int lo, int hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (!v.is_number()) return FieldError(field, "must be an integer in " + range);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::floor(d)) return FieldError(field, "must be an integer in " + range);
  if (d < lo || d > hi) return FieldError(field, "must be in " + range + ", got " + v.dump());
  return static_cast<int>(d);
}

Result<bool> ParseBool(const nlohmann::json& v, const std::string& field) {
  if (!v.is_boolean()) return FieldError(field, "must be true or false");
  return v.get<bool>();
}

}  // namespace

CaptionStyle DefaultCaptionStyle(int out_w, int out_h) {
  CaptionStyle style;
  out_w = std::max(out_w, 1);
  out_h = std::max(out_h, 1);
  style.max_chars_per_line = DefaultMaxChars(out_w, out_h);
  style.size = DefaultSize(out_w, out_h, style.max_chars_per_line, style.uppercase);
  style.outline_width = DefaultOutline(style.size);
  style.margin = DefaultMargin(out_w, out_h);
  return style;
}

Result<CaptionStyle> CaptionStyleFromJson(const nlohmann::json& json, int out_w, int out_h) {
  if (out_w <= 0 || out_h <= 0) {
    return Status::InvalidArgument("caption style: output size " + std::to_string(out_w) + "x" +
                                   std::to_string(out_h) + " must be positive");
  }
  if (!json.is_object()) return Status::InvalidArgument("caption style must be a JSON object");
  CaptionStyle style = DefaultCaptionStyle(out_w, out_h);
  std::optional<int> size, max_chars;
  std::optional<double> outline;
  for (const auto& [key, v] : json.items()) {
    if (key == "font") {
      if (!v.is_string()) return FieldError(key, "must be a font family name");
      const std::string& font = v.get_ref<const std::string&>();
      const bool bad_char = std::any_of(font.begin(), font.end(), [](char c) {
        return c == ',' || c == '{' || c == '}' || static_cast<unsigned char>(c) < 0x20;
      });
      if (font.empty() || font.size() > 100 || bad_char) {
        return FieldError(key, "must be a font family name of 1..100 characters without commas or braces");
      }
      style.font = font;
    } else if (key == "size") {
      CUTROOM_ASSIGN_OR_RETURN(size, ParseInt(v, key, 8, 300));
    } else if (key == "primary_color") {
      CUTROOM_ASSIGN_OR_RETURN(style.primary_color, ParseColor(v, key));
    } else if (key == "highlight_color") {
      CUTROOM_ASSIGN_OR_RETURN(style.highlight_color, ParseColor(v, key));
    } else if (key == "outline_color") {
      CUTROOM_ASSIGN_OR_RETURN(style.outline_color, ParseColor(v, key));
    } else if (key == "outline_width") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 50) {
        return FieldError(key, "must be a number in 0..50");
      }
      outline = v.get<double>();
    } else if (key == "bold") {
      CUTROOM_ASSIGN_OR_RETURN(style.bold, ParseBool(v, key));
    } else if (key == "position") {
      const std::string p = v.is_string() ? v.get<std::string>() : v.dump();
      if (p == "bottom") {
        style.position = CaptionPosition::kBottom;
      } else if (p == "middle") {
        style.position = CaptionPosition::kMiddle;
      } else if (p == "top") {
        style.position = CaptionPosition::kTop;
      } else {
        return FieldError(key, "must be \"bottom\", \"middle\" or \"top\", got " + v.dump());
      }
    } else if (key == "margin") {
      CUTROOM_ASSIGN_OR_RETURN(style.margin, ParseInt(v, key, 0, out_h / 2));
    } else if (key == "uppercase") {
      CUTROOM_ASSIGN_OR_RETURN(style.uppercase, ParseBool(v, key));
    } else if (key == "max_chars_per_line") {
      CUTROOM_ASSIGN_OR_RETURN(max_chars, ParseInt(v, key, 4, 200));
    } else if (key == "max_lines") {
      CUTROOM_ASSIGN_OR_RETURN(style.max_lines, ParseInt(v, key, 1, 6));
    } else if (key == "highlight") {
      CUTROOM_ASSIGN_OR_RETURN(style.highlight, ParseBool(v, key));
    } else {
      return Status::InvalidArgument("caption style: unknown field '" + key + "'");
    }
  }
  if (max_chars) style.max_chars_per_line = *max_chars;
  style.size = size ? *size : DefaultSize(out_w, out_h, style.max_chars_per_line, style.uppercase);
  style.outline_width = outline ? *outline : DefaultOutline(style.size);
  return style;
}

std::string BuildAssCaptions(const std::vector<analysis::TranscriptWord>& words, const std::vector<TimeRange>& ranges,
                             const CaptionStyle& style, int play_w, int play_h) {
  return BuildAssCaptions(words, ranges, style, play_w, play_h, AssTitle{});
}

std::string BuildAssCaptions(const std::vector<analysis::TranscriptWord>& words, const std::vector<TimeRange>& ranges,
                             const CaptionStyle& style, int play_w, int play_h, const AssTitle& title) {
  std::vector<double> range_out_end;
  const std::vector<PlacedWord> placed = PlaceWords(words, ranges, style.uppercase, range_out_end);
  const double output_s = range_out_end.empty() ? 0 : range_out_end.back();
  const std::string title_text = TitleText(title.text);
  const double title_end = std::isfinite(title.duration_s) ? std::min(title.duration_s, output_s) : 0;
  const bool with_title = !title_text.empty() && Centiseconds(title_end) > 0;
  std::string doc = Header(style, std::max(play_w, 1), std::max(play_h, 1), with_title);
  if (with_title) {
    // Fades of up to 0.3 s, never more than a quarter of the time on screen
    // each, so that a short title is still fully drawn for half of it.
    const int fade_ms = static_cast<int>(std::lround(1000 * std::min(kTitleFadeS, title_end / 4)));
    AddDialogue(doc, 0, title_end,
                "{\\fad(" + std::to_string(fade_ms) + "," + std::to_string(fade_ms) + ")}" + title_text,
                "Title", 1);
  }
  const std::vector<Page> pages = Paginate(placed, style);
  for (size_t p = 0; p < pages.size(); ++p) {
    const Page& page = pages[p];
    const PlacedWord& last = placed[page.last - 1];
    double page_end = std::min(last.end + kLingerS, range_out_end[last.range]);
    if (p + 1 < pages.size()) page_end = std::min(page_end, placed[pages[p + 1].first].start);
    page_end = std::max(page_end, last.start);
    if (!style.highlight) {
      AddDialogue(doc, placed[page.first].start, page_end, PageText(placed, page, style, std::nullopt));
      continue;
    }
    for (size_t i = page.first; i < page.last; ++i) {
      const double end = i + 1 < page.last ? placed[i + 1].start : page_end;
      AddDialogue(doc, placed[i].start, end, PageText(placed, page, style, i));
    }
  }
  return doc;
}

}  // namespace cutroom::edit
