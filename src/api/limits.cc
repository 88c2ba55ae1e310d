#include "api/limits.h"

#include <algorithm>

namespace cutroom::api {
namespace {
constexpr std::string_view kQueueLimit = "queue_limit: ";
}  // namespace

std::optional<double> RateLimiter::Take(const std::string& owner, std::chrono::steady_clock::time_point now) {
  if (per_minute_ <= 0) return std::nullopt;
  const double capacity = std::max(10.0, static_cast<double>(per_minute_) / 4);
  const double per_second = static_cast<double>(per_minute_) / 60;
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(owner);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = capacity;
  } else {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(capacity, b.tokens + std::max(0.0, elapsed) * per_second);
  }
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return (1 - b.tokens) / per_second;
}

std::optional<UploadSlots::Slot> UploadSlots::Acquire(const std::string& owner) {
  std::lock_guard lock(mu_);
  int64_t& n = in_flight_[owner];
  if (per_owner_ > 0 && n >= per_owner_) return std::nullopt;
  ++n;
  return Slot(this, owner);
}

void UploadSlots::Release(const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(owner);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
}

Status CheckQueueRoom(db::Database& db, const Config& config, const std::string& owner_id, int adding) {
  int64_t limit = config.GetInt("limits.max_queued_jobs");
  if (limit <= 0) return Status::Ok();
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT COUNT(*) AS n FROM jobs WHERE owner_id = ? AND status IN "
                                               "('queued', 'running')",
                                               {owner_id}));
  int64_t have = rows.size() ? rows.Int(0, "n").value_or(0) : 0;
  if (have + adding > limit) {
    return Status::ResourceExhausted(std::string(kQueueLimit) + "you have " + std::to_string(have) +
                                     " job(s) queued or running and may have at most " + std::to_string(limit) +
                                     " (limits.max_queued_jobs); wait for some to finish");
  }
  return Status::Ok();
}

bool IsQueueLimit(const Status& status) {
  return status.code() == StatusCode::kResourceExhausted && status.message().rfind(kQueueLimit, 0) == 0;
}

}  // namespace cutroom::api
