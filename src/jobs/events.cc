#include "jobs/events.h"

#include "db/rows.h"

namespace cutroom::jobs {

Status EventLog::Append(const JobEvent& e) {
  return db_
      ->Execute("INSERT INTO job_events(job_id, video_id, owner_id, type, data, ts) VALUES (?, ?, ?, ?, ?, ?)",
                {e.job_id, e.video_id.empty() ? db::DbValue() : db::DbValue(e.video_id),
                 e.owner_id.empty() ? db::DbValue() : db::DbValue(e.owner_id), e.type, db::JsonText(e.data),
                 FormatTimestamp(env_->NowMs())})
      .status();
}

Result<std::vector<JobEvent>> EventLog::Since(int64_t after_id, const std::string& owner_id,
                                              const std::string& video_id, int limit) {
  std::string sql =
      "SELECT event_id, job_id, video_id, owner_id, type, data, ts FROM job_events WHERE event_id > ? AND "
      "owner_id = ?";
  std::vector<db::DbValue> params = {after_id, owner_id};
  if (!video_id.empty()) {
    sql += " AND video_id = ?";
    params.push_back(video_id);
  }
  sql += " ORDER BY event_id LIMIT ?";
  params.push_back(int64_t{limit});
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db_->Query(sql, params));
  std::vector<JobEvent> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    JobEvent e;
    e.id = rows.Int(i, "event_id").value_or(0);
    e.job_id = rows.Text(i, "job_id").value_or("");
    e.video_id = rows.Text(i, "video_id").value_or("");
    e.owner_id = rows.Text(i, "owner_id").value_or("");
    e.type = rows.Text(i, "type").value_or("");
    e.data = nlohmann::json::parse(rows.Text(i, "data").value_or("{}"), nullptr, false);
    e.ts = rows.Text(i, "ts").value_or("");
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> EventLog::LatestId() {
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db_->Query("SELECT COALESCE(MAX(event_id), 0) AS id FROM job_events", {}));
  return rows.Int(0, "id").value_or(0);
}

Result<int64_t> EventLog::Prune(int64_t max_age_ms) {
  return db_->Execute("DELETE FROM job_events WHERE ts < ?", {FormatTimestamp(env_->NowMs() - max_age_ms)});
}

}  // namespace cutroom::jobs
