// Jobs, processing logs, pipeline triggers and Server-Sent Events.
#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "api/dto.h"
#include "api/import_job.h"
#include "api/paging.h"
#include "api/server.h"
#include "core/json_numbers.h"
#include "db/tables.h"
#include "analysis/stages.h"
#include "jobs/pipeline.h"

namespace cutroom::api {
namespace {

Result<db::JobRow> OwnedJob(db::Repositories& repos, const std::string& job_id, const std::string& owner) {
  auto job = repos.jobs.Get(job_id);
  if (!job.ok() || job->owner_id.value_or("") != owner) return Status::NotFound("job " + job_id + " does not exist");
  return job;
}

Status RequireOwnedMedia(db::Repositories& repos, const std::string& video_id, const std::string& owner) {
  return OwnedMedia(repos, video_id, owner).status();
}

uint64_t ContentLengthOf(const httplib::Request& req) {
  return req.has_header("Content-Length") ? std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10)
                                          : 0;
}

std::string SseEvent(const jobs::JobEvent& e) {
  nlohmann::json data = e.data;
  TidyJsonNumbers(data);
  return "id: " + std::to_string(e.id) + "\nevent: " + e.type + "\ndata: " + db::JsonText(data) + "\n\n";
}

}  // namespace

void ApiServer::OnMediaReady(const db::MediaRow& media) {
  QueueFollowUpStages(deps_.queue, media);
  if (deps_.notify_workers) deps_.notify_workers();
}

void ApiServer::RegisterJobRoutes() {
  router_.Add({"GET", "/api/jobs/{job_id}", "One job", RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto job, OwnedJob(repos, ctx.Param("job_id"), ctx.owner_id));
                 WriteJson(ctx.res, 200, JobJson(job));
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/jobs", "List jobs (filter by video_id and status; paged)", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(int64_t limit, PageLimit(ctx, 50));
                 db::ListQuery q{.limit = limit, .newest_first = true};
                 q.where.push_back({"owner_id", ctx.owner_id});
                 if (auto v = ctx.Query("video_id")) q.where.push_back({"video_id", *v});
                 CUTROOM_RETURN_IF_ERROR(
                     ApplyEnumFilter(ctx, "status", {"queued", "running", "succeeded", "failed", "cancelled"}, q));
                 CUTROOM_RETURN_IF_ERROR(ApplyCursor(ctx, kJobIdPrefix, q));
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto page, repos.jobs.List(q));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& j : page.items) items.push_back(JobJson(j));
                 WriteJson(ctx.res, 200,
                           {{"jobs", items},
                            {"next_cursor", NextCursor(page.next_cursor)}});
                 return Status::Ok();
               }});

  router_.Add({"POST", "/api/jobs/{job_id}/cancel", "Cancel a job (queued: at once; running: within a second)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 CUTROOM_ASSIGN_OR_RETURN(auto job, deps_.queue->Cancel(ctx.Param("job_id"), ctx.owner_id));
                 WriteJson(ctx.res, 200, JobJson(job));
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/logs", "Processing logs of a video (oldest first; paged)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(RequireOwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(int64_t limit, PageLimit(ctx, 100));
                 db::ListQuery q{.limit = limit};
                 q.where.push_back({"video_id", ctx.Param("video_id")});
                 if (auto j = ctx.Query("job_id")) q.where.push_back({"job_id", *j});
                 CUTROOM_RETURN_IF_ERROR(ApplyCursor(ctx, kLogIdPrefix, q));
                 CUTROOM_ASSIGN_OR_RETURN(auto page, repos.processing_logs.List(q));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& l : page.items) {
                   items.push_back({{"log_id", l.log_id}, {"job_id", l.job_id.value_or("")}, {"stage", l.stage},
                                    {"level", l.level}, {"message", l.message}, {"data", l.data}, {"ts", l.ts}});
                 }
                 WriteJson(ctx.res, 200,
                           {{"video_id", ctx.Param("video_id")},
                            {"logs", items},
                            {"next_cursor", NextCursor(page.next_cursor)}});
                 return Status::Ok();
               }});

  router_.Add({"POST", "/api/videos/{video_id}/process/{stage}",
               "Run one analysis stage, or 'all' of them with their dependencies", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 const std::string& stage = ctx.Param("stage");
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(RequireOwnedMedia(repos, video_id, ctx.owner_id));
                 auto media = repos.media.Get(video_id);
                 if (media->status != "ready") {
                   WriteError(ctx.res, {409, "not_ready", "video " + video_id + " is " + media->status +
                                                              "; it can be processed once it is ready"});
                   return Status::Ok();
                 }
                 std::vector<std::string> only;
                 if (stage != "all") {
                   const jobs::Stage* s = jobs::FindStage(stage);
                   if (!s) return Status::NotFound("no stage '" + stage + "'");
                   if (!s->available) {
                     WriteError(ctx.res, {501, "stage_not_available", s->note, {{"stage", stage}}});
                     return Status::Ok();
                   }
                   only.push_back(stage);
                 }
                 // Optional JSON body: the stage's parameters (for one stage) or
                 // {"stage": {...}} per stage (for all).
                 nlohmann::json params = nlohmann::json::object();
                 if (ContentLengthOf(ctx.req) > 0) {
                   CUTROOM_ASSIGN_OR_RETURN(auto body, ctx.ReadJson());
                   params = stage == "all" ? body : nlohmann::json{{stage, body}};
                 }
                 const bool has_video = media->media_type.value_or("video") != "audio";
                 for (const auto& s : jobs::PipelineStages()) {
                   if (stage != "all" && s.name != stage) continue;
                   // process/all skips what needs a picture on audio-only media.
                   if (stage == "all" && (!s.available || (s.needs_video && !has_video))) continue;
                   Status valid = analysis::ValidateStageParams(
                       s.name, params.value(s.name, nlohmann::json::object()), *deps_.config, has_video);
                   if (valid.ok()) continue;
                   const std::string& msg = valid.message();
                   if (valid.code() == StatusCode::kNotSupported && s.name == "transcription") {
                     std::string code = msg.find("cannot transcribe") != std::string::npos ? "unsupported_language"
                                        : msg.find("not configured") != std::string::npos ? "engine_not_configured"
                                                                                          : "unsupported_engine";
                     WriteError(ctx.res, {422, code, msg,
                                          {{"languages", {"en"}}, {"engines", {"pocketsphinx", "openai", "videodb"}}}});
                     return Status::Ok();
                   }
                   if (valid.code() == StatusCode::kFailedPrecondition && msg.rfind("llm_not_configured", 0) == 0) {
                     WriteError(ctx.res, {422, "llm_not_configured", msg, {{"stage", s.name}}});
                     return Status::Ok();
                   }
                   if (valid.code() == StatusCode::kInvalidArgument && msg.find("no video stream") != std::string::npos) {
                     WriteError(ctx.res, {422, "no_video_stream", "video " + video_id + ": " + msg, {{"stage", s.name}}});
                     return Status::Ok();
                   }
                   return valid.WithContext(s.name + " parameters");
                 }
                 CUTROOM_RETURN_IF_ERROR(CheckQueueRoom(*deps_.db, *deps_.config, ctx.owner_id,
                                                        stage == "all" ? static_cast<int>(jobs::PipelineStages().size())
                                                                       : 1));
                 CUTROOM_ASSIGN_OR_RETURN(auto plan,
                                          jobs::EnqueuePipeline(*deps_.queue, video_id, ctx.owner_id, only, params,
                                                                jobs::PipelineMedia{has_video}));
                 if (deps_.notify_workers) deps_.notify_workers();
                 nlohmann::json stages = nlohmann::json::array();
                 for (const auto& p : plan) {
                   nlohmann::json s = {{"stage", p.stage}};
                   if (p.skipped.empty()) {
                     s["job_id"] = p.job_id;
                     s["processing_id"] = p.processing_id;
                   } else {
                     s["skipped"] = p.skipped;
                   }
                   stages.push_back(s);
                 }
                 nlohmann::json body = {{"video_id", video_id}, {"stages", stages}};
                 if (stage != "all" && !plan.empty()) {
                   body["job_id"] = plan[0].job_id;
                   body["processing_id"] = plan[0].processing_id;
                 }
                 WriteJson(ctx.res, 202, body);
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/events", "Server-Sent Events: job status and progress (filter by video_id)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 std::string video_id = ctx.Query("video_id").value_or("");
                 int64_t last_id = -1;
                 std::string resume = ctx.req.get_header_value("Last-Event-ID");
                 if (resume.empty()) resume = ctx.Query("last_event_id").value_or("");
                 if (!resume.empty()) {
                   if (resume.find_first_not_of("0123456789") != std::string::npos || resume.size() > 18) {
                     return Status::InvalidArgument("Last-Event-ID must be an event id");
                   }
                   last_id = std::stoll(resume);
                 } else {
                   CUTROOM_ASSIGN_OR_RETURN(last_id, deps_.queue->events()->LatestId());
                 }
                 struct Stream {
                   int64_t last_id;
                   int64_t last_write_us;
                   bool started = false;
                 };
                 auto stream = std::make_shared<Stream>(Stream{last_id, deps_.env->MonotonicMicros()});
                 std::string owner = ctx.owner_id;
                 ctx.res.set_header("Cache-Control", "no-cache");
                 ctx.res.set_header("X-Accel-Buffering", "no");
                 ctx.res.set_chunked_content_provider(
                     "text/event-stream", [this, stream, owner, video_id](size_t, httplib::DataSink& sink) {
                       if (stopping_) {
                         sink.done();
                         return true;
                       }
                       std::string out;
                       if (!stream->started) {
                         out += "retry: 2000\n\n";
                         stream->started = true;
                       }
                       auto events = deps_.queue->events()->Since(stream->last_id, owner, video_id, 200);
                       if (events.ok()) {
                         for (const auto& e : *events) {
                           out += SseEvent(e);
                           stream->last_id = e.id;
                         }
                       }
                       int64_t now = deps_.env->MonotonicMicros();
                       if (out.empty() && now - stream->last_write_us >= 15'000'000) out = ": keep-alive\n\n";
                       if (!out.empty()) {
                         if (!sink.write(out.data(), out.size())) return false;
                         stream->last_write_us = now;
                       }
                       if (!sink.is_writable()) return false;
                       if (events.ok() && events->size() < 200) {
                         std::this_thread::sleep_for(std::chrono::milliseconds(200));
                       }
                       return true;
                     });
                 return Status::Ok();
               }});
}

void ApiServer::RegisterAssetRoutes() {
  auto asset_json = [](const db::VideoAssetRow& a) {
    return nlohmann::json{{"asset_id", a.asset_id},
                          {"kind", a.kind},
                          {"mime_type", a.mime_type ? nlohmann::json(*a.mime_type) : nlohmann::json(nullptr)},
                          {"size_bytes", a.size_bytes ? nlohmann::json(*a.size_bytes) : nlohmann::json(nullptr)},
                          {"width", a.width ? nlohmann::json(*a.width) : nlohmann::json(nullptr)},
                          {"height", a.height ? nlohmann::json(*a.height) : nlohmann::json(nullptr)},
                          {"metadata", a.metadata},
                          {"url", "/api/videos/" + a.video_id + "/assets/" + a.asset_id},
                          {"created_at", a.created_at}};
  };
  auto stream_blob = [this](RequestContext& ctx, const std::string& key, const std::string& mime) {
    return StreamBlob(ctx, key, mime);
  };

  router_.Add({"GET", "/api/videos/{video_id}/assets", "Derived files of a video (thumbnails, sprites, ...)",
               RouteAuth::kOwner, [this, asset_json](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(RequireOwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 db::ListQuery q{.limit = 1000};
                 q.where.push_back({"video_id", ctx.Param("video_id")});
                 if (auto k = ctx.Query("kind")) q.where.push_back({"kind", *k});
                 CUTROOM_ASSIGN_OR_RETURN(auto page, repos.video_assets.List(q));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& a : page.items) items.push_back(asset_json(a));
                 WriteJson(ctx.res, 200, {{"video_id", ctx.Param("video_id")}, {"assets", items}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/assets/{asset_id}", "An asset's bytes (HTTP Range supported)",
               RouteAuth::kOwner, [this, stream_blob](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(RequireOwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 auto asset = repos.video_assets.Get(ctx.Param("asset_id"));
                 if (!asset.ok() || asset->video_id != ctx.Param("video_id")) {
                   return Status::NotFound("asset " + ctx.Param("asset_id") + " does not exist");
                 }
                 return stream_blob(ctx, asset->storage_key, asset->mime_type.value_or("application/octet-stream"));
               }});

  router_.Add({"GET", "/api/videos/{video_id}/thumbnail", "The poster frame (JPEG)", RouteAuth::kOwner,
               [this, stream_blob](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_RETURN_IF_ERROR(RequireOwnedMedia(repos, ctx.Param("video_id"), ctx.owner_id));
                 db::ListQuery q{.limit = 1, .newest_first = true};
                 q.where = {{"video_id", ctx.Param("video_id")}, {"kind", std::string("thumbnail")}};
                 CUTROOM_ASSIGN_OR_RETURN(auto page, repos.video_assets.List(q));
                 if (page.items.empty()) {
                   return Status::NotFound("video " + ctx.Param("video_id") + " has no thumbnail yet");
                 }
                 return stream_blob(ctx, page.items[0].storage_key, "image/jpeg");
               }});

  router_.Add({"GET", "/api/videos/{video_id}/stream", "The original media (HTTP Range supported)", RouteAuth::kOwner,
               [this, stream_blob](RequestContext& ctx) -> Status {
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 auto media = repos.media.Get(ctx.Param("video_id"));
                 if (!media.ok() || media->owner_id != ctx.owner_id) {
                   return Status::NotFound("video " + ctx.Param("video_id") + " does not exist");
                 }
                 if (!media->storage_key && media->status == "ready" && media->source_type == "reference" &&
                     media->source_url) {
                   // A URL reference is not stored: the player reads it where it lives.
                   ctx.res.status = 302;
                   ctx.res.set_header("Location", *media->source_url);
                   ctx.res.set_header("Cache-Control", "no-store");
                   return Status::Ok();
                 }
                 if (!media->storage_key || media->status != "ready") {
                   return Status::NotFound("video " + ctx.Param("video_id") + " has no stored file");
                 }
                 Status st = stream_blob(ctx, *media->storage_key, media->mime_type.value_or("application/octet-stream"));
                 if (st.IsNotFound()) {
                   // The row says ready but the file is gone: removed outside cutroom.
                   WriteError(ctx.res, {410, "source_missing",
                                        "the stored file of video " + media->video_id + " (" + *media->storage_key +
                                            ") is missing: it was removed outside cutroom (`cutroom fsck` lists such "
                                            "media; `cutroom fsck --repair` marks them failed)"});
                   return Status::Ok();
                 }
                 return st;
               }});
}

Status ApiServer::StreamBlob(RequestContext& ctx, const std::string& key, const std::string& mime) {
  auto reader = deps_.blobs->OpenReader(key);
  if (!reader.ok()) return reader.status();
  std::shared_ptr<storage::BlobReader> r(std::move(reader).value());
  // cpp-httplib 0.11 slices ranges without checking them against the size:
  // "bytes=999999999-" on a small file underflowed into a 206 with a
  // Content-Length near 2^64. Ranges are checked here: an unsatisfiable
  // one answers 416 with "Content-Range: bytes */size" (RFC 9110 15.5.17),
  // ends past the last byte are clamped to it. The library reads the
  // ranges from the request when it writes the response, so the checked
  // ones go back there (the router took them out).
  const size_t size = r->size();
  httplib::Ranges ranges = ctx.ranges;
  for (auto& [first, last] : ranges) {
    const bool suffix = first < 0;
    const bool unsatisfiable = size == 0 || (suffix && last <= 0) ||
                               (!suffix && static_cast<size_t>(first) >= size) ||
                               (!suffix && last >= 0 && last < first);
    if (unsatisfiable) {
      ctx.res.set_header("Content-Range", "bytes */" + std::to_string(size));
      WriteError(ctx.res, {416, "range_not_satisfiable",
                           "the requested range is outside the " + std::to_string(size) + " bytes of the file",
                           {{"size", size}}});
      return Status::Ok();
    }
    if (suffix) {
      first = static_cast<ssize_t>(size) - std::min<ssize_t>(last, static_cast<ssize_t>(size));
      last = static_cast<ssize_t>(size) - 1;
    } else if (last < 0 || static_cast<size_t>(last) >= size) {
      last = static_cast<ssize_t>(size) - 1;
    }
  }
  const_cast<httplib::Request&>(ctx.req).ranges = std::move(ranges);
  ctx.res.set_header("Cache-Control", "private, max-age=3600");
  ctx.res.set_content_provider(r->size(), mime, [r](size_t offset, size_t length, httplib::DataSink& sink) {
    std::vector<char> buf(std::min<size_t>(length, 256 * 1024));
    auto n = r->ReadAt(offset, buf.data(), buf.size());
    if (!n.ok() || *n == 0) return false;
    return sink.write(buf.data(), *n);
  });
  return Status::Ok();
}

}  // namespace cutroom::api
