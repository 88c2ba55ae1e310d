// Per-owner limits that keep one caller from taking the server: a request
// rate (token bucket per owner, in this process) and a cap on the jobs an
// owner may have waiting or running (counted in the database, so it holds
// across processes). Refusals are 429 with Retry-After.
// Thread-safety: RateLimiter is thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/result.h"
#include "db/database.h"

namespace cutroom::api {

class RateLimiter {
 public:
  // per_minute 0: no limit. Bursts of up to a quarter of a minute's
  // allowance pass at once (a library page loads many thumbnails).
  explicit RateLimiter(int64_t per_minute) : per_minute_(per_minute) {}

  // nullopt when the request may go ahead; else the seconds to wait.
  std::optional<double> Take(const std::string& owner, std::chrono::steady_clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  int64_t per_minute_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

// ResourceExhausted "queue_limit: ..." when the owner already has
// limits.max_queued_jobs jobs queued or running and `adding` more would
// pass it (0 turns the limit off).
Status CheckQueueRoom(db::Database& db, const Config& config, const std::string& owner_id, int adding);

// Whether a status is CheckQueueRoom's refusal.
bool IsQueueLimit(const Status& status);

}  // namespace cutroom::api
