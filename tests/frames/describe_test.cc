// DescribeImages against a local OpenAI-compatible server.
#include "analysis/frames/describe.h"

#include <gtest/gtest.h>

#include "fake_vision_server.h"
#include "frame_images.h"
#include "media/thumbnails.h"

namespace cutroom::analysis {
namespace {

using testing::ChatCompletion;
using testing::FakeVisionServer;
using testing::FlatFrame;
using testing::ImagesOf;
using testing::PromptOf;

std::string Jpeg(uint8_t value) {
  auto jpeg = media::EncodeJpeg(FlatFrame(64, 36, value), 90);
  EXPECT_TRUE(jpeg.ok());
  return jpeg.value_or("");
}

ai::ChatClient ClientFor(const FakeVisionServer& server) {
  Config config = Config::Defaults();
  server.Configure(config);
  auto client = ai::ChatClient::FromConfig(config);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

TEST(DescribeImages, SendsEveryImageInOneRequestAndTotalsUsage) {
  FakeVisionServer server;
  server.Respond([](int, const nlohmann::json&) { return ChatCompletion("  Three grey cards.\n", "vision-x"); });
  ai::ChatClient client = ClientFor(server);
  std::vector<std::string> jpegs = {Jpeg(0), Jpeg(128), Jpeg(255)};
  ai::ChatUsage usage;
  usage.total_tokens = 5;  // totals add up across calls
  std::string model;
  auto text = DescribeImages(client, jpegs, "What is shown?", &usage, &model);
  ASSERT_OK(text.status());
  EXPECT_EQ(*text, "Three grey cards.");
  EXPECT_EQ(model, "vision-x");
  EXPECT_EQ(usage.prompt_tokens, 100);
  EXPECT_EQ(usage.completion_tokens, 10);
  EXPECT_EQ(usage.total_tokens, 115);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(ImagesOf(requests[0]), jpegs);
  EXPECT_EQ(PromptOf(requests[0]), "What is shown?");
}

TEST(DescribeImages, UsesTheDefaultPromptAndDropsReasoning) {
  FakeVisionServer server;
  server.Respond([](int, const nlohmann::json&) {
    return ChatCompletion("<think>The user wants a caption. It is black.</think>\nA black screen.");
  });
  ai::ChatClient client = ClientFor(server);
  auto text = DescribeImages(client, {Jpeg(0)}, "", nullptr);
  ASSERT_OK(text.status());
  EXPECT_EQ(*text, "A black screen.");
  EXPECT_EQ(PromptOf(server.requests().at(0)), kDefaultFramePrompt);
}

TEST(DescribeImages, AnEmptyOrThoughtOnlyReplyIsAnError) {
  FakeVisionServer server;
  server.Respond([](int n, const nlohmann::json&) {
    return ChatCompletion(n == 1 ? "" : "<think>Still thinking about what this is");
  });
  ai::ChatClient client = ClientFor(server);
  ai::ChatUsage usage;
  EXPECT_FALSE(DescribeImages(client, {Jpeg(0)}, "", &usage).ok());
  auto thought = DescribeImages(client, {Jpeg(0)}, "", &usage);
  ASSERT_FALSE(thought.ok());
  EXPECT_EQ(thought.status().code(), StatusCode::kUnavailable);
  // The tokens of the answered request still count.
  EXPECT_EQ(usage.total_tokens, 110);
}

TEST(DescribeImages, RefusesNoImagesOrAnEmptyOneWithoutAsking) {
  FakeVisionServer server;
  ai::ChatClient client = ClientFor(server);
  EXPECT_TRUE(DescribeImages(client, {}, "", nullptr).status().IsInvalidArgument());
  EXPECT_TRUE(DescribeImages(client, {Jpeg(0), ""}, "", nullptr).status().IsInvalidArgument());
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace cutroom::analysis
