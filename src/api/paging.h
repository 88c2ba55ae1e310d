// Query parameters shared by every paged list in the API: ?limit= (1..200)
// and ?cursor= (the last id of the previous page), and the next_cursor
// field of the reply.
#pragma once

#include <algorithm>

#include "api/router.h"
#include "core/ids.h"
#include "db/repository.h"

namespace cutroom::api {

inline constexpr int64_t kMaxPageLimit = 200;

// fallback when ?limit is absent; InvalidArgument when out of range.
inline Result<int64_t> PageLimit(const RequestContext& ctx, int64_t fallback) {
  auto text = ctx.Query("limit");
  if (!text) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < 1 || v > kMaxPageLimit) {
    return Status::InvalidArgument("limit must be an integer from 1 to " + std::to_string(kMaxPageLimit));
  }
  return static_cast<int64_t>(v);
}

// Sets q.after from ?cursor, which must be an id with this prefix.
inline Status ApplyCursor(const RequestContext& ctx, std::string_view id_prefix, db::ListQuery& q) {
  auto cursor = ctx.Query("cursor");
  if (!cursor) return Status::Ok();
  if (!IsValidId(*cursor, id_prefix)) return Status::InvalidArgument("cursor is not valid");
  q.after = *cursor;
  return Status::Ok();
}

// Adds column = ?name to q when the parameter is given; InvalidArgument
// naming the allowed values when it is not one of them.
inline Status ApplyEnumFilter(const RequestContext& ctx, const std::string& name,
                              const std::vector<std::string>& allowed, db::ListQuery& q) {
  auto value = ctx.Query(name);
  if (!value) return Status::Ok();
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Status::InvalidArgument(name + " must be one of " + list);
  }
  q.where.push_back({name, *value});
  return Status::Ok();
}

inline nlohmann::json NextCursor(const std::string& cursor) {
  return cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(cursor);
}

}  // namespace cutroom::api
