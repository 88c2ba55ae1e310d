#include "api/router.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/metrics.h"

namespace cutroom::api {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::optional<std::string> RequestContext::Query(const std::string& name) const {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

Result<std::string> RequestContext::ReadBody() {
  if (req.has_header("Content-Length")) {
    uint64_t declared = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    if (declared > max_body_bytes) {
      return Status::ResourceExhausted("request body of " + std::to_string(declared) + " bytes exceeds the limit of " +
                                       std::to_string(max_body_bytes) + " bytes");
    }
  }
  if (!reader) return req.body;
  std::string body;
  bool too_large = false;
  (*reader)([&](const char* data, size_t len) {
    if (body.size() + len > max_body_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, len);
    return true;
  });
  if (too_large) {
    return Status::ResourceExhausted("request body exceeds the limit of " + std::to_string(max_body_bytes) + " bytes");
  }
  return body;
}

Result<nlohmann::json> RequestContext::ReadJson() {
  CUTROOM_ASSIGN_OR_RETURN(std::string body, ReadBody());
  if (body.empty()) return Status::InvalidArgument("the request body is empty; a JSON object was expected");
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!json.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  return json;
}

void Router::Add(Route route) {
  auto segments = SplitPath(route.pattern);
  routes_.push_back({std::move(route), std::move(segments)});
}

bool Router::Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

void Router::Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) const {
  // Requests by route pattern (never the path: ids would make a series
  // each), method and status, with the time to the handler's answer.
  const auto started = std::chrono::steady_clock::now();
  std::string route = "unmatched";
  struct Record {
    const httplib::Request& req;
    const httplib::Response& res;
    const std::string& route;
    std::chrono::steady_clock::time_point started;
    ~Record() {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      Metrics::Global().Add("cutroom_http_requests_total",
                            {{"route", route}, {"method", req.method}, {"status", std::to_string(res.status)}});
      Metrics::Global().Observe("cutroom_http_request_duration_seconds", {{"route", route}, {"method", req.method}},
                                secs);
    }
  } record{req, res, route, started};
  // cpp-httplib applies a request's Range to whatever body the response
  // holds, unchecked (a start past the end underflows into a huge
  // Content-Length). Only stored files honour ranges: the router takes
  // them out of the request, and StreamBlob checks them and puts them back.
  httplib::Ranges ranges = std::move(const_cast<httplib::Request&>(req).ranges);
  const_cast<httplib::Request&>(req).ranges.clear();
  auto path = SplitPath(req.path);
  std::set<std::string> allowed;
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const auto& compiled : routes_) {
    std::map<std::string, std::string> params;
    if (!Match(compiled.segments, path, params)) continue;
    if (compiled.route.method != method) {
      allowed.insert(compiled.route.method);
      continue;
    }
    route = compiled.route.pattern;
    RequestContext ctx{req, res, reader, std::move(params), "", max_body_bytes_, std::move(ranges)};
    if (compiled.route.auth == RouteAuth::kOwner && auth_) {
      auto owner = auth_(req);
      if (!owner.ok()) {
        if (owner.status().code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
        WriteError(res, ApiErrorFromStatus(owner.status()));
        return;
      }
      ctx.owner_id = *owner;
      if (throttle_) {
        if (auto wait = throttle_(ctx.owner_id)) {
          int seconds = std::max(1, static_cast<int>(std::ceil(*wait)));
          res.set_header("Retry-After", std::to_string(seconds));
          WriteError(res, {429, "rate_limited",
                           "too many requests: try again in " + std::to_string(seconds) + " s (limits.requests_per_minute)",
                           {{"retry_after_s", seconds}}});
          return;
        }
      }
    }
    Status st = compiled.route.handler(ctx);
    if (!st.ok()) WriteError(res, ApiErrorFromStatus(st));
    return;
  }
  if (!allowed.empty() && req.method == "OPTIONS") {
    // A CORS preflight for a route that exists under other methods.
    res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", kCorsAllowedHeaders);
    res.set_header("Access-Control-Max-Age", "86400");
    res.status = 204;
    return;
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    if (allowed.count("GET")) allow += ", HEAD";
    res.set_header("Allow", allow);
    WriteError(res, {405, "method_not_allowed", req.method + " is not allowed on " + req.path,
                     {{"allowed", allow}}});
    return;
  }
  if (fallback_ && fallback_(req, res)) {
    route = "web";
    return;
  }
  WriteError(res, {404, "not_found", "no route for " + req.method + " " + req.path});
}

nlohmann::json Router::OpenApiPaths() const {
  nlohmann::json paths = nlohmann::json::object();
  for (const auto& compiled : routes_) {
    std::string m = compiled.route.method;
    for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    nlohmann::json op = {{"summary", compiled.route.summary}};
    nlohmann::json params = nlohmann::json::array();
    for (const auto& seg : compiled.segments) {
      if (seg.size() > 2 && seg.front() == '{') {
        params.push_back({{"name", seg.substr(1, seg.size() - 2)}, {"in", "path"}, {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    if (!params.empty()) op["parameters"] = params;
    if (compiled.route.auth == RouteAuth::kOwner) op["security"] = nlohmann::json::array({{{"bearer", {}}}});
    op["responses"] = {{"default", {{"description", "JSON body; errors use the Error schema"}}}};
    paths[compiled.route.pattern][m] = op;
  }
  return paths;
}

}  // namespace cutroom::api
