// cutroom serve (HTTP API plus workers) and cutroom worker (workers only).
#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <thread>

#include "api/server.h"
#include "cli/commands.h"

namespace cutroom::cli {
namespace {

// Blocks SIGINT and SIGTERM in this thread and every thread it starts; one
// thread then waits for them with sigwait, so shutdown runs as ordinary code
// rather than in a signal handler.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int Serve(Runtime& rt) {
  sigset_t signals = BlockShutdownSignals();

  Status st = OpenRuntime(rt);
  if (!st.ok()) return ReportError(st);

  std::string host;
  int port = 0;
  st = api::ParseListenAddress(rt.config.GetString("server.listen"), host, port);
  if (!st.ok()) return ReportError(st);

  jobs::WorkerPool& workers = MakeWorkers(rt);
  api::ApiServer server({rt.env, &rt.config, rt.db.get(), rt.blobs.get(), rt.ids.get(), rt.queue.get(),
                         [&workers] { workers.Notify(); }});
  st = server.Bind(host, port);
  if (!st.ok()) return ReportError(st);
  if (rt.config.GetInt("workers.count") > 0) workers.Start();

  std::thread waiter([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("received {}, finishing in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    server.Stop();
  });
  st = server.Run();
  // Wake the waiter if the server stopped for another reason.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  workers.Stop();  // running jobs finish within the grace period or go back to the queue
  if (!st.ok()) return ReportError(st);
  spdlog::info("stopped");
  return 0;
}

// Workers only, for scale-out: same database and storage, no HTTP.
int Worker(Runtime& rt) {
  sigset_t signals = BlockShutdownSignals();
  Status st = OpenRuntime(rt);
  if (!st.ok()) return ReportError(st);
  jobs::WorkerPool& workers = MakeWorkers(rt);
  workers.Start();
  spdlog::info("worker {} running {} thread(s)", workers.id(), rt.config.GetInt("workers.count"));
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, finishing running jobs", sig == SIGINT ? "SIGINT" : "SIGTERM");
  workers.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand("serve", "serve the REST API on server.listen (default 127.0.0.1:8080) with workers");
  table.Add(sub, Serve);
  auto* worker = app.add_subcommand("worker", "run background workers only (scale-out)");
  table.Add(worker, Worker);
}

}  // namespace cutroom::cli
