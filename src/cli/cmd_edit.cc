// cutroom edit VIDEO_ID "instruction": an AI edit (edit/ai_edit_jobs.h)
// planned and rendered here, with the plan shown as a table.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "db/tables.h"
#include "edit/ai_edit_jobs.h"
#include "edit/plan/plan.h"
#include "edit/plan/plan_export.h"

namespace cutroom::cli {
namespace {

struct EditArgs {
  std::string video_id;
  std::string instruction;
  bool dry_run = false;
  int outputs = 5;
  std::string aspect;
  std::string captions;  // "", "on", "off"
  std::string planner = "auto";
  std::string out_dir = "./cutroom-out";
  std::string format = "table";
  std::string export_format;
};

std::string Clock(double s) {
  char buf[32];
  int m = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof buf, "%d:%05.2f", m, s - 60 * m);
  return buf;
}

std::string Shorten(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

void PrintPlan(const edit::EditPlan& plan) {
  std::printf("planner: %s", plan.provenance.planner.c_str());
  for (const auto& step : plan.steps) std::printf("  > %s", step.planner.c_str());
  std::printf("\n");
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const auto& o = plan.outputs[i];
    std::printf("\noutput %zu '%s': %zu range(s), %.1f s, aspect %s%s%s\n", i, o.name.c_str(), o.ranges.size(),
                o.duration_s(), o.aspect.c_str(), o.captions.is_object() ? ", captions" : "",
                o.title ? (", title '" + o.title->text + "'").c_str() : "");
    size_t shown = 0;
    for (const auto& r : o.ranges) {
      if (++shown > 12) {
        std::printf("    ... %zu more\n", o.ranges.size() - 12);
        break;
      }
      std::printf("    %-9s - %-9s %s%s\n", Clock(r.start_s).c_str(), Clock(r.end_s).c_str(),
                  r.speed != 1.0 ? ("x" + std::to_string(r.speed).substr(0, 4) + " ").c_str() : "",
                  Shorten(r.because, 90).c_str());
    }
  }
  for (const auto& w : plan.warnings) std::printf("note: %s\n", w.c_str());
}

int RunEdit(Runtime& rt, const EditArgs& a) {
  Status st = OpenRuntime(rt);
  if (!st.ok()) return ReportError(st);
  db::Repositories repos(*rt.db, rt.env, rt.ids.get());
  auto media = repos.media.Get(a.video_id);
  if (!media.ok()) return ReportError(Status::NotFound("video " + a.video_id + " does not exist"));
  nlohmann::json request = {{"video_id", a.video_id},
                            {"instruction", a.instruction},
                            {"outputs", a.outputs},
                            {"render", !a.dry_run},
                            {"planner", a.planner}};
  if (!a.aspect.empty()) request["aspect"] = a.aspect;
  if (!a.captions.empty()) request["captions"] = a.captions == "on";
  auto created = edit::CreateAiEditJob(*rt.db, rt.env, rt.ids.get(), *rt.queue, rt.config, media->owner_id, request);
  if (!created.ok()) return ReportError(created.status());
  const std::string id = created->row.ai_edit_job_id;
  std::fprintf(stderr, "planning %s with %s ...\n", id.c_str(), created->row.planner.value_or("rules").c_str());
  // The planning job queues one render per output: the same local pool
  // runs them as soon as they are queued.
  auto renders_of = [&](const db::JobRow& job) {
    std::vector<std::string> jobs;
    if (job.kind != "ai_edit") return jobs;
    auto row = repos.ai_edit_jobs.Get(id);
    if (!row.ok()) return jobs;
    for (const auto& e : row->edit_job_ids) {
      auto ej = repos.edit_jobs.Get(e.get<std::string>());
      if (ej.ok() && ej->job_id) jobs.push_back(*ej->job_id);
    }
    if (!jobs.empty()) std::fprintf(stderr, "rendering %zu output(s) ...\n", jobs.size());
    return jobs;
  };
  auto failed = RunJobsToCompletion(rt, {created->job.job_id}, renders_of);
  if (!failed.ok()) return ReportError(failed.status());
  auto row = repos.ai_edit_jobs.Get(id);
  if (!row.ok()) return ReportError(row.status());
  if (row->plan.is_null()) {
    return ReportError(Status::FailedPrecondition("the edit was not planned: " + row->error.value_or(row->status)));
  }
  auto plan = edit::PlanFromJson(row->plan);
  if (!plan.ok()) return ReportError(plan.status());
  auto shown = edit::AiEditJobJson(*rt.db, rt.env, rt.ids.get(), media->owner_id, id);
  if (!shown.ok()) return ReportError(shown.status());

  std::error_code ec;
  int exit_code = shown->value("status", std::string()) == "succeeded" ? 0 : 1;
  nlohmann::json outputs = (*shown)["outputs"];
  if (!a.dry_run || !a.export_format.empty()) {
    std::filesystem::create_directories(a.out_dir, ec);
    if (ec) return ReportError(Status::IOError("cannot create " + a.out_dir + ": " + ec.message()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto& o = outputs[i];
    if (!o["edit_job_id"].is_string()) continue;
    auto edit = repos.edit_jobs.Get(o["edit_job_id"].get<std::string>());
    if (!edit.ok() || !edit->output_asset_id) {
      o["error"] = edit.ok() ? edit->error.value_or(edit->status) : edit.status().ToString();
      continue;
    }
    auto asset = repos.video_assets.Get(*edit->output_asset_id);
    if (!asset.ok()) continue;
    std::string to = a.out_dir + "/" + id + "-" + std::to_string(i + 1) + ".mp4";
    // Through the store's reader, so renders kept in S3 come out too.
    if (Status copied = storage::CopyBlobToFile(*rt.blobs, asset->storage_key, to, rt.env); !copied.ok()) {
      return ReportError(copied.WithContext("copying the render to " + to));
    }
    std::filesystem::permissions(to,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                     std::filesystem::perms::group_read | std::filesystem::perms::others_read,
                                 ec);
    o["file"] = to;
  }
  if (!a.export_format.empty()) {
    edit::PlanExportMedia m = edit::PlanExportMediaFor(*media);
    m.url = media->original_filename.value_or(a.video_id);
    for (size_t i = 0; i < plan->outputs.size(); ++i) {
      Result<std::string> body = Status::Internal("unreachable");
      if (a.export_format == "otio") body = edit::ExportPlanOtio(*plan, i, m);
      else if (a.export_format == "edl") body = edit::ExportPlanEdl(*plan, i, m);
      else if (i == 0) body = edit::ExportPlanFcpxml(*plan, m);
      else break;
      if (!body.ok()) return ReportError(body.status());
      std::string to = a.out_dir + "/" + id + (a.export_format == "fcpxml" ? "" : "-" + std::to_string(i + 1)) + "." +
                       a.export_format;
      std::ofstream f(to, std::ios::binary | std::ios::trunc);
      f << *body;
      if (!f.flush()) return ReportError(Status::IOError("cannot write " + to));
      std::fprintf(stderr, "wrote %s\n", to.c_str());
    }
  }
  (*shown)["outputs"] = outputs;
  if (a.format == "json") {
    std::printf("%s\n", shown->dump(2).c_str());
    return exit_code;
  }
  PrintPlan(*plan);
  std::printf("\n%s: %s\n", id.c_str(), shown->value("status", std::string()).c_str());
  for (const auto& o : outputs) {
    if (o.contains("file")) std::printf("  %s\n", o["file"].get<std::string>().c_str());
    if (o.contains("error")) std::printf("  %s failed: %s\n", o["name"].get<std::string>().c_str(), o["error"].dump().c_str());
  }
  if ((*shown)["error"].is_string()) std::printf("error: %s\n", (*shown)["error"].get<std::string>().c_str());
  return exit_code;
}

}  // namespace

void AddEditCommand(CLI::App& app, CommandTable& table) {
  auto a = std::make_shared<EditArgs>();
  auto* sub = app.add_subcommand("edit", "an AI edit: an instruction in plain language planned and rendered");
  sub->add_option("VIDEO_ID", a->video_id, "the video (vid_...)")->required();
  sub->add_option("INSTRUCTION", a->instruction,
                  "e.g. \"remove the silences and the ums\", \"a 45 second vertical teaser about pricing\"")
      ->required();
  sub->add_flag("--dry-run", a->dry_run, "plan only: print the plan, render nothing");
  sub->add_option("--outputs", a->outputs, "most outputs (1-5)")->check(CLI::Range(1, 5));
  sub->add_option("--aspect", a->aspect, "source, 9:16, 1:1 or 16:9 (wins over the instruction)")
      ->check(CLI::IsMember({"source", "9:16", "1:1", "16:9"}));
  sub->add_option("--captions", a->captions, "on or off (wins over the instruction)")
      ->check(CLI::IsMember({"on", "off"}));
  sub->add_option("--planner", a->planner, "auto (the LLM when configured), rules or llm")
      ->check(CLI::IsMember({"auto", "rules", "llm"}));
  sub->add_option("--out", a->out_dir, "where rendered outputs and exports go");
  sub->add_option("--format", a->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  sub->add_option("--export", a->export_format, "also write the plan as otio, edl or fcpxml into --out")
      ->check(CLI::IsMember({"otio", "edl", "fcpxml"}));
  table.Add(sub, [a](Runtime& rt) { return RunEdit(rt, *a); });
}

}  // namespace cutroom::cli
