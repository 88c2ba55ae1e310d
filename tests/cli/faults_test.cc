// A damaged database file, as an operator meets it: garbage written into
// the SQLite file of a stopped install, then `cutroom serve` and `cutroom
// fsck` as separate processes.
#include <httplib.h>
#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "cli/process_helpers.h"
#include "core/subprocess.h"
#include "db/database.h"
#include "support/test_support.h"

namespace cutroom {
namespace {

using cutroom::testing::CutroomBinary;
using cutroom::testing::FreePort;
using cutroom::testing::ReadFile;
using cutroom::testing::Spawn;
using cutroom::testing::TempDir;
using cutroom::testing::WaitExit;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Status Cutroom(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {CutroomBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, out);
}

class CorruptDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_TRUE(Cutroom({"ingest", cutroom::testing::TestMedia("small.mp4"), "--data-dir", data_}, &out).ok()) << out;
    video_ = out.substr(out.find("vid_"), 30);
    ASSERT_TRUE(Cutroom({"fsck", "--data-dir", data_}, &out).ok()) << out;  // sound to begin with
  }

  // The page size and the first page of a table (1-based), read before the damage.
  std::pair<int64_t, int64_t> PageOf(const std::string& table) {
    auto db = db::Database::Open("sqlite://" + file_, Env::Default(), {});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return {0, 0};
    auto size = (*db)->Query("PRAGMA page_size", {});
    auto root = (*db)->Query("SELECT rootpage FROM sqlite_schema WHERE name = ?", {table});
    EXPECT_TRUE(size.ok() && root.ok() && root->size() == 1);
    if (!size.ok() || !root.ok() || root->size() != 1) return {0, 0};
    return {size->Int(0, "page_size").value_or(0), root->Int(0, "rootpage").value_or(0)};
  }

  // Overwrites n bytes at offset with seeded garbage.
  void Scribble(int64_t offset, int64_t n, uint32_t seed) {
    ASSERT_FALSE(std::filesystem::exists(file_ + "-wal") && std::filesystem::file_size(file_ + "-wal") > 0)
        << "the install was not stopped cleanly";
    std::mt19937 rng(seed);
    std::string junk(static_cast<size_t>(n), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    std::fstream f(file_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    ASSERT_TRUE(f.good());
  }

  // Starts serve and waits for /healthz; false when it exited instead.
  bool Serve() {
    port_ = FreePort();
    pid_ = Spawn({"serve", "--listen", "127.0.0.1:" + std::to_string(port_), "--data-dir", data_}, log_);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(10, 0);
    for (int i = 0; i < 500; ++i) {
      if (auto r = client_->Get("/healthz"); r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    EXPECT_EQ(WaitExit(pid_), 0) << ReadFile(log_);
    pid_ = -1;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      WaitExit(pid_);
    }
  }

  // A route answers 2xx, or a JSON error that says the database is
  // damaged: never a bare 500 or a dropped connection.
  void ExpectClearAnswer(const std::string& path) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path << ": no answer";
    if (r->status < 300) return;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << path << " -> " << r->status << " " << r->body;
    if (r->status >= 500) {
      EXPECT_EQ(j["error"]["code"], "database_corrupt") << path << " -> " << r->body;
      EXPECT_TRUE(Contains(j["error"]["message"].get<std::string>(), file_)) << path << " -> " << r->body;
    }
  }

  TempDir dir_;
  std::string data_ = dir_.File("data");
  std::string file_ = data_ + "/cutroom.db";
  std::string log_ = dir_.File("serve.log");
  std::string video_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<httplib::Client> client_;
};

// The media table's page is garbage: routes that read it answer 500
// database_corrupt naming the file and what to do, the others keep
// working, and fsck reports the damage and repairs nothing.
TEST_F(CorruptDatabase, ADamagedTableFailsItsRoutesClearlyWhileTheRestWork) {
  auto [page_size, page] = PageOf("media");
  ASSERT_GT(page, 1);
  Scribble((page - 1) * page_size, page_size, 1);

  ASSERT_TRUE(Serve()) << ReadFile(log_);
  auto videos = client_->Get("/api/videos");
  ASSERT_TRUE(videos);
  EXPECT_EQ(videos->status, 500) << videos->body;
  auto error = nlohmann::json::parse(videos->body, nullptr, false)["error"];
  EXPECT_EQ(error["code"], "database_corrupt") << videos->body;
  const std::string message = error["message"].is_string() ? error["message"].get<std::string>() : "";
  EXPECT_TRUE(Contains(message, file_)) << message;
  EXPECT_TRUE(Contains(message, "backup")) << message;
  EXPECT_TRUE(Contains(message, "cutroom fsck")) << message;
  for (const char* path : {"/api/jobs", "/api/search?q=talk", "/readyz"}) {
    auto r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path << " -> " << r->body;
  }
  ExpectClearAnswer("/api/videos/" + video_);
  ExpectClearAnswer("/api/videos/" + video_ + "/stream");
  Stop();

  std::string out;
  EXPECT_FALSE(Cutroom({"fsck", "--data-dir", data_}, &out).ok()) << out;
  EXPECT_TRUE(Contains(out, "problem: the database sqlite://" + file_ + " is damaged")) << out;
  EXPECT_TRUE(Contains(out, "restore the database from a backup")) << out;
  EXPECT_FALSE(Cutroom({"fsck", "--repair", "--grace-s", "0", "--data-dir", data_}, &out).ok()) << out;
  EXPECT_TRUE(Contains(out, "not repairing")) << out;
  size_t sources = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_ + "/blobs/media")) sources += e.is_regular_file();
  EXPECT_EQ(sources, 1u);  // the source is kept
}

// Garbage over the schema on the first page: serve refuses to start, names
// the file, says it is damaged (not "not a cutroom database") and what to
// do, and leaves the file as it found it.
TEST_F(CorruptDatabase, ADamagedSchemaIsRefusedAtStartNamingTheFile) {
  Scribble(100, 3996, 2);  // past the 100-byte header
  const std::string before = ReadFile(file_);
  std::string out;
  Status st = Cutroom({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_}, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(Contains(out, file_ + " is damaged")) << out;
  EXPECT_TRUE(Contains(out, "backup")) << out;
  EXPECT_FALSE(Contains(out, "not a cutroom database")) << out;
  EXPECT_EQ(ReadFile(file_), before);
  EXPECT_FALSE(Cutroom({"fsck", "--data-dir", data_}, &out).ok());
  EXPECT_TRUE(Contains(out, "is damaged")) << out;
}

// Garbage over the middle of the file (an index of an analysis table in
// this layout): every route answers clearly, and fsck, which found such a
// file clean before quick_check, reports it.
TEST_F(CorruptDatabase, GarbageInTheMiddleIsReportedByFsck) {
  auto [page_size, unused] = PageOf("media");
  ASSERT_GT(page_size, 0);
  const int64_t pages = static_cast<int64_t>(std::filesystem::file_size(file_)) / page_size;
  Scribble(pages / 2 * page_size, page_size, 3);

  ASSERT_TRUE(Serve()) << ReadFile(log_);
  for (const std::string& path :
       {std::string("/api/videos"), "/api/videos/" + video_, "/api/videos/" + video_ + "/scenes",
        "/api/videos/" + video_ + "/frames", "/api/videos/" + video_ + "/transcription", "/api/videos/" + video_ + "/clips",
        "/api/videos/" + video_ + "/assets", "/api/videos/" + video_ + "/logs", "/api/videos/" + video_ + "/retention",
        std::string("/api/jobs"), std::string("/api/search?q=talk")}) {
    ExpectClearAnswer(path);
  }
  Stop();
  std::string out;
  EXPECT_FALSE(Cutroom({"fsck", "--data-dir", data_}, &out).ok()) << out;
  EXPECT_TRUE(Contains(out, "is damaged")) << out;
}

}  // namespace
}  // namespace cutroom
