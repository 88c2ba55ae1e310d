#include "api/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "core/metrics.h"

namespace cutroom::api {
namespace {

thread_local int64_t t_request_start_us = 0;

constexpr const char* kExposedHeaders =
    "Upload-Offset, Location, Upload-Length, Upload-Expires, Upload-Metadata, Upload-Defer-Length, Upload-Concat, "
    "Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm, Cutroom-Video-Id, "
    "X-Request-Id";

bool IsSaneRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

Status ParseListenAddress(const std::string& listen, std::string& host, int& port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::InvalidArgument("listen address must be HOST:PORT, got '" + listen + "'");
  }
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char* end = nullptr;
  long p = std::strtol(listen.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || p < 0 || p > 65535) {
    return Status::InvalidArgument("listen port must be 0-65535, got '" + listen.substr(colon + 1) + "'");
  }
  port = static_cast<int>(p);
  return Status::Ok();
}

ApiServer::ApiServer(ServerDeps deps)
    : deps_(deps),
      keys_(deps.db, deps.env, deps.ids),
      ingest_(ingest::IngestDeps{deps.env, deps.db, deps.blobs, deps.ids,
                                 static_cast<uint64_t>(deps.config->GetInt("ingest.max_upload_bytes")),
                                 [this](const db::MediaRow& media) { OnMediaReady(media); },
                                 ingest::MediaLimits::FromConfig(*deps.config)}) {
  RegisterRoutes();
}

ApiServer::~ApiServer() {
  if (metrics_collector_) Metrics::Global().RemoveCollector(metrics_collector_);
  Stop();
  if (sweeper_.joinable()) sweeper_.join();
}

Status ApiServer::InitIngest() {
  CUTROOM_ASSIGN_OR_RETURN(auto policy, ingest::AddressPolicy::FromConfig(*deps_.config));
  fetcher_ = std::make_unique<ingest::UrlFetcher>(std::move(policy));
  importer_ = std::make_unique<ingest::UrlImporter>(&ingest_, fetcher_.get());
  ingest::TusOptions tus;
  tus.staging_dir = deps_.config->GetString("storage.data_dir") + "/uploads";
  tus.max_size = static_cast<uint64_t>(deps_.config->GetInt("ingest.max_upload_bytes"));
  tus.expiry_ms = deps_.config->GetInt("ingest.upload_expiry_s") * 1000;
  tus.durable_every = static_cast<uint64_t>(std::clamp<int64_t>(deps_.config->GetInt("ingest.upload_durable_every_mb"), 1, 1 << 20)) << 20;
  tus_ = std::make_unique<ingest::TusService>(&ingest_, tus);
  CUTROOM_RETURN_IF_ERROR(tus_->Init());
  return Status::Ok();
}

void ApiServer::SweepLoop() {
  auto interval = std::chrono::seconds(std::max<int64_t>(1, deps_.config->GetInt("ingest.sweep_interval_s")));
  std::unique_lock lock(sweep_mu_);
  while (!stopping_) {
    lock.unlock();
    auto swept = tus_->SweepExpired();
    if (!swept.ok()) spdlog::warn("upload sweep failed: {}", swept.status().ToString());
    lock.lock();
    sweep_cv_.wait_for(lock, interval, [this] { return stopping_.load(); });
  }
}

Result<std::string> ApiServer::Authenticate(const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  if (!header.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
      return Status::Unauthenticated("the Authorization header must be 'Bearer KEY'");
    }
    return keys_.Authenticate(header.substr(kBearer.size()));
  }
  // Browsers load media URLs themselves, without headers: those carry a
  // read-only token (see MediaTokens), honoured only on GET and HEAD.
  if ((req.method == "GET" || req.method == "HEAD") && req.has_param("access_token") && media_tokens_) {
    return media_tokens_->Verify(req.get_param_value("access_token"), deps_.env->NowMs());
  }
  if (loopback_) {
    CUTROOM_ASSIGN_OR_RETURN(bool any_key, keys_.AnyActiveKey());
    if (!any_key) return std::string(db::kLocalOwnerId);
  }
  return Status::Unauthenticated(
      "an API key is required: send 'Authorization: Bearer KEY' (create one with `cutroom keys create --owner NAME`)");
}

void ApiServer::RegisterRoutes() {
  router_.SetAuthenticator([this](const httplib::Request& req) { return Authenticate(req); });
  router_.SetMaxBodyBytes(static_cast<size_t>(deps_.config->GetInt("server.max_body_bytes")));
  rate_limiter_ = std::make_unique<RateLimiter>(deps_.config->GetInt("limits.requests_per_minute"));
  upload_slots_ = std::make_unique<UploadSlots>(deps_.config->GetInt("limits.concurrent_uploads"));
  router_.SetThrottle([this](const std::string& owner) -> std::optional<double> {
    // Local mode is one person on their own machine.
    if (owner == db::kLocalOwnerId) return std::nullopt;
    return rate_limiter_->Take(owner, std::chrono::steady_clock::now());
  });

  router_.Add({"GET", "/healthz", "Liveness: the process answers", RouteAuth::kPublic,
               [](RequestContext& ctx) {
                 WriteJson(ctx.res, 200, {{"status", "ok"}});
                 return Status::Ok();
               }});
  router_.Add({"GET", "/readyz", "Readiness: database reachable and storage writable", RouteAuth::kPublic,
               [this](RequestContext& ctx) {
                 Status db = deps_.db->Ping();
                 Status storage = deps_.blobs->CheckWritable();
                 nlohmann::json checks = {
                     {"database", db.ok() ? "ok" : db.ToString()},
                     {"storage", storage.ok() ? "ok" : storage.ToString()},
                 };
                 if (db.ok() && storage.ok()) {
                   WriteJson(ctx.res, 200, {{"status", "ready"}, {"checks", checks}});
                 } else {
                   WriteError(ctx.res, {503, "not_ready", "cutroom is not ready to serve requests", {{"checks", checks}}});
                 }
                 return Status::Ok();
               }});
  router_.Add({"GET", "/api/openapi.json", "This document", RouteAuth::kPublic, [this](RequestContext& ctx) {
                 nlohmann::json doc = {
                     {"openapi", "3.0.3"},
                     {"info", {{"title", "cutroom API"}, {"version", "0.1.0"}}},
                     {"paths", router_.OpenApiPaths()},
                     {"components",
                      {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
                       {"schemas",
                        {{"Error",
                          {{"type", "object"},
                           {"properties",
                            {{"error",
                              {{"type", "object"},
                               {"required", {"code", "message", "details"}},
                               {"properties",
                                {{"code", {{"type", "string"}}},
                                 {"message", {{"type", "string"}}},
                                 {"details", {{"type", "object"}}}}}}}}}}}}}}},
                 };
                 WriteJson(ctx.res, 200, doc);
                 return Status::Ok();
               }});
  RegisterVideoRoutes();
  RegisterUploadRoutes();
  RegisterTusRoutes();
  RegisterJobRoutes();
  RegisterAssetRoutes();
  RegisterAnalysisRoutes();
  RegisterClipRoutes();
  RegisterAiEditRoutes();
  RegisterRetentionRoutes();
  RegisterWebRoutes();
}

std::optional<UploadSlots::Slot> ApiServer::TakeUploadSlot(RequestContext& ctx) {
  if (ctx.owner_id == db::kLocalOwnerId) return UploadSlots::Slot(nullptr, "");
  auto slot = upload_slots_->Acquire(ctx.owner_id);
  if (!slot) {
    ctx.res.set_header("Retry-After", "5");
    WriteError(ctx.res, {429, "too_many_uploads",
                         "too many uploads at once from this key (limits.concurrent_uploads); finish or pause one "
                         "and try again",
                         {{"retry_after_s", 5}}});
  }
  return slot;
}

void ApiServer::RegisterWebRoutes() {
  router_.Add({"GET", "/api/media-token",
               "A read-only token for URLs the browser loads itself: append ?access_token= (valid one hour)",
               RouteAuth::kOwner, [this](RequestContext& ctx) {
                 if (!media_tokens_) return Status::Unavailable("media tokens are not set up");
                 MediaToken token = media_tokens_->Issue(ctx.owner_id, deps_.env->NowMs());
                 ctx.res.set_header("Cache-Control", "no-store");
                 WriteJson(ctx.res, 200,
                           {{"token", token.token},
                            {"expires_at", FormatTimestamp(token.expires_at_ms)},
                            {"expires_in_s", MediaTokens::kLifetimeMs / 1000}});
                 return Status::Ok();
               }});
  router_.SetFallback([this](const httplib::Request& req, httplib::Response& res) { return web_ui_.Serve(req, res); });
}

void ApiServer::Handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
  std::string id = req.get_header_value("X-Request-Id");
  if (!IsSaneRequestId(id)) id = deps_.ids->Next(kRequestIdPrefix);
  SetCurrentRequestId(id);
  t_request_start_us = deps_.env->MonotonicMicros();
  res.set_header("X-Request-Id", id);
  // CORS on every response, errors included: keys travel in the
  // Authorization header, never in cookies, so any origin may call.
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_header("Access-Control-Expose-Headers", kExposedHeaders);
  if (req.path.rfind("/api/uploads", 0) == 0) res.set_header("Tus-Resumable", "1.0.0");
  try {
    router_.Dispatch(req, res, reader);
  } catch (const std::exception& e) {
    spdlog::error("unhandled exception in {} {}: {}", req.method, req.path, e.what());
    std::string keep_id = res.get_header_value("X-Request-Id");
    res = httplib::Response();
    res.set_header("X-Request-Id", keep_id);
    res.set_header("Access-Control-Allow-Origin", "*");
    WriteError(res, {500, "internal", "the server failed to handle the request"});
  }
  // A bare error status from anywhere still answers in the JSON shape.
  if (res.status >= 400 && res.body.empty() && !res.content_provider_) WriteError(res, ApiErrorForBareStatus(res.status));
}

Status ApiServer::PrepareForTesting() {
  CUTROOM_RETURN_IF_ERROR(InitIngest());
  CUTROOM_ASSIGN_OR_RETURN(MediaTokens tokens, MediaTokens::Open(deps_.env, *deps_.config));
  media_tokens_.emplace(std::move(tokens));
  return Status::Ok();
}

Status ApiServer::Bind(const std::string& host, int port) {
  loopback_ = IsLoopbackHost(host);
  if (!loopback_) {
    CUTROOM_ASSIGN_OR_RETURN(bool any_key, keys_.AnyActiveKey());
    if (!any_key) {
      return Status::FailedPrecondition("refusing to listen on " + host +
                                        " without API keys: anyone on the network could use this server. Create a "
                                        "key first with `cutroom keys create --owner NAME`, or listen on 127.0.0.1.");
    }
  }
  host_ = host;
  CUTROOM_RETURN_IF_ERROR(InitIngest());
  if (!metrics_collector_) CUTROOM_RETURN_IF_ERROR(RegisterMetricsRoute());
  CUTROOM_ASSIGN_OR_RETURN(MediaTokens tokens, MediaTokens::Open(deps_.env, *deps_.config));
  media_tokens_.emplace(std::move(tokens));
  web_ui_ = WebUi(WebUi::Locate(*deps_.config));
  if (web_ui_.dir().empty()) {
    spdlog::info("no built web UI found (server.web_dir): / explains how to build it");
  } else {
    spdlog::info("web UI from {}", web_ui_.dir());
  }
  const Config& config = *deps_.config;
  auto seconds = [&config](const char* key) { return static_cast<int>(std::max<int64_t>(1, config.GetInt(key)) * 1000); };
  http::ServerOptions options;
  options.core_threads = static_cast<size_t>(std::max<int64_t>(2, config.GetInt("server.threads")));
  options.max_threads = std::max(options.core_threads, static_cast<size_t>(std::max<int64_t>(1, config.GetInt("server.max_threads"))));
  options.max_connections = static_cast<size_t>(std::max<int64_t>(16, config.GetInt("server.max_connections")));
  options.max_body_streams = static_cast<size_t>(std::max<int64_t>(1, config.GetInt("server.max_upload_streams")));
  options.header_timeout_ms = seconds("server.header_timeout_s");
  options.keep_alive_ms = seconds("server.keep_alive_s");
  options.write_timeout_ms = seconds("server.write_timeout_s");
  options.min_body_rate = static_cast<uint64_t>(std::max<int64_t>(0, config.GetInt("server.min_upload_rate")));
  options.body_rate_window_ms = seconds("server.upload_rate_window_s");
  // Routes enforce their own limits (and answer 413 in the JSON shape);
  // the server's limit is only a backstop above the largest of them.
  uint64_t max_upload = static_cast<uint64_t>(config.GetInt("ingest.max_upload_bytes"));
  uint64_t max_body = static_cast<uint64_t>(config.GetInt("server.max_body_bytes"));
  options.max_body_bytes = std::max(max_upload + (1 << 20), max_body);

  Env* env = deps_.env;
  auto handler = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    Handle(req, res, reader);
  };
  auto logger = [env](const httplib::Request& req, const httplib::Response& res) {
    double ms = t_request_start_us ? (env->MonotonicMicros() - t_request_start_us) / 1000.0 : 0.0;
    LogEvent(spdlog::level::info, "http",
             {{"request_id", CurrentRequestId()},
              {"method", req.method},
              {"path", req.path},
              {"status", res.status},
              {"duration_ms", std::round(ms * 100) / 100},
              {"remote", req.remote_addr}});
    SetCurrentRequestId("");
    t_request_start_us = 0;
  };
  http_ = std::make_unique<http::Server>(options, handler, logger);
  auto bound = http_->Bind(host, port);
  if (!bound.ok()) {
    http_.reset();
    return bound.status();
  }
  port_ = *bound;
  return Status::Ok();
}

Status ApiServer::Run() {
  spdlog::info("listening on http://{}:{} ({} mode)", host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_,
               port_, loopback_ ? "local" : "network");
  stopping_ = false;
  sweeper_ = std::thread([this] { SweepLoop(); });
  Status served = http_ ? http_->Run() : Status::FailedPrecondition("the server is not bound");
  {
    std::lock_guard lock(sweep_mu_);
    stopping_ = true;
  }
  sweep_cv_.notify_all();
  sweeper_.join();
  return served;
}

void ApiServer::Stop() {
  {
    std::lock_guard lock(sweep_mu_);
    stopping_ = true;
  }
  sweep_cv_.notify_all();
  if (http_) http_->Stop();
}

}  // namespace cutroom::api
