// A real ApiServer on an ephemeral loopback port over a fresh data
// directory, and an httplib client talking to it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "analysis/stages.h"
#include "edit/ai_edit_jobs.h"
#include "api/import_job.h"
#include "api/server.h"
#include "core/fake_env.h"
#include "db/migrations.h"
#include "db/tables.h"
#include "ingest/ingest_service.h"
#include "jobs/worker_pool.h"
#include "support/test_support.h"

namespace cutroom::api {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = Config::Defaults();
    ASSERT_OK(config_.Set("storage.data_dir", dir_.path()));
    ASSERT_OK(config_.Set("server.max_body_bytes", "4096"));
    // Tests poll fast; limits_test turns the rate limit on where it tests it.
    ASSERT_OK(config_.Set("limits.requests_per_minute", "0"));
    if (cutroom::testing::TestingPostgres()) ASSERT_OK(config_.Set("database.url", cutroom::testing::TestDatabaseUrl(dir_)));
    ConfigureExtra(config_);
    env_ = &fake_env_;
    auto db = db::Database::Open(config_.GetString("database.url"), env_, {});
    ASSERT_OK(db.status());
    db_ = std::move(db).value();
    ASSERT_OK(db::Migrate(*db_, env_).status());
    auto blobs = storage::BlobStore::Open(config_.GetString("storage.blob_url"), env_);
    ASSERT_OK(blobs.status());
    blobs_ = std::move(blobs).value();
    events_ = std::make_unique<jobs::EventLog>(db_.get(), env_);
    queue_ = std::make_unique<jobs::JobQueue>(db_.get(), env_, &ids_, events_.get());
    StartServer();
  }

  void TearDown() override { StopServer(); }

  void StartServer() {
    server_ = std::make_unique<ApiServer>(Deps());
    ASSERT_OK(server_->Bind("127.0.0.1", 0));
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
    for (int i = 0; i < 200 && !client_->Get("/healthz"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  void StopServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  // A new server over the same data directory, as after a restart.
  void RestartServer() {
    StopServer();
    server_.reset();
    StartServer();
  }

  ServerDeps Deps() { return ServerDeps{env_, &config_, db_.get(), blobs_.get(), &ids_, queue_.get(), {}}; }

  int64_t CountRows(const std::string& table) {
    auto rows = db_->Query("SELECT COUNT(*) AS n FROM " + table, {});
    return rows.ok() ? rows->Int(0, "n").value_or(-1) : -1;
  }

  // A new raw connection to the server (the caller closes it); -1 when
  // it cannot connect.
  int ConnectRaw() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Sends raw bytes on a new connection and returns whatever the server
  // answers before closing or going quiet for timeout_ms.
  std::string RawRequest(const std::string& bytes, int timeout_ms = 2000) {
    int fd = ConnectRaw();
    if (fd < 0) return "";
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return ReadAnswer(fd, timeout_ms);
  }

  // The answer on a raw connection: its head, and unless head_only its
  // body as far as Content-Length says (without one, until the server
  // closes or goes quiet for timeout_ms). Closes fd.
  static std::string ReadAnswer(int fd, int timeout_ms, bool head_only = false) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      const auto end = out.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      if (head_only) break;
      const auto cl = out.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) {
        size_t len = std::strtoul(out.c_str() + cl + 16, nullptr, 10);
        if (out.size() >= end + 4 + len) break;
      }
    }
    ::close(fd);
    return out;
  }

  // Files under dir, recursively (staging leftovers show up here).
  static size_t FilesUnder(const std::string& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }

  virtual void ConfigureExtra(Config&) {}

  db::MediaRow AddMedia(const std::string& owner, const std::string& status = "ready",
                        const std::string& type = "video") {
    db::Repositories repos(*db_, env_, &ids_);
    db::MediaRow m;
    m.owner_id = owner;
    m.status = status;
    m.media_type = type;
    m.storage_key = "media/" + ids_.Next("vid") + "/source";
    EXPECT_OK(blobs_->Put(*m.storage_key, "bytes"));
    auto r = repos.media.Insert(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value_or(m);
  }

  static nlohmann::json Json(const httplib::Result& r) {
    if (!r) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  // The error shape every error must have; returns its code.
  static std::string ErrorCode(const httplib::Result& r) {
    auto j = Json(r);
    EXPECT_TRUE(j.is_object()) << (r ? r->body : "no response");
    if (!j.is_object() || !j.contains("error")) return "";
    const auto& e = j["error"];
    EXPECT_TRUE(e["code"].is_string());
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_TRUE(e["details"].is_object());
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return e["code"].is_string() ? e["code"].get<std::string>() : "";
  }

  cutroom::testing::TempDir dir_;
  // A fake clock (tests expire uploads by advancing it) over the real disk.
  FakeEnv fake_env_{Env::Default()->NowMs()};
  Env* env_ = &fake_env_;
  IdGenerator ids_{env_};
  Config config_ = Config::Defaults();
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<jobs::EventLog> events_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
  Status run_status_;
  std::unique_ptr<httplib::Client> client_;
};

// A server plus a worker pool running every built-in stage, on the real
// clock (the fake one would never let a lease age).
class ServerWithWorkers : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    jobs::WorkerPoolOptions o;
    o.workers = 2;
    o.poll_ms = 20;
    pool_ = std::make_unique<jobs::WorkerPool>(
        queue_.get(), jobs::JobServices{Env::Default(), db_.get(), blobs_.get(), &ids_, &config_}, o);
    analysis::RegisterStages(*pool_);
    edit::RegisterEditJobs(*pool_);
    ASSERT_OK(RegisterImportJobs(*pool_, Deps()));
    pool_->Start();
  }
  void TearDown() override {
    pool_->Stop();
    ServerFixture::TearDown();
  }

  // Uploads a file (multipart) and returns its video_id.
  std::string Upload(const std::string& path, const std::string& name) {
    httplib::MultipartFormDataItems items = {{"file", cutroom::testing::ReadFile(path), name,
                                              "application/octet-stream"}};
    auto r = client_->Post("/api/videos/upload", items);
    EXPECT_EQ(r->status, 201) << r->body;
    return Json(r)["video_id"];
  }

  // Polls a job until it succeeds or fails (at most two minutes).
  nlohmann::json WaitJob(const std::string& job_id) {
    nlohmann::json job;
    for (int i = 0; i < 6000; ++i) {
      job = Json(client_->Get("/api/jobs/" + job_id));
      if (job["status"] == "succeeded" || job["status"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return job;
  }

  // Queues one stage with an optional JSON body and waits for its job.
  nlohmann::json Process(const std::string& video_id, const std::string& stage, const std::string& body = "") {
    auto r = client_->Post("/api/videos/" + video_id + "/process/" + stage, body, "application/json");
    EXPECT_EQ(r->status, 202) << r->body;
    return WaitJob(Json(r)["job_id"]);
  }

  std::unique_ptr<jobs::WorkerPool> pool_;
};

}  // namespace cutroom::api
