// OcrEngine: the text visible in a decoded frame (slides, captions, signs,
// lower thirds), read by tesseract's LSTM recogniser through its C++ API.
//
// Frames are turned to gray and enlarged until text a video shows at a
// readable size reaches the height tesseract reads best (it is trained on
// scanned pages, where letters are 20-40 px tall). Two passes read each
// frame: the gray picture as it is (slides, documents, signs: dark on
// light, which tesseract binarises itself), and only its near-white
// pixels (captions and titles: white or yellow letters, often outlined,
// over a busy picture that defeats a global threshold); where both read
// the same line, the more confident reading wins. Words tesseract is
// unsure of and "words" without a letter or digit (rules, borders) are
// dropped, and so are lines that are only a letter or two or whose words
// are on average uncertain, which is what texture read as text looks
// like; frames without text give empty text rather than noise.
//
// Ownership: an engine owns one tesseract instance (tens of MB of model).
// Thread-safety: not thread-safe; use one engine per thread.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "media/decoder.h"

namespace cutroom::analysis {

struct OcrOptions {
  // Tesseract language code(s), "eng" or "eng+deu".
  std::string language = "eng";
  // Directory holding <language>.traineddata; empty: tesseract's default
  // (TESSDATA_PREFIX, else Debian's /usr/share/tesseract-ocr/5/tessdata).
  std::string tessdata_dir;
  // Words below this confidence (0..100) are dropped.
  int min_word_confidence = 65;
  // Frames are enlarged (up to 3x) until they are at least this wide.
  int target_width = 1280;
};

struct OcrResult {
  // Words joined by one space, lines by "\n"; empty when nothing was read.
  std::string text;
  // Mean confidence (0..100) of the words kept; 0 when none were.
  double confidence = 0;
  int words = 0;
};

class OcrEngine {
 public:
  // FailedPrecondition, naming the language and directory, when tesseract
  // cannot load the language (tesseract-ocr-eng not installed);
  // InvalidArgument for options out of range.
  static Result<std::unique_ptr<OcrEngine>> Open(const OcrOptions& options = {});

  ~OcrEngine();
  OcrEngine(const OcrEngine&) = delete;
  OcrEngine& operator=(const OcrEngine&) = delete;

  // The text in frame (any PixelFormat). InvalidArgument for an empty or
  // inconsistent frame; Internal when tesseract fails on the image.
  Result<OcrResult> Recognize(const media::VideoFrame& frame);

  const OcrOptions& options() const;

 private:
  class Impl;
  explicit OcrEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutroom::analysis
