// Router: cutroom's own route table (requests and responses are cpp-httplib's structs).
//
// httplib matches by regular expression per method and answers 404 for a
// path that exists under another method; the router matches "/api/videos/{video_id}"
// style patterns once, answers 405 with an Allow header when only the
// method is wrong, resolves the caller's owner before the handler runs, and
// turns a handler's non-OK Status into the JSON error shape.
//
// Bodies are never read before a handler asks: streaming handlers take the
// ContentReader, the rest call ReadBody()/ReadJson(), which enforce the
// configured limit (413 before reading when Content-Length says so).
// Thread-safety: routes are registered before the server starts; matching is
// read-only afterwards.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/result.h"

namespace cutroom::api {

// Request headers browsers may send cross-origin (tus headers included).
inline constexpr const char* kCorsAllowedHeaders =
    "Authorization, Content-Type, Origin, X-Requested-With, X-Request-Id, X-HTTP-Method-Override, Upload-Length, "
    "Upload-Offset, Tus-Resumable, Upload-Metadata, Upload-Defer-Length, Upload-Concat, Upload-Checksum";

struct RequestContext {
  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader;  // null for requests without a body
  std::map<std::string, std::string> path_params;
  std::string owner_id;  // resolved by the auth step ("" for public routes)
  size_t max_body_bytes;
  // The request's byte ranges (Range header), unchecked; only StreamBlob
  // honours them (see Router::Dispatch).
  httplib::Ranges ranges;

  const std::string& Param(const std::string& name) const { return path_params.at(name); }
  // The query parameter, or nullopt when absent.
  std::optional<std::string> Query(const std::string& name) const;
  // Reads the whole body; ResourceExhausted over max_body_bytes.
  Result<std::string> ReadBody();
  // Reads and parses a JSON object body; InvalidArgument when malformed.
  Result<nlohmann::json> ReadJson();
};

using RouteHandler = std::function<Status(RequestContext&)>;

enum class RouteAuth { kPublic, kOwner };

struct Route {
  std::string method;   // GET, POST, PUT, PATCH, DELETE, OPTIONS
  std::string pattern;  // "/api/videos/{video_id}"
  std::string summary;  // for the OpenAPI document
  RouteAuth auth = RouteAuth::kOwner;
  RouteHandler handler;
};

// Resolves the owner of a request; an error status becomes the response.
using Authenticator = std::function<Result<std::string>(const httplib::Request&)>;

class Router {
 public:
  void Add(Route route);
  void SetAuthenticator(Authenticator auth) { auth_ = std::move(auth); }
  void SetMaxBodyBytes(size_t n) { max_body_bytes_ = n; }
  // Asked after authentication with the owner of each request to an
  // owner's route: nullopt lets it through, a number of seconds refuses it
  // with 429 and that Retry-After.
  void SetThrottle(std::function<std::optional<double>(const std::string& owner)> throttle) {
    throttle_ = std::move(throttle);
  }
  // Answers requests no route matches (the web UI); returns false to let
  // the router answer 404.
  void SetFallback(std::function<bool(const httplib::Request&, httplib::Response&)> fallback) {
    fallback_ = std::move(fallback);
  }

  // Handles one request completely (including 404/405 and errors).
  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) const;

  // OpenAPI 3 paths object for the registered routes.
  nlohmann::json OpenApiPaths() const;

 private:
  static bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                    std::map<std::string, std::string>& params);

  struct Compiled {
    Route route;
    std::vector<std::string> segments;
  };
  std::vector<Compiled> routes_;
  Authenticator auth_;
  std::function<bool(const httplib::Request&, httplib::Response&)> fallback_;
  std::function<std::optional<double>(const std::string&)> throttle_;
  size_t max_body_bytes_ = 16 << 20;
};

std::vector<std::string> SplitPath(const std::string& path);

}  // namespace cutroom::api
