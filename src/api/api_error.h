// The API's error shape and the one table that maps Status codes to HTTP.
//
// Every error response, whatever produced it (a handler, the router, the
// HTTP library), has the body
//   {"error": {"code": "snake_case", "message": "human sentence", "details": {...}}}
// and details always carries the request id.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace cutroom::api {

struct ApiError {
  int http_status = 500;
  std::string code;     // snake_case, stable
  std::string message;  // a sentence for humans
  nlohmann::json details = nlohmann::json::object();
};

// NotFound -> 404 not_found, InvalidArgument -> 400 invalid_argument,
// Unauthenticated -> 401, PermissionDenied -> 403, AlreadyExists -> 409
// conflict, FailedPrecondition -> 409, ResourceExhausted -> 413 (or 507
// insufficient_storage), NotSupported -> 501, Unavailable -> 503, a
// damaged database file (db::IsDatabaseCorrupt) -> 500 database_corrupt, the
// rest -> 500 internal (the message is kept; it never contains secrets).
// A status from VideoDB (ai/videodb_client.h) answers with its own code
// (videodb_not_configured 422, videodb_unauthorized 401, videodb_quota 402,
// ...; see ai::VideoDbHttpStatus).
ApiError ApiErrorFromStatus(const Status& status);

void WriteError(httplib::Response& res, const ApiError& error);

// The JSON body for a status code produced outside cutroom's handlers
// (malformed request lines, oversized bodies refused by the library).
ApiError ApiErrorForBareStatus(int http_status);

// Sets a JSON body with Content-Type application/json, its numbers tidied
// (times to the millisecond; core/json_numbers.h).
void WriteJson(httplib::Response& res, int http_status, nlohmann::json body);

// The current request's id (set by the server for the handling thread).
const std::string& CurrentRequestId();
void SetCurrentRequestId(std::string id);

}  // namespace cutroom::api
