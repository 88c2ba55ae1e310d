// EventLog: job progress and status changes, stored in `job_events` with a
// growing id so Server-Sent Events clients in any server process can
// follow them and resume after a reconnect (Last-Event-ID).
// Thread-safety: safe to share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "db/database.h"

namespace cutroom::jobs {

struct JobEvent {
  int64_t id = 0;
  std::string job_id;
  std::string video_id;
  std::string owner_id;
  std::string type;  // "status", "progress"
  nlohmann::json data;
  std::string ts;
};

class EventLog {
 public:
  EventLog(db::Database* db, Env* env) : db_(db), env_(env) {}

  Status Append(const JobEvent& event);
  // Events after after_id for owner (and video when not empty), oldest
  // first, at most limit.
  Result<std::vector<JobEvent>> Since(int64_t after_id, const std::string& owner_id, const std::string& video_id,
                                      int limit = 500);
  Result<int64_t> LatestId();
  // Drops events older than max_age_ms.
  Result<int64_t> Prune(int64_t max_age_ms);

 private:
  db::Database* db_;
  Env* env_;
};

}  // namespace cutroom::jobs
