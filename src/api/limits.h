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
#include <utility>

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

// Uploads in flight per owner (limits.concurrent_uploads): each body being
// received holds a slot until its request ends.
class UploadSlots {
 public:
  explicit UploadSlots(int64_t per_owner) : per_owner_(per_owner) {}

  class Slot {
   public:
    Slot(UploadSlots* owner_slots, std::string owner) : slots_(owner_slots), owner_(std::move(owner)) {}
    Slot(Slot&& other) noexcept : slots_(std::exchange(other.slots_, nullptr)), owner_(std::move(other.owner_)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (slots_) slots_->Release(owner_);
    }

   private:
    UploadSlots* slots_;
    std::string owner_;
  };

  // A slot, or nullopt when the owner already has per_owner uploads in
  // flight (0: no limit).
  std::optional<Slot> Acquire(const std::string& owner);

 private:
  void Release(const std::string& owner);
  int64_t per_owner_;
  std::mutex mu_;
  std::map<std::string, int64_t> in_flight_;
};

// ResourceExhausted "queue_limit: ..." when the owner already has
// limits.max_queued_jobs jobs queued or running and `adding` more would
// pass it (0 turns the limit off).
Status CheckQueueRoom(db::Database& db, const Config& config, const std::string& owner_id, int adding);

// Whether a status is CheckQueueRoom's refusal.
bool IsQueueLimit(const Status& status);

}  // namespace cutroom::api
