#include "analysis/transcribe/segmenting.h"

#include <string>

namespace cutroom::analysis {
namespace {

// Sentence-final punctuation, looking past closing quotes and brackets.
bool EndsSentence(const std::string& word) {
  for (auto it = word.rbegin(); it != word.rend(); ++it) {
    char c = *it;
    if (c == '"' || c == '\'' || c == ')' || c == ']') continue;
    return c == '.' || c == '?' || c == '!';
  }
  return false;
}

void Finish(TranscriptSegment& seg, std::vector<TranscriptSegment>& out) {
  if (seg.words.empty()) return;
  seg.start_s = seg.words.front().start_s;
  seg.end_s = seg.words.back().end_s;
  double conf = 0;
  for (const auto& w : seg.words) {
    if (!seg.text.empty()) seg.text += ' ';
    seg.text += w.word;
    conf += w.confidence;
  }
  seg.confidence = conf / static_cast<double>(seg.words.size());
  out.push_back(std::move(seg));
  seg = TranscriptSegment{};
}

}  // namespace

std::vector<TranscriptSegment> SegmentWords(const std::vector<TranscriptWord>& words, const SegmentOptions& options) {
  std::vector<TranscriptSegment> out;
  TranscriptSegment seg;
  for (const auto& w : words) {
    if (w.word.empty()) continue;
    if (!seg.words.empty() && w.start_s - seg.words.back().end_s > options.pause_split_s) Finish(seg, out);
    seg.words.push_back(w);
    if (EndsSentence(w.word)) Finish(seg, out);
  }
  Finish(seg, out);
  return out;
}

}  // namespace cutroom::analysis
