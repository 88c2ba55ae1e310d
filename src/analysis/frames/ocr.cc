#include "analysis/frames/ocr.h"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>

#include "analysis/frames/cv_frame.h"

namespace cutroom::analysis {
namespace {

using frames_internal::CatchCv;
using frames_internal::GrayMat;

constexpr double kMaxUpscale = 3.0;

struct TessDeleter {
  void operator()(tesseract::TessBaseAPI* api) const {
    api->End();
    delete api;
  }
};
using TessPtr = std::unique_ptr<tesseract::TessBaseAPI, TessDeleter>;
using TextPtr = std::unique_ptr<char[]>;  // tesseract's strings are new[]-allocated
using IteratorPtr = std::unique_ptr<tesseract::ResultIterator>;

// Gray level above which the bright-text pass keeps a pixel as ink.
constexpr int kBrightTextLevel = 200;
// A line is kept when its words (those that pass the word filter) hold at
// least this many letters and digits, with at least this mean confidence:
// texture read as text gives scattered short "words" of middling
// confidence, real text whole words tesseract is sure of.
constexpr int kMinLineAlnum = 3;
constexpr float kMinLineConfidence = 80;

// Whether a code point is a letter or digit of some script, roughly:
// ASCII letters and digits, Latin letters with accents, and the blocks of
// other alphabets and of CJK. Punctuation, symbols and dashes (which is
// what noise is read as: "—", "©", "€", "“") are not.
bool IsLetterOrDigit(char32_t c) {
  if (c < 0x80) return std::isalnum(static_cast<int>(c)) != 0;
  if (c >= 0xC0 && c <= 0x24F) return c != 0xD7 && c != 0xF7;
  return (c >= 0x370 && c <= 0x1FFF) || (c >= 0x3040 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFAFF);
}

// Letters and digits in a UTF-8 word (malformed bytes count as neither).
int AlnumCount(const std::string& word) {
  int count = 0;
  for (size_t i = 0; i < word.size();) {
    unsigned char b = static_cast<unsigned char>(word[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > word.size()) {
      ++i;
      continue;
    }
    char32_t c = len == 1 ? b : (b & (0xFF >> (len + 1)));
    for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(word[i + k]) & 0x3F);
    count += IsLetterOrDigit(c) ? 1 : 0;
    i += static_cast<size_t>(len);
  }
  return count;
}

struct OcrLine {
  std::string text;
  cv::Rect box;
  double confidence_sum = 0;
  int words = 0;
};

// One tesseract pass over image: the lines that pass the filters, in
// image coordinates.
Status ReadLines(tesseract::TessBaseAPI* api, const cv::Mat& image, int min_word_confidence,
                 std::vector<OcrLine>& out) {
  cv::Mat img = image.isContinuous() ? image : image.clone();
  api->SetImage(img.data, img.cols, img.rows, 1, static_cast<int>(img.step));
  // Frames carry no DPI; 300 is what tesseract's size heuristics expect of
  // text at the heights the enlargement aims for.
  api->SetSourceResolution(300);
  if (api->Recognize(nullptr) != 0) {
    api->Clear();
    return Status::Internal("tesseract failed to recognise the frame");
  }
  IteratorPtr it(api->GetIterator());
  OcrLine line;
  int alnum = 0;
  auto end_line = [&] {
    if (line.words > 0 && alnum >= kMinLineAlnum &&
        line.confidence_sum / line.words >= kMinLineConfidence) {
      out.push_back(line);
    }
    line = OcrLine{};
    alnum = 0;
  };
  if (it) {
    do {
      if (it->IsAtBeginningOf(tesseract::RIL_TEXTLINE)) end_line();
      TextPtr raw(it->GetUTF8Text(tesseract::RIL_WORD));
      if (!raw) continue;
      std::string word(raw.get());
      word.erase(std::remove_if(word.begin(), word.end(),
                                [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
                 word.end());
      float confidence = it->Confidence(tesseract::RIL_WORD);
      int n = AlnumCount(word);
      if (n == 0 || confidence < static_cast<float>(min_word_confidence)) continue;
      int left = 0, top = 0, right = 0, bottom = 0;
      it->BoundingBox(tesseract::RIL_WORD, &left, &top, &right, &bottom);
      cv::Rect box(left, top, std::max(1, right - left), std::max(1, bottom - top));
      line.box = line.words == 0 ? box : (line.box | box);
      if (!line.text.empty()) line.text += ' ';
      line.text += word;
      line.confidence_sum += confidence;
      ++line.words;
      alnum += n;
    } while (it->Next(tesseract::RIL_WORD));
  }
  end_line();
  it.reset();
  api->Clear();
  return Status::Ok();
}

// Lines from both passes: where two overlap (the same text read twice),
// the one with more confident words wins; the rest are put in reading
// order (top to bottom, lines at one height left to right).
OcrResult MergeLines(std::vector<OcrLine> lines) {
  std::sort(lines.begin(), lines.end(),
            [](const OcrLine& a, const OcrLine& b) { return a.confidence_sum > b.confidence_sum; });
  std::vector<OcrLine> kept;
  for (auto& line : lines) {
    bool covered = std::any_of(kept.begin(), kept.end(), [&](const OcrLine& k) {
      double overlap = static_cast<double>((k.box & line.box).area());
      return overlap > 0.5 * std::min(k.box.area(), line.box.area());
    });
    if (!covered) kept.push_back(std::move(line));
  }
  // Rows: lines whose vertical centres lie within half a line height of
  // the row's first line; rows top to bottom, each left to right.
  auto centre = [](const OcrLine& l) { return l.box.y + l.box.height / 2; };
  std::sort(kept.begin(), kept.end(), [&](const OcrLine& a, const OcrLine& b) { return centre(a) < centre(b); });
  for (size_t row = 0; row < kept.size();) {
    size_t end = row + 1;
    while (end < kept.size() && centre(kept[end]) - centre(kept[row]) <= kept[row].box.height / 2) ++end;
    std::sort(kept.begin() + static_cast<std::ptrdiff_t>(row), kept.begin() + static_cast<std::ptrdiff_t>(end),
              [](const OcrLine& a, const OcrLine& b) { return a.box.x < b.box.x; });
    row = end;
  }
  OcrResult out;
  double confidence_sum = 0;
  for (const auto& line : kept) {
    if (!out.text.empty()) out.text += '\n';
    out.text += line.text;
    confidence_sum += line.confidence_sum;
    out.words += line.words;
  }
  if (out.words > 0) out.confidence = confidence_sum / out.words;
  return out;
}

}  // namespace

class OcrEngine::Impl {
 public:
  OcrOptions options;
  TessPtr api;
};

OcrEngine::OcrEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OcrEngine::~OcrEngine() = default;

const OcrOptions& OcrEngine::options() const { return impl_->options; }

Result<std::unique_ptr<OcrEngine>> OcrEngine::Open(const OcrOptions& options) {
  if (options.language.empty()) return Status::InvalidArgument("OCR language must not be empty");
  if (options.min_word_confidence < 0 || options.min_word_confidence > 100) {
    return Status::InvalidArgument("min_word_confidence must be 0..100");
  }
  if (options.target_width < 1 || options.target_width > 8192) {
    return Status::InvalidArgument("target_width must be 1..8192");
  }
  // Leptonica (tesseract's image library) prints to stderr whenever a
  // layout step finds nothing to do ("box outside rectangle"); those are
  // not errors of ours, and the setting is process-wide.
  static std::once_flag quiet;
  std::call_once(quiet, [] { setMsgSeverity(L_SEVERITY_NONE); });
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->api.reset(new tesseract::TessBaseAPI());
  // Tesseract prints diagnostics ("Estimating resolution", diacritics) to
  // stderr unless told where else to put them.
  impl->api->SetVariable("debug_file", "/dev/null");
  const char* dir = options.tessdata_dir.empty() ? nullptr : options.tessdata_dir.c_str();
  if (impl->api->Init(dir, options.language.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return Status::FailedPrecondition(
        "tesseract could not load language '" + options.language + "' from " +
        (options.tessdata_dir.empty() ? std::string("its default tessdata directory") : options.tessdata_dir) +
        " (install tesseract-ocr-" + options.language + " or set the tessdata directory)");
  }
  impl->api->SetVariable("debug_file", "/dev/null");
  // Tesseract re-reads every uncertain line inverted in case it is light
  // on dark; the bright-text pass already covers that case, and on
  // textured frames the retries cost about 40% of the time.
  impl->api->SetVariable("tessedit_do_invert", "0");
  // Video frames hold scattered text (titles, captions, signs) rather than
  // a page of columns: find every line wherever it is.
  impl->api->SetPageSegMode(tesseract::PSM_SPARSE_TEXT);
  return std::unique_ptr<OcrEngine>(new OcrEngine(std::move(impl)));
}

Result<OcrResult> OcrEngine::Recognize(const media::VideoFrame& frame) {
  CUTROOM_ASSIGN_OR_RETURN(cv::Mat gray, GrayMat(frame));
  const OcrOptions& o = impl_->options;
  cv::Mat work, bright;
  CUTROOM_RETURN_IF_ERROR(CatchCv("prepare frame for OCR", [&] {
    double factor = std::clamp(static_cast<double>(o.target_width) / gray.cols, 1.0, kMaxUpscale);
    if (factor > 1.0) {
      cv::resize(gray, work, cv::Size(), factor, factor, cv::INTER_CUBIC);
    } else {
      work = gray;
    }
    // Captions and titles are white or yellow, usually outlined, over a
    // busy picture: tesseract's own global threshold mixes them with the
    // background. Keeping only near-white pixels, as black on white, gives
    // it the letters alone.
    cv::threshold(work, bright, kBrightTextLevel, 255, cv::THRESH_BINARY_INV);
  }));
  std::vector<OcrLine> lines;
  CUTROOM_RETURN_IF_ERROR(ReadLines(impl_->api.get(), work, o.min_word_confidence, lines));
  CUTROOM_RETURN_IF_ERROR(ReadLines(impl_->api.get(), bright, o.min_word_confidence, lines));
  return MergeLines(std::move(lines));
}

}  // namespace cutroom::analysis
