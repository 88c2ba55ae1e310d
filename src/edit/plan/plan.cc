#include "edit/plan/plan.h"

#include <cmath>
#include <set>

namespace cutroom::edit {
namespace {

using nlohmann::json;

json OptionalString(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

Status CheckKeys(const json& j, const std::string& where, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument("unknown field '" + (where.empty() ? key : where + "." + key) + "' (" + list +
                                     ")");
    }
  }
  return Status::Ok();
}

Result<double> Number(const json& j, const std::string& what) {
  if (!j.is_number()) return Status::InvalidArgument(what + " must be a number");
  double d = j.get<double>();
  if (!std::isfinite(d)) return Status::InvalidArgument(what + " must be finite");
  return d;
}

Result<std::string> String(const json& j, const std::string& what) {
  if (!j.is_string()) return Status::InvalidArgument(what + " must be a string");
  return j.get<std::string>();
}

Result<std::vector<std::string>> StringList(const json& j, const std::string& what) {
  if (!j.is_array()) return Status::InvalidArgument(what + " must be a list of ids");
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(std::string s, String(j[i], what + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<PlanRange> RangeFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  CUTROOM_RETURN_IF_ERROR(
      CheckKeys(j, where, {"start_s", "end_s", "speed", "because", "segment_ids", "word_ids", "duration_s"}));
  PlanRange r;
  // Times may be left out when ids say where the range is (the validator
  // resolves them); NaN marks "not given".
  r.start_s = r.end_s = std::nan("");
  if (j.contains("start_s") && !j["start_s"].is_null()) {
    CUTROOM_ASSIGN_OR_RETURN(r.start_s, Number(j["start_s"], where + ".start_s"));
  }
  if (j.contains("end_s") && !j["end_s"].is_null()) {
    CUTROOM_ASSIGN_OR_RETURN(r.end_s, Number(j["end_s"], where + ".end_s"));
  }
  if (j.contains("speed") && !j["speed"].is_null()) {
    CUTROOM_ASSIGN_OR_RETURN(r.speed, Number(j["speed"], where + ".speed"));
  }
  if (j.contains("because")) {
    CUTROOM_ASSIGN_OR_RETURN(r.because, String(j["because"], where + ".because"));
  }
  if (j.contains("segment_ids")) {
    CUTROOM_ASSIGN_OR_RETURN(r.segment_ids, StringList(j["segment_ids"], where + ".segment_ids"));
  }
  if (j.contains("word_ids")) {
    CUTROOM_ASSIGN_OR_RETURN(r.word_ids, StringList(j["word_ids"], where + ".word_ids"));
  }
  return r;
}

Result<PlanOutput> OutputFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  CUTROOM_RETURN_IF_ERROR(CheckKeys(
      j, where, {"name", "ranges", "aspect", "reframe", "captions", "title", "audio", "bound", "duration_s"}));
  PlanOutput o;
  if (j.contains("name")) {
    CUTROOM_ASSIGN_OR_RETURN(o.name, String(j["name"], where + ".name"));
  }
  if (!j.contains("ranges") || !j["ranges"].is_array()) {
    return Status::InvalidArgument(where + ".ranges must be a list of ranges");
  }
  if (j["ranges"].size() > kMaxPlanRanges) {
    return Status::InvalidArgument(where + " has " + std::to_string(j["ranges"].size()) + " ranges; at most " +
                                   std::to_string(kMaxPlanRanges));
  }
  for (size_t i = 0; i < j["ranges"].size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(PlanRange r, RangeFromJson(j["ranges"][i], where + ".ranges[" + std::to_string(i) + "]"));
    o.ranges.push_back(std::move(r));
  }
  if (j.contains("aspect") && !j["aspect"].is_null()) {
    CUTROOM_ASSIGN_OR_RETURN(o.aspect, String(j["aspect"], where + ".aspect"));
  }
  if (j.contains("reframe") && !j["reframe"].is_null()) {
    CUTROOM_ASSIGN_OR_RETURN(o.reframe, String(j["reframe"], where + ".reframe"));
  }
  if (j.contains("captions")) {
    const json& c = j["captions"];
    if (c.is_boolean()) {
      o.captions = c.get<bool>() ? json::object() : json(false);
    } else if (c.is_object()) {
      o.captions = c;
    } else if (!c.is_null()) {
      return Status::InvalidArgument(where + ".captions must be a style object, true or false");
    }
  }
  if (j.contains("title") && !j["title"].is_null()) {
    const json& t = j["title"];
    if (!t.is_object()) return Status::InvalidArgument(where + ".title must be {\"text\", \"duration_s\"} or null");
    CUTROOM_RETURN_IF_ERROR(CheckKeys(t, where + ".title", {"text", "duration_s"}));
    PlanTitle title;
    if (!t.contains("text")) return Status::InvalidArgument(where + ".title.text is missing");
    CUTROOM_ASSIGN_OR_RETURN(title.text, String(t["text"], where + ".title.text"));
    if (t.contains("duration_s")) {
      CUTROOM_ASSIGN_OR_RETURN(title.duration_s, Number(t["duration_s"], where + ".title.duration_s"));
    }
    o.title = title;
  }
  if (j.contains("audio") && !j["audio"].is_null()) {
    const json& a = j["audio"];
    if (!a.is_object()) return Status::InvalidArgument(where + ".audio must be an object");
    CUTROOM_RETURN_IF_ERROR(CheckKeys(a, where + ".audio", {"normalize", "target_lufs"}));
    if (a.contains("normalize")) {
      if (!a["normalize"].is_boolean()) return Status::InvalidArgument(where + ".audio.normalize must be true or false");
      o.audio.normalize = a["normalize"].get<bool>();
    }
    if (a.contains("target_lufs")) {
      CUTROOM_ASSIGN_OR_RETURN(o.audio.target_lufs, Number(a["target_lufs"], where + ".audio.target_lufs"));
    }
  }
  if (j.contains("bound") && !j["bound"].is_null()) {
    const json& b = j["bound"];
    if (!b.is_object()) return Status::InvalidArgument(where + ".bound must be {\"min_s\", \"max_s\"} or null");
    CUTROOM_RETURN_IF_ERROR(CheckKeys(b, where + ".bound", {"min_s", "max_s"}));
    PlanBound bound;
    CUTROOM_ASSIGN_OR_RETURN(bound.min_s, Number(b.value("min_s", json(0)), where + ".bound.min_s"));
    CUTROOM_ASSIGN_OR_RETURN(bound.max_s, Number(b.value("max_s", json(nullptr)), where + ".bound.max_s"));
    o.bound = bound;
  }
  return o;
}

}  // namespace

double PlanOutput::duration_s() const {
  double total = 0;
  for (const auto& r : ranges) {
    if (std::isfinite(r.start_s) && std::isfinite(r.end_s) && r.speed > 0) total += r.duration_s();
  }
  return total;
}

json PlanToJson(const EditPlan& plan) {
  json outputs = json::array();
  for (const auto& o : plan.outputs) {
    json ranges = json::array();
    for (const auto& r : o.ranges) {
      json jr = {{"start_s", r.start_s}, {"end_s", r.end_s}, {"speed", r.speed}, {"because", r.because}};
      if (!r.segment_ids.empty()) jr["segment_ids"] = r.segment_ids;
      if (!r.word_ids.empty()) jr["word_ids"] = r.word_ids;
      ranges.push_back(std::move(jr));
    }
    json jo = {{"name", o.name},
               {"ranges", std::move(ranges)},
               {"aspect", o.aspect},
               {"reframe", o.reframe},
               {"captions", o.captions},
               {"title", nullptr},
               {"audio", {{"normalize", o.audio.normalize}, {"target_lufs", o.audio.target_lufs}}},
               {"bound", nullptr},
               {"duration_s", o.duration_s()}};
    if (o.title) jo["title"] = {{"text", o.title->text}, {"duration_s", o.title->duration_s}};
    if (o.bound) jo["bound"] = {{"min_s", o.bound->min_s}, {"max_s", o.bound->max_s}};
    outputs.push_back(std::move(jo));
  }
  json steps = json::array();
  for (const auto& s : plan.steps) steps.push_back({{"planner", s.planner}, {"params", s.params}});
  const PlanProvenance& p = plan.provenance;
  return {{"version", plan.version},
          {"video_id", plan.video_id},
          {"outputs", std::move(outputs)},
          {"steps", std::move(steps)},
          {"provenance",
           {{"planner", p.planner},
            {"model", OptionalString(p.model)},
            {"prompt_version", OptionalString(p.prompt_version)},
            {"transcription_id", OptionalString(p.transcription_id)},
            {"scenes_processing_id", OptionalString(p.scenes_processing_id)},
            {"instruction_sha256", OptionalString(p.instruction_sha256)}}},
          {"warnings", plan.warnings}};
}

Result<EditPlan> PlanFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a plan must be a JSON object");
  CUTROOM_RETURN_IF_ERROR(CheckKeys(j, "", {"version", "video_id", "outputs", "steps", "provenance", "warnings"}));
  EditPlan plan;
  if (!j.contains("version")) return Status::InvalidArgument("version is missing (\"" + std::string(kPlanVersion) + "\")");
  CUTROOM_ASSIGN_OR_RETURN(plan.version, String(j["version"], "version"));
  if (plan.version != kPlanVersion) {
    return Status::InvalidArgument("version \"" + plan.version + "\" is not supported (\"" + kPlanVersion + "\")");
  }
  if (j.contains("video_id")) {
    CUTROOM_ASSIGN_OR_RETURN(plan.video_id, String(j["video_id"], "video_id"));
  }
  if (!j.contains("outputs") || !j["outputs"].is_array()) {
    return Status::InvalidArgument("outputs must be a list of 1 to " + std::to_string(kMaxPlanOutputs) + " outputs");
  }
  if (j["outputs"].size() > kMaxPlanOutputs) {
    return Status::InvalidArgument("the plan has " + std::to_string(j["outputs"].size()) + " outputs; at most " +
                                   std::to_string(kMaxPlanOutputs));
  }
  for (size_t i = 0; i < j["outputs"].size(); ++i) {
    CUTROOM_ASSIGN_OR_RETURN(PlanOutput o, OutputFromJson(j["outputs"][i], "outputs[" + std::to_string(i) + "]"));
    plan.outputs.push_back(std::move(o));
  }
  if (j.contains("steps")) {
    if (!j["steps"].is_array()) return Status::InvalidArgument("steps must be a list");
    for (size_t i = 0; i < j["steps"].size(); ++i) {
      const json& s = j["steps"][i];
      std::string where = "steps[" + std::to_string(i) + "]";
      if (!s.is_object()) return Status::InvalidArgument(where + " must be an object");
      PlanStep step;
      CUTROOM_ASSIGN_OR_RETURN(step.planner, String(s.value("planner", json(nullptr)), where + ".planner"));
      if (s.contains("params")) step.params = s["params"];
      plan.steps.push_back(std::move(step));
    }
  }
  if (j.contains("provenance") && j["provenance"].is_object()) {
    const json& p = j["provenance"];
    auto get = [&p](const char* key) {
      return p.contains(key) && p[key].is_string() ? p[key].get<std::string>() : std::string();
    };
    plan.provenance.planner = get("planner");
    plan.provenance.model = get("model");
    plan.provenance.prompt_version = get("prompt_version");
    plan.provenance.transcription_id = get("transcription_id");
    plan.provenance.scenes_processing_id = get("scenes_processing_id");
    plan.provenance.instruction_sha256 = get("instruction_sha256");
  }
  if (j.contains("warnings")) {
    CUTROOM_ASSIGN_OR_RETURN(plan.warnings, StringList(j["warnings"], "warnings"));
  }
  return plan;
}

}  // namespace cutroom::edit
