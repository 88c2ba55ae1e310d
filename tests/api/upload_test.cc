// POST /api/videos/upload: multipart files and JSON URLs, against the real
// server over loopback.
#include <gtest/gtest.h>

#include "core/hash.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

// Serves files from memory with Range support (httplib answers ranges for
// set_content), counting requests.
class FileServer {
 public:
  FileServer() {
    server_.Get("/.*", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      auto it = files_.find(req.path);
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      res.set_content(it->second, "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FileServer() {
    server_.stop();
    thread_.join();
  }
  void Add(const std::string& path, std::string body) { files_[path] = std::move(body); }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int hits() const { return hits_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::map<std::string, std::string> files_;
  int port_ = 0;
  std::atomic<int> hits_{0};
};

class Upload : public ServerWithWorkers {
 protected:
  void ConfigureExtra(Config& c) override {
    ASSERT_OK(c.Set("ingest.allow_private_urls", "true"));  // the test servers are on loopback
  }

  httplib::Result PostFile(const std::string& filename, const std::string& content, const std::string& title = "",
                           const std::string& type = "application/octet-stream") {
    httplib::MultipartFormDataItems items = {{"file", content, filename, type}};
    if (!title.empty()) items.push_back({"title", title, "", ""});
    return client_->Post("/api/videos/upload", items);
  }

  httplib::Result PostJson(const nlohmann::json& body) {
    return client_->Post("/api/videos/upload", body.dump(), "application/json");
  }

  // Polls a video until it leaves pending/uploading.
  nlohmann::json WaitSettled(const std::string& video_id) {
    nlohmann::json v;
    for (int i = 0; i < 500; ++i) {
      v = Json(client_->Get("/api/videos/" + video_id));
      if (v["status"] != "pending" && v["status"] != "uploading") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return v;
  }

  size_t MediaBlobs() { return FilesUnder(dir_.File("blobs/media")) + FilesUnder(dir_.File("blobs/.staging")); }
};

TEST_F(Upload, MultipartStoresTheFileAndAnswers201) {
  std::string content = ReadFile(TestMedia("small.mp4"));
  ASSERT_FALSE(content.empty());
  auto r = PostFile("small.mp4", content, "Demo clip");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto v = Json(r);
  EXPECT_EQ(v["id"], v["video_id"]);
  EXPECT_EQ(v["status"], "ready");
  EXPECT_EQ(v["media_type"], "video");
  EXPECT_EQ(v["mime_type"], "video/mp4");
  EXPECT_EQ(v["title"], "Demo clip");
  EXPECT_EQ(v["original_filename"], "small.mp4");
  EXPECT_EQ(v["size_bytes"], content.size());
  EXPECT_EQ(v["sha256"], Sha256Hex(content));
  EXPECT_EQ(v["width"], 320);
  EXPECT_EQ(v["audio_codec"], "aac");
  EXPECT_EQ(FilesUnder(dir_.File("blobs/media")), 1u);
}

TEST_F(Upload, TypeComesFromContentNotFromTheNameOrClientType) {
  auto r = PostFile("holiday.mp4", ReadFile(TestMedia("still.png")), "", "video/mp4");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Json(r)["media_type"], "image");
  EXPECT_EQ(Json(r)["mime_type"], "image/png");
  auto audio = PostFile("song.png", ReadFile(TestMedia("tone.wav")));
  EXPECT_EQ(Json(audio)["media_type"], "audio");
}

TEST_F(Upload, NonMediaIsRefusedWith415AndNothingIsKept) {
  std::string mp4 = ReadFile(TestMedia("small.mp4"));
  std::string garbage_behind_header = mp4.substr(0, 32);
  for (int i = 0; i < 5000; ++i) garbage_behind_header += static_cast<char>((i * 7919) & 0xff);
  const std::pair<const char*, std::string> kCases[] = {
      {"notes.mp4", "just text, not a video\n"},
      {"empty.mp4", ""},
      {"truncated.mp4", mp4.substr(0, mp4.size() / 3)},
      {"garbage.mp4", garbage_behind_header},
      {"page.html", "<!doctype html><html><body>hi</body></html>"},
  };
  for (const auto& [name, content] : kCases) {
    auto r = PostFile(name, content);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(r->status, 415) << name << ": " << r->body;
    EXPECT_EQ(ErrorCode(r), "unsupported_media_type") << name;
  }
  EXPECT_EQ(CountRows("media"), 0);
  EXPECT_EQ(MediaBlobs(), 0u);
}

TEST_F(Upload, OtherContentTypesAnswer415AndMissingFileFieldsAnswer400) {
  auto r = client_->Post("/api/videos/upload", "raw bytes", "video/mp4");
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(ErrorCode(r), "unsupported_media_type");
  httplib::MultipartFormDataItems items = {{"title", "no file here", "", ""}};
  auto missing = client_->Post("/api/videos/upload", items);
  EXPECT_EQ(missing->status, 400);
  EXPECT_NE(Json(missing)["error"]["message"].get<std::string>().find("'file'"), std::string::npos);
}

TEST_F(Upload, NotEnoughDiskAnswers507) {
  fake_env_.free_space = 1000;
  auto r = PostFile("small.mp4", ReadFile(TestMedia("small.mp4")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 507);
  EXPECT_EQ(ErrorCode(r), "insufficient_storage");
  EXPECT_EQ(CountRows("media"), 0);
}

class SmallLimit : public Upload {
 protected:
  void ConfigureExtra(Config& c) override {
    Upload::ConfigureExtra(c);
    ASSERT_OK(c.Set("ingest.max_upload_bytes", "20000"));
  }
};

TEST_F(SmallLimit, UploadsOverTheMaximumAnswer413) {
  // A declared length beyond the limit is refused before any body byte is
  // sent: only the headers go out here.
  std::string answer = RawRequest(
      "POST /api/videos/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
      "Content-Length: 3145728\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("payload_too_large"), std::string::npos) << answer;
  auto streamed = PostFile("medium.mp4", std::string(200000, 'y'));  // refused while streaming
  EXPECT_EQ(streamed->status, 413) << streamed->body;
  EXPECT_EQ(MediaBlobs(), 0u);
}

TEST_F(Upload, UrlImportDownloadsInTheBackground) {
  FileServer files;
  std::string content = ReadFile(TestMedia("small.mp4"));
  files.Add("/talks/keynote.mp4", content);
  auto r = PostJson({{"url", files.Url("/talks/keynote.mp4")}, {"title", "Keynote"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto accepted = Json(r);
  EXPECT_EQ(accepted["status"], "pending");
  EXPECT_EQ(accepted["source_type"], "url");
  auto v = WaitSettled(accepted["video_id"]);
  EXPECT_EQ(v["status"], "ready") << v.dump();
  EXPECT_EQ(v["sha256"], Sha256Hex(content));
  EXPECT_EQ(v["source_url"], files.Url("/talks/keynote.mp4"));
  EXPECT_EQ(v["original_filename"], "keynote.mp4");
  EXPECT_EQ(v["title"], "Keynote");
  EXPECT_EQ(v["metadata"]["import"]["bytes"], content.size());
}

TEST_F(Upload, FailedImportsLeaveAFailedRowWithTheReason) {
  FileServer files;
  files.Add("/notes.txt", "plain text is not media");
  auto missing = WaitSettled(Json(PostJson({{"url", files.Url("/nope.mp4")}}))["video_id"]);
  EXPECT_EQ(missing["status"], "failed");
  EXPECT_NE(missing["error"].get<std::string>().find("404"), std::string::npos) << missing.dump();
  auto text = WaitSettled(Json(PostJson({{"url", files.Url("/notes.txt")}}))["video_id"]);
  EXPECT_EQ(text["status"], "failed");
  EXPECT_NE(text["error"].get<std::string>().find("not a media file"), std::string::npos) << text.dump();
  EXPECT_EQ(MediaBlobs(), 0u);
}

TEST_F(Upload, ReferenceProbesRemotelyAndStoresOnlyTheUrl) {
  FileServer files;
  files.Add("/remote.mp4", ReadFile(TestMedia("small.mp4")));
  auto r = PostJson({{"url", files.Url("/remote.mp4")}, {"mode", "reference"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto v = Json(r);
  EXPECT_EQ(v["source_type"], "reference");
  EXPECT_EQ(v["media_type"], "video");
  EXPECT_EQ(v["width"], 320);
  EXPECT_NEAR(v["duration_s"].get<double>(), 4.0, 0.1);
  EXPECT_EQ(MediaBlobs(), 0u);
  auto bad = PostJson({{"url", files.Url("/missing.mp4")}, {"mode", "reference"}});
  EXPECT_EQ(bad->status, 502) << bad->body;
}

TEST_F(Upload, MalformedUrlRequestsAre400) {
  EXPECT_EQ(PostJson({{"url", "file:///etc/passwd"}})->status, 400);
  EXPECT_EQ(PostJson({{"url", "gopher://example.com/"}})->status, 400);
  EXPECT_EQ(PostJson({{"mode", "import"}})->status, 400);
  EXPECT_EQ(PostJson({{"url", "http://example.com/a.mp4"}, {"mode", "copy"}})->status, 400);
  EXPECT_EQ(client_->Post("/api/videos/upload", "{\"url\": ", "application/json")->status, 400);
  EXPECT_EQ(CountRows("media"), 0);
}

class StrictUrls : public ServerFixture {};

TEST_F(StrictUrls, ImportsFromPrivateAddressesAreRefusedUpFront) {
  FileServer files;
  files.Add("/a.mp4", ReadFile(TestMedia("small.mp4")));
  for (const std::string& url : {files.Url("/a.mp4"), std::string("http://169.254.169.254/latest/meta-data/"),
                                 std::string("http://[::1]:1/a.mp4"), std::string("http://10.0.0.1/a.mp4")}) {
    for (const char* mode : {"import", "reference"}) {
      auto r = client_->Post("/api/videos/upload", nlohmann::json{{"url", url}, {"mode", mode}}.dump(),
                             "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 400) << url << " " << r->body;
      EXPECT_EQ(ErrorCode(r), "url_not_allowed") << url;
    }
  }
  EXPECT_EQ(files.hits(), 0);
  EXPECT_EQ(CountRows("media"), 0);
}

}  // namespace
}  // namespace cutroom::api
