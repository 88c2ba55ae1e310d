// Jobs over HTTP: reading, listing, cancelling, logs, pipeline triggers and
// the Server-Sent Events stream read by a real HTTP client.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>

#include "jobs/pipeline.h"
#include "server_fixture.h"

namespace cutroom::api {
namespace {

class JobsApi : public ServerFixture {
 protected:
  db::JobRow Enqueue(const std::string& video_id, const std::string& kind = "thumbnails",
                     const std::string& owner = db::kLocalOwnerId) {
    jobs::EnqueueRequest r;
    r.kind = kind;
    r.video_id = video_id;
    r.owner_id = owner;
    r.processing_kind = "thumbnails";
    auto job = queue_->Enqueue(r);
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.value_or(db::JobRow{});
  }
};

struct SseEvent {
  int64_t id = 0;
  std::string type;
  nlohmann::json data;
};

// Reads SSE events until stop(events) says so or the timeout passes.
std::vector<SseEvent> ReadEvents(int port, const std::string& path, const httplib::Headers& headers,
                                 const std::function<bool(const std::vector<SseEvent>&)>& stop) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  std::vector<SseEvent> events;
  std::string buffer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  client.Get(path, headers, [&](const char* data, size_t n) {
    buffer.append(data, n);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      std::string block = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      SseEvent e;
      std::istringstream lines(block);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("id: ", 0) == 0) e.id = std::stoll(line.substr(4));
        if (line.rfind("event: ", 0) == 0) e.type = line.substr(7);
        if (line.rfind("data: ", 0) == 0) e.data = nlohmann::json::parse(line.substr(6));
      }
      if (!e.type.empty()) events.push_back(e);
    }
    return !stop(events) && std::chrono::steady_clock::now() < deadline;
  });
  return events;
}

TEST_F(JobsApi, ReadsListsAndHidesOtherOwnersJobs) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto job = Enqueue(m.video_id);
  auto r = client_->Get("/api/jobs/" + job.job_id);
  ASSERT_EQ(r->status, 200);
  auto j = Json(r);
  for (const char* f : {"job_id", "kind", "video_id", "status", "progress", "attempts", "error", "result",
                        "created_at", "started_at", "finished_at"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
  EXPECT_EQ(j["status"], "queued");
  auto list = Json(client_->Get("/api/jobs?video_id=" + m.video_id + "&status=queued"));
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(client_->Get("/api/jobs?status=bogus")->status, 400);
  db::OwnerRow other;
  other.name = "other";
  db::Repositories repos(*db_, env_, &ids_);
  auto owner = repos.owners.Insert(other);
  auto theirs = Enqueue(m.video_id, "thumbnails", owner->owner_id);
  EXPECT_EQ(client_->Get("/api/jobs/" + theirs.job_id)->status, 404);
  EXPECT_EQ(client_->Post("/api/jobs/" + theirs.job_id + "/cancel", "", "application/json")->status, 404);
}

TEST_F(JobsApi, CancelsQueuedJobsAtOnce) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto job = Enqueue(m.video_id);
  auto r = client_->Post("/api/jobs/" + job.job_id + "/cancel", "", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["status"], "cancelled");
  auto again = client_->Post("/api/jobs/" + job.job_id + "/cancel", "", "application/json");
  EXPECT_EQ(again->status, 409);
}

TEST_F(JobsApi, ProcessAllQueuesAvailableStagesAndSaysWhichAreSkipped) {
  auto m = AddMedia(db::kLocalOwnerId);
  auto r = client_->Post("/api/videos/" + m.video_id + "/process/all", "", "application/json");
  ASSERT_EQ(r->status, 202) << r->body;
  auto body = Json(r);
  std::map<std::string, nlohmann::json> by_stage;
  for (const auto& s : body["stages"]) by_stage[s["stage"]] = s;
  for (const char* built : {"thumbnails", "scenes", "frames", "transcription", "clips", "retention"}) {
    EXPECT_TRUE(by_stage[built].contains("job_id")) << built;
    EXPECT_TRUE(by_stage[built].contains("processing_id")) << built;
  }
  // Clips wait for the transcript and, since they are planned too, for
  // the scenes and frames.
  auto clips_job = Json(client_->Get("/api/jobs/" + by_stage["clips"]["job_id"].get<std::string>()));
  EXPECT_EQ(clips_job["depends_on"].size(), 3u) << clips_job.dump();
  // Retention reads whatever the other analyses stored, so it waits for them all.
  auto retention_job = Json(client_->Get("/api/jobs/" + by_stage["retention"]["job_id"].get<std::string>()));
  EXPECT_EQ(retention_job["depends_on"].size(), 4u) << retention_job.dump();
  auto bad = client_->Post("/api/videos/" + m.video_id + "/process/retention", R"({"colour": 1})", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(client_->Post("/api/videos/" + m.video_id + "/process/nonsense", "", "application/json")->status, 404);
  auto single = Json(client_->Post("/api/videos/" + m.video_id + "/process/thumbnails", "", "application/json"));
  EXPECT_EQ(single["job_id"].get<std::string>().rfind("job_", 0), 0u);
  auto pending = AddMedia(db::kLocalOwnerId, "pending");
  EXPECT_EQ(client_->Post("/api/videos/" + pending.video_id + "/process/all", "", "application/json")->status, 409);
}

TEST_F(JobsApi, ServerSentEventsFollowAJobAndResumeFromLastEventId) {
  auto m = AddMedia(db::kLocalOwnerId);
  std::atomic<bool> connected{false};
  std::vector<SseEvent> seen;
  std::thread reader([&] {
    seen = ReadEvents(server_->port(), "/api/events?video_id=" + m.video_id, {},
                      [&](const std::vector<SseEvent>& events) {
                        connected = true;
                        return !events.empty() && events.back().data["status"] == "succeeded";
                      });
  });
  // Give the stream a moment to start from the newest event.
  for (int i = 0; i < 100 && !connected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto job = Enqueue(m.video_id);
  auto claimed = queue_->Claim("test-worker", {"thumbnails"}, 10'000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_OK(queue_->SetProgress(job.job_id, "test-worker", 0.5));
  ASSERT_OK(queue_->Succeed(**claimed, "test-worker", {}));
  reader.join();
  ASSERT_EQ(seen.size(), 4u);
  std::vector<std::string> order;
  for (size_t i = 0; i < seen.size(); ++i) {
    order.push_back(seen[i].type + ":" + seen[i].data["status"].get<std::string>());
    if (i) {
      EXPECT_GT(seen[i].id, seen[i - 1].id);
    }
    EXPECT_EQ(seen[i].data["job_id"], job.job_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"status:queued", "status:running", "progress:running",
                                             "status:succeeded"}));
  EXPECT_DOUBLE_EQ(seen[2].data["progress"].get<double>(), 0.5);

  // A client that saw the first two events resumes after the second.
  auto resumed = ReadEvents(server_->port(), "/api/events?video_id=" + m.video_id,
                            {{"Last-Event-ID", std::to_string(seen[1].id)}},
                            [](const std::vector<SseEvent>& events) { return events.size() >= 2; });
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(resumed[0].id, seen[2].id);
  EXPECT_EQ(resumed[1].id, seen[3].id);
}

TEST_F(JobsApi, LogsOfAVideoArePaged) {
  auto m = AddMedia(db::kLocalOwnerId);
  db::Repositories repos(*db_, env_, &ids_);
  for (int i = 0; i < 5; ++i) {
    db::ProcessingLogRow l;
    l.video_id = m.video_id;
    l.stage = "thumbnails";
    l.message = "line " + std::to_string(i);
    l.ts = FormatTimestamp(env_->NowMs());
    ASSERT_OK(repos.processing_logs.Insert(l).status());
  }
  auto first = Json(client_->Get("/api/videos/" + m.video_id + "/logs?limit=3"));
  ASSERT_EQ(first["logs"].size(), 3u);
  EXPECT_EQ(first["logs"][0]["message"], "line 0");
  auto rest = Json(client_->Get("/api/videos/" + m.video_id + "/logs?limit=3&cursor=" +
                                first["next_cursor"].get<std::string>()));
  EXPECT_EQ(rest["logs"].size(), 2u);
  EXPECT_EQ(client_->Get("/api/videos/vid_00000000000000000000000000/logs")->status, 404);
}

}  // namespace
}  // namespace cutroom::api
