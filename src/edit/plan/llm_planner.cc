#include "edit/plan/llm_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "edit/plan/plan_builder.h"
#include "edit/plan/plan_validate.h"
#include "edit/plan/planners.h"

namespace cutroom::edit {
namespace {

using nlohmann::json;

// Enough for an hour of talk in 5-10 s segments; longer transcripts are
// cut and the model is told so.
constexpr size_t kMaxPromptChars = 60000;
constexpr size_t kMaxPromptScenes = 200;
constexpr size_t kMaxPromptClips = 10;

const char* kSystem =
    "You are a precise video editor. You turn an editing instruction into an edit plan for one video, using only "
    "the material listed: transcript segments by their [number], scenes, clip candidates, and planners that cut "
    "silences, filler words, gaps, length and scenes exactly. Never invent timestamps: keep speech by choosing "
    "segment numbers. Keep each output's segment runs in a sensible order, with no segment used twice in one "
    "output. Answer with JSON only.";

std::string Fmt(const char* f, double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

std::string PlannerMenu() {
  return "Planners (steps run in order on the output's material; params may be left out for defaults):\n"
         "- remove_silences {\"min_silence_s\": 0.5, \"margin_s\": 0.2}: cut quiet stretches\n"
         "- remove_fillers {\"words\": [\"um\", \"uh\", ...]}: cut filler words\n"
         "- tighten_gaps {\"max_gap_s\": 0.4}: shorten pauses between words\n"
         "- fit_length {\"target_s\": 45, \"topic\": \"...\"}: keep whole sentences, most relevant first, to last "
         "target_s +-10%\n"
         "- keep_scenes / drop_scenes {\"where\": \"slide\" | \"face\" | \"talking\" | \"text\"}\n"
         "- topic_clips {\"count\": 3, \"topic\": \"...\", \"min_s\": 15, \"max_s\": 60}: several outputs, one per "
         "clip\n";
}

json ResponseSchema(size_t max_outputs) {
  json range = {{"type", "object"},
                {"additionalProperties", false},
                {"required", {"first_segment", "last_segment", "because"}},
                {"properties",
                 {{"first_segment", {{"type", "integer"}}},
                  {"last_segment", {{"type", "integer"}}},
                  {"because", {{"type", "string"}, {"description", "why this part is in the output, one sentence"}}}}}};
  json step = {{"type", "object"},
               {"required", {"planner", "params"}},
               {"properties",
                {{"planner",
                  {{"type", "string"},
                   {"enum",
                    {"remove_silences", "remove_fillers", "tighten_gaps", "fit_length", "keep_scenes", "drop_scenes",
                     "topic_clips"}}}},
                 {"params", {{"type", "object"}}}}}};
  json output = {{"type", "object"},
                 {"required", {"name", "ranges", "steps"}},
                 {"properties",
                  {{"name", {{"type", "string"}}},
                   {"ranges", {{"type", "array"}, {"items", range}}},
                   {"steps", {{"type", "array"}, {"items", step}}},
                   {"aspect", {{"type", {"string", "null"}}, {"enum", {"source", "9:16", "1:1", "16:9", nullptr}}}},
                   {"captions", {{"type", {"boolean", "null"}}}},
                   {"title", {{"type", {"string", "null"}}}}}}};
  return {{"type", "json_schema"},
          {"json_schema",
           {{"name", "edit_plan"},
            {"strict", false},
            {"schema",
             {{"type", "object"},
              {"required", {"outputs"}},
              {"properties",
               {{"outputs", {{"type", "array"}, {"minItems", 1}, {"maxItems", max_outputs}, {"items", output}}}}}}}}}};
}

struct Attempt {
  EditPlan plan;
  std::vector<std::string> problems;
  std::vector<std::string> notes;
};

// Numbers as the prompt shows them (1-based) -> segment ids; a number that
// does not exist becomes an id the validator reports as unknown.
std::string SegmentIdFor(const EditIndex& index, const json& n) {
  if (!n.is_number_integer()) return "segment number " + n.dump();
  int64_t k = n.get<int64_t>();
  if (k < 1 || k > static_cast<int64_t>(index.segments.size())) return "[" + std::to_string(k) + "] (no such segment)";
  return index.segments[static_cast<size_t>(k - 1)].id;
}

// Reads the model's answer into a plan and checks it; every problem is
// collected for the repair round.
Attempt Interpret(const std::string& text, const std::string& finish_reason, const EditIndex& index,
                  const LlmPlanRequest& request) {
  Attempt a;
  auto parsed = ai::ParseJsonReply(text);
  if (!parsed.ok()) {
    a.problems.push_back("the answer is not a JSON object (" + parsed.status().message() + ")" +
                         (finish_reason == "length" ? "; it was cut off at the token limit, answer more briefly" : ""));
    return a;
  }
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("outputs") || !j["outputs"].is_array() || j["outputs"].empty()) {
    a.problems.push_back("the answer has no \"outputs\" list");
    return a;
  }
  if (j["outputs"].size() > request.max_outputs) {
    a.problems.push_back("the answer has " + std::to_string(j["outputs"].size()) + " outputs; at most " +
                         std::to_string(request.max_outputs));
    return a;
  }
  const std::optional<PlanBound> bound = StatedLength(request.instruction);
  EditPlan plan;
  plan.video_id = index.video_id;
  for (size_t o = 0; o < j["outputs"].size(); ++o) {
    const json& jo = j["outputs"][o];
    const std::string where = "outputs[" + std::to_string(o) + "]";
    if (!jo.is_object()) {
      a.problems.push_back(where + " is not an object");
      continue;
    }
    // Material: the chosen segment runs (and any times sent with them).
    EditPlan material;
    material.video_id = index.video_id;
    PlanOutput mo;
    std::vector<bool> had_times;
    const json ranges = jo.value("ranges", json::array());
    if (!ranges.is_array()) a.problems.push_back(where + ".ranges must be a list");
    for (size_t i = 0; ranges.is_array() && i < ranges.size(); ++i) {
      const json& jr = ranges[i];
      const std::string rw = where + ".ranges[" + std::to_string(i) + "]";
      if (!jr.is_object() || !jr.contains("first_segment") || !jr.contains("last_segment")) {
        a.problems.push_back(rw + " needs first_segment and last_segment numbers");
        continue;
      }
      PlanRange r;
      r.start_s = r.end_s = NAN;
      std::string first = SegmentIdFor(index, jr["first_segment"]), last = SegmentIdFor(index, jr["last_segment"]);
      r.segment_ids = {first, last};
      if (jr["first_segment"].is_number_integer() && jr["last_segment"].is_number_integer() &&
          jr["last_segment"].get<int64_t>() < jr["first_segment"].get<int64_t>()) {
        a.problems.push_back(rw + ": last_segment comes before first_segment");
        continue;
      }
      for (const char* key : {"start_s", "end_s"}) {
        if (jr.contains(key) && !jr[key].is_null()) {
          if (!jr[key].is_number()) {
            a.problems.push_back(rw + "." + key + " must be a number");
          } else {
            (std::string(key) == "start_s" ? r.start_s : r.end_s) = jr[key].get<double>();
          }
        }
      }
      r.because = jr.value("because", std::string());
      if (r.because.empty()) r.because = "chosen by the model";
      had_times.push_back(!std::isnan(r.start_s) || !std::isnan(r.end_s));
      mo.ranges.push_back(std::move(r));
    }
    material.outputs.push_back(mo);
    std::vector<std::pair<std::string, Timeline>> start;
    std::string name = jo.value("name", std::string("output-") + std::to_string(o + 1));
    if (name.empty() || name.size() > 100) name = "output-" + std::to_string(o + 1);
    if (!mo.ranges.empty()) {
      ValidateOptions vo;
      PlanCheck check = ValidatePlan(material, index, vo);
      for (const auto& p : check.problems) a.problems.push_back(p);
      for (const auto& n : check.notes) a.notes.push_back(n);
      if (!check.ok()) continue;
      Timeline t;
      for (size_t i = 0; i < material.outputs[0].ranges.size(); ++i) {
        const PlanRange& r = material.outputs[0].ranges[i];
        const IndexSegment* first = index.FindSegment(r.segment_ids.front());
        const IndexSegment* last = index.FindSegment(r.segment_ids.back());
        if (!had_times[i] && first && last && first->word_count > 0 && last->word_count > 0) {
          // A segment's edges are its first and last words: keep a breath
          // of air around them, never more than half the pause beside.
          t.push_back(WordsWithAir(index, first->first_word, last->first_word + last->word_count - 1, r.because));
        } else {
          t.push_back({r.start_s, r.end_s, r.because});
        }
      }
      start.push_back({name, t});
    } else {
      start.push_back({name, WholeMedia(index)});
    }
    std::vector<PlanStep> steps;
    const json jsteps = jo.value("steps", json::array());
    for (size_t s = 0; jsteps.is_array() && s < jsteps.size(); ++s) {
      if (!jsteps[s].is_object() || !jsteps[s].contains("planner") || !jsteps[s]["planner"].is_string()) {
        a.problems.push_back(where + ".steps[" + std::to_string(s) + "] needs a planner name");
        continue;
      }
      steps.push_back({jsteps[s]["planner"].get<std::string>(), jsteps[s].value("params", json::object())});
    }
    if (mo.ranges.empty() && steps.empty()) {
      a.problems.push_back(where + " has neither ranges nor steps");
      continue;
    }
    OutputSettings settings;
    if (jo.contains("aspect") && jo["aspect"].is_string()) settings.aspect = jo["aspect"].get<std::string>();
    if (jo.contains("captions") && jo["captions"].is_boolean()) {
      settings.captions = jo["captions"].get<bool>() ? json::object() : json(false);
    }
    if (jo.contains("title") && jo["title"].is_string() && !jo["title"].get<std::string>().empty()) {
      settings.title = PlanTitle{jo["title"].get<std::string>(), 3.0};
    }
    BuildPlanInput in;
    in.steps = steps;
    in.start = start;
    in.settings = settings;
    auto built = BuildPlan(index, in);
    if (!built.ok()) {
      a.problems.push_back(where + ": " + built.status().message());
      continue;
    }
    for (auto& out : built->outputs) plan.outputs.push_back(std::move(out));
    for (auto& s : built->steps) plan.steps.push_back(std::move(s));
    for (auto& w : built->warnings) plan.warnings.push_back(std::move(w));
  }
  if (!a.problems.empty()) return a;
  ApplySettings(plan, request.overrides);
  ValidateOptions vo;
  vo.bound = bound;
  vo.max_outputs = request.max_outputs;
  PlanCheck check = ValidatePlan(plan, index, vo);
  for (const auto& p : check.problems) a.problems.push_back(p);
  for (const auto& n : check.notes) a.notes.push_back(n);
  a.plan = std::move(plan);
  return a;
}

std::string ProblemList(const std::vector<std::string>& problems) {
  std::string s;
  for (const auto& p : problems) s += "- " + p + "\n";
  return s;
}

}  // namespace

std::string LlmPlanPrompt(const EditIndex& index, const LlmPlanRequest& request) {
  std::string p = "Instruction: " + request.instruction + "\n\n";
  if (index.duration_s > 0) p += Fmt("The video lasts %.1f s (%.0f minutes).\n", index.duration_s, index.duration_s / 60);
  auto bound = StatedLength(request.instruction);
  if (bound) p += Fmt("Each output must last %.1f to %.1f s.\n", bound->min_s, bound->max_s);
  p += "At most " + std::to_string(request.max_outputs) + " output(s).\n\n";
  if (index.segments.empty()) {
    p += "There is no transcript: use planners and scenes only.\n";
  } else {
    p += "Transcript segments ([number] start-end seconds: text):\n";
    size_t shown = 0;
    for (size_t i = 0; i < index.segments.size(); ++i) {
      const auto& s = index.segments[i];
      std::string line = "[" + std::to_string(i + 1) + "] " + Fmt("%.1f-%.1f", s.start_s, s.end_s) + ": " + s.text + "\n";
      if (p.size() + line.size() > kMaxPromptChars) break;
      p += line;
      ++shown;
    }
    if (shown < index.segments.size()) {
      p += "(transcript cut after segment " + std::to_string(shown) + " of " + std::to_string(index.segments.size()) +
           ")\n";
    }
  }
  if (!index.scenes.empty()) {
    p += "\nScenes:\n";
    for (size_t i = 0; i < index.scenes.size() && i < kMaxPromptScenes; ++i) {
      const auto& s = index.scenes[i];
      p += "scene " + std::to_string(s.scene_no) + ": " + Fmt("%.1f-%.1f s", s.start_s, s.end_s);
      if (s.frames > 0) {
        if (s.faces_measured) p += s.frames_with_faces * 2 >= s.frames ? ", faces" : ", no faces";
        if (s.ocr_measured) p += s.frames_with_text * 2 >= s.frames ? ", text on screen" : "";
      }
      if (!s.description.empty()) p += ": " + s.description.substr(0, 200);
      p += "\n";
    }
  }
  if (!index.clips.empty()) {
    p += "\nBest clip candidates (for reference):\n";
    for (size_t i = 0; i < index.clips.size() && i < kMaxPromptClips; ++i) {
      const auto& c = index.clips[i];
      p += Fmt("%.1f-%.1f s", c.start_s, c.end_s) + Fmt(", score %.2f (rank %.0f)", c.score, static_cast<double>(i + 1)) + ": " + c.title + "\n";
    }
  }
  p += "\n" + PlannerMenu();
  p += "\nAnswer as {\"outputs\": [{\"name\": \"...\", \"ranges\": [{\"first_segment\": n, \"last_segment\": m, "
       "\"because\": \"...\"}], \"steps\": [{\"planner\": \"...\", \"params\": {...}}], \"aspect\": null|\"9:16\"|..., "
       "\"captions\": null|true|false, \"title\": null|\"...\"}]}. Leave ranges empty to start from the whole video. "
       "Use fit_length to meet a stated length instead of guessing durations.";
  return p;
}

Result<LlmPlanOutcome> PlanWithLlm(const ai::ChatClient& client, const EditIndex& index, const LlmPlanRequest& request) {
  LlmPlanOutcome outcome;
  ai::ChatRequest req;
  req.messages = {{"system", kSystem, {}}, {"user", LlmPlanPrompt(index, request), {}}};
  req.temperature = 0.1;
  req.max_tokens = 4000;
  req.response_format = ResponseSchema(request.max_outputs);
  auto ask = [&]() -> Result<ai::ChatReply> {
    auto reply = client.Complete(req);
    ++outcome.requests;
    if (!reply.ok() && reply.status().IsInvalidArgument() && req.response_format.contains("json_schema")) {
      // Services without structured outputs refuse json_schema with a 400;
      // JSON mode is the widely supported fallback.
      req.response_format = {{"type", "json_object"}};
      reply = client.Complete(req);
      ++outcome.requests;
    }
    if (reply.ok()) {
      outcome.model = reply->model;
      outcome.usage.prompt_tokens += reply->usage.prompt_tokens;
      outcome.usage.completion_tokens += reply->usage.completion_tokens;
      outcome.usage.total_tokens += reply->usage.total_tokens;
    }
    return reply;
  };
  // Two rounds: the answer, then at most one repair with every problem.
  Attempt last;
  for (int round = 0; round < 2; ++round) {
    CUTROOM_ASSIGN_OR_RETURN(ai::ChatReply reply, ask());
    last = Interpret(reply.text, reply.finish_reason, index, request);
    if (last.problems.empty()) {
      outcome.plan = std::move(last.plan);
      outcome.notes = std::move(last.notes);
      return outcome;
    }
    if (round == 1) break;
    outcome.first_problems = last.problems;
    req.messages.push_back({"assistant", reply.text.substr(0, 20000), {}});
    req.messages.push_back({"user",
                            "The plan was refused:\n" + ProblemList(last.problems) +
                                "Answer again with the whole corrected JSON, choosing segments by number.",
                            {}});
  }
  const Attempt& b = last;
  std::string list;
  for (const auto& p : b.problems) list += (list.empty() ? "" : "; ") + p;
  bool not_json = b.problems.size() == 1 && b.problems[0].rfind("the answer is not a JSON object", 0) == 0;
  std::string msg = "the model's plan was refused twice: " + list;
  return not_json ? Status::Corruption(msg) : Status::InvalidArgument(msg);
}

}  // namespace cutroom::edit
