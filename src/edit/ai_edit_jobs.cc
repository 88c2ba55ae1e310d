#include "edit/ai_edit_jobs.h"

#include <algorithm>
#include <set>

#include "ai/chat_client.h"
#include "analysis/source_media.h"
#include "core/hash.h"
#include "db/tables.h"
#include "edit/edit_jobs.h"
#include "edit/plan/edit_index.h"
#include "edit/plan/llm_planner.h"
#include "edit/plan/plan_builder.h"
#include "edit/plan/plan_validate.h"
#include "edit/plan/rules.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

constexpr const char* kLlmNotConfigured = "llm_not_configured: ";
// Outputs up to this long in a portrait or square aspect count as short-form.
constexpr double kShortFormMax_s = 180;

std::string UnderstoodList() {
  std::string list;
  for (const auto& e : RuleExamples()) list += (list.empty() ? "" : "; ") + e;
  return list;
}

// Which planner a request gets: "rules" or "llm".
Result<std::string> ChoosePlanner(const json& request, const Config& config) {
  std::string asked = request.value("planner", std::string("auto"));
  bool llm = ai::ChatClient::Configured(config);
  if (asked == "rules") return std::string("rules");
  if (asked == "llm") {
    if (!llm) {
      return Status::FailedPrecondition(std::string(kLlmNotConfigured) +
                                        "planner \"llm\" needs an OpenAI-compatible LLM; set llm.base_url and llm.model");
    }
    return std::string("llm");
  }
  return std::string(llm ? "llm" : "rules");
}

Status CheckRequest(const json& request) {
  if (!request.is_object()) return Status::InvalidArgument("the AI edit request must be a JSON object");
  static const char* const kKnown[] = {"video_id", "instruction", "outputs", "render", "aspect", "captions", "planner"};
  for (const auto& [key, value] : request.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Status::InvalidArgument("unknown field '" + key +
                                     "' (video_id, instruction, outputs, render, aspect, captions, planner)");
    }
  }
  if (!request.contains("video_id") || !request["video_id"].is_string()) {
    return Status::InvalidArgument("video_id is required (a string)");
  }
  if (!request.contains("instruction") || !request["instruction"].is_string()) {
    return Status::InvalidArgument("instruction is required (a string)");
  }
  const std::string& ins = request["instruction"].get_ref<const std::string&>();
  if (ins.find_first_not_of(" \t\r\n") == std::string::npos) return Status::InvalidArgument("instruction is empty");
  if (ins.size() > kMaxInstructionChars) {
    return Status::InvalidArgument("instruction is longer than " + std::to_string(kMaxInstructionChars) + " characters");
  }
  if (request.contains("outputs")) {
    const json& o = request["outputs"];
    if (!o.is_number_integer() || o.get<int64_t>() < 1 || o.get<int64_t>() > static_cast<int64_t>(kMaxPlanOutputs)) {
      return Status::InvalidArgument("outputs must be an integer from 1 to " + std::to_string(kMaxPlanOutputs));
    }
  }
  if (request.contains("render") && !request["render"].is_boolean()) {
    return Status::InvalidArgument("render must be true or false");
  }
  if (request.contains("aspect")) {
    static const char* const kAspects[] = {"source", "9:16", "1:1", "16:9"};
    if (!request["aspect"].is_string() ||
        std::find(std::begin(kAspects), std::end(kAspects), request["aspect"].get<std::string>()) == std::end(kAspects)) {
      return Status::InvalidArgument("aspect must be source, 9:16, 1:1 or 16:9");
    }
  }
  if (request.contains("captions") && !request["captions"].is_boolean() && !request["captions"].is_object()) {
    return Status::InvalidArgument("captions must be a style object, true or false");
  }
  if (request.contains("planner")) {
    const json& p = request["planner"];
    if (!p.is_string() || (p != "auto" && p != "rules" && p != "llm")) {
      return Status::InvalidArgument("planner must be auto, rules or llm");
    }
  }
  return Status::Ok();
}

OutputSettings RequestOverrides(const json& request) {
  OutputSettings s;
  if (request.contains("aspect")) s.aspect = request["aspect"].get<std::string>();
  if (request.contains("captions")) {
    const json& c = request["captions"];
    s.captions = c.is_boolean() ? (c.get<bool>() ? json::object() : json(false)) : c;
  }
  return s;
}

// Merges settings: `over` wins where it says something.
OutputSettings Merge(OutputSettings base, const OutputSettings& over) {
  if (over.aspect) base.aspect = over.aspect;
  if (over.captions) base.captions = over.captions;
  if (over.title) base.title = over.title;
  if (over.speed) base.speed = over.speed;
  if (over.normalize_audio) base.normalize_audio = over.normalize_audio;
  return base;
}

bool NeedsLoudness(const std::vector<PlanStep>& steps) {
  return std::any_of(steps.begin(), steps.end(), [](const PlanStep& s) { return s.planner == "remove_silences"; });
}

Status SetStatus(db::Database& db, Env* env, IdGenerator* ids, db::AiEditJobRow& row, const std::string& status) {
  row.status = status;
  db::Repositories repos(db, env, ids);
  CUTROOM_ASSIGN_OR_RETURN(row, repos.ai_edit_jobs.Update(row));
  return Status::Ok();
}

// Plans with the rules: steps from the instruction, validated.
Result<EditPlan> PlanWithRules(const EditIndex& index, const InstructionPlan& parsed, const OutputSettings& overrides,
                               size_t max_outputs, std::vector<std::string>* notes) {
  BuildPlanInput in;
  in.steps = parsed.steps;
  in.settings = Merge(parsed.settings, overrides);
  in.bound = parsed.bound;
  CUTROOM_ASSIGN_OR_RETURN(EditPlan plan, BuildPlan(index, in));
  // Short vertical and square outputs are watched muted in feeds: captions
  // on unless the instruction or the request said otherwise.
  if (!in.settings.captions) {
    for (auto& o : plan.outputs) {
      if ((o.aspect == "9:16" || o.aspect == "1:1") && o.duration_s() <= kShortFormMax_s) o.captions = json::object();
    }
  }
  if (plan.outputs.size() > max_outputs) {
    plan.warnings.push_back("kept the first " + std::to_string(max_outputs) + " of " +
                            std::to_string(plan.outputs.size()) + " outputs (the request's outputs limit)");
    plan.outputs.resize(max_outputs);
  }
  ValidateOptions vo;
  vo.bound = parsed.bound;
  vo.max_outputs = max_outputs;
  PlanCheck check = ValidatePlan(plan, index, vo);
  *notes = check.notes;
  if (!check.ok()) return Status::InvalidArgument("the plan does not hold: " + check.Summary());
  return plan;
}

Result<std::vector<std::string>> QueueRenders(jobs::JobContext& ctx, const db::AiEditJobRow& row, const EditPlan& plan) {
  const jobs::JobServices& s = ctx.services();
  std::vector<std::string> ids;
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    json req = EditRequestForOutput(plan, i);
    auto created = CreateEditJob(*s.db, s.env, s.ids, ctx.queue(), row.owner_id, req);
    if (!created.ok()) return created.status().WithContext("output '" + plan.outputs[i].name + "'");
    ids.push_back(created->edit.edit_job_id);
  }
  return ids;
}

}  // namespace

void RegisterEditJobs(jobs::WorkerPool& pool) {
  // x264 and the decoder take every core: one render at a time.
  pool.Register("render", RunRender, 1);
  // Planning is light (an LLM call or a pass over the index); its renders
  // are separate "render" jobs.
  pool.Register("ai_edit", RunAiEdit, 1);
}

PlanExportMedia PlanExportMediaFor(const db::MediaRow& media) {
  PlanExportMedia m;
  m.name = media.original_filename.value_or(media.video_id);
  m.url = media.original_filename.value_or("/api/videos/" + media.video_id + "/stream");
  m.duration_s = media.duration_s.value_or(0);
  m.fps = media.fps.value_or(0) > 0 ? *media.fps : 25.0;
  m.width = static_cast<int>(media.width.value_or(0));
  m.height = static_cast<int>(media.height.value_or(0));
  m.has_video = media.media_type.value_or("video") != "audio" && media.video_codec.has_value();
  m.has_audio = media.audio_codec.has_value();
  return m;
}

json EditRequestForOutput(const EditPlan& plan, size_t i) {
  const PlanOutput& o = plan.outputs.at(i);
  json ranges = json::array();
  for (const auto& r : o.ranges) {
    if (r.speed == 1.0) {
      ranges.push_back({r.start_s, r.end_s});
    } else {
      ranges.push_back({r.start_s, r.end_s, r.speed});
    }
  }
  json req = {{"video_id", plan.video_id},
              {"ranges", ranges},
              {"aspect", o.aspect},
              {"reframe", o.reframe},
              {"captions", o.captions},
              {"audio", {{"normalize", o.audio.normalize}, {"target_lufs", o.audio.target_lufs}}}};
  if (o.title) req["title"] = {{"text", o.title->text}, {"duration_s", o.title->duration_s}};
  return req;
}

Result<CreatedAiEdit> CreateAiEditJob(db::Database& db, Env* env, IdGenerator* ids, jobs::JobQueue& queue,
                                      const Config& config, const std::string& owner_id, const json& request) {
  CUTROOM_RETURN_IF_ERROR(CheckRequest(request));
  const std::string video_id = request["video_id"].get<std::string>();
  const std::string instruction = request["instruction"].get<std::string>();
  db::Repositories repos(db, env, ids);
  auto media = repos.media.Get(video_id);
  if (!media.ok() || media->owner_id != owner_id) return Status::NotFound("video " + video_id + " does not exist");
  if (media->status != "ready") return Status::FailedPrecondition("video " + video_id + " is " + media->status);
  CUTROOM_ASSIGN_OR_RETURN(std::string planner, ChoosePlanner(request, config));
  if (planner == "rules") {
    auto parsed = ParseInstruction(instruction);
    if (!parsed.ok()) {
      return Status::FailedPrecondition(std::string(kLlmNotConfigured) +
                                        "no LLM is configured (llm.base_url, llm.model) and the rule planner does not "
                                        "understand this instruction; it understands: " +
                                        UnderstoodList());
    }
  }
  db::AiEditJobRow row;
  row.video_id = video_id;
  row.owner_id = owner_id;
  row.instruction = instruction;
  row.status = "queued";
  row.planner = planner;
  row.request = request;
  CUTROOM_ASSIGN_OR_RETURN(row, repos.ai_edit_jobs.Insert(row));
  jobs::EnqueueRequest req;
  req.kind = "ai_edit";
  req.video_id = video_id;
  req.owner_id = owner_id;
  req.params = {{"ai_edit_job_id", row.ai_edit_job_id}};
  // A plan is cheap to redo but a model answer is not deterministic: one
  // retry for transport trouble, not three.
  req.max_attempts = 2;
  auto job = queue.Enqueue(req);
  if (!job.ok()) {
    repos.ai_edit_jobs.Delete(row.ai_edit_job_id).IgnoreError();
    return job.status();
  }
  row.job_id = job->job_id;
  CUTROOM_ASSIGN_OR_RETURN(row, repos.ai_edit_jobs.Update(row));
  return CreatedAiEdit{row, *job};
}

Status RunAiEdit(jobs::JobContext& ctx) {
  const jobs::JobServices& s = ctx.services();
  const auto& params = ctx.job().params;
  if (!params.contains("ai_edit_job_id") || !params["ai_edit_job_id"].is_string()) {
    return Status::InvalidArgument("the ai_edit job has no ai_edit_job_id");
  }
  db::Repositories repos(*s.db, s.env, s.ids);
  CUTROOM_ASSIGN_OR_RETURN(auto row, repos.ai_edit_jobs.Get(params["ai_edit_job_id"].get<std::string>()));
  auto fail = [&](const Status& st) {
    // A transport error the queue will retry leaves the row queued.
    const bool retry = jobs::IsRetryable(st) && ctx.job().attempts < ctx.job().max_attempts;
    row.status = st.IsCancelled() ? "cancelled" : retry ? "queued" : "failed";
    row.error = st.message();
    repos.ai_edit_jobs.Update(row).status().IgnoreError();
    if (!st.IsCancelled()) ctx.Log("error", "AI edit failed: " + st.message());
    return st;
  };
  auto media = repos.media.Get(row.video_id);
  if (!media.ok()) return fail(Status::NotFound("video " + row.video_id + " no longer exists"));
  row.error.reset();
  CUTROOM_RETURN_IF_ERROR(SetStatus(*s.db, s.env, s.ids, row, "planning"));
  const json& request = row.request;
  const size_t max_outputs = static_cast<size_t>(request.value("outputs", static_cast<int>(kMaxPlanOutputs)));
  const bool render = request.value("render", true);
  const OutputSettings overrides = RequestOverrides(request);
  const std::string planner = row.planner.value_or("rules");

  std::optional<InstructionPlan> parsed;
  if (planner == "rules") {
    auto p = ParseInstruction(row.instruction);
    if (!p.ok()) return fail(p.status());
    parsed = *p;
  }
  EditIndexOptions io;
  io.loudness = planner == "llm" || NeedsLoudness(parsed->steps);
  std::optional<analysis::SourceMedia> source;
  if (io.loudness) {
    auto opened = analysis::SourceMedia::Open(s, *media);
    if (!opened.ok()) return fail(opened.status());
    io.media_path = source.emplace(std::move(*opened)).path();
  }
  io.cancelled = [&ctx] { return ctx.cancelled(); };
  ctx.SetProgress(0.05);
  auto loaded = LoadEditIndex(*s.db, s.env, s.ids, *media, io);
  if (source) analysis::LogRemoteReads(ctx, *source);
  if (!loaded.ok()) return fail(source ? source->Explain(loaded.status()) : loaded.status());
  EditIndex index = std::move(*loaded);
  // Topics are looked up in the full-text index as planners ask for them.
  db::Database* dbp = s.db;
  const std::string owner = row.owner_id;
  index.relevance_lookup = [dbp, owner, &index](const std::string& topic) {
    EditIndex scratch;
    scratch.video_id = index.video_id;
    scratch.segments = index.segments;
    if (!AddTopicRelevance(*dbp, owner, topic, scratch).ok()) return std::map<size_t, double>();
    return scratch.topic_relevance[topic];
  };
  ctx.SetProgress(0.3);

  EditPlan plan;
  std::vector<std::string> notes;
  json usage;
  if (planner == "rules") {
    auto p = PlanWithRules(index, *parsed, overrides, max_outputs, &notes);
    if (!p.ok()) return fail(p.status());
    plan = std::move(*p);
    plan.provenance.planner = "rules";
  } else {
    auto client = ai::ChatClient::FromConfig(*s.config);
    if (!client.ok()) return fail(client.status());
    LlmPlanRequest lr;
    lr.instruction = row.instruction;
    lr.max_outputs = max_outputs;
    lr.overrides = overrides;
    auto outcome = PlanWithLlm(*client, index, lr);
    if (!outcome.ok()) return fail(outcome.status().WithContext("llm"));
    plan = std::move(outcome->plan);
    notes = outcome->notes;
    plan.provenance.planner = outcome->model.empty() ? client->options().model : outcome->model;
    plan.provenance.model = plan.provenance.planner;
    plan.provenance.prompt_version = kLlmPromptVersion;
    row.model = plan.provenance.model;
    usage = {{"requests", outcome->requests},
             {"prompt_tokens", outcome->usage.prompt_tokens},
             {"completion_tokens", outcome->usage.completion_tokens}};
    if (!outcome->first_problems.empty()) {
      std::string first;
      for (const auto& p : outcome->first_problems) first += (first.empty() ? "" : "; ") + p;
      plan.warnings.push_back("the model's first plan was refused and repaired: " + first);
    }
  }
  SnapPlanToFrames(plan, index);
  plan.provenance.transcription_id = index.transcription_id;
  plan.provenance.scenes_processing_id = index.scenes_processing_id;
  plan.provenance.instruction_sha256 = Sha256Hex(row.instruction);
  for (const auto& n : notes) plan.warnings.push_back(n);
  CUTROOM_RETURN_IF_ERROR(ctx.CheckCancelled());

  row.plan = PlanToJson(plan);
  row.warnings = plan.warnings;
  ctx.SetProgress(0.8);
  json summary = json::array();
  for (const auto& o : plan.outputs) {
    summary.push_back({{"name", o.name}, {"ranges", o.ranges.size()}, {"duration_s", o.duration_s()}});
  }
  ctx.Log("info", "planned " + std::to_string(plan.outputs.size()) + " output(s) with " + plan.provenance.planner,
          {{"outputs", summary}, {"warnings", plan.warnings}, {"usage", usage}});
  if (!render) {
    CUTROOM_RETURN_IF_ERROR(SetStatus(*s.db, s.env, s.ids, row, "succeeded"));
    ctx.set_result({{"ai_edit_job_id", row.ai_edit_job_id}, {"outputs", summary}, {"rendered", false}});
    return Status::Ok();
  }
  auto edits = QueueRenders(ctx, row, plan);
  if (!edits.ok()) return fail(edits.status());
  row.edit_job_ids = *edits;
  if (!edits->empty()) row.edit_job_id = edits->front();
  CUTROOM_RETURN_IF_ERROR(SetStatus(*s.db, s.env, s.ids, row, "rendering"));
  ctx.set_result({{"ai_edit_job_id", row.ai_edit_job_id}, {"outputs", summary}, {"edit_job_ids", *edits}});
  return Status::Ok();
}

Result<json> AiEditJobJson(db::Database& db, Env* env, IdGenerator* ids, const std::string& owner_id,
                           const std::string& id) {
  db::Repositories repos(db, env, ids);
  auto row = repos.ai_edit_jobs.Get(id);
  if (!row.ok() || row->owner_id != owner_id) return Status::NotFound("AI edit job " + id + " does not exist");
  json outputs = json::array();
  std::vector<db::EditJobRow> edits;
  for (const auto& e : row->edit_job_ids) {
    if (!e.is_string()) continue;
    auto edit = repos.edit_jobs.Get(e.get<std::string>());
    if (edit.ok()) edits.push_back(*edit);
  }
  if (row->status == "rendering" && !row->edit_job_ids.empty()) {
    // The edit jobs decide: all rendered is success, one failed is failure.
    bool all_done = edits.size() == row->edit_job_ids.size();
    std::string failed;
    for (const auto& e : edits) {
      if (e.status == "failed" || e.status == "cancelled") failed = e.edit_job_id + ": " + e.error.value_or(e.status);
      if (e.status != "succeeded") all_done = false;
    }
    if (!failed.empty() || all_done) {
      row->status = failed.empty() ? "succeeded" : "failed";
      if (!failed.empty()) row->error = "render " + failed;
      auto updated = repos.ai_edit_jobs.Update(*row);
      if (updated.ok()) *row = *updated;
    }
  }
  EditPlan plan;
  bool has_plan = false;
  if (!row->plan.is_null()) {
    auto p = PlanFromJson(row->plan);
    has_plan = p.ok();
    if (p.ok()) plan = std::move(*p);
  }
  for (size_t i = 0; has_plan && i < plan.outputs.size(); ++i) {
    const PlanOutput& o = plan.outputs[i];
    json jo = {{"name", o.name}, {"duration_s", o.duration_s()}, {"ranges", o.ranges.size()}, {"aspect", o.aspect},
               {"edit_job_id", nullptr}, {"status", nullptr}, {"output_url", nullptr}};
    if (i < edits.size()) {
      jo["edit_job_id"] = edits[i].edit_job_id;
      jo["status"] = edits[i].status;
      if (edits[i].status == "succeeded") jo["output_url"] = "/api/edit-jobs/" + edits[i].edit_job_id + "/output";
    }
    outputs.push_back(std::move(jo));
  }
  return json{{"ai_edit_job_id", row->ai_edit_job_id},
              {"video_id", row->video_id},
              {"instruction", row->instruction},
              {"status", row->status},
              {"planner", row->planner ? json(*row->planner) : json(nullptr)},
              {"model", row->model ? json(*row->model) : json(nullptr)},
              {"plan", row->plan},
              {"outputs", outputs},
              {"edit_job_ids", row->edit_job_ids},
              {"warnings", row->warnings},
              {"error", row->error ? json(*row->error) : json(nullptr)},
              {"job_id", row->job_id ? json(*row->job_id) : json(nullptr)},
              {"request", row->request},
              {"created_at", row->created_at},
              {"updated_at", row->updated_at}};
}

}  // namespace cutroom::edit
