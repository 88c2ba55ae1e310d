// Layout by content (reframe auto): the rule on hand-made evidence, and
// whole render jobs on generated media: a slide with large text is fitted
// (and OCR still reads its words in the 9:16 render, which a centred crop
// cuts), a face is followed, and a clip spanning both switches exactly at
// the scene cut.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "analysis/frames/ocr.h"
#include "clips/clips_stage_fixture.h"
#include "core/subprocess.h"
#include "edit/edit_jobs.h"
#include "edit/reframe/layout.h"
#include "media/decoder.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

TEST(BestMotionWindow, FindsTheWindowHoldingTheMostMotion) {
  std::vector<double> profile(100, 0.0);
  for (int i = 70; i < 80; ++i) profile[i] = 1.0;
  profile[5] = 1.0;
  MotionWindow w = BestMotionWindow(profile, 0.3);
  EXPECT_NEAR(w.share, 10.0 / 11.0, 1e-9);
  EXPECT_GE(w.center * 100, 65);
  EXPECT_LE(w.center * 100, 85);
  EXPECT_EQ(BestMotionWindow({}, 0.3).share, 0);
  EXPECT_EQ(BestMotionWindow(std::vector<double>(10, 0.0), 0.3).center, 0.5);
}

TEST(ChooseSceneLayout, FollowsABigFaceEvenOverText) {
  SceneEvidence e;
  e.face_frames = 10;
  e.with_face = e.with_big_face = 8;
  e.text_frames = 2;
  e.with_text = 2;  // a name caption under a talking head
  e.motion = 0.01;
  LayoutChoice c = ChooseSceneLayout(e, 0.3);
  EXPECT_EQ(c.layout, SceneLayout::kFace);
  EXPECT_NE(c.why.find("8 of 10"), std::string::npos) << c.why;
}

TEST(ChooseSceneLayout, FitsStillText) {
  SceneEvidence e;
  e.face_frames = 10;
  e.text_frames = 3;
  e.with_text = 2;
  e.motion = 0.004;
  LayoutChoice c = ChooseSceneLayout(e, 0.3);
  EXPECT_EQ(c.layout, SceneLayout::kFit);
  EXPECT_NE(c.why.find("text in 2 of 3"), std::string::npos) << c.why;
  // A small face on a slide (a photo on it) does not make it a face shot.
  e.with_face = 9;
  EXPECT_EQ(ChooseSceneLayout(e, 0.3).layout, SceneLayout::kFit);
  // Moving text (scrolling, a game) is no slide: a face there is followed.
  e.motion = 0.1;
  EXPECT_EQ(ChooseSceneLayout(e, 0.3).layout, SceneLayout::kFace);
}

TEST(ChooseSceneLayout, CentresOnMotionAWindowCanHoldAndFitsWiderMotion) {
  SceneEvidence e;
  e.face_frames = 10;
  e.motion = 0.05;
  e.motion_profile.assign(96, 0.01);
  for (int i = 10; i < 30; ++i) e.motion_profile[i] = 1.0;  // someone walking on the left
  LayoutChoice c = ChooseSceneLayout(e, 0.316);
  EXPECT_EQ(c.layout, SceneLayout::kCenter) << c.why;
  EXPECT_GT(c.center, 0.1);
  EXPECT_LT(c.center, 0.3);
  // Two things moving at both edges: no window holds 70% of it.
  for (int i = 70; i < 90; ++i) e.motion_profile[i] = 1.0;
  c = ChooseSceneLayout(e, 0.316);
  EXPECT_EQ(c.layout, SceneLayout::kFit) << c.why;
  EXPECT_NE(c.why.find("spread"), std::string::npos) << c.why;
  // Nothing moves and nothing is known: the whole picture.
  SceneEvidence none;
  EXPECT_EQ(ChooseSceneLayout(none, 0.316).layout, SceneLayout::kFit);
}

// Media made once for the suite with ffmpeg: 1280x720, 25 fps.
class LayoutJobs : public analysis::testing::ClipsStageFixture {
 protected:
  static void SetUpTestSuite() {
    dir_ = new cutroom::testing::TempDir();
    const std::string font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    // A slide: dark words on white, a title at the far left and a line
    // across the whole width, still for 4 s.
    Make("slide.mp4", {"-f", "lavfi", "-i",
                       "color=c=white:s=1280x720:r=25:d=4,"
                       "drawtext=fontfile=" + font + ":text='Q3 FIGURES':fontsize=96:fontcolor=black:x=40:y=120,"
                       "drawtext=fontfile=" + font + ":text='Revenue grew forty percent':fontsize=64:fontcolor=black:x=40:y=420",
                       "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"});
    // opencv-doc's messi5.jpg, 560 px tall, moving slowly right over gray
    // for 4 s. At this size the face (about 70 px) is found in most
    // frames; larger, the detector wants eyes it cannot see (he looks down).
    Make("face.mp4", {"-f", "lavfi", "-i", "color=c=0x404040:s=1280x720:r=25:d=4", "-loop", "1", "-i", kFace,
                      "-filter_complex", "[1:v]scale=-2:560[m];[0:v][m]overlay=x='-100+t*25':y=80:shortest=1", "-t", "4",
                      "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"});
    Make("both.mp4", {"-i", Path("slide.mp4"), "-i", Path("face.mp4"), "-filter_complex",
                      "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
                      "-pix_fmt", "yuv420p"});
    // 12 s of the slide, then the face.
    Make("long.mp4", {"-i", Path("slide.mp4"), "-i", Path("slide.mp4"), "-i", Path("slide.mp4"), "-i",
                      Path("face.mp4"), "-filter_complex", "[0:v][1:v][2:v][3:v]concat=n=4:v=1[v]", "-map", "[v]",
                      "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static void Make(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(Path(name));
    std::string output;
    Status st = RunProcess(argv, &output);
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << output;
  }
  static std::string Path(const std::string& name) { return dir_->File(name); }

  void SetUp() override {
    ClipsStageFixture::SetUp();
    ASSERT_TRUE(std::filesystem::exists(kFace)) << "opencv-doc's messi5.jpg is missing (scripts/install-deps.sh)";
  }

  db::MediaRow Video(const std::string& name, double duration_s) {
    db::MediaRow m = AddVideo(Path(name), duration_s);
    m.width = 1280;
    m.height = 720;
    m.video_codec = "h264";
    auto updated = repos_->media.Update(m);
    EXPECT_OK(updated.status());
    return updated.value_or(m);
  }

  struct Rendered {
    json spec;
    std::string file;
  };
  // Creates an edit job and runs its render job as a worker would.
  Rendered RenderJob(const db::MediaRow& video, json request) {
    request["video_id"] = video.video_id;
    request["captions"] = false;
    request["output"] = {{"preset", "ultrafast"}};
    auto created = CreateEditJob(*db_, &env_, &ids_, *queue_, db::kLocalOwnerId, request);
    EXPECT_OK(created.status());
    if (!created.ok()) return {};
    auto claimed = queue_->Claim("test-worker", {"render"}, 60'000);
    EXPECT_OK(claimed.status());
    if (!claimed.ok() || !*claimed) return {};
    jobs::CancelToken token;
    jobs::JobContext ctx(**claimed, queue_.get(), jobs::JobServices{&env_, db_.get(), blobs_.get(), &ids_, &config_},
                         "test-worker", &token);
    EXPECT_OK(RunRender(ctx));
    auto edit = repos_->edit_jobs.Get(created->edit.edit_job_id);
    EXPECT_OK(edit.status());
    if (!edit.ok() || !edit->output_asset_id) return {};
    auto asset = repos_->video_assets.Get(*edit->output_asset_id);
    EXPECT_OK(asset.status());
    auto file = blobs_->LocalPath(asset.ok() ? asset->storage_key : "");
    EXPECT_OK(file.status());
    return {edit->spec, file.value_or("")};
  }

  static media::VideoFrame FrameOf(const std::string& file, double t) {
    media::DecodeOptions opts;
    opts.format = media::PixelFormat::kGray8;
    auto decoder = media::VideoDecoder::Open(file, opts);
    EXPECT_OK(decoder.status());
    if (!decoder.ok()) return {};
    auto frame = (*decoder)->FrameAt(t);
    EXPECT_OK(frame.status());
    return frame.value_or(media::VideoFrame{});
  }

  static std::string Read(const media::VideoFrame& frame) {
    auto ocr = analysis::OcrEngine::Open();
    EXPECT_OK(ocr.status());
    if (!ocr.ok()) return "";
    auto text = (*ocr)->Recognize(frame);
    EXPECT_OK(text.status());
    return text.ok() ? text->text : "";
  }

  static constexpr const char* kFace = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";
  static cutroom::testing::TempDir* dir_;
};
cutroom::testing::TempDir* LayoutJobs::dir_ = nullptr;

// Mean and spread of luma over rows [y0, y1) of a gray frame.
std::pair<double, double> RowStats(const media::VideoFrame& f, int y0, int y1) {
  double sum = 0, sq = 0, n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = 0; x < f.width; ++x, ++n) {
      const double v = f.pixels[static_cast<size_t>(y) * f.width + x];
      sum += v;
      sq += v * v;
    }
  }
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sq / n - mean * mean))};
}

// A fitted white slide in 720x1280: the slide is the bright band across
// the middle, above it its blurred, darkened copy (flat, mid-gray).
bool LooksFitted(const media::VideoFrame& f) {
  const auto [top, top_spread] = RowStats(f, 40, 360);
  const auto [middle, middle_spread] = RowStats(f, 480, 800);
  return top > 60 && top < 180 && top_spread < 20 && middle > 190;
}

TEST_F(LayoutJobs, AutoFitsASlideAndOcrStillReadsItsWords) {
  db::MediaRow video = Video("slide.mp4", 4.0);
  Rendered fit = RenderJob(video, {{"ranges", {{0.5, 3.5}}}});
  ASSERT_FALSE(fit.file.empty());
  EXPECT_EQ(fit.spec["reframe"], "auto");
  ASSERT_EQ(fit.spec["layout"].size(), 1u) << fit.spec.dump(2);
  EXPECT_EQ(fit.spec["layout"][0]["mode"], "fit") << fit.spec.dump(2);
  EXPECT_NE(fit.spec["layout"][0]["why"].get<std::string>().find("text in"), std::string::npos) << fit.spec.dump(2);
  const media::VideoFrame frame = FrameOf(fit.file, 1.5);
  ASSERT_EQ(frame.width, 720);
  ASSERT_EQ(frame.height, 1280);
  EXPECT_TRUE(LooksFitted(frame));
  const std::string text = Read(frame);
  for (const char* word : {"Q3", "FIGURES", "Revenue", "percent"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word << " not read in: " << text;
  }
  // The centred crop, for contrast, cuts the title's start and the line's ends.
  Rendered centred = RenderJob(video, {{"ranges", {{0.5, 3.5}}}, {"reframe", "center"}});
  ASSERT_FALSE(centred.file.empty());
  const std::string cut = Read(FrameOf(centred.file, 1.5));
  EXPECT_EQ(cut.find("Q3"), std::string::npos) << cut;
  EXPECT_EQ(cut.find("percent"), std::string::npos) << cut;
}

TEST_F(LayoutJobs, AutoFollowsAFace) {
  db::MediaRow video = Video("face.mp4", 4.0);
  Rendered r = RenderJob(video, {{"ranges", {{0.0, 4.0}}}});
  ASSERT_FALSE(r.file.empty());
  ASSERT_EQ(r.spec["layout"].size(), 1u) << r.spec.dump(2);
  EXPECT_EQ(r.spec["layout"][0]["mode"], "face") << r.spec.dump(2);
  EXPECT_FALSE(LooksFitted(FrameOf(r.file, 2.0)));
}

// Faces are looked for in about one sample a second first: the slide's
// long scene shows none and is not searched further, and between the face
// scene's probes the search stays near the faces they found. The layout is
// the one a search of every sample gives.
TEST_F(LayoutJobs, AFacelessSceneIsSettledByItsProbesAndFacesAreFollowedBetweenThem) {
  db::MediaRow video = Video("long.mp4", 16.0);
  StoreScenes(video.video_id, {12.0}, 16.0);
  Rendered r = RenderJob(video, {{"ranges", {{0.0, 16.0}}}});
  ASSERT_FALSE(r.file.empty());
  const json& layout = r.spec["layout"];
  ASSERT_EQ(layout.size(), 2u) << r.spec.dump(2);
  EXPECT_EQ(layout[0]["mode"], "fit") << r.spec.dump(2);
  EXPECT_EQ(layout[1]["mode"], "face") << r.spec.dump(2);
  // 48 samples: the slide's 36 give 12 probes and nothing more; the face's
  // 12 give 4 probes and 8 searches near what they found.
  auto logged = db_->Query("SELECT data FROM processing_logs WHERE message LIKE 'faces searched in %'", {});
  ASSERT_OK(logged.status());
  ASSERT_EQ(logged->size(), 1u);
  const json data = json::parse(*logged->Text(0, "data"));
  EXPECT_EQ(data["samples"], 48) << data.dump();
  EXPECT_EQ(data["full_searches"].get<int>() + data["near_searches"].get<int>(), 24) << data.dump();
  EXPECT_GE(data["near_searches"].get<int>(), 6) << data.dump();
  // The face was found between the probes as well as at them.
  EXPECT_NE(layout[1]["why"].get<std::string>().find(" of 12 sampled frames"), std::string::npos) << r.spec.dump(2);
  EXPECT_FALSE(LooksFitted(FrameOf(r.file, 14.0)));
}

TEST_F(LayoutJobs, AClipOverASlideAndAFaceSwitchesAtTheSceneCut) {
  db::MediaRow video = Video("both.mp4", 8.0);
  StoreScenes(video.video_id, {4.0}, 8.0);
  Rendered r = RenderJob(video, {{"ranges", {{1.0, 7.0}}}});
  ASSERT_FALSE(r.file.empty());
  const json& layout = r.spec["layout"];
  ASSERT_EQ(layout.size(), 2u) << r.spec.dump(2);
  EXPECT_EQ(layout[0]["mode"], "fit");
  EXPECT_EQ(layout[1]["mode"], "face");
  EXPECT_DOUBLE_EQ(layout[0]["end_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(layout[1]["start_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(layout[1]["source_start_s"].get<double>(), 4.0);
  // Every frame before 3.0 s is fitted, every frame from it is not.
  media::DecodeOptions opts;
  opts.format = media::PixelFormat::kGray8;
  auto decoder = media::VideoDecoder::Open(r.file, opts);
  ASSERT_OK(decoder.status());
  media::VideoFrame frame;
  int frames = 0;
  while (true) {
    auto got = (*decoder)->Next(frame);
    ASSERT_OK(got.status());
    if (!*got) break;
    ++frames;
    EXPECT_EQ(LooksFitted(frame), frame.pts_s < 3.0 - 1e-6) << "frame at " << frame.pts_s;
  }
  EXPECT_EQ(frames, 150);
}

}  // namespace
}  // namespace cutroom::edit
