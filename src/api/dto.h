// JSON shapes of the API (DESIGN.md): row structs to JSON objects.
#pragma once

#include <nlohmann/json.hpp>

#include "db/rows.h"

namespace cutroom::api {

// The video object. Carries "id" (same as video_id) for old clients.
nlohmann::json VideoJson(const db::MediaRow& m);

// The job object.
nlohmann::json JobJson(const db::JobRow& j);

}  // namespace cutroom::api
