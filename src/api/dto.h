// JSON shapes of the API (DESIGN.md): row structs to JSON objects.
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "db/rows.h"
#include "db/tables.h"

namespace cutroom::api {

// The video object. Carries "id" (same as video_id) for old clients.
nlohmann::json VideoJson(const db::MediaRow& m);

// The job object.
nlohmann::json JobJson(const db::JobRow& j);

// The media row when `owner` may see it; otherwise NotFound, the same
// answer as for a video that does not exist (ids of others leak nothing).
Result<db::MediaRow> OwnedMedia(db::Repositories& repos, const std::string& video_id, const std::string& owner);

}  // namespace cutroom::api
