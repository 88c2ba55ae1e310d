// Fault injection against the real server: a disk that fills up under a
// tus PATCH, a render or a database write (support/disk_full.h makes
// write()/pwrite64() fail with ENOSPC past a byte budget for the files
// under a path, whoever writes them: Env, SQLite, libavformat), and a
// stored source file deleted behind cutroom's back. Each time: a clear
// JSON error, nothing partial visible, the server keeps serving, nothing
// left behind (checked with the real `cutroom fsck`).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "core/subprocess.h"
#include "server_fixture.h"
#include "support/disk_full.h"

namespace cutroom::api {
namespace {

using cutroom::testing::DiskFull;
using cutroom::testing::ReadFile;
using cutroom::testing::ScopedDiskFull;
using cutroom::testing::TestMedia;

const httplib::Headers kTus = {{"Tus-Resumable", "1.0.0"}};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Message(const httplib::Result& r) {
  if (!r) return "";
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].value("message", std::string()) : std::string();
}

// `cutroom fsck` (the binary, as an operator runs it) over a data dir;
// returns whether it found the install clean, with its output.
bool Fsck(const std::string& data_dir, std::string* out) {
  return RunProcess({cutroom::testing::CutroomBinary(), "fsck", "--grace-s", "0", "--data-dir", data_dir}, out).ok();
}

// Helpers over a fixture base (ServerFixture or ServerWithWorkers).
template <typename Base>
class Faults : public Base {
 protected:
  std::string Create(uint64_t length) {
    httplib::Headers h = kTus;
    h.emplace("Upload-Length", std::to_string(length));
    auto r = this->client_->Post("/api/uploads/", h, "", "");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    return r->get_header_value("Location");
  }
  httplib::Result Patch(const std::string& path, uint64_t offset, const std::string& data) {
    httplib::Headers h = kTus;
    h.emplace("Upload-Offset", std::to_string(offset));
    return this->client_->Patch(path, h, data, "application/offset+octet-stream");
  }
  std::string PartFile(const std::string& path) {
    return this->dir_.File("uploads/" + path.substr(path.find_last_of('/') + 1) + ".part");
  }
  httplib::Result PostFile(const std::string& content, const std::string& filename) {
    httplib::MultipartFormDataItems items = {{"file", content, filename, "application/octet-stream"}};
    return this->client_->Post("/api/videos/upload", items);
  }
  // The server answers while (or after) something went wrong.
  void ExpectServing() {
    auto health = this->client_->Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto list = this->client_->Get("/api/videos");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->status, 200) << list->body;
  }
  size_t Staged() { return ServerFixture::FilesUnder(this->dir_.File("blobs/.staging")); }
};

class TusDiskFull : public Faults<ServerFixture> {
 protected:
  void ConfigureExtra(Config& c) override {
    ASSERT_OK(c.Set("ingest.max_upload_bytes", std::to_string(4 << 20)));
    ASSERT_OK(c.Set("ingest.upload_expiry_s", "3600"));
    ASSERT_OK(c.Set("ingest.sweep_interval_s", "1"));
  }
  void TearDown() override {
    DiskFull::Disarm();
    Faults<ServerFixture>::TearDown();
  }
};

// The disk fills in the middle of a PATCH: 507 with the JSON error, the
// offset stays at the last durable byte (the part file is cut back to it),
// no video appears, and once space returns the client resumes from that
// offset to the right SHA-256.
TEST_F(TusDiskFull, PatchAnswers507KeepsTheDurableOffsetAndResumesWhenSpaceReturns) {
  const std::string content = ReadFile(TestMedia("small.mp4"));
  ASSERT_GT(content.size(), 100000u);
  const std::string path = Create(content.size());
  ASSERT_EQ(Patch(path, 0, content.substr(0, 60000))->status, 204);
  {
    // The whole data directory (uploads, blobs, database) has 10 kB left.
    ScopedDiskFull full(dir_.path() + "/", 10000);
    auto r = Patch(path, 60000, content.substr(60000));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 507) << r->body;
    EXPECT_EQ(ErrorCode(r), "insufficient_storage");
    EXPECT_TRUE(Contains(Message(r), "No space left on device")) << r->body;
    EXPECT_EQ(r->get_header_value("Upload-Offset"), "60000");
    EXPECT_GT(DiskFull::refused(), 0u);
    // Nothing partial became a video; the server answers everything else.
    EXPECT_EQ(CountRows("media"), 0);
    ExpectServing();
    auto head = client_->Head(path, kTus);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->get_header_value("Upload-Offset"), "60000");
    EXPECT_EQ(std::filesystem::file_size(PartFile(path)), 60000u);  // the unacknowledged tail is gone
    // Still full: a retry fails the same way and moves nothing.
    auto again = Patch(path, 60000, content.substr(60000));
    EXPECT_EQ(again->status, 507) << again->body;
    EXPECT_EQ(again->get_header_value("Upload-Offset"), "60000");
  }
  auto resumed = Patch(path, 60000, content.substr(60000));
  ASSERT_TRUE(resumed);
  ASSERT_EQ(resumed->status, 204) << resumed->body;
  std::string video = resumed->get_header_value("Cutroom-Video-Id");
  ASSERT_FALSE(video.empty());
  auto v = Json(client_->Get("/api/videos/" + video));
  EXPECT_EQ(v["sha256"], Sha256Hex(content));
  EXPECT_EQ(v["size_bytes"], content.size());
  EXPECT_EQ(v["status"], "ready");
  EXPECT_EQ(client_->Get("/api/videos/" + video + "/stream")->body, content);
  EXPECT_EQ(FilesUnder(dir_.File("uploads")), 0u);
  EXPECT_EQ(Staged(), 0u);
  std::string out;
  EXPECT_TRUE(Fsck(dir_.path(), &out)) << out;
}

// Uploads a full disk interrupted are given up (terminated by the client,
// or idle until they expire): their bytes are removed and fsck finds the
// install clean.
TEST_F(TusDiskFull, SpaceOfAbandonedUploadsIsReclaimed) {
  const std::string content = ReadFile(TestMedia("small.mp4"));
  const std::string terminated = Create(content.size());
  const std::string idle = Create(content.size());
  ASSERT_EQ(Patch(terminated, 0, content.substr(0, 30000))->status, 204);
  ASSERT_EQ(Patch(idle, 0, content.substr(0, 30000))->status, 204);
  {
    ScopedDiskFull full(dir_.File("uploads/"), 5000);
    EXPECT_EQ(Patch(terminated, 30000, content.substr(30000))->status, 507);
    EXPECT_EQ(Patch(idle, 30000, content.substr(30000))->status, 507);
  }
  EXPECT_EQ(std::filesystem::file_size(PartFile(terminated)), 30000u);
  EXPECT_EQ(std::filesystem::file_size(PartFile(idle)), 30000u);
  auto del = client_->Delete(terminated, kTus);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  EXPECT_FALSE(std::filesystem::exists(PartFile(terminated)));
  fake_env_.AdvanceMs(3600 * 1000 + 1);
  for (int i = 0; i < 300 && std::filesystem::exists(PartFile(idle)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(PartFile(idle)));
  EXPECT_EQ(FilesUnder(dir_.File("uploads")), 0u);
  EXPECT_EQ(Staged(), 0u);
  EXPECT_EQ(CountRows("media"), 0);
  std::string out;
  EXPECT_TRUE(Fsck(dir_.path(), &out)) << out;
  EXPECT_TRUE(Contains(out, "ok: 0 upload file(s) of no active tus upload")) << out;
  EXPECT_TRUE(Contains(out, "ok: 0 stale staged write(s)")) << out;
}

// The database's disk is full: every write transaction fails with SQLITE_FULL
// at commit. Requests that write answer 507 with the JSON error, roll back
// whole (no row, no staged or stored file left), reads keep working, and
// writes succeed again once space returns.
class DatabaseDiskFull : public Faults<ServerFixture> {
 protected:
  void TearDown() override {
    DiskFull::Disarm();
    Faults<ServerFixture>::TearDown();
  }
};

TEST_F(DatabaseDiskFull, WritesAnswer507AndRollBackWhileReadsWork) {
  const std::string content = ReadFile(TestMedia("small.mp4"));
  auto first = PostFile(content, "first.mp4");
  ASSERT_EQ(first->status, 201) << first->body;
  const std::string video = Json(first)["video_id"];
  const int64_t jobs_before = CountRows("jobs");
  // An empty write-ahead log: the next commit must grow a file.
  ASSERT_OK(db_->Query("PRAGMA wal_checkpoint(TRUNCATE)", {}).status());
  {
    ScopedDiskFull full(dir_.File("cutroom.db"), 0);  // the database, its -wal and -shm
    auto renamed = client_->Patch("/api/videos/" + video, R"({"title":"renamed"})", "application/json");
    ASSERT_TRUE(renamed);
    EXPECT_EQ(renamed->status, 507) << renamed->body;
    EXPECT_EQ(ErrorCode(renamed), "insufficient_storage");
    EXPECT_TRUE(Contains(Message(renamed), "cutroom.db")) << renamed->body;  // says which disk
    EXPECT_GT(DiskFull::refused(), 0u);

    // An upload whose row cannot be written keeps neither its blob nor its staging.
    auto upload = PostFile(content, "second.mp4");
    ASSERT_TRUE(upload);
    EXPECT_EQ(upload->status, 507) << upload->body;
    EXPECT_EQ(ErrorCode(upload), "insufficient_storage");
    // A tus upload whose row cannot be written keeps no part file.
    auto tus = client_->Post("/api/uploads/", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "1000"}}, "", "");
    ASSERT_TRUE(tus);
    EXPECT_EQ(tus->status, 507) << tus->body;
    EXPECT_EQ(ErrorCode(tus), "insufficient_storage");
    // A job cannot be queued either.
    auto process = client_->Post("/api/videos/" + video + "/process/scenes", "", "application/json");
    ASSERT_TRUE(process);
    EXPECT_EQ(process->status, 507) << process->body;

    // Reads answer from what is committed.
    ExpectServing();
    auto v = Json(client_->Get("/api/videos/" + video));
    EXPECT_EQ(v["title"], "first");
    EXPECT_EQ(client_->Get("/api/videos/" + video + "/stream")->body, content);
  }
  // Rolled back whole: one video, its file only, no upload, no new job.
  auto integrity = db_->Query("PRAGMA integrity_check", {});
  ASSERT_OK(integrity.status());
  EXPECT_EQ(integrity->Text(0, "integrity_check").value_or(""), "ok");
  EXPECT_EQ(CountRows("media"), 1);
  EXPECT_EQ(CountRows("uploads"), 0);
  EXPECT_EQ(CountRows("jobs"), jobs_before);
  EXPECT_EQ(FilesUnder(dir_.File("blobs/media")), 1u);
  EXPECT_EQ(FilesUnder(dir_.File("uploads")), 0u);
  EXPECT_EQ(Staged(), 0u);

  // Space returns: the same writes go through.
  auto renamed = client_->Patch("/api/videos/" + video, R"({"title":"renamed"})", "application/json");
  EXPECT_EQ(renamed->status, 200) << renamed->body;
  EXPECT_EQ(Json(client_->Get("/api/videos/" + video))["title"], "renamed");
  EXPECT_EQ(PostFile(content, "second.mp4")->status, 201);
  std::string out;
  EXPECT_TRUE(Fsck(dir_.path(), &out)) << out;
}

// Renders on a disk that fills up, and sources deleted by hand: real
// workers.
class WorkerFaults : public Faults<ServerWithWorkers> {
 protected:
  void TearDown() override {
    DiskFull::Disarm();
    Faults<ServerWithWorkers>::TearDown();
  }

  // Waits until the video's queued jobs (thumbnails) are done.
  void WaitIdle(const std::string& video) {
    for (int i = 0; i < 1500; ++i) {
      auto jobs = Json(client_->Get("/api/jobs?video_id=" + video));
      bool busy = false;
      for (const auto& j : jobs["jobs"]) busy |= j["status"] == "queued" || j["status"] == "running";
      if (!busy) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "jobs of " << video << " never finished";
  }

  // Waits for a job to end, moving the (fake) queue clock past each retry's
  // backoff: disk-full failures are retried, and fail for good when
  // attempts run out.
  nlohmann::json WaitFinalJob(const std::string& job_id) {
    nlohmann::json job;
    for (int i = 0; i < 3000; ++i) {
      job = Json(client_->Get("/api/jobs/" + job_id));
      if (job["status"] == "succeeded" || job["status"] == "failed") break;
      if (job["status"] == "queued" && job["attempts"].is_number() && job["attempts"].get<int>() > 0) {
        fake_env_.AdvanceMs(3600 * 1000);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return job;
  }

  nlohmann::json Render(const std::string& video) {
    auto r = client_->Post("/api/edit-jobs",
                           nlohmann::json{{"video_id", video}, {"ranges", {{0.0, 2.0}}}, {"aspect", "1:1"},
                                          {"reframe", "center"}, {"captions", false}}
                               .dump(),
                           "application/json");
    EXPECT_EQ(r->status, 202) << r->body;
    return Json(r);
  }

  int64_t RenderAssets() {
    auto rows = db_->Query("SELECT COUNT(*) AS n FROM video_assets WHERE kind = 'render'", {});
    return rows.ok() ? rows->Int(0, "n").value_or(-1) : -1;
  }
  size_t Mp4sUnder(const std::string& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().string().find(".mp4") != std::string::npos) ++n;
    }
    return n;
  }
};

// The render's scratch space fills while the encoder writes: the job fails
// (after its retries) saying the disk is full and where, no render asset
// row or file appears, the scratch directory is removed, and once space
// returns the same render succeeds.
TEST_F(WorkerFaults, RenderOnAFullDiskFailsClearlyAndLeavesNothing) {
  const std::string video = Upload(TestMedia("small.mp4"), "small.mp4");
  WaitIdle(video);
  const std::string scratch = dir_.File("tmp/");
  nlohmann::json created, job;
  {
    ScopedDiskFull full(scratch, 20000);
    created = Render(video);
    job = WaitFinalJob(created["job_id"]);
    EXPECT_GT(DiskFull::refused(), 0u);
    ExpectServing();
  }
  ASSERT_EQ(job["status"], "failed") << job.dump();
  const std::string error = job["error"].is_string() ? job["error"].get<std::string>() : "";
  EXPECT_TRUE(Contains(error, "insufficient storage")) << error;
  EXPECT_TRUE(Contains(error, "No space left on device")) << error;
  EXPECT_TRUE(Contains(error, dir_.path())) << "names the disk: " << error;
  auto edit = Json(client_->Get("/api/edit-jobs/" + created["edit_job_id"].get<std::string>()));
  EXPECT_EQ(edit["status"], "failed") << edit.dump();
  EXPECT_TRUE(Contains(edit.dump(), "insufficient storage")) << edit.dump();
  auto output = client_->Get("/api/edit-jobs/" + created["edit_job_id"].get<std::string>() + "/output");
  EXPECT_EQ(output->status, 409);
  EXPECT_EQ(ErrorCode(output), "not_ready");
  EXPECT_EQ(RenderAssets(), 0);
  EXPECT_EQ(Mp4sUnder(dir_.File("blobs")), 0u);
  EXPECT_EQ(FilesUnder(dir_.File("tmp")), 0u);
  EXPECT_EQ(Staged(), 0u);
  ExpectServing();

  auto again = Render(video);
  auto ok = WaitFinalJob(again["job_id"]);
  EXPECT_EQ(ok["status"], "succeeded") << ok.dump();
  EXPECT_EQ(RenderAssets(), 1);
  std::string out;
  EXPECT_TRUE(Fsck(dir_.path(), &out)) << out;
}

// A processed video's stored source is deleted behind cutroom's back: its
// stream answers 410 naming the missing file, its stages and renders fail
// saying so, another video keeps working, and fsck reports it.
TEST_F(WorkerFaults, ASourceDeletedByHandFailsClearlyAndOthersKeepWorking) {
  const std::string gone = Upload(TestMedia("small.mp4"), "gone.mp4");
  const std::string kept = Upload(TestMedia("small.mp4"), "kept.mp4");
  WaitIdle(gone);
  WaitIdle(kept);
  db::Repositories repos(*db_, env_, &ids_);
  const std::string key = repos.media.Get(gone).value().storage_key.value_or("");
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(std::filesystem::remove(dir_.File("blobs/" + key)));

  auto stream = client_->Get("/api/videos/" + gone + "/stream");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status, 410) << stream->body;
  EXPECT_EQ(ErrorCode(stream), "source_missing");
  EXPECT_TRUE(Contains(Message(stream), key)) << stream->body;
  EXPECT_TRUE(Contains(Message(stream), "fsck")) << stream->body;
  auto kept_stream = client_->Get("/api/videos/" + kept + "/stream");
  EXPECT_EQ(kept_stream->status, 200);
  EXPECT_EQ(kept_stream->body, ReadFile(TestMedia("small.mp4")));

  auto scenes = Process(gone, "scenes");
  EXPECT_EQ(scenes["status"], "failed") << scenes.dump();
  EXPECT_TRUE(Contains(scenes["error"].dump(), key)) << scenes.dump();
  EXPECT_TRUE(Contains(scenes["error"].dump(), "missing")) << scenes.dump();
  auto render = Render(gone);
  auto render_job = WaitFinalJob(render["job_id"]);
  EXPECT_EQ(render_job["status"], "failed") << render_job.dump();
  EXPECT_TRUE(Contains(render_job["error"].dump(), key)) << render_job.dump();
  EXPECT_TRUE(Contains(render_job["error"].dump(), "missing")) << render_job.dump();

  EXPECT_EQ(Process(kept, "scenes")["status"], "succeeded");
  EXPECT_EQ(WaitFinalJob(Render(kept)["job_id"])["status"], "succeeded");
  ExpectServing();

  std::string out;
  EXPECT_FALSE(Fsck(dir_.path(), &out)) << out;
  EXPECT_TRUE(Contains(out, "problem: 1 media whose source file is missing")) << out;
  EXPECT_TRUE(Contains(out, gone + " -> " + key)) << out;
  EXPECT_FALSE(Contains(out, kept + " -> ")) << out;
}

}  // namespace
}  // namespace cutroom::api
