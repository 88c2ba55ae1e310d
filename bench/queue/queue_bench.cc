// Queue throughput: no-op jobs claimed and completed per second by worker
// processes sharing one database (bench/queue/run.sh drives it).
//
//   queue_bench --database URL --enqueue N      migrate, queue N "noop" jobs
//   queue_bench --database URL --drain          claim and succeed "noop" jobs
//                                               until none is left; prints the
//                                               count and seconds as JSON
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "core/ids.h"
#include "db/migrations.h"
#include "jobs/events.h"
#include "jobs/job_queue.h"

int main(int argc, char** argv) {
  using namespace cutroom;
  CLI::App app{"queue_bench"};
  std::string url;
  int enqueue = 0;
  bool drain = false;
  app.add_option("--database", url, "sqlite://PATH or postgresql://...")->required();
  app.add_option("--enqueue", enqueue, "queue this many no-op jobs");
  app.add_flag("--drain", drain, "claim and complete jobs until the queue is empty");
  CLI11_PARSE(app, argc, argv);

  Env* env = Env::Default();
  IdGenerator ids(env);
  auto db = db::Database::Open(url, env, {});
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  jobs::EventLog events(db->get(), env);
  jobs::JobQueue queue(db->get(), env, &ids, &events);
  if (enqueue > 0) {
    auto migrated = db::Migrate(**db, env);
    if (!migrated.ok()) {
      std::fprintf(stderr, "%s\n", migrated.status().ToString().c_str());
      return 1;
    }
    for (int i = 0; i < enqueue; ++i) {
      jobs::EnqueueRequest r;
      r.kind = "noop";
      auto job = queue.Enqueue(r);
      if (!job.ok()) {
        std::fprintf(stderr, "%s\n", job.status().ToString().c_str());
        return 1;
      }
    }
  }
  if (drain) {
    const std::string worker = "bench:" + std::to_string(::getpid());
    int done = 0, empty_in_a_row = 0;
    auto start = std::chrono::steady_clock::now();
    // Two empty claims in a row: another process may still be finishing
    // the last jobs, but none is left to claim.
    while (empty_in_a_row < 2) {
      auto claimed = queue.Claim(worker, {"noop"}, 30'000);
      if (!claimed.ok()) {
        std::fprintf(stderr, "claim: %s\n", claimed.status().ToString().c_str());
        return 1;
      }
      if (!claimed->has_value()) {
        ++empty_in_a_row;
        continue;
      }
      empty_in_a_row = 0;
      Status st = queue.Succeed(**claimed, worker, nlohmann::json::object());
      if (!st.ok()) {
        std::fprintf(stderr, "succeed: %s\n", st.ToString().c_str());
        return 1;
      }
      ++done;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"done\": %d, \"seconds\": %.3f}\n", done, secs);
  }
  return 0;
}
