// VideoDbClient against the local VideoDB fake (tests/fakes/videodb_server.py):
// the signed-upload and URL flows, async answers polled to the end, the
// envelope, refusals (bad key, quota), retries of 5xx and failed uploads,
// an unreachable host, a slow task past its deadline and a task that fails.
// Also the shared word segmenter and the keyframe size reader the VideoDB
// engines use.
#include "ai/videodb_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "analysis/hosted/videodb_stages.h"
#include "analysis/transcribe/segmenting.h"
#include "fakes/videodb_fake.h"
#include "support/test_support.h"

namespace cutroom::ai {
namespace {

using cutroom::testing::FakeVideoDb;

const bool kKeysSet = [] {
  cutroom::testing::SetVideoDbTestKeys();
  return true;
}();

class VideoDbClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fake_.running()) << "the VideoDB fake did not start (python3 missing?)"; }

  VideoDbClient Client(const std::string& key = "test-key") {
    VideoDbOptions o;
    o.base_url = fake_.base_url();
    o.api_key = key;
    o.api_key_env = "CUTROOM_TEST_VIDEODB_KEY";
    o.poll_ms = 20;
    o.wait_s = 20;
    o.max_attempts = 3;
    o.timeout_s = 10;
    return VideoDbClient(o);
  }

  std::string Video() {
    std::string path = cutroom::testing::SharedData("video/testvideo.mp4");
    if (path.empty()) path = cutroom::testing::TestMedia("small.mp4");
    return path;
  }

  FakeVideoDb fake_;
};

TEST_F(VideoDbClientTest, UploadsAFileThroughTheSignedUrlAndRegistersIt) {
  auto v = Client().UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->id.rfind("m-", 0), 0u);
  EXPECT_GT(v->length_s, 1.0);

  auto asked = fake_.RequestsTo("GET", "/collection/default/upload_url");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["query"]["name"], "testvideo");
  EXPECT_EQ(asked[0]["key"], "test-key");
  auto posted = fake_.RequestsTo("POST", "/_upload/");
  ASSERT_EQ(posted.size(), 1u);
  // The signed URL is the credential: the API key stays home.
  EXPECT_TRUE(posted[0]["key"].is_null());
  EXPECT_EQ(posted[0]["upload"]["field"], "file");
  EXPECT_EQ(posted[0]["upload"]["size"], std::filesystem::file_size(Video()));
  auto registered = fake_.RequestsTo("POST", "/collection/default/upload");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["body"]["url"].get<std::string>().find(fake_.base_url() + "/_upload/"), 0u);
  EXPECT_EQ(registered[0]["body"]["media_type"], "video");
  // The upload answered "processing" and was polled with the key.
  auto polls = fake_.RequestsTo("GET", "/async-response/");
  ASSERT_GE(polls.size(), 1u);
  EXPECT_EQ(polls.back()["key"], "test-key");
}

TEST_F(VideoDbClientTest, UploadsByUrlLettingVideoDbFetchTheMedia) {
  httplib::Server media;
  std::string bytes = cutroom::testing::ReadFile(Video());
  media.Get("/talk.mp4", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(bytes, "video/mp4");
  });
  int port = media.bind_to_any_port("127.0.0.1");
  std::thread t([&] { media.listen_after_bind(); });
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/talk.mp4";
  auto v = Client().UploadUrl(url, "talk");
  media.stop();
  t.join();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_GT(v->length_s, 1.0);
  EXPECT_TRUE(fake_.RequestsTo("GET", "/collection/default/upload_url").empty());
  auto registered = fake_.RequestsTo("POST", "/collection/default/upload");
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["body"]["url"], url);
}

TEST_F(VideoDbClientTest, ARefusedKeyIsUnauthorizedAtOnce) {
  auto v = Client("wrong-key").UploadFile(Video(), "testvideo");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VideoDbErrorCode(v.status()), "videodb_unauthorized");
  EXPECT_NE(v.status().message().find("CUTROOM_TEST_VIDEODB_KEY"), std::string::npos) << v.status().message();
  EXPECT_EQ(v.status().message().find("wrong-key"), std::string::npos) << "the key must not be in messages";
  EXPECT_EQ(fake_.Requests().size(), 1u) << "a refused key is not retried";
}

TEST_F(VideoDbClientTest, AQuotaAnswerIsQuota) {
  auto v = Client("quota-key").UploadUrl("https://example.com/v.mp4", "v");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(VideoDbErrorCode(v.status()), "videodb_quota");
  EXPECT_NE(v.status().message().find("no credits"), std::string::npos) << v.status().message();
  EXPECT_EQ(VideoDbHttpStatus("videodb_quota"), 402);
  // VideoDB refusing our key is the upstream's problem, never the caller's 401.
  EXPECT_EQ(VideoDbHttpStatus("videodb_unauthorized"), 502);
}

TEST_F(VideoDbClientTest, RetriesServerErrorsWithBackoffThenSucceeds) {
  fake_.Set({{"fail_next", {{"prefix", "/collection"}, {"status", 503}, {"count", 2}}}});
  auto start = std::chrono::steady_clock::now();
  auto v = Client().UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(fake_.RequestsTo("GET", "/collection/default/upload_url").size(), 3u);
  // 20 ms then 40 ms of backoff at least.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(60));
}

TEST_F(VideoDbClientTest, GivesUpAfterMaxAttemptsWithTheLastReason) {
  fake_.Set({{"fail_next", {{"prefix", "/collection"}, {"status", 502}, {"count", 100}}}});
  auto v = Client().UploadFile(Video(), "testvideo");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(VideoDbErrorCode(v.status()), "videodb_unavailable");
  EXPECT_NE(v.status().message().find("HTTP 502"), std::string::npos) << v.status().message();
  EXPECT_NE(v.status().message().find("after 3 tries"), std::string::npos) << v.status().message();
  EXPECT_EQ(fake_.RequestsTo("GET", "/collection/default/upload_url").size(), 3u);
}

TEST_F(VideoDbClientTest, AFailedSignedUploadIsRetriedAndThenReported) {
  fake_.Set({{"fail_upload", 1}});
  auto ok = Client().UploadFile(Video(), "testvideo");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(fake_.RequestsTo("POST", "/_upload/").size(), 2u);

  fake_.Set({{"fail_upload", 100}});
  auto failed = Client().UploadFile(Video(), "testvideo");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(VideoDbErrorCode(failed.status()), "videodb_unavailable");
  EXPECT_NE(failed.status().message().find("uploading testvideo"), std::string::npos) << failed.status().message();
  // The signed URL's query (its signature) stays out of messages.
  EXPECT_EQ(failed.status().message().find("X-Signature"), std::string::npos) << failed.status().message();
}

TEST_F(VideoDbClientTest, AnUnreachableHostIsUnavailableAfterRetries) {
  VideoDbOptions o;
  o.base_url = "http://127.0.0.1:1";
  o.api_key = "test-key";
  o.poll_ms = 10;
  o.max_attempts = 2;
  auto v = VideoDbClient(o).UploadUrl("https://example.com/v.mp4", "v");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(VideoDbErrorCode(v.status()), "videodb_unavailable");
  EXPECT_NE(v.status().message().find("after 2 tries"), std::string::npos) << v.status().message();
}

TEST_F(VideoDbClientTest, ATaskStillProcessingAtTheDeadlineTimesOut) {
  auto client = Client();
  auto v = client.UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  fake_.Set({{"scene_index_delay_s", 30}});
  VideoDbOptions o = client.options();
  o.wait_s = 1;
  auto start = std::chrono::steady_clock::now();
  auto index = VideoDbClient(o).IndexScenes(v->id, "shot", {{"threshold", 20}}, "describe", "");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(VideoDbErrorCode(index.status()), "videodb_timeout");
  EXPECT_NE(index.status().message().find("processing 50%"), std::string::npos) << index.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(VideoDbClientTest, ATaskThatFailsIsReportedWithItsReason) {
  auto client = Client();
  auto v = client.UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  fake_.Set({{"fail_task", "index"}});
  Status st = client.IndexSpokenWords(v->id, "en");
  EXPECT_EQ(VideoDbErrorCode(st), "videodb_failed") << st.ToString();
  EXPECT_NE(st.message().find("simulated"), std::string::npos) << st.ToString();
}

TEST_F(VideoDbClientTest, IndexesSpokenWordsOnceAndReadsTheTranscriptWordByWord) {
  auto client = Client();
  auto v = client.UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_OK(client.IndexSpokenWords(v->id, "en"));
  ASSERT_OK(client.IndexSpokenWords(v->id, "en"));  // "already exists" is fine
  auto index = fake_.RequestsTo("POST", "/video/" + v->id + "/index");
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0]["body"]["index_type"], "spoken_word");
  EXPECT_EQ(index[0]["body"]["language_code"], "en");
  std::string text;
  auto words = client.GetTranscript(v->id, &text);
  ASSERT_TRUE(words.ok()) << words.status().ToString();
  ASSERT_EQ(words->size(), 18u);  // the silence marker "-" is no word
  EXPECT_EQ((*words)[2].text, "cutroom.");
  EXPECT_DOUBLE_EQ((*words)[2].start_s, 1.0);
  EXPECT_DOUBLE_EQ((*words)[2].end_s, 1.6);
  EXPECT_EQ(text.rfind("Welcome to cutroom.", 0), 0u);
  auto asked = fake_.RequestsTo("GET", "/video/" + v->id + "/transcription");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["query"]["segmenter"], "word");
}

TEST_F(VideoDbClientTest, ReadsTranscriptWordsInTheNodeSdkShapeToo) {
  auto client = Client();
  auto v = client.UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok());
  fake_.Set({{"transcript", {{{"word", "Hello"}, {"start", "0.5"}, {"end", "0.9"}},
                             {{"word", "there."}, {"start", "0.9"}, {"end", "1.2"}}}}});
  auto words = client.GetTranscript(v->id);
  ASSERT_TRUE(words.ok()) << words.status().ToString();
  ASSERT_EQ(words->size(), 2u);
  EXPECT_EQ((*words)[1].text, "there.");
  EXPECT_DOUBLE_EQ((*words)[1].end_s, 1.2);
}

TEST_F(VideoDbClientTest, ExtractsIndexesAndSearchesScenes) {
  auto client = Client();
  auto v = client.UploadFile(Video(), "testvideo");
  ASSERT_TRUE(v.ok());
  auto collection = client.ExtractScenes(v->id, "time", {{"time", 10}, {"frame_count", 2}});
  ASSERT_TRUE(collection.ok()) << collection.status().ToString();
  ASSERT_EQ((*collection)["scenes"].size(), 3u);  // 24 s in 10 s pieces
  EXPECT_EQ((*collection)["scenes"][1]["frames"].size(), 2u);
  auto index = client.IndexScenes(v->id, "time", {{"time", 10}}, "what is on screen", "cutroom");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto records = client.GetSceneIndex(v->id, *index);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_NE((*records)[0]["description"].get<std::string>().find("rocket"), std::string::npos);

  auto hits = client.Search(v->id, "rocket launch", "semantic", "scene", 5, *index);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].video_id, v->id);
  EXPECT_GT((*hits)[0].score, 0);
  auto sent = fake_.RequestsTo("POST", "/video/" + v->id + "/search");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["body"]["search_type"], "semantic");
  EXPECT_EQ(sent[0]["body"]["index_type"], "scene");
  EXPECT_EQ(sent[0]["body"]["scene_index_id"], *index);

  // Spoken words are not indexed yet: VideoDB's refusal, with its reason.
  auto none = client.Search(v->id, "rockets", "keyword", "spoken_word", 5);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(VideoDbErrorCode(none.status()), "videodb_refused");
  EXPECT_NE(none.status().message().find("index"), std::string::npos);
}

TEST(VideoDbErrorCode, ReadsTheCodeAtTheStartOrAfterAContext) {
  EXPECT_EQ(VideoDbErrorCode(Status::ResourceExhausted("videodb_quota: no credits")), "videodb_quota");
  EXPECT_EQ(VideoDbErrorCode(Status::Unavailable("videodb_timeout: x").WithContext("scenes")), "videodb_timeout");
  EXPECT_EQ(VideoDbErrorCode(Status::IOError("disk full")), "");
  EXPECT_EQ(VideoDbErrorCode(Status::IOError("read videodb_thing.txt: failed")), "");
  EXPECT_EQ(VideoDbErrorCode(Status::Ok()), "");
}

TEST(VideoDbConfig, IsNotConfiguredWithoutAKeyAndSaysWhatToSet) {
  Config config = Config::Defaults();
  EXPECT_EQ(config.GetString("videodb.base_url"), "https://api.videodb.io");
  EXPECT_EQ(config.GetString("videodb.api_key_env"), "VIDEO_DB_API_KEY");
  EXPECT_EQ(config.GetString("videodb.collection"), "default");
  EXPECT_FALSE(config.GetBool("videodb.delete_remote"));
  ASSERT_OK(config.Set("videodb.api_key_env", cutroom::testing::kVideoDbUnsetKeyEnv));
  EXPECT_FALSE(VideoDbClient::Configured(config));
  auto c = VideoDbClient::FromConfig(config);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(VideoDbErrorCode(c.status()), "videodb_not_configured");
  EXPECT_NE(c.status().message().find(cutroom::testing::kVideoDbUnsetKeyEnv), std::string::npos);
  EXPECT_NE(c.status().message().find("videodb.api_key_env"), std::string::npos);
  ASSERT_OK(config.Set("videodb.api_key_env", cutroom::testing::kVideoDbGoodKeyEnv));
  auto ok = VideoDbClient::FromConfig(config);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->options().api_key, "test-key");
}

TEST(SegmentWords, SplitsAtSentenceEndsAndPauses) {
  using analysis::TranscriptWord;
  std::vector<TranscriptWord> words = {{"Hello", 0.0, 0.4, 1}, {"world.", 0.4, 0.9, 1}, {"This", 1.0, 1.2, 1},
                                       {"goes", 1.2, 1.5, 1},  {"on", 2.5, 2.7, 1},      {"(really!)", 2.7, 3.0, 1},
                                       {"end", 3.1, 3.3, 0}};
  auto segs = analysis::SegmentWords(words);
  ASSERT_EQ(segs.size(), 4u);
  EXPECT_EQ(segs[0].text, "Hello world.");
  EXPECT_EQ(segs[1].text, "This goes");  // a 1 s pause
  EXPECT_EQ(segs[2].text, "on (really!)");
  EXPECT_EQ(segs[3].text, "end");
  EXPECT_DOUBLE_EQ(segs[1].start_s, 1.0);
  EXPECT_DOUBLE_EQ(segs[1].end_s, 1.5);
  EXPECT_DOUBLE_EQ(segs[3].confidence, 0);
  EXPECT_TRUE(analysis::SegmentWords({}).empty());
}

TEST(KeyframeImageSize, ReadsPngAndJpegHeaders) {
  int w = 0, h = 0;
  std::string png = cutroom::testing::ReadFile(cutroom::testing::TestMedia("still.png"));
  ASSERT_TRUE(analysis::ImageSize(png, &w, &h));
  EXPECT_GT(w, 0);
  EXPECT_GT(h, 0);
  // A JPEG: SOI, an APP0 segment, then SOF0 with 20x10.
  std::string jpeg = std::string("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x0B\x08\x00\x0A\x00\x14\x01\x01\x11\x00",
                                 21);
  ASSERT_TRUE(analysis::ImageSize(jpeg, &w, &h));
  EXPECT_EQ(w, 20);
  EXPECT_EQ(h, 10);
  EXPECT_FALSE(analysis::ImageSize("<html>not an image</html>", &w, &h));
}

}  // namespace
}  // namespace cutroom::ai
