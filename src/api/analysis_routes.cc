// Analysis results: transcripts (JSON and subtitle formats), word-level
// transcript search, and full-text search across videos.
#include "analysis/search/search.h"
#include "analysis/transcribe/subtitles.h"
#include "analysis/transcribe/transcript_store.h"
#include "api/server.h"
#include "db/tables.h"

namespace cutroom::api {
namespace {

Status RequireOwned(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                    const std::string& owner) {
  db::Repositories repos(db, env, ids);
  auto media = repos.media.Get(video_id);
  if (!media.ok() || media->owner_id != owner) return Status::NotFound("video " + video_id + " does not exist");
  return Status::Ok();
}

nlohmann::json TranscriptJson(const std::string& video_id, const analysis::StoredTranscript& t) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : t.transcript.segments) {
    nlohmann::json words = nlohmann::json::array();
    for (const auto& w : s.words) {
      words.push_back({{"word", w.word}, {"start_s", w.start_s}, {"end_s", w.end_s}, {"confidence", w.confidence}});
    }
    segments.push_back({{"start_s", s.start_s},
                        {"end_s", s.end_s},
                        {"text", s.text},
                        {"confidence", s.confidence},
                        {"words", words}});
  }
  nlohmann::json out = {{"video_id", video_id},
                        {"transcription_id", t.row.transcription_id},
                        {"processing_id", t.row.processing_id ? nlohmann::json(*t.row.processing_id) : nullptr},
                        {"engine", t.row.engine},
                        {"model", t.row.model ? nlohmann::json(*t.row.model) : nullptr},
                        {"language", t.row.language ? nlohmann::json(*t.row.language) : nullptr},
                        {"text", t.row.text},
                        {"segments", segments}};
  if (t.row.note) out["note"] = *t.row.note;
  return out;
}

}  // namespace

void ApiServer::RegisterAnalysisRoutes() {
  router_.Add({"GET", "/api/videos/{video_id}/transcription",
               "The newest transcript (?format=json|srt|vtt|txt, ?processing_id=)", RouteAuth::kOwner,
               [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 CUTROOM_RETURN_IF_ERROR(RequireOwned(*deps_.db, deps_.env, deps_.ids, video_id, ctx.owner_id));
                 std::string format = ctx.Query("format").value_or("json");
                 if (format != "json" && format != "srt" && format != "vtt" && format != "txt") {
                   return Status::InvalidArgument("format must be json, srt, vtt or txt");
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto stored,
                                          analysis::LoadTranscript(*deps_.db, deps_.env, deps_.ids, video_id,
                                                                   ctx.Query("processing_id").value_or("")));
                 if (format == "json") {
                   WriteJson(ctx.res, 200, TranscriptJson(video_id, stored));
                 } else if (format == "srt") {
                   ctx.res.set_content(analysis::FormatSrt(analysis::BuildCues(stored.transcript)),
                                       "application/x-subrip; charset=utf-8");
                 } else if (format == "vtt") {
                   ctx.res.set_content(analysis::FormatVtt(analysis::BuildCues(stored.transcript)),
                                       "text/vtt; charset=utf-8");
                 } else {
                   ctx.res.set_content(analysis::FormatText(stored.transcript), "text/plain; charset=utf-8");
                 }
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/transcription/search", "Where words were spoken (?q=)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 CUTROOM_RETURN_IF_ERROR(RequireOwned(*deps_.db, deps_.env, deps_.ids, video_id, ctx.owner_id));
                 std::string q = ctx.Query("q").value_or("");
                 CUTROOM_ASSIGN_OR_RETURN(auto hits,
                                          analysis::SearchWords(*deps_.db, deps_.env, deps_.ids, video_id, q));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& h : hits) {
                   items.push_back(
                       {{"start_s", h.start_s}, {"end_s", h.end_s}, {"text", h.text}, {"confidence", h.confidence}});
                 }
                 WriteJson(ctx.res, 200, {{"video_id", video_id}, {"query", q}, {"hits", items}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/search", "Full-text search over transcripts, scene descriptions and frame text",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 analysis::SearchRequest req;
                 req.query = ctx.Query("q").value_or("");
                 req.owner_id = ctx.owner_id;
                 req.video_id = ctx.Query("video_id").value_or("");
                 if (auto limit = ctx.Query("limit")) {
                   char* end = nullptr;
                   long v = std::strtol(limit->c_str(), &end, 10);
                   if (limit->empty() || *end != '\0' || v < 1 || v > 100) {
                     return Status::InvalidArgument("limit must be an integer from 1 to 100");
                   }
                   req.limit = static_cast<int>(v);
                 }
                 CUTROOM_ASSIGN_OR_RETURN(auto hits, analysis::Search(*deps_.db, req));
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& h : hits) {
                   items.push_back({{"video_id", h.video_id},
                                    {"source", h.source},
                                    {"id", h.ref_id},
                                    {"start_s", h.start_s},
                                    {"end_s", h.end_s},
                                    {"text", h.text},
                                    {"snippet", h.snippet},
                                    {"score", h.score}});
                 }
                 WriteJson(ctx.res, 200, {{"query", req.query}, {"hits", items}});
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
