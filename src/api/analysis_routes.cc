// Analysis results: transcripts (JSON and subtitle formats), word-level
// transcript search, and full-text search across videos.
#include "analysis/hosted/videodb_search.h"
#include "analysis/search/search.h"
#include "analysis/thumbnails_stage.h"
#include "analysis/transcribe/subtitles.h"
#include "analysis/transcribe/transcript_store.h"
#include "api/dto.h"
#include "api/server.h"
#include "db/tables.h"

namespace cutroom::api {
namespace {

Status RequireOwned(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                    const std::string& owner) {
  db::Repositories repos(db, env, ids);
  return OwnedMedia(repos, video_id, owner).status();
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

// Every row of one processing run, page by page.
template <typename Repo>
auto ListRun(Repo& repo, const std::string& processing_id) -> Result<decltype(repo.List(db::ListQuery{}).value().items)> {
  db::ListQuery q;
  q.where = {{"processing_id", processing_id}};
  q.limit = db::kMaxPageSize;
  decltype(repo.List(q).value().items) all;
  while (true) {
    CUTROOM_ASSIGN_OR_RETURN(auto page, repo.List(q));
    for (auto& row : page.items) all.push_back(std::move(row));
    if (page.next_cursor.empty()) return all;
    q.after = page.next_cursor;
  }
}

nlohmann::json OrNull(const db::OptString& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// The processing run whose results GET answers with: ?processing_id= when
// given (it must be this video's, of this kind), else the newest that
// succeeded. NotFound says how to make one.
Result<db::VideoProcessingRow> ResultRun(db::Database& db, Env* env, IdGenerator* ids, const std::string& video_id,
                                         const std::string& kind, const std::string& requested) {
  db::Repositories repos(db, env, ids);
  if (!requested.empty()) {
    auto run = repos.video_processing.Get(requested);
    if (!run.ok() || run->video_id != video_id || run->kind != kind) {
      return Status::NotFound("processing run " + requested + " is not a " + kind + " run of video " + video_id);
    }
    if (run->status != "succeeded") {
      return Status::NotFound("processing run " + requested + " is " + run->status + ", not succeeded");
    }
    return run;
  }
  CUTROOM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT processing_id FROM video_processing WHERE video_id = ? AND "
                                               "kind = ? AND status = 'succeeded' ORDER BY processing_id DESC LIMIT 1",
                                               {video_id, kind}));
  if (rows.size() == 0) {
    return Status::NotFound("video " + video_id + " has no " + kind + " yet: POST /api/videos/" + video_id +
                            "/process/" + kind);
  }
  return repos.video_processing.Get(*rows.Text(0, "processing_id"));
}

}  // namespace

void ApiServer::RegisterAnalysisRoutes() {
  router_.Add({"GET", "/api/videos/{video_id}/scenes", "Scenes and transitions of the newest scenes run (?processing_id=)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 CUTROOM_RETURN_IF_ERROR(RequireOwned(*deps_.db, deps_.env, deps_.ids, video_id, ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(auto run, ResultRun(*deps_.db, deps_.env, deps_.ids, video_id, "scenes",
                                                              ctx.Query("processing_id").value_or("")));
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto items, ListRun(repos.scenes, run.processing_id));
                 std::sort(items.begin(), items.end(),
                           [](const auto& a, const auto& b) { return a.scene_no < b.scene_no; });
                 // VideoDB's scenes carry the times of the frames it took (per scene).
                 nlohmann::json frame_times = nlohmann::json::array();
                 if (run.result.contains("videodb")) {
                   frame_times = run.result["videodb"].value("frame_times", frame_times);
                 }
                 nlohmann::json scenes = nlohmann::json::array();
                 for (const auto& r : items) {
                   scenes.push_back({{"scene_no", r.scene_no},
                                     {"start_s", r.start_s},
                                     {"end_s", r.end_s},
                                     {"start_frame", r.start_frame ? nlohmann::json(*r.start_frame) : nullptr},
                                     {"end_frame", r.end_frame ? nlohmann::json(*r.end_frame) : nullptr},
                                     {"transition", r.transition},
                                     {"score", r.score ? nlohmann::json(*r.score) : nullptr},
                                     {"keyframe_url", r.keyframe_id ? nlohmann::json(analysis::AssetUrl(video_id, *r.keyframe_id))
                                                                    : nullptr},
                                     {"description", OrNull(r.description)},
                                     {"description_model", OrNull(r.description_model)}});
                   if (r.scene_no >= 1 && static_cast<size_t>(r.scene_no) <= frame_times.size()) {
                     scenes.back()["frame_times"] = frame_times[static_cast<size_t>(r.scene_no - 1)];
                   }
                 }
                 nlohmann::json transitions = nlohmann::json::array();
                 for (const auto& t : run.result.value("transitions", nlohmann::json::array())) {
                   transitions.push_back({{"type", t.value("type", "")},
                                          {"start_s", t.value("start_s", 0.0)},
                                          {"end_s", t.value("end_s", 0.0)},
                                          {"start_frame", t.value("start_frame", 0)},
                                          {"end_frame", t.value("end_frame", 0)}});
                 }
                 WriteJson(ctx.res, 200,
                           {{"video_id", video_id},
                            {"processing_id", run.processing_id},
                            {"detector", run.result.value("detector", run.params.value("detector", "content"))},
                            {"params", run.result.value("params", run.params)},
                            {"fps", run.result.value("fps", 0.0)},
                            {"scenes", scenes},
                            {"transitions", transitions}});
                 return Status::Ok();
               }});

  router_.Add({"GET", "/api/videos/{video_id}/frames", "Sampled frames of the newest frames run (?processing_id=)",
               RouteAuth::kOwner, [this](RequestContext& ctx) -> Status {
                 const std::string& video_id = ctx.Param("video_id");
                 CUTROOM_RETURN_IF_ERROR(RequireOwned(*deps_.db, deps_.env, deps_.ids, video_id, ctx.owner_id));
                 CUTROOM_ASSIGN_OR_RETURN(auto run, ResultRun(*deps_.db, deps_.env, deps_.ids, video_id, "frames",
                                                              ctx.Query("processing_id").value_or("")));
                 db::Repositories repos(*deps_.db, deps_.env, deps_.ids);
                 CUTROOM_ASSIGN_OR_RETURN(auto items, ListRun(repos.frames, run.processing_id));
                 std::sort(items.begin(), items.end(),
                           [](const auto& a, const auto& b) { return a.ts_s < b.ts_s; });
                 nlohmann::json frames = nlohmann::json::array();
                 for (const auto& r : items) {
                   frames.push_back({{"frame_id", r.frame_id},
                                     {"ts_s", r.ts_s},
                                     {"image_url", r.asset_id ? nlohmann::json(analysis::AssetUrl(video_id, *r.asset_id))
                                                              : nullptr},
                                     {"width", r.width ? nlohmann::json(*r.width) : nullptr},
                                     {"height", r.height ? nlohmann::json(*r.height) : nullptr},
                                     {"phash", OrNull(r.phash)},
                                     {"features", r.features},
                                     {"ocr_text", OrNull(r.ocr_text)},
                                     {"description", OrNull(r.description)},
                                     {"description_model", OrNull(r.description_model)}});
                 }
                 WriteJson(ctx.res, 200,
                           {{"video_id", video_id},
                            {"processing_id", run.processing_id},
                            {"params", run.params},
                            {"frames", frames}});
                 return Status::Ok();
               }});


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
                 // engine=videodb delegates to VideoDB (analysis/hosted/videodb_search.h).
                 const std::string engine = ctx.Query("engine").value_or("");
                 if (!engine.empty() && engine != "videodb" && engine != "cutroom") {
                   return Status::InvalidArgument("engine must be videodb, or cutroom (the default: this server's "
                                                  "own index)");
                 }
                 std::vector<analysis::SearchHit> hits;
                 nlohmann::json extra = nlohmann::json::object();
                 if (engine == "videodb") {
                   analysis::VideoDbSearchRequest vreq;
                   vreq.query = req.query;
                   vreq.owner_id = req.owner_id;
                   vreq.video_id = req.video_id;
                   vreq.limit = req.limit;
                   vreq.type = ctx.Query("type").value_or("semantic");
                   vreq.index = ctx.Query("index").value_or("spoken_word");
                   CUTROOM_ASSIGN_OR_RETURN(hits, analysis::SearchVideoDb(*deps_.db, *deps_.config, vreq));
                   extra = {{"engine", "videodb"}, {"type", vreq.type}, {"index", vreq.index}};
                 } else {
                   CUTROOM_ASSIGN_OR_RETURN(hits, analysis::Search(*deps_.db, req));
                 }
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
                 nlohmann::json body = {{"query", req.query}, {"hits", items}};
                 body.update(extra);
                 WriteJson(ctx.res, 200, body);
                 return Status::Ok();
               }});
}

}  // namespace cutroom::api
