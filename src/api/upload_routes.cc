// Uploads: POST /api/videos/upload (multipart file or JSON URL) and the tus
// 1.0.0 resumable-upload endpoint under /api/uploads/.
#include <spdlog/spdlog.h>

#include "api/dto.h"
#include "api/server.h"
#include "core/base64.h"
#include "core/utf8.h"

namespace cutroom::api {
namespace {

constexpr size_t kMaxTitle = 500;
// Multipart framing around the file: boundaries and part headers.
constexpr uint64_t kMultipartSlack = 1 << 20;

std::string ContentTypeOf(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ct;
}

std::optional<uint64_t> ContentLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return std::nullopt;
  return std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
}

// Parses a non-negative decimal header value; InvalidArgument names it.
Result<uint64_t> ParseUnsignedHeader(const httplib::Request& req, const char* name) {
  std::string v = req.get_header_value(name);
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(std::string(name) + " must be a non-negative integer, got '" + v + "'");
  }
  return std::strtoull(v.c_str(), nullptr, 10);
}

// s with every malformed UTF-8 byte replaced by U+FFFD: header bytes
// stored in a JSON column must be text (nlohmann's dump throws otherwise).
std::string ValidUtf8(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) AppendUtf8(out, NextCodePoint(s, i));
  return out;
}

// The tus reading of a Status: 409, 410 and 460 come from markers.
ApiError TusError(const Status& st) {
  if (ingest::IsTusConflict(st)) return {409, "conflict", st.message()};
  if (ingest::IsTusGone(st)) return {410, "gone", st.message()};
  if (ingest::IsTusChecksumMismatch(st)) return {460, "checksum_mismatch", st.message()};
  return ApiErrorFromStatus(st);
}

void SetTusUploadHeaders(httplib::Response& res, const ingest::TusUpload& up) {
  res.set_header("Upload-Offset", std::to_string(up.offset));
  if (up.length) {
    res.set_header("Upload-Length", std::to_string(*up.length));
  } else {
    res.set_header("Upload-Defer-Length", "1");
  }
  if (up.expires_at_ms && up.status == "active") res.set_header("Upload-Expires", ingest::HttpDate(up.expires_at_ms));
  if (!up.video_id.empty()) res.set_header("Cutroom-Video-Id", up.video_id);
}

}  // namespace

void ApiServer::RegisterUploadRoutes() {
  router_.Add({"POST", "/api/videos/upload", "Upload a file (multipart field 'file') or import a URL (JSON)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 std::string type = ContentTypeOf(ctx.req);
                 uint64_t max = static_cast<uint64_t>(deps_.config->GetInt("ingest.max_upload_bytes"));
                 if (type == "application/json") {
                   CUTROOM_ASSIGN_OR_RETURN(auto body, ctx.ReadJson());
                   if (!body.contains("url") || !body["url"].is_string()) {
                     return Status::InvalidArgument("'url' must be a string");
                   }
                   std::string url = body["url"];
                   std::string mode = body.value("mode", "import");
                   if (mode != "import" && mode != "reference") {
                     return Status::InvalidArgument("'mode' must be 'import' or 'reference'");
                   }
                   ingest::IngestRequest request;
                   request.owner_id = ctx.owner_id;
                   request.source_url = url;
                   if (body.contains("title")) {
                     if (!body["title"].is_string() || body["title"].get<std::string>().size() > kMaxTitle) {
                       return Status::InvalidArgument("'title' must be a string of at most 500 characters");
                     }
                     request.title = body["title"];
                   }
                   Status pre = importer_->Preflight(url);
                   if (pre.code() == StatusCode::kPermissionDenied) {
                     WriteError(ctx.res, {400, "url_not_allowed", pre.message()});
                     return Status::Ok();
                   }
                   CUTROOM_RETURN_IF_ERROR(pre);
                   if (mode == "reference") {
                     auto row = importer_->Reference(url, request);
                     if (!row.ok()) {
                       const Status& st = row.status();
                       if (st.code() == StatusCode::kPermissionDenied) {
                         WriteError(ctx.res, {400, "url_not_allowed", st.message()});
                       } else if (st.code() == StatusCode::kUnavailable || st.IsNotFound()) {
                         WriteError(ctx.res, {502, "fetch_failed", st.message()});
                       } else if (st.code() == StatusCode::kNotSupported) {
                         WriteError(ctx.res, {422, "range_requests_unsupported", st.message()});
                       } else {
                         WriteError(ctx.res, ApiErrorFromStatus(st));
                       }
                       return Status::Ok();
                     }
                     OnMediaReady(*row);  // thumbnails, read remotely like every stage
                     WriteJson(ctx.res, 201, VideoJson(*row));
                     return Status::Ok();
                   }
                   CUTROOM_RETURN_IF_ERROR(CheckQueueRoom(*deps_.db, *deps_.config, ctx.owner_id, 1));
                   request.source_type = "url";
                   request.original_filename = ingest::FilenameFromUrl(url);
                   CUTROOM_ASSIGN_OR_RETURN(auto pending, ingest_.CreatePending(request));
                   jobs::EnqueueRequest job;
                   job.kind = "import";
                   job.video_id = pending.video_id;
                   job.owner_id = ctx.owner_id;
                   job.params = {{"url", url}};
                   if (!request.title.empty()) job.params["title"] = request.title;
                   job.priority = 10;  // new media first: everything else waits for it
                   auto queued = deps_.queue->Enqueue(job);
                   if (!queued.ok()) {
                     ingest_.MarkFailed(pending.video_id, queued.status().message()).IgnoreError();
                     return queued.status();
                   }
                   if (deps_.notify_workers) deps_.notify_workers();
                   nlohmann::json accepted = VideoJson(pending);
                   accepted["job_id"] = queued->job_id;
                   WriteJson(ctx.res, 202, accepted);
                   return Status::Ok();
                 }

                 if (type != "multipart/form-data") {
                   WriteError(ctx.res, {415, "unsupported_media_type",
                                        "send multipart/form-data with a 'file' field, or application/json with "
                                        "a 'url'"});
                   return Status::Ok();
                 }
                 auto slot = TakeUploadSlot(ctx);
                 if (!slot) return Status::Ok();
                 if (auto length = ContentLength(ctx.req)) {
                   if (*length > max + kMultipartSlack) {
                     return Status::ResourceExhausted("upload of " + std::to_string(*length) +
                                                      " bytes exceeds the limit of " + std::to_string(max) + " bytes");
                   }
                   auto free = deps_.blobs->FreeSpace();
                   if (free.ok() && *free < *length) {
                     WriteError(ctx.res, {507, "insufficient_storage",
                                          "not enough disk space for " + std::to_string(*length) + " bytes"});
                     return Status::Ok();
                   }
                 }
                 std::unique_ptr<ingest::IngestSession> session;
                 Status failure;
                 std::string field;
                 std::string title;
                 bool complete = (*ctx.reader)(
                     [&](const httplib::MultipartFormData& part) {
                       field = part.name;
                       if (field != "file") return true;
                       if (session) {
                         failure = Status::InvalidArgument("send one 'file' per request");
                         return false;
                       }
                       ingest::IngestRequest request;
                       request.owner_id = ctx.owner_id;
                       request.original_filename = part.filename;
                       if (!part.content_type.empty()) {
                         request.metadata["client_content_type"] = ValidUtf8(part.content_type);
                       }
                       auto begun = ingest_.Begin(request);
                       if (!begun.ok()) {
                         failure = begun.status();
                         return false;
                       }
                       session = std::move(begun).value();
                       return true;
                     },
                     [&](const char* data, size_t n) {
                       if (field == "file") {
                         failure = session->Append(data, n);
                         return failure.ok();
                       }
                       if (field == "title") {
                         if (title.size() + n > kMaxTitle) {
                           failure = Status::InvalidArgument("'title' must be at most 500 characters");
                           return false;
                         }
                         title.append(data, n);
                       }
                       return true;  // other fields are ignored
                     });
                 CUTROOM_RETURN_IF_ERROR(failure);
                 if (!complete) return Status::InvalidArgument("the multipart body is malformed or incomplete");
                 if (!session) return Status::InvalidArgument("the multipart body has no 'file' field");
                 if (!title.empty()) session->set_title(title);
                 CUTROOM_ASSIGN_OR_RETURN(auto row, session->Finish());
                 WriteJson(ctx.res, 201, VideoJson(row));
                 return Status::Ok();
               }});
}

void ApiServer::RegisterTusRoutes() {
  auto options = [this](RequestContext& ctx) -> Status {
    ctx.res.set_header("Tus-Version", "1.0.0");
    ctx.res.set_header("Tus-Extension",
                       "creation,creation-with-upload,creation-defer-length,expiration,checksum,termination");
    ctx.res.set_header("Tus-Max-Size", std::to_string(tus_->options().max_size));
    ctx.res.set_header("Tus-Checksum-Algorithm", "sha1,md5,sha256");
    ctx.res.set_header("Access-Control-Allow-Methods", "POST, GET, HEAD, PATCH, DELETE, OPTIONS");
    ctx.res.set_header("Access-Control-Allow-Headers", kCorsAllowedHeaders);
    ctx.res.set_header("Access-Control-Max-Age", "86400");
    ctx.res.status = 204;
    return Status::Ok();
  };
  router_.Add({"OPTIONS", "/api/uploads", "tus: server capabilities", RouteAuth::kPublic, options});
  router_.Add({"OPTIONS", "/api/uploads/{upload_id}", "tus: server capabilities", RouteAuth::kPublic, options});

  // Every tus request but OPTIONS must speak 1.0.0 (412 otherwise).
  auto check_version = [](RequestContext& ctx) -> bool {
    if (ctx.req.get_header_value("Tus-Resumable") == "1.0.0") return true;
    ctx.res.set_header("Tus-Version", "1.0.0");
    WriteError(ctx.res, {412, "unsupported_tus_version", "Tus-Resumable: 1.0.0 is required"});
    return false;
  };

  // Runs a PATCH-like append of the request body; writes the response.
  auto append = [this](RequestContext& ctx, const std::string& upload_id, uint64_t offset,
                       std::optional<uint64_t> declared_length) {
    std::optional<ingest::TusChecksum> checksum;
    if (ctx.req.has_header("Upload-Checksum")) {
      auto parsed = ingest::ParseTusChecksum(ctx.req.get_header_value("Upload-Checksum"));
      if (!parsed.ok()) {
        WriteError(ctx.res, TusError(parsed.status()));
        return;
      }
      checksum = *parsed;
    }
    const httplib::ContentReader* reader = ctx.reader;
    ingest::BodyFeeder feed = [reader](const std::function<bool(const char*, size_t)>& receiver) {
      if (!reader) return true;
      return (*reader)([&receiver](const char* data, size_t n) { return receiver(data, n); });
    };
    auto up = tus_->Patch(ctx.owner_id, upload_id, offset, declared_length, ContentLength(ctx.req), checksum, feed);
    if (!up.ok()) {
      // Report where the upload stands so the client can resume.
      if (auto now = tus_->Get(ctx.owner_id, upload_id); now.ok()) {
        ctx.res.set_header("Upload-Offset", std::to_string(now->offset));
      }
      WriteError(ctx.res, TusError(up.status()));
      return;
    }
    SetTusUploadHeaders(ctx.res, *up);
    ctx.res.status = 204;
  };

  router_.Add({"POST", "/api/uploads", "tus: create an upload (with optional first chunk)", RouteAuth::kOwner,
               [this, check_version, append](RequestContext& ctx) -> Status {
                 if (!check_version(ctx)) return Status::Ok();
                 bool has_length = ctx.req.has_header("Upload-Length");
                 bool deferred = ctx.req.has_header("Upload-Defer-Length");
                 if (has_length == deferred) {
                   return Status::InvalidArgument("send exactly one of Upload-Length and Upload-Defer-Length: 1");
                 }
                 std::optional<uint64_t> length;
                 if (has_length) {
                   CUTROOM_ASSIGN_OR_RETURN(length, ParseUnsignedHeader(ctx.req, "Upload-Length"));
                 } else if (ctx.req.get_header_value("Upload-Defer-Length") != "1") {
                   return Status::InvalidArgument("Upload-Defer-Length must be 1");
                 }
                 // Metadata is kept as JSON text: a value that is not UTF-8 is refused.
                 if (auto meta = ingest::ParseTusMetadata(ctx.req.get_header_value("Upload-Metadata")); meta.ok()) {
                   for (const auto& [key, value] : *meta) {
                     if (ValidUtf8(value) != value) {
                       return Status::InvalidArgument("Upload-Metadata value of '" + key + "' is not UTF-8 text");
                     }
                   }
                 }
                 auto created = tus_->Create(ctx.owner_id, length, ctx.req.get_header_value("Upload-Metadata"));
                 if (!created.ok()) {
                   WriteError(ctx.res, TusError(created.status()));
                   return Status::Ok();
                 }
                 std::string location = "/api/uploads/" + created->upload_id;
                 ctx.res.set_header("Location", location);
                 bool with_body = ContentTypeOf(ctx.req) == "application/offset+octet-stream" &&
                                  ContentLength(ctx.req).value_or(0) > 0;
                 if (with_body) {
                   append(ctx, created->upload_id, 0, std::nullopt);
                   if (ctx.res.status != 204) return Status::Ok();  // the error is written; Location tells where
                 } else {
                   SetTusUploadHeaders(ctx.res, *created);
                 }
                 ctx.res.status = 201;
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/uploads/{upload_id}", "tus: HEAD reports the upload's offset", RouteAuth::kOwner,
               [this, check_version](RequestContext& ctx) -> Status {
                 if (!check_version(ctx)) return Status::Ok();
                 auto up = tus_->Get(ctx.owner_id, ctx.Param("upload_id"));
                 if (!up.ok()) {
                   WriteError(ctx.res, TusError(up.status()));
                   return Status::Ok();
                 }
                 SetTusUploadHeaders(ctx.res, *up);
                 if (!up->metadata_header.empty()) ctx.res.set_header("Upload-Metadata", up->metadata_header);
                 ctx.res.set_header("Cache-Control", "no-store");
                 ctx.res.status = 200;
                 return Status::Ok();
               }});

  router_.Add({"PATCH", "/api/uploads/{upload_id}", "tus: append a chunk", RouteAuth::kOwner,
               [this, check_version, append](RequestContext& ctx) -> Status {
                 if (!check_version(ctx)) return Status::Ok();
                 if (ContentTypeOf(ctx.req) != "application/offset+octet-stream") {
                   WriteError(ctx.res, {415, "unsupported_media_type",
                                        "PATCH needs Content-Type: application/offset+octet-stream"});
                   return Status::Ok();
                 }
                 auto slot = TakeUploadSlot(ctx);
                 if (!slot) return Status::Ok();
                 CUTROOM_ASSIGN_OR_RETURN(uint64_t offset, ParseUnsignedHeader(ctx.req, "Upload-Offset"));
                 std::optional<uint64_t> length;
                 if (ctx.req.has_header("Upload-Length")) {
                   CUTROOM_ASSIGN_OR_RETURN(length, ParseUnsignedHeader(ctx.req, "Upload-Length"));
                 }
                 append(ctx, ctx.Param("upload_id"), offset, length);
                 return Status::Ok();
               }});

  router_.Add({"DELETE", "/api/uploads/{upload_id}", "tus: terminate an upload", RouteAuth::kOwner,
               [this, check_version](RequestContext& ctx) -> Status {
                 if (!check_version(ctx)) return Status::Ok();
                 Status st = tus_->Terminate(ctx.owner_id, ctx.Param("upload_id"));
                 if (!st.ok()) {
                   WriteError(ctx.res, TusError(st));
                   return Status::Ok();
                 }
                 ctx.res.status = 204;
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
