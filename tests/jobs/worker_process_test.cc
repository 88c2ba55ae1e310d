// Worker processes sharing one database: every job runs exactly once, and
// a job whose worker is killed is finished by another after its lease.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "../db/db_fixture.h"
#include "jobs/job_queue.h"

namespace cutroom::jobs {
namespace {

pid_t StartWorker(const std::string& db_path, int lease_ms, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    ::dup2(fileno(f), 2);
    std::string lease = std::to_string(lease_ms);
    ::execl(CUTROOM_TEST_WORKER, CUTROOM_TEST_WORKER, db_path.c_str(), lease.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

int StopWorker(pid_t pid, int sig) {
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

class WorkerProcesses : public db::DbFixture {
 public:
  void SetUp() override {
    DbFixture::SetUp();
    ASSERT_OK(db_->ExecuteScript("CREATE TABLE test_runs (job_id TEXT NOT NULL, worker TEXT NOT NULL)"));
    events_ = std::make_unique<EventLog>(db_.get(), Env::Default());
    queue_ = std::make_unique<JobQueue>(db_.get(), Env::Default(), &real_ids_, events_.get());
    video_ = NewMedia().video_id;
  }

  std::string Enqueue(const std::string& kind) {
    EnqueueRequest r;
    r.kind = kind;
    r.video_id = video_;
    r.owner_id = db::kLocalOwnerId;
    return queue_->Enqueue(r)->job_id;
  }

  int64_t Count(const std::string& sql) { return *db_->Query(sql, {})->Int(0, "n"); }

  IdGenerator real_ids_{Env::Default()};
  std::unique_ptr<EventLog> events_;
  std::unique_ptr<JobQueue> queue_;
  std::string video_;
};

TEST_F(WorkerProcesses, TwoPoolsRunEveryJobExactlyOnce) {
  std::string path = dir_.File("cutroom.db");
  pid_t a = StartWorker(path, 5000, dir_.File("a.log"));
  pid_t b = StartWorker(path, 5000, dir_.File("b.log"));
  // Both pools are polling before the jobs arrive, so both take part.
  for (int i = 0; i < 500; ++i) {
    if (cutroom::testing::ReadFile(dir_.File("a.log")).find("ready") != std::string::npos &&
        cutroom::testing::ReadFile(dir_.File("b.log")).find("ready") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 120; ++i) Enqueue("record");
  for (int i = 0; i < 3000 && Count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'") < 120; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  StopWorker(a, SIGTERM);
  StopWorker(b, SIGTERM);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'"), 120)
      << cutroom::testing::ReadFile(dir_.File("a.log")) << cutroom::testing::ReadFile(dir_.File("b.log"));
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM test_runs"), 120);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM test_runs"), 120);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE attempts != 1"), 0);
  // Both processes took part (worker ids are host:pid:thread).
  std::set<std::string> processes;
  auto workers = db_->Query("SELECT DISTINCT worker FROM test_runs", {});
  for (size_t i = 0; i < workers->size(); ++i) {
    std::string w = *workers->Text(i, "worker");
    processes.insert(w.substr(0, w.find_last_of(':')));
  }
  EXPECT_EQ(processes.size(), 2u);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM processing_logs WHERE message = 'started'"), 120);
}

TEST_F(WorkerProcesses, AJobOfAKilledWorkerIsFinishedByAnotherAfterTheLease) {
  std::string path = dir_.File("cutroom.db");
  std::string id = Enqueue("slow");
  pid_t a = StartWorker(path, 1500, dir_.File("a.log"));
  std::string held_by;
  for (int i = 0; i < 500 && held_by.empty(); ++i) {
    auto job = queue_->Get(id);
    if (job->status == "running") held_by = job->locked_by.value_or("");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(held_by.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  StopWorker(a, SIGKILL);  // mid-job, no chance to release it
  EXPECT_EQ(queue_->Get(id)->status, "running");
  pid_t b = StartWorker(path, 1500, dir_.File("b.log"));
  std::string status;
  for (int i = 0; i < 1500; ++i) {
    status = queue_->Get(id)->status;
    if (status == "succeeded" || status == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  StopWorker(b, SIGTERM);
  auto job = queue_->Get(id);
  EXPECT_EQ(job->status, "succeeded") << cutroom::testing::ReadFile(dir_.File("b.log"));
  EXPECT_EQ(job->attempts, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM test_runs"), 1);  // no duplicate result rows
  EXPECT_NE(*db_->Query("SELECT worker FROM test_runs", {})->Text(0, "worker"), held_by);
}

}  // namespace
}  // namespace cutroom::jobs
