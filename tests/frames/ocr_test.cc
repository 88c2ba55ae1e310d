// OCR on a scanned page of text, on the same page as a decoded video frame,
// and on frames without text.
#include "analysis/frames/ocr.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "core/subprocess.h"
#include "frame_images.h"
#include "support/test_support.h"

namespace cutroom::analysis {
namespace {

using testing::DecodeFrameAt;
using testing::FlatFrame;
using testing::kOpenCvData;
using testing::LoadImageFrame;

std::unique_ptr<OcrEngine> OpenEngine() {
  auto e = OcrEngine::Open();
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Lines of imageTextN.png, a page from Szeliski's "Computer Vision".
const char* const kPagePhrases[] = {
    "technical details are too complex to cover in the book itself",
    "in teaching our courses, we have found it useful for the students",
    "small implementation projects",
    "working with real-world images",
    "conference papers",
    "wherever possible, i encourage",
    "variety and complexity of real-world imagery",
    "in formulating and solving computer vision problems",
    "inspiration from three high-level approaches",
};

void ExpectPageRead(const OcrResult& r) {
  std::string text = Lower(r.text);
  for (const char* phrase : kPagePhrases) EXPECT_NE(text.find(phrase), std::string::npos) << phrase << "\n" << r.text;
  EXPECT_GT(r.words, 120);
  EXPECT_GT(r.confidence, 80);
  EXPECT_LE(r.confidence, 100);
  // Whitespace is normalised: no doubled spaces, no blank lines.
  EXPECT_EQ(r.text.find("  "), std::string::npos);
  EXPECT_EQ(r.text.find("\n\n"), std::string::npos);
  EXPECT_EQ(r.text.find('\t'), std::string::npos);
}

TEST(OcrEngine, ReadsAPageOfText) {
  std::string path = std::string(kOpenCvData) + "imageTextN.png";
  REQUIRE_FILE(path, "opencv-doc example image");
  auto engine = OpenEngine();
  ASSERT_TRUE(engine);
  auto r = engine->Recognize(LoadImageFrame(path));
  ASSERT_OK(r.status());
  ExpectPageRead(*r);
}

TEST(OcrEngine, ReadsThePageAfterItWentThroughAVideoCodec) {
  std::string png = std::string(kOpenCvData) + "imageTextN.png";
  REQUIRE_FILE(png, "opencv-doc example image");
  cutroom::testing::TempDir dir;
  std::string mp4 = dir.File("page.mp4");
  // Two seconds of the page as 4:2:0 H.264, as a slide in a video would be.
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", png,
                        "-t", "2", "-r", "25", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v", "libx264",
                        "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", mp4}));
  auto frame = DecodeFrameAt(mp4, 1.0);
  ASSERT_OK(frame.status());
  auto engine = OpenEngine();
  ASSERT_TRUE(engine);
  auto r = engine->Recognize(*frame);
  ASSERT_OK(r.status());
  ExpectPageRead(*r);
}

TEST(OcrEngine, ReadsOutlinedCaptionsOverABusyPicture) {
  std::string photo = std::string(kOpenCvData) + "messi5.jpg";
  const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
  REQUIRE_FILE(photo, "opencv-doc example image");
  REQUIRE_FILE(font, "DejaVu font (fonts-dejavu-core)");
  cutroom::testing::TempDir dir;
  std::string mp4 = dir.File("caption.mp4");
  // A white outlined caption at the bottom and a boxed tag in the corner,
  // burned into one second of H.264 at 640x400.
  std::string filters = "scale=640:-2,drawtext=fontfile=" + font +
                        ":text='Record breaking season':fontsize=26:fontcolor=white:borderw=2:bordercolor=black:"
                        "x=(w-tw)/2:y=h-50,drawtext=fontfile=" + font +
                        ":text='LIVE':fontsize=18:fontcolor=white:box=1:boxcolor=red:boxborderw=4:x=20:y=20";
  ASSERT_OK(RunProcess({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", photo,
                        "-t", "1", "-r", "25", "-vf", filters, "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", mp4}));
  auto frame = DecodeFrameAt(mp4, 0.5);
  ASSERT_OK(frame.status());
  auto engine = OpenEngine();
  ASSERT_TRUE(engine);
  auto r = engine->Recognize(*frame);
  ASSERT_OK(r.status());
  // Reading order: the tag at the top comes first.
  EXPECT_EQ(r->text.find("LIVE"), 0u) << r->text;
  EXPECT_NE(r->text.find("Record breaking"), std::string::npos) << r->text;
  // The crowd and the grass are not read as text: only the two lines and
  // at most the shirt's logo.
  EXPECT_LE(std::count(r->text.begin(), r->text.end(), '\n'), 2) << r->text;
}

TEST(OcrEngine, FindsNoTextInFlatFramesOrPhotographsWithoutText) {
  auto engine = OpenEngine();
  ASSERT_TRUE(engine);
  for (uint8_t v : {0, 255}) {
    auto r = engine->Recognize(FlatFrame(640, 360, v));
    ASSERT_OK(r.status());
    EXPECT_EQ(r->text, "");
    EXPECT_EQ(r->words, 0);
    EXPECT_EQ(r->confidence, 0);
  }
  // Fruit, a painting's brush strokes and a fur-and-skin close-up: texture
  // tesseract would otherwise read as scattered letters.
  for (const char* name : {"fruits.jpg", "starry_night.jpg", "baboon.jpg"}) {
    std::string path = std::string(kOpenCvData) + name;
    REQUIRE_FILE(path, "opencv-doc example image");
    auto r = engine->Recognize(LoadImageFrame(path));
    ASSERT_OK(r.status());
    EXPECT_EQ(r->text, "") << name;
  }
}

TEST(OcrEngine, OpeningFailsClearlyWithoutTheLanguage) {
  OcrOptions o;
  o.language = "xx_nonexistent";
  auto r = OcrEngine::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("xx_nonexistent"), std::string::npos);
  OcrOptions bad;
  bad.min_word_confidence = 101;
  EXPECT_TRUE(OcrEngine::Open(bad).status().IsInvalidArgument());
}

}  // namespace
}  // namespace cutroom::analysis
