// Scale-out as deployed: one `cutroom serve` (no workers of its own) and
// three `cutroom worker` processes sharing a PostgreSQL database and an
// S3 bucket (s3rver behind the tests' signature-checking proxy; a shared
// directory when s3rver is not installed). Thirty videos go through process/all plus a render each;
// one worker is killed with SIGKILL while it holds a job. Checked from the
// database afterwards: every job succeeded and finished exactly once (the
// killed worker's job was taken over after its lease ran out), and the
// global limit of one render at a time held across the processes.
//
// Runs against the tests' throw-away PostgreSQL cluster (the postgres
// fixture); CUTROOM_SCALE_OUT_VIDEOS changes the number of videos.
#include <httplib.h>
#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cli/process_helpers.h"
#include "core/env.h"
#include "core/subprocess.h"
#include "fakes/s3_fake.h"
#include "db/database.h"
#include "support/test_support.h"

namespace cutroom {
namespace {

using cutroom::testing::FreePort;
using cutroom::testing::ReadFile;
using cutroom::testing::Spawn;
using cutroom::testing::TempDir;
using cutroom::testing::WaitExit;

struct Interval {
  std::string job_id, start, end;
};

TEST(ScaleOut, ThreeWorkersOnePostgresEveryJobOnceAndTheRenderLimitHolds) {
  // Registered only on the postgres fixture, which sets the URL.
  ASSERT_TRUE(cutroom::testing::TestingPostgres()) << "needs CUTROOM_TEST_POSTGRES_URL (the postgres fixture)";
  std::string video_file = cutroom::testing::TestMedia("small.mp4");
  ASSERT_TRUE(std::filesystem::exists(video_file)) << video_file << " (make_test_media.sh)";
  const char* count_env = std::getenv("CUTROOM_SCALE_OUT_VIDEOS");
  const int videos = count_env ? std::max(2, std::atoi(count_env)) : 30;

  TempDir dir;
  const std::string db_url = cutroom::testing::TestDatabaseUrl(dir);
  const int port = FreePort();
  // Shared by every process: the database, the blob store, the limit and
  // a short lease so the killed worker's job comes back soon.
  std::vector<std::string> common = {"--data-dir",    dir.File("data"),
                                     "--database",    db_url,
                                     "--set",         "jobs.global_limits=render=1",
                                     "--set",         "workers.lease_ms=4000"};
  cutroom::testing::FakeS3 s3("scale-out");
  if (s3.running()) {
    ::setenv("AWS_ACCESS_KEY_ID", cutroom::testing::FakeS3::kAccessKey, 1);  // the spawned processes inherit them
    ::setenv("AWS_SECRET_ACCESS_KEY", cutroom::testing::FakeS3::kSecretKey, 1);
    common.insert(common.end(), {"--set", "storage.blob_url=s3://scale-out/media", "--set",
                                 "storage.s3_endpoint=" + s3.endpoint(), "--set", "storage.s3_path_style=true"});
  } else {
    std::cerr << "s3rver is not installed (scripts/install-deps.sh): the processes share a directory instead\n";
  }
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  pid_t server = Spawn(with({"serve", "--listen", "127.0.0.1:" + std::to_string(port), "--workers", "0"}),
                       dir.File("serve.log"));
  std::vector<pid_t> workers;
  // The server migrates the database first; workers start once it answers.
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    auto r = client.Get("/healthz");
    up = r && r->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(up) << ReadFile(dir.File("serve.log"));
  for (int w = 0; w < 3; ++w) {
    workers.push_back(
        Spawn(with({"worker", "--workers", "2"}), dir.File("worker-" + std::to_string(w) + ".log")));
  }

  // Upload, process everything, and render a clip of each.
  std::string bytes = ReadFile(video_file);
  std::vector<std::string> video_ids;
  for (int i = 0; i < videos; ++i) {
    httplib::MultipartFormDataItems form = {{"file", bytes, "talk-" + std::to_string(i) + ".mp4", "video/mp4"},
                                            {"title", "talk " + std::to_string(i), "", ""}};
    auto up_res = client.Post("/api/videos/upload", form);
    ASSERT_TRUE(up_res) << "upload " << i;
    ASSERT_TRUE(up_res->status == 201 || up_res->status == 200) << up_res->body;
    std::string id = nlohmann::json::parse(up_res->body)["video_id"];
    video_ids.push_back(id);
    auto processed = client.Post("/api/videos/" + id + "/process/all", "{}", "application/json");
    ASSERT_TRUE(processed && processed->status == 202) << (processed ? processed->body : "no answer");
    nlohmann::json edit = {{"video_id", id}, {"ranges", {{0.5, 3.5}}}, {"aspect", "9:16"}, {"reframe", "center"},
                           {"captions", false}, {"output", {{"size", "native"}}}};
    auto rendered = client.Post("/api/edit-jobs", edit.dump(), "application/json");
    ASSERT_TRUE(rendered && rendered->status == 202) << (rendered ? rendered->body : "no answer");
  }
  std::set<std::string> distinct(video_ids.begin(), video_ids.end());
  ASSERT_EQ(distinct.size(), video_ids.size()) << "each upload is its own video";

  // Kill the first worker while it holds a job.
  auto db = db::Database::Open(db_url, Env::Default(), {});
  ASSERT_OK(db.status());
  const std::string victim = ":" + std::to_string(workers[0]) + ":";
  std::string killed_job;
  for (int i = 0; i < 600 && killed_job.empty(); ++i) {
    auto held = (*db)->Query("SELECT job_id FROM jobs WHERE status = 'running' AND locked_by LIKE ? LIMIT 1",
                             {"%" + victim + "%"});
    ASSERT_OK(held.status());
    if (!held->empty()) killed_job = *held->Text(0, "job_id");
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(killed_job.empty()) << "worker " << workers[0] << " never held a job";
  ::kill(workers[0], SIGKILL);
  EXPECT_EQ(WaitExit(workers[0]), 128 + SIGKILL);
  // Every job the dead worker held (it ran two threads): each must be taken
  // over and finish once, on its second attempt.
  std::set<std::string> orphaned;
  auto held = (*db)->Query("SELECT job_id FROM jobs WHERE status = 'running' AND locked_by LIKE ?",
                           {"%" + victim + "%"});
  ASSERT_OK(held.status());
  for (size_t i = 0; i < held->size(); ++i) orphaned.insert(*held->Text(i, "job_id"));
  ASSERT_TRUE(orphaned.count(killed_job));

  // Everything finishes on the two workers left.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(12);
  int64_t open = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    auto n = (*db)->Query("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')", {});
    ASSERT_OK(n.status());
    open = *n->Int(0, "n");
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(open, 0) << "jobs still open after 12 minutes";

  auto jobs = (*db)->Query("SELECT job_id, kind, status, attempts, error FROM jobs", {});
  ASSERT_OK(jobs.status());
  // What a job's runs logged, for failure messages.
  auto history = [&](const std::string& id) {
    std::string out;
    auto rows = (*db)->Query("SELECT ts, level, message, data FROM processing_logs WHERE job_id = ? ORDER BY log_id",
                             {id});
    for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
      out += "\n  " + *rows->Text(i, "ts") + " " + *rows->Text(i, "level") + " " + *rows->Text(i, "message") + " " +
             rows->Text(i, "data").value_or("");
    }
    return out;
  };
  std::map<std::string, int> kinds;
  for (size_t i = 0; i < jobs->size(); ++i) {
    const std::string id = *jobs->Text(i, "job_id");
    kinds[*jobs->Text(i, "kind")]++;
    EXPECT_EQ(*jobs->Text(i, "status"), "succeeded") << id << " " << jobs->Text(i, "error").value_or("");
    EXPECT_EQ(*jobs->Int(i, "attempts"), orphaned.count(id) ? 2 : 1)
        << id << " " << *jobs->Text(i, "kind") << history(id);
  }
  EXPECT_EQ(kinds["render"], videos);
  EXPECT_GE(jobs->size(), static_cast<size_t>(videos * 6)) << "process/all runs several stages per video";

  // Exactly once: one "finished" log per job; the orphaned ones started twice.
  auto logs = (*db)->Query("SELECT job_id, message, ts, data FROM processing_logs WHERE message IN "
                           "('started', 'finished') ORDER BY ts, log_id",
                           {});
  ASSERT_OK(logs.status());
  std::map<std::string, int> started, finished;
  std::map<std::string, Interval> render_runs;
  std::set<std::string> renders;
  for (size_t i = 0; i < jobs->size(); ++i) {
    if (*jobs->Text(i, "kind") == "render") renders.insert(*jobs->Text(i, "job_id"));
  }
  for (size_t i = 0; i < logs->size(); ++i) {
    const std::string id = logs->Text(i, "job_id").value_or("");
    const std::string what = *logs->Text(i, "message");
    if (what == "started") {
      started[id]++;
      if (renders.count(id)) render_runs[id] = {id, *logs->Text(i, "ts"), ""};
    } else {
      finished[id]++;
      if (renders.count(id)) render_runs[id].end = *logs->Text(i, "ts");
    }
  }
  for (size_t i = 0; i < jobs->size(); ++i) {
    const std::string id = *jobs->Text(i, "job_id");
    EXPECT_EQ(finished[id], 1) << id;
    EXPECT_EQ(started[id], orphaned.count(id) ? 2 : 1) << id << history(id);
  }
  // One render at a time: the finished runs of render jobs never overlap
  // (timestamps are fixed-width RFC 3339 UTC, so they sort as strings).
  std::vector<Interval> runs;
  for (auto& [id, run] : render_runs) runs.push_back(run);
  std::sort(runs.begin(), runs.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  ASSERT_EQ(runs.size(), static_cast<size_t>(videos));
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_LE(runs[i - 1].end, runs[i].start) << runs[i - 1].job_id << " and " << runs[i].job_id << " overlapped";
  }
  // Outputs are in the shared store: a render asset per video, and fsck
  // finds every row's object in the bucket and no stray objects.
  auto assets = (*db)->Query("SELECT COUNT(*) AS n FROM video_assets WHERE kind = 'render'", {});
  ASSERT_OK(assets.status());
  EXPECT_EQ(*assets->Int(0, "n"), videos);
  std::string fsck;
  std::vector<std::string> fsck_args = {cutroom::testing::CutroomBinary(), "fsck"};
  fsck_args.insert(fsck_args.end(), common.begin(), common.end());
  EXPECT_OK(RunProcess(fsck_args, &fsck));
  EXPECT_NE(fsck.find("ok: 0 asset row(s) whose file is missing"), std::string::npos) << fsck;
  if (s3.running()) {
    EXPECT_GT(s3.Count("PutObject") + s3.Count("CompleteMultipartUpload"), videos) << "objects went to the bucket";
  }

  for (size_t w = 1; w < workers.size(); ++w) {
    ::kill(workers[w], SIGTERM);
    EXPECT_EQ(WaitExit(workers[w]), 0) << "a worker drains and exits 0 on SIGTERM";
  }
  ::kill(server, SIGTERM);
  EXPECT_EQ(WaitExit(server), 0) << ReadFile(dir.File("serve.log"));
}

// Moving an install: SQLite + local disk copied into PostgreSQL + another
// blob directory, then the target passes fsck and answers searches; a
// second copy into the same (now full) database is refused.
TEST(MigrateStore, CopiesAnInstallIntoPostgres) {
  // Registered only on the postgres fixture, which sets the URL.
  ASSERT_TRUE(cutroom::testing::TestingPostgres()) << "needs CUTROOM_TEST_POSTGRES_URL (the postgres fixture)";
  // A flite talk made by make_test_media.sh (the test_media fixture).
  std::string talk = cutroom::testing::TestMedia("talk.mp4");
  ASSERT_TRUE(std::filesystem::exists(talk)) << talk;
  TempDir dir;
  auto run = [&](std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {cutroom::testing::CutroomBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, out);
  };
  std::string out;
  ASSERT_OK(run({"ingest", talk, "--data-dir", dir.File("old")}, &out));
  const std::string video = out.substr(out.find("vid_"), 30);
  ASSERT_OK(run({"process", video, "--stage", "transcription", "--data-dir", dir.File("old")}, &out));

  const std::string target = cutroom::testing::TestDatabaseUrl(dir);
  const std::string blobs = "file://" + dir.File("new-blobs");
  std::string moved;
  ASSERT_OK(run({"migrate-store", "--data-dir", dir.File("old"), "--to-database", target, "--to-blob-url", blobs},
                &moved));
  EXPECT_NE(moved.find("media                1 row(s)"), std::string::npos) << moved;
  EXPECT_NE(moved.find("blobs"), std::string::npos) << moved;
  // The new place on its own: consistent, searchable, with the same file.
  std::vector<std::string> at_target = {"--data-dir", dir.File("new"), "--database", target, "--set",
                                        "storage.blob_url=" + blobs};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), at_target.begin(), at_target.end());
    return args;
  };
  std::string fsck, found;
  EXPECT_OK(run(with({"fsck"}), &fsck));
  EXPECT_NE(fsck.find("ok: 0 orphan blob(s)"), std::string::npos) << fsck;
  EXPECT_NE(fsck.find("ok: 0 media whose source file is missing"), std::string::npos) << fsck;
  ASSERT_OK(run(with({"search", "customers"}), &found));
  EXPECT_NE(found.find(video), std::string::npos) << found;
  // Only into an empty database.
  std::string again;
  EXPECT_FALSE(run({"migrate-store", "--data-dir", dir.File("old"), "--to-database", target}, &again).ok());
  EXPECT_NE(again.find("already holds"), std::string::npos) << again;
}

}  // namespace
}  // namespace cutroom
