#include "api/api_error.h"

#include "ai/videodb_client.h"
#include "api/limits.h"
#include "core/json_numbers.h"
#include "db/database.h"
#include "ingest/ingest_service.h"

namespace cutroom::api {
namespace {
thread_local std::string t_request_id;
}  // namespace

const std::string& CurrentRequestId() { return t_request_id; }
void SetCurrentRequestId(std::string id) { t_request_id = std::move(id); }

ApiError ApiErrorFromStatus(const Status& status) {
  // VideoDB's errors say which of its failures happened, whatever the code.
  if (std::string code = ai::VideoDbErrorCode(status); !code.empty()) {
    ApiError e{ai::VideoDbHttpStatus(code), code, status.message()};
    if (code == "videodb_not_configured") {
      e.details = {{"settings", {"videodb.api_key_env", "videodb.base_url", "videodb.collection"}}};
    }
    return e;
  }
  switch (status.code()) {
    case StatusCode::kNotFound: return {404, "not_found", status.message()};
    case StatusCode::kInvalidArgument:
      if (ingest::IsUnsupportedMedia(status)) return {415, "unsupported_media_type", status.message()};
      if (ingest::IsOverMediaLimit(status)) return {422, "media_limit_exceeded", status.message()};
      return {400, "invalid_argument", status.message()};
    case StatusCode::kUnauthenticated: return {401, "unauthenticated", status.message()};
    case StatusCode::kPermissionDenied: return {403, "forbidden", status.message()};
    case StatusCode::kAlreadyExists: return {409, "conflict", status.message()};
    case StatusCode::kFailedPrecondition: return {409, "failed_precondition", status.message()};
    case StatusCode::kResourceExhausted:
      if (ingest::IsInsufficientStorage(status)) return {507, "insufficient_storage", status.message()};
      if (IsQueueLimit(status)) return {429, "queue_limit", status.message()};
      return {413, "payload_too_large", status.message()};
    case StatusCode::kNotSupported: return {501, "not_implemented", status.message()};
    case StatusCode::kUnavailable: return {503, "unavailable", status.message()};
    case StatusCode::kCancelled: return {409, "cancelled", status.message()};
    case StatusCode::kCorruption:
      if (db::IsDatabaseCorrupt(status)) return {500, "database_corrupt", status.message()};
      break;
    case StatusCode::kOk:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      break;
  }
  return {500, "internal", status.message()};
}

ApiError ApiErrorForBareStatus(int http_status) {
  switch (http_status) {
    case 400: return {400, "bad_request", "The request could not be parsed."};
    case 404: return {404, "not_found", "No such route."};
    case 405: return {405, "method_not_allowed", "Method not allowed on this route."};
    case 413: return {413, "payload_too_large", "The request body exceeds the server's limit."};
    case 414: return {414, "uri_too_long", "The request URI is too long."};
    case 416: return {416, "range_not_satisfiable", "The requested range is not satisfiable."};
    default: break;
  }
  if (http_status >= 500) return {http_status, "internal", "The server failed to handle the request."};
  return {http_status, "http_" + std::to_string(http_status), "The request failed with HTTP status " + std::to_string(http_status) + "."};
}

void WriteJson(httplib::Response& res, int http_status, nlohmann::json body) {
  res.status = http_status;
  TidyJsonNumbers(body);
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void WriteError(httplib::Response& res, const ApiError& error) {
  nlohmann::json details = error.details.is_object() ? error.details : nlohmann::json::object();
  if (!CurrentRequestId().empty()) details["request_id"] = CurrentRequestId();
  WriteJson(res, error.http_status,
            {{"error", {{"code", error.code}, {"message", error.message}, {"details", details}}}});
}

}  // namespace cutroom::api
