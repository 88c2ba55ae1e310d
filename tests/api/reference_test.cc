// URL references analysed in place: every stage reads the remote file with
// ranged requests (no stored copy), results match an upload of the same
// file, traffic stays near one copy of the file, and a changed or
// range-less server fails clearly.
#include <atomic>
#include <map>
#include <mutex>

#include "ingest/remote_source.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TestMedia;

// A static file server that answers byte ranges itself (single ranges, as
// CDNs and object stores do), sends an ETag, and counts what it sends.
class RangeServer {
 public:
  RangeServer() {
    server_.Get("/.*", [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~RangeServer() {
    server_.stop();
    thread_.join();
  }

  void Put(const std::string& path, std::string body, const std::string& etag, bool ranges = true) {
    std::lock_guard lock(mu_);
    files_[path] = {std::move(body), etag, ranges};
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  uint64_t bytes_sent() const { return bytes_; }
  int requests() const { return requests_; }
  void ResetCounts() {
    bytes_ = 0;
    requests_ = 0;
  }

 private:
  struct File {
    std::string body;
    std::string etag;
    bool ranges;
  };

  void Serve(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    File file;
    {
      std::lock_guard lock(mu_);
      auto it = files_.find(req.path);
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      file = it->second;
    }
    res.set_header("ETag", file.etag);
    std::string range = req.get_header_value("Range");
    uint64_t size = file.body.size();
    if (!file.ranges || range.rfind("bytes=", 0) != 0) {
      const_cast<httplib::Request&>(req).ranges.clear();  // or httplib answers the range itself
      bytes_ += size;
      res.status = 200;
      res.set_content(file.body, "video/mp4");
      return;
    }
    uint64_t first = std::stoull(range.substr(6));
    auto dash = range.find('-');
    uint64_t last = dash + 1 < range.size() ? std::stoull(range.substr(dash + 1)) : size - 1;
    if (first >= size) {
      res.status = 416;
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return;
    }
    last = std::min(last, size - 1);
    std::string part = file.body.substr(first, last - first + 1);
    bytes_ += part.size();
    res.set_header("Content-Range",
                   "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
    // httplib would slice the body again for the Range header.
    const_cast<httplib::Request&>(req).ranges.clear();
    res.status = 206;
    res.set_content(std::move(part), "video/mp4");
  }

  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, File> files_;
  int port_ = 0;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<int> requests_{0};
};

class References : public ServerWithWorkers {
 protected:
  void ConfigureExtra(Config& c) override {
    ASSERT_OK(c.Set("ingest.allow_private_urls", "true"));  // the file server is on loopback
  }

  nlohmann::json AddReference(const std::string& url) {
    auto r = client_->Post("/api/videos/upload", nlohmann::json{{"url", url}, {"mode", "reference"}}.dump(),
                           "application/json");
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 201) << r->body;
    return Json(r);
  }

  // Runs process/all and waits for every job; returns stage -> job.
  std::map<std::string, nlohmann::json> ProcessAll(const std::string& video_id, const std::string& body = "") {
    auto r = client_->Post("/api/videos/" + video_id + "/process/all", body, "application/json");
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
    std::map<std::string, nlohmann::json> jobs;
    if (!r || r->status != 202) return jobs;
    const nlohmann::json planned = Json(r);
    for (const auto& s : planned["stages"]) {
      if (s.contains("job_id")) jobs[s["stage"]] = WaitJob(s["job_id"]);
    }
    return jobs;
  }

};

// What two scenes runs found, cut by cut.
std::vector<std::tuple<std::string, int64_t, int64_t>> SceneCuts(const nlohmann::json& scenes) {
  std::vector<std::tuple<std::string, int64_t, int64_t>> out;
  for (const auto& s : scenes["scenes"]) {
    out.emplace_back(s["transition"].get<std::string>(), s["start_frame"].get<int64_t>(),
                     s["end_frame"].get<int64_t>());
  }
  return out;
}

TEST_F(References, EveryStageRunsOnTheRemoteFileAndFindsWhatAnUploadFinds) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  RangeServer files;
  std::string bytes = ReadFile(path);
  files.Put("/testvideo.mp4", bytes, "\"v1\"");
  auto ref = AddReference(files.Url("/testvideo.mp4"));
  ASSERT_TRUE(ref.is_object());
  const std::string ref_id = ref["video_id"];
  uint64_t after_probe = files.bytes_sent();

  auto jobs = ProcessAll(ref_id);
  ASSERT_FALSE(jobs.empty());
  for (const auto& [stage, job] : jobs) EXPECT_EQ(job["status"], "succeeded") << stage << ": " << job.dump();
  ASSERT_TRUE(jobs.count("scenes"));
  ASSERT_TRUE(jobs.count("frames"));

  // Nothing of the video was stored.
  EXPECT_EQ(FilesUnder(dir_.File("blobs/media")), 0u);
  // Thumbnails too (queued when the reference was added).
  auto assets = Json(client_->Get("/api/videos/" + ref_id + "/assets"));
  bool poster = false;
  for (const auto& a : assets["assets"]) poster = poster || a["kind"] == "thumbnail";
  EXPECT_TRUE(poster) << assets.dump();

  // Traffic: the stages together fetched about one copy of the file.
  uint64_t processing = files.bytes_sent() - after_probe;
  double ratio = static_cast<double>(files.bytes_sent()) / static_cast<double>(bytes.size());
  std::printf("reference: %zu bytes file, %llu bytes probing, %llu bytes processing (%.2fx in all), %d requests\n",
              bytes.size(), static_cast<unsigned long long>(after_probe),
              static_cast<unsigned long long>(processing), ratio, files.requests());
  EXPECT_LE(ratio, 1.5);
  EXPECT_LE(files.requests(), 40);

  // The same file uploaded: the same scenes, cut for cut.
  const std::string up_id = Upload(path, "testvideo.mp4");
  auto up_jobs = ProcessAll(up_id, R"({"frames": {}})");
  ASSERT_EQ(up_jobs["scenes"]["status"], "succeeded");
  auto remote_scenes = Json(client_->Get("/api/videos/" + ref_id + "/scenes"));
  auto local_scenes = Json(client_->Get("/api/videos/" + up_id + "/scenes"));
  ASSERT_GT(remote_scenes["scenes"].size(), 2u) << remote_scenes.dump();
  EXPECT_EQ(SceneCuts(remote_scenes), SceneCuts(local_scenes));
  auto remote_frames = Json(client_->Get("/api/videos/" + ref_id + "/frames"));
  auto local_frames = Json(client_->Get("/api/videos/" + up_id + "/frames"));
  EXPECT_EQ(remote_frames["frames"].size(), local_frames["frames"].size());

  // The player is sent to the file where it lives.
  auto stream = client_->Get("/api/videos/" + ref_id + "/stream");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status, 302);
  EXPECT_EQ(stream->get_header_value("Location"), files.Url("/testvideo.mp4"));
}

TEST_F(References, ATalkIsTranscribedAndRenderedFromItsUrl) {
  RangeServer files;
  std::string bytes = ReadFile(TestMedia("talk.mp4"));
  files.Put("/talk.mp4", bytes, "W/\"talk-1\"");
  auto ref = AddReference(files.Url("/talk.mp4"));
  ASSERT_TRUE(ref.is_object());
  const std::string id = ref["video_id"];
  auto job = Process(id, "transcription");
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  auto transcript = Json(client_->Get("/api/videos/" + id + "/transcription"));
  EXPECT_GT(transcript["text"].get<std::string>().size(), 20u) << transcript.dump();

  auto r = client_->Post("/api/edit-jobs",
                         nlohmann::json{{"video_id", id}, {"ranges", {{1.0, 4.0}}}, {"aspect", "9:16"},
                                        {"reframe", "center"}, {"captions", false}}
                             .dump(),
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto render = WaitJob(Json(r)["job_id"]);
  EXPECT_EQ(render["status"], "succeeded") << render.dump();
  auto edit = Json(client_->Get("/api/edit-jobs/" + Json(r)["edit_job_id"].get<std::string>()));
  EXPECT_EQ(edit["status"], "succeeded") << edit.dump();
}

TEST_F(References, AChangedFileFailsAsReferenceChangedAndStoresNothing) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  RangeServer files;
  std::string bytes = ReadFile(path);
  files.Put("/v.mp4", bytes, "\"v1\"");
  auto ref = AddReference(files.Url("/v.mp4"));
  ASSERT_TRUE(ref.is_object());
  const std::string id = ref["video_id"];
  // Same size, new content: only the ETag tells.
  std::string changed = bytes;
  changed[changed.size() / 2] ^= 0x5a;
  files.Put("/v.mp4", changed, "\"v2\"");
  auto job = Process(id, "scenes");
  EXPECT_EQ(job["status"], "failed");
  EXPECT_NE(job["error"].get<std::string>().find("reference_changed"), std::string::npos) << job.dump();
  EXPECT_NE(job["error"].get<std::string>().find("\"v2\""), std::string::npos) << job.dump();
  EXPECT_EQ(client_->Get("/api/videos/" + id + "/scenes")->status, 404);
  EXPECT_EQ(CountRows("scene_index"), 0);
}

TEST_F(References, AServerThatStopsAnsweringRangesFailsClearly) {
  REQUIRE_SHARED_DATA(path, "video/testvideo.mp4");
  RangeServer files;
  std::string bytes = ReadFile(path);
  files.Put("/s.mp4", bytes, "\"s1\"");
  auto ref = AddReference(files.Url("/s.mp4"));
  ASSERT_TRUE(ref.is_object());
  const std::string id = ref["video_id"];
  files.Put("/s.mp4", bytes, "\"s1\"", /*ranges=*/false);
  auto job = Process(id, "scenes");
  EXPECT_EQ(job["status"], "failed");
  EXPECT_NE(job["error"].get<std::string>().find("range_not_supported"), std::string::npos) << job.dump();

  // And a server that never did is refused when the reference is added.
  files.Put("/plain.mp4", bytes, "\"p\"", /*ranges=*/false);
  auto r = client_->Post("/api/videos/upload",
                         nlohmann::json{{"url", files.Url("/plain.mp4")}, {"mode", "reference"}}.dump(),
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_EQ(ErrorCode(r), "range_requests_unsupported");
}

TEST_F(References, ASmallFileFromAServerWithoutRangesIsReadWhole) {
  RangeServer files;
  std::string bytes = ReadFile(TestMedia("small.mp4"));  // under one block
  files.Put("/small.mp4", bytes, "\"s\"", /*ranges=*/false);
  auto ref = AddReference(files.Url("/small.mp4"));
  ASSERT_TRUE(ref.is_object());
  auto job = Process(ref["video_id"], "scenes");
  EXPECT_EQ(job["status"], "succeeded") << job.dump();
}

TEST_F(References, AnUnreachableHostFailsTheJobWithTheNetworkError) {
  auto files = std::make_unique<RangeServer>();
  files->Put("/s.mp4", ReadFile(TestMedia("small.mp4")), "\"s1\"");
  auto ref = AddReference(files->Url("/s.mp4"));
  ASSERT_TRUE(ref.is_object());
  files.reset();  // the host goes away
  auto r = client_->Post("/api/videos/" + ref["video_id"].get<std::string>() + "/process/scenes", "",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202);
  const std::string job_id = Json(r)["job_id"];
  // A network error is worth retrying: the job waits with the reason.
  nlohmann::json job;
  for (int i = 0; i < 500; ++i) {
    job = Json(client_->Get("/api/jobs/" + job_id));
    if (job["error"].is_string()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(job["error"].is_string()) << job.dump();
  EXPECT_EQ(job["status"], "queued") << job.dump();
  EXPECT_NE(job["error"].get<std::string>().find("connect"), std::string::npos) << job.dump();
  EXPECT_EQ(job["error"].get<std::string>().find("I/O error"), std::string::npos) << job.dump();
  EXPECT_EQ(client_->Post("/api/jobs/" + job_id + "/cancel", "", "application/json")->status, 200);
  EXPECT_EQ(CountRows("scene_index"), 0);
}

}  // namespace
}  // namespace cutroom::api
