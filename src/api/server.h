// ApiServer: cutroom's HTTP API on http::Server (see src/http/server.h).
//
// Owns the route table and the listening socket. Every request gets a
// request id (X-Request-Id, echoed or generated), an access-log line, the
// auth step, and JSON errors. Stop() stops accepting, lets in-flight
// requests finish, then returns; Run() returns once the server has stopped.
// Thread-safety: Start/Run/Stop may be called from different threads; Stop is
// safe from a signal-handling thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/limits.h"
#include "api/media_token.h"
#include "api/web_ui.h"
#include "api/router.h"
#include "http/server.h"
#include "core/config.h"
#include "core/ids.h"
#include "db/database.h"
#include "ingest/ingest_service.h"
#include "ingest/tus_service.h"
#include "ingest/url_import.h"
#include "jobs/job_queue.h"
#include "storage/blob_store.h"

namespace cutroom::api {

struct ServerDeps {
  Env* env;
  const Config* config;
  db::Database* db;
  storage::BlobStore* blobs;
  IdGenerator* ids;
  jobs::JobQueue* queue;
  // Wakes this process's workers after an enqueue (may be empty).
  std::function<void()> notify_workers;
};

class ApiServer {
 public:
  explicit ApiServer(ServerDeps deps);
  ~ApiServer();

  // Binds host:port (port 0 picks a free one). Refuses a non-loopback
  // address when no API key exists (FailedPrecondition, saying how to create
  // one); Unavailable when the address is taken.
  Status Bind(const std::string& host, int port);
  int port() const { return port_; }

  // Serves until Stop(). REQUIRES: Bind() succeeded.
  Status Run();
  void Stop();

  // In-process requests without a socket, for fuzzing (fuzz/targets.cc):
  // PrepareForTesting sets up what the routes need from Bind (URL import,
  // tus, media tokens; not /metrics or the web UI), and HandleForTesting
  // answers one request exactly as the HTTP handler does.
  Status PrepareForTesting();
  void HandleForTesting(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    Handle(req, res, reader);
  }

 private:
  void RegisterRoutes();
  // The HTTP handler: request id, CORS, the router, JSON errors.
  void Handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);
  void RegisterVideoRoutes();
  void RegisterUploadRoutes();
  void RegisterTusRoutes();
  void RegisterJobRoutes();
  void RegisterAssetRoutes();
  void RegisterAnalysisRoutes();
  void RegisterClipRoutes();
  void RegisterAiEditRoutes();
  void RegisterRetentionRoutes();
  void RegisterWebRoutes();
  // GET /metrics (needs server.metrics_allow, which can be wrong).
  Status RegisterMetricsRoute();
  // Streams a blob with HTTP Range support (checked here, sliced by the server).
  Status StreamBlob(RequestContext& ctx, const std::string& key, const std::string& mime);
  // Queues the thumbnails stage for newly ready media.
  void OnMediaReady(const db::MediaRow& media);
  Result<std::string> Authenticate(const httplib::Request& req);
  // Sets up URL import and tus (they need configuration that can be wrong).
  Status InitIngest();
  void SweepLoop();

  ServerDeps deps_;
  KeyService keys_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::unique_ptr<UploadSlots> upload_slots_;
  // An upload slot for the owner (local mode: always), or nullopt after
  // answering 429 too_many_uploads.
  std::optional<UploadSlots::Slot> TakeUploadSlot(RequestContext& ctx);
  std::optional<MediaTokens> media_tokens_;  // set by Bind
  WebUi web_ui_{""};                         // set by Bind
  int metrics_collector_ = 0;                // set by Bind
  ingest::IngestService ingest_;
  std::unique_ptr<ingest::UrlFetcher> fetcher_;
  std::unique_ptr<ingest::UrlImporter> importer_;
  std::unique_ptr<ingest::TusService> tus_;
  std::atomic<bool> stopping_{false};
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  std::thread sweeper_;
  Router router_;
  std::unique_ptr<http::Server> http_;  // made by Bind
  std::string host_;
  int port_ = 0;
  bool loopback_ = true;
};

// Splits "host:port" ("[::1]:8080" for IPv6). InvalidArgument when malformed.
Status ParseListenAddress(const std::string& listen, std::string& host, int& port);

}  // namespace cutroom::api
