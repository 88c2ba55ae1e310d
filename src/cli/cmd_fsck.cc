// cutroom fsck [--repair]: checks that the database and the blob store agree.
//
// Finds blobs no row refers to (a crash between writing a file and
// recording it, or a delete that lost its files), rows whose blob is gone
// (deleted behind cutroom's back), and staged writes a crash left behind.
// First of all, on SQLite, it checks the database file itself (quick_check):
// a damaged file is reported alone, with the advice to restore a backup,
// and --repair then touches nothing.
// --repair deletes orphan blobs and stale staged writes, drops derived
// asset rows whose file is gone (the stage that made them can run again),
// and marks media whose source file is gone as failed; it never deletes a
// media row. Blobs and staged writes younger than --grace-s are left alone:
// a stage may have written its files and not yet its rows.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "db/tables.h"

namespace cutroom::cli {
namespace {

struct Findings {
  std::vector<storage::BlobStore::Listed> orphan_blobs;
  std::vector<storage::BlobStore::Listed> stale_staging;
  std::vector<std::pair<std::string, std::string>> missing_sources;  // video_id, key
  std::vector<std::pair<std::string, std::string>> missing_assets;   // asset_id, key
  std::vector<std::string> orphan_parts;  // tus upload files without an active upload
  // What SQLite's quick_check says is wrong with the database file; when
  // set, nothing else was checked (rows of a damaged file are no guide).
  std::vector<std::string> db_damage;
  size_t blobs = 0;
  size_t referenced = 0;
  bool clean() const {
    return orphan_blobs.empty() && stale_staging.empty() && missing_sources.empty() && missing_assets.empty() &&
           orphan_parts.empty() && db_damage.empty();
  }
};

// PRAGMA quick_check on SQLite (PostgreSQL checks its own pages).
Status CheckDatabaseFile(Runtime& rt, Findings& f) {
  if (rt.db->dialect() != db::Dialect::kSqlite) return Status::Ok();
  auto rows = rt.db->Query("PRAGMA quick_check(20)", {});
  if (!rows.ok()) {
    if (!db::IsDatabaseCorrupt(rows.status())) return rows.status();
    f.db_damage.push_back(rows.status().message());
    return Status::Ok();
  }
  for (size_t i = 0; i < rows->size(); ++i) {
    std::string text = rows->Text(i, "quick_check").value_or("");
    if (text == "ok") continue;
    for (size_t start = 0, end; start < text.size(); start = end + 1) {  // one problem may span lines
      end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) f.db_damage.push_back(text.substr(start, end - start));
    }
  }
  return Status::Ok();
}

Result<Findings> Check(Runtime& rt, int64_t grace_s) {
  Findings f;
  CUTROOM_RETURN_IF_ERROR(CheckDatabaseFile(rt, f));
  if (!f.db_damage.empty()) return f;
  std::set<std::string> referenced;
  std::set<std::string> listed;
  CUTROOM_ASSIGN_OR_RETURN(auto blobs, rt.blobs->List());
  f.blobs = blobs.size();
  for (const auto& b : blobs) listed.insert(b.key);

  CUTROOM_ASSIGN_OR_RETURN(auto media, rt.db->Query("SELECT video_id, storage_key, status FROM media WHERE "
                                                    "storage_key IS NOT NULL"));
  for (size_t i = 0; i < media.size(); ++i) {
    std::string key = media.Text(i, "storage_key").value_or("");
    referenced.insert(key);
    if (!listed.count(key) && media.Text(i, "status").value_or("") == "ready") {
      f.missing_sources.emplace_back(media.Text(i, "video_id").value_or(""), key);
    }
  }
  CUTROOM_ASSIGN_OR_RETURN(auto assets, rt.db->Query("SELECT asset_id, storage_key FROM video_assets"));
  for (size_t i = 0; i < assets.size(); ++i) {
    std::string key = assets.Text(i, "storage_key").value_or("");
    referenced.insert(key);
    if (!listed.count(key)) f.missing_assets.emplace_back(assets.Text(i, "asset_id").value_or(""), key);
  }
  CUTROOM_ASSIGN_OR_RETURN(auto raw, rt.db->Query("SELECT raw_key FROM retention_analyses WHERE raw_key IS NOT NULL"));
  for (size_t i = 0; i < raw.size(); ++i) referenced.insert(raw.Text(i, "raw_key").value_or(""));
  f.referenced = referenced.size();

  for (const auto& b : blobs) {
    if (!referenced.count(b.key) && b.age_s >= grace_s) f.orphan_blobs.push_back(b);
  }
  CUTROOM_ASSIGN_OR_RETURN(auto staging, rt.blobs->ListStaging());
  for (const auto& s : staging) {
    if (s.age_s >= grace_s) f.stale_staging.push_back(s);
  }
  // tus uploads collect in <data_dir>/uploads/<upload_id>.part while active.
  CUTROOM_ASSIGN_OR_RETURN(auto active, rt.db->Query("SELECT upload_id FROM uploads WHERE status = 'active'"));
  std::set<std::string> active_parts;
  for (size_t i = 0; i < active.size(); ++i) active_parts.insert(active.Text(i, "upload_id").value_or("") + ".part");
  std::string uploads_dir = rt.config.GetString("storage.data_dir") + "/uploads";
  if (rt.env->FileExists(uploads_dir)) {
    CUTROOM_ASSIGN_OR_RETURN(auto names, rt.env->ListDir(uploads_dir));
    for (const auto& name : names) {
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".part") != 0 || active_parts.count(name)) continue;
      // An upload being created writes its file just before its row.
      std::error_code ec;
      auto written = std::filesystem::last_write_time(uploads_dir + "/" + name, ec);
      auto age = std::chrono::duration_cast<std::chrono::seconds>(std::filesystem::file_time_type::clock::now() - written);
      if (!ec && age.count() < grace_s) continue;
      f.orphan_parts.push_back(uploads_dir + "/" + name);
    }
  }
  return f;
}

void Print(const Findings& f, const std::string& database) {
  if (!f.db_damage.empty()) {
    std::cout << "problem: the database " << database << " is damaged (SQLite's quick_check):\n";
    for (const auto& line : f.db_damage) std::cout << "  " << line << "\n";
    std::cout << "stop cutroom and restore the database from a backup (docs/deploy.md); blobs and rows are checked "
                 "once it is sound\n";
    return;
  }
  std::cout << f.blobs << " blob(s), " << f.referenced << " referenced by the database\n";
  auto list = [](const char* what, size_t n) { std::cout << (n ? "problem: " : "ok: ") << n << " " << what << "\n"; };
  list("orphan blob(s) (no row refers to them)", f.orphan_blobs.size());
  for (const auto& b : f.orphan_blobs) std::cout << "  " << b.key << " (" << b.size << " bytes)\n";
  list("stale staged write(s) (left by a crash)", f.stale_staging.size());
  for (const auto& s : f.stale_staging) std::cout << "  .staging/" << s.key << " (" << s.size << " bytes)\n";
  list("media whose source file is missing", f.missing_sources.size());
  for (const auto& [id, key] : f.missing_sources) std::cout << "  " << id << " -> " << key << "\n";
  list("asset row(s) whose file is missing", f.missing_assets.size());
  for (const auto& [id, key] : f.missing_assets) std::cout << "  " << id << " -> " << key << "\n";
  list("upload file(s) of no active tus upload", f.orphan_parts.size());
  for (const auto& p : f.orphan_parts) std::cout << "  " << p << "\n";
}

Status Repair(Runtime& rt, const Findings& f) {
  for (const auto& b : f.orphan_blobs) {
    Status st = rt.blobs->Delete(b.key);
    if (!st.ok() && !st.IsNotFound()) return st;
  }
  for (const auto& s : f.stale_staging) {
    Status st = rt.blobs->DeleteStaging(s.key);
    if (!st.ok() && !st.IsNotFound()) return st;
  }
  for (const auto& p : f.orphan_parts) {
    Status st = rt.env->RemoveFile(p);
    if (!st.ok() && !st.IsNotFound()) return st;
  }
  std::string now = FormatTimestamp(rt.env->NowMs());
  return rt.db->Transaction([&](db::DbSession& tx) -> Status {
    for (const auto& [id, key] : f.missing_assets) {
      CUTROOM_RETURN_IF_ERROR(tx.Execute("DELETE FROM video_assets WHERE asset_id = ?", {id}).status());
    }
    for (const auto& [id, key] : f.missing_sources) {
      CUTROOM_RETURN_IF_ERROR(tx.Execute("UPDATE media SET status = 'failed', error = ?, updated_at = ? WHERE "
                                         "video_id = ?",
                                         {"the stored file " + key + " is missing (found by cutroom fsck)", now, id})
                                  .status());
    }
    return Status::Ok();
  });
}

}  // namespace

void AddFsckCommand(CLI::App& app, CommandTable& table) {
  auto* fsck = app.add_subcommand("fsck", "check that the database and the blob store agree (exit 1 on problems)");
  auto repair = std::make_shared<bool>(false);
  auto grace = std::make_shared<int64_t>(600);
  fsck->add_flag("--repair", *repair,
                 "delete orphan blobs and stale staged writes, drop asset rows whose file is gone, mark media whose "
                 "source is gone as failed (never deletes a media row)");
  fsck->add_option("--grace-s", *grace, "leave blobs and staged writes younger than this alone")
      ->check(CLI::Range(int64_t{0}, int64_t{86400 * 30}));
  table.Add(fsck, [repair, grace](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto found = Check(rt, *grace);
    if (!found.ok()) return ReportError(found.status());
    Print(*found, rt.db->Describe());
    if (found->clean()) return 0;
    if (!found->db_damage.empty()) {
      if (*repair) std::cout << "not repairing: a damaged database is no guide to what to delete\n";
      return 1;
    }
    if (!*repair) {
      std::cout << "run `cutroom fsck --repair` to fix these\n";
      return 1;
    }
    Status repaired = Repair(rt, *found);
    if (!repaired.ok()) return ReportError(repaired);
    std::cout << "repaired\n";
    return 0;
  });
}

}  // namespace cutroom::cli
