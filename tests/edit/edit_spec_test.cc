// BuildEditSpec: how an edit request becomes a normalised spec (output
// sizes and rates per aspect and source size, the reframe modes), without
// rendering anything.
#include <gtest/gtest.h>

#include <cmath>

#include "edit/edit_jobs.h"
#include "support/test_support.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

db::MediaRow Media(int width, int height) {
  db::MediaRow m;
  m.video_id = "vid_test";
  m.media_type = "video";
  m.duration_s = 60;
  m.width = width;
  m.height = height;
  m.audio_codec = "aac";
  return m;
}

json Spec(const db::MediaRow& media, json extra) {
  json request = {{"video_id", media.video_id}, {"ranges", {{1.0, 11.0}}}};
  request.update(extra);
  auto spec = BuildEditSpec(request, media, std::nullopt, true);
  EXPECT_OK(spec.status());
  return spec.value_or(json::object());
}

std::pair<int, int> OutSize(const json& spec) {
  return {spec["output"]["width"].get<int>(), spec["output"]["height"].get<int>()};
}

TEST(EditSpecOutput, DefaultsToThePlatformSizeForTheAspectAndSourceClass) {
  struct Case {
    int src_w, src_h;
    const char* aspect;
    int w, h;
  };
  const Case cases[] = {
      {1920, 1080, "9:16", 1080, 1920}, {1920, 1080, "1:1", 1080, 1080}, {1920, 1080, "16:9", 1920, 1080},
      {3840, 2160, "9:16", 1080, 1920}, {1080, 1920, "9:16", 1080, 1920}, {1080, 1920, "16:9", 1920, 1080},
      {1280, 720, "9:16", 720, 1280},   {1280, 720, "1:1", 720, 720},     {1280, 720, "16:9", 1280, 720},
      {640, 360, "9:16", 720, 1280},    {640, 360, "1:1", 720, 720},      {1440, 1078, "16:9", 1280, 720},
  };
  for (const auto& c : cases) {
    json spec = Spec(Media(c.src_w, c.src_h), {{"aspect", c.aspect}});
    EXPECT_EQ(OutSize(spec), std::make_pair(c.w, c.h)) << c.src_w << "x" << c.src_h << " " << c.aspect;
    EXPECT_EQ(spec["output"]["size"], "platform");
  }
  // The default aspect is 9:16.
  EXPECT_EQ(OutSize(Spec(Media(1920, 1080), json::object())), std::make_pair(1080, 1920));
}

TEST(EditSpecOutput, NativeSizeNeverEnlargesTheCrop) {
  const json native = {{"size", "native"}};
  EXPECT_EQ(OutSize(Spec(Media(1280, 720), {{"aspect", "9:16"}, {"output", native}})), std::make_pair(404, 720));
  EXPECT_EQ(OutSize(Spec(Media(640, 360), {{"aspect", "9:16"}, {"output", native}})), std::make_pair(202, 360));
  EXPECT_EQ(OutSize(Spec(Media(640, 360), {{"aspect", "1:1"}, {"output", native}})), std::make_pair(360, 360));
  EXPECT_EQ(OutSize(Spec(Media(1920, 1080), {{"aspect", "9:16"}, {"output", native}})), std::make_pair(606, 1080));
  // Aspect "source" keeps the source size (at most 1920 on the long side)
  // whatever the size mode.
  EXPECT_EQ(OutSize(Spec(Media(640, 360), {{"aspect", "source"}})), std::make_pair(640, 360));
  EXPECT_EQ(OutSize(Spec(Media(3840, 2160), {{"aspect", "source"}})), std::make_pair(1920, 1080));
}

TEST(EditSpecOutput, AnExplicitSizeWinsAndBadSizeModesAreRefused) {
  EXPECT_EQ(OutSize(Spec(Media(1920, 1080), {{"output", {{"width", 180}, {"height", 320}}}})),
            std::make_pair(180, 320));
  json request = {{"video_id", "vid_test"}, {"ranges", {{1.0, 2.0}}}, {"output", {{"size", "huge"}}}};
  auto spec = BuildEditSpec(request, Media(1920, 1080), std::nullopt, true);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("output.size"), std::string::npos) << spec.status().ToString();
}

TEST(EditSpecOutput, CapsTheRateByThePixelsUnlessTold) {
  json hd = Spec(Media(1920, 1080), json::object());
  EXPECT_EQ(hd["output"]["crf"], 20);
  EXPECT_EQ(hd["output"]["maxrate_kbps"], 10000);
  json sd = Spec(Media(1280, 720), json::object());
  const int expected = static_cast<int>(std::lround(10000 * std::pow(720.0 * 1280 / (1080.0 * 1920), 0.75)));
  EXPECT_EQ(sd["output"]["maxrate_kbps"], expected);
  EXPECT_GT(expected, 5000);
  EXPECT_LT(expected, 6000);
  EXPECT_EQ(Spec(Media(1920, 1080), {{"output", {{"maxrate_kbps", 0}}}})["output"]["maxrate_kbps"], 0);
  EXPECT_EQ(Spec(Media(1920, 1080), {{"output", {{"maxrate_kbps", 4000}}}})["output"]["maxrate_kbps"], 4000);
}

}  // namespace
}  // namespace cutroom::edit

namespace cutroom::edit {
namespace {

TEST(EditSpecReframe, DefaultsToAutoAndAcceptsEachForcedLayout) {
  EXPECT_EQ(Spec(Media(1920, 1080), json::object())["reframe"], "auto");
  for (const char* mode : {"auto", "face", "center", "fit"}) {
    EXPECT_EQ(Spec(Media(1920, 1080), {{"reframe", mode}})["reframe"], mode);
  }
  json request = {{"video_id", "vid_test"}, {"ranges", {{1.0, 2.0}}}, {"reframe", "zoom"}};
  auto spec = BuildEditSpec(request, Media(1920, 1080), std::nullopt, true);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("auto, face, center or fit"), std::string::npos);
  // A picture already of the output's shape has nothing to lay out.
  EXPECT_EQ(Spec(Media(1080, 1920), json::object())["reframe"], "center");
}

}  // namespace
}  // namespace cutroom::edit
