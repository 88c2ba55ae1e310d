#include "analysis/transcribe/subtitles.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cutroom::analysis {
namespace {

// Splits text into at most max_lines lines of at most max_chars, breaking
// at the space that balances the lines best. Empty when it does not fit.
std::vector<std::string> BreakLines(const std::string& text, size_t max_chars, size_t max_lines) {
  if (text.size() <= max_chars) return {text};
  if (max_lines < 2) return {};
  size_t best = std::string::npos;
  size_t best_imbalance = std::string::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ' ') continue;
    size_t left = i, right = text.size() - i - 1;
    if (left > max_chars || right > max_chars) continue;
    size_t imbalance = left > right ? left - right : right - left;
    if (imbalance < best_imbalance) {
      best_imbalance = imbalance;
      best = i;
    }
  }
  if (best == std::string::npos) return {};
  return {text.substr(0, best), text.substr(best + 1)};
}

}  // namespace

std::vector<Cue> BuildCues(const Transcript& transcript, const CueOptions& options) {
  std::vector<Cue> cues;
  for (const auto& seg : transcript.segments) {
    std::string text;
    double start = 0, end = 0;
    auto flush = [&] {
      if (text.empty()) return;
      Cue cue;
      cue.start_s = start;
      cue.end_s = end;
      cue.lines = BreakLines(text, options.max_line_chars, options.max_lines);
      if (cue.lines.empty()) cue.lines = {text};  // one word longer than a line
      cues.push_back(std::move(cue));
      text.clear();
    };
    for (const auto& w : seg.words) {
      std::string candidate = text.empty() ? w.word : text + " " + w.word;
      bool fits = !BreakLines(candidate, options.max_line_chars, options.max_lines).empty();
      bool too_long = !text.empty() && w.end_s - start > options.max_duration_s;
      if (!text.empty() && (!fits || too_long)) flush();
      if (text.empty()) {
        start = w.start_s;
        text = w.word;
      } else {
        text += " " + w.word;
      }
      end = w.end_s;
    }
    flush();
  }
  // Short cues stay up for at least min_duration, without overlapping the
  // next one; cues are never longer than max_duration.
  for (size_t i = 0; i < cues.size(); ++i) {
    double limit = i + 1 < cues.size() ? cues[i + 1].start_s : cues[i].start_s + options.min_duration_s;
    if (cues[i].end_s - cues[i].start_s < options.min_duration_s) {
      cues[i].end_s = std::min(cues[i].start_s + options.min_duration_s, std::max(limit, cues[i].end_s));
    }
    cues[i].end_s = std::min(cues[i].end_s, cues[i].start_s + options.max_duration_s);
  }
  return cues;
}

std::string SubtitleTime(double seconds, char sep) {
  if (seconds < 0) seconds = 0;
  long long ms = std::llround(seconds * 1000.0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, (ms / 60000) % 60, (ms / 1000) % 60,
                sep, ms % 1000);
  return buf;
}

std::string FormatSrt(const std::vector<Cue>& cues) {
  std::string out;
  for (size_t i = 0; i < cues.size(); ++i) {
    out += std::to_string(i + 1) + "\n";
    out += SubtitleTime(cues[i].start_s, ',') + " --> " + SubtitleTime(cues[i].end_s, ',') + "\n";
    for (const auto& line : cues[i].lines) out += line + "\n";
    out += "\n";
  }
  return out;
}

std::string FormatVtt(const std::vector<Cue>& cues) {
  std::string out = "WEBVTT\n\n";
  for (const auto& cue : cues) {
    out += SubtitleTime(cue.start_s, '.') + " --> " + SubtitleTime(cue.end_s, '.') + "\n";
    for (const auto& line : cue.lines) out += line + "\n";
    out += "\n";
  }
  return out;
}

std::string FormatText(const Transcript& transcript) {
  std::string out;
  for (const auto& s : transcript.segments) out += s.text + "\n";
  return out;
}

}  // namespace cutroom::analysis
