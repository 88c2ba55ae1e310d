// A worker process for the multi-process tests: a real WorkerPool on a
// shared SQLite database with two test job kinds.
//   test_worker DB_PATH LEASE_MS
// "record" appends a row to test_runs; "slow" works for 4 s (checking for
// cancellation) and then records. Both are idempotent: a re-run replaces
// its own row. Runs until SIGTERM.
#include <signal.h>

#include <cstdio>
#include <thread>

#include "db/migrations.h"
#include "jobs/worker_pool.h"

using namespace cutroom;

namespace {

Status Record(jobs::JobContext& ctx) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a little work, so both pools get some
  const auto& s = ctx.services();
  return s.db->Transaction([&](db::DbSession& tx) -> Status {
    CUTROOM_RETURN_IF_ERROR(tx.Execute("DELETE FROM test_runs WHERE job_id = ?", {ctx.job().job_id}).status());
    return tx.Execute("INSERT INTO test_runs(job_id, worker) VALUES (?, ?)",
                      {ctx.job().job_id, *ctx.job().locked_by})
        .status();
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: test_worker DB_PATH LEASE_MS\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Env* env = Env::Default();
  IdGenerator ids(env);
  auto db = db::Database::Open(std::string("sqlite://") + argv[1], env, {});
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  Config config = Config::Defaults();
  jobs::EventLog events(db->get(), env);
  jobs::JobQueue queue(db->get(), env, &ids, &events);
  jobs::WorkerPoolOptions options;
  options.workers = 2;
  options.poll_ms = 20;
  options.lease_ms = std::atoll(argv[2]);
  jobs::WorkerPool pool(&queue, jobs::JobServices{env, db->get(), nullptr, &ids, &config}, options);
  pool.Register("record", Record);
  pool.Register("slow", [](jobs::JobContext& ctx) -> Status {
    for (int i = 0; i < 400; ++i) {
      CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());
      ctx.SetProgress(i / 400.0);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Record(ctx);
  });
  pool.Start();
  std::fprintf(stderr, "ready %s\n", pool.id().c_str());
  std::fflush(stderr);
  int sig = 0;
  sigwait(&signals, &sig);
  pool.Stop();
  return 0;
}
