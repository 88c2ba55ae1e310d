// cutroom migrate-store --to-database URL [--to-blob-url URL]: copies an
// install (its database and its blobs) into another database and blob
// store, e.g. from SQLite + local disk to PostgreSQL + S3 for scale-out.
//
// The target database is migrated to the same schema version and must hold
// no data yet (the seeded local owner aside); rows are copied table by
// table in foreign-key order, 500 per transaction, with their ids, so every
// reference stays valid, and identity sequences are moved past the copied
// ids. Blobs are streamed key by key (a blob already in the target with the
// same size is skipped, so an interrupted copy can be run again after the
// target database is emptied). Counts are compared at the end. cutroom must
// not be running against the source while this runs.
#include <iostream>

#include "cli/commands.h"
#include "db/migrations.h"

namespace cutroom::cli {
namespace {

// Parents before children (frames and scenes reference assets; edit jobs
// reference clip candidates and assets).
const char* const kTables[] = {
    "owners",          "api_keys",         "media",          "video_processing",  "video_assets",
    "uploads",         "upload_chunks",    "jobs",           "job_events",        "processing_logs",
    "frames",          "scene_index",      "transcriptions", "transcript_segments", "transcript_words",
    "clip_candidates", "edit_jobs",        "retention_analyses", "retention_models", "ai_edit_jobs"};

// The columns both databases have (PostgreSQL adds generated search
// columns, which are computed, never copied).
Result<std::vector<std::string>> SourceColumns(db::Database& source, const std::string& table) {
  CUTROOM_ASSIGN_OR_RETURN(auto probe, source.Query("SELECT * FROM " + table + " LIMIT 0"));
  return probe.columns;
}

Result<int64_t> Count(db::DbSession& db, const std::string& table) {
  CUTROOM_ASSIGN_OR_RETURN(auto n, db.Query("SELECT COUNT(*) AS n FROM " + table));
  return n.Int(0, "n").value_or(0);
}

Status CopyTable(db::Database& source, db::Database& target, const std::string& table, int64_t* copied) {
  CUTROOM_ASSIGN_OR_RETURN(auto columns, SourceColumns(source, table));
  std::string names, marks;
  for (const auto& c : columns) {
    names += (names.empty() ? "\"" : ", \"") + c + "\"";
    marks += marks.empty() ? "?" : ", ?";
  }
  const std::string key = columns.front();  // every table's first column is its primary key
  // The seeded local owner exists on both sides.
  const std::string insert = "INSERT INTO " + table + " (" + names + ") SELECT " + marks +
                             " WHERE NOT EXISTS (SELECT 1 FROM " + table + " WHERE \"" + key + "\" = ?)";
  constexpr int64_t kBatch = 500;
  db::DbValue after;
  bool first = true;
  *copied = 0;
  while (true) {
    // Keyset paging on the primary key: stable while nothing writes.
    CUTROOM_ASSIGN_OR_RETURN(
        auto rows, source.Query("SELECT " + names + " FROM " + table + (first ? "" : " WHERE \"" + key + "\" > ?") +
                                    " ORDER BY \"" + key + "\" LIMIT ?",
                                first ? std::vector<db::DbValue>{kBatch} : std::vector<db::DbValue>{after, kBatch}));
    if (rows.empty()) break;
    first = false;
    CUTROOM_RETURN_IF_ERROR(target.Transaction([&](db::DbSession& tx) -> Status {
      for (auto& row : rows.rows) {
        std::vector<db::DbValue> params = row;
        params.push_back(row.front());
        CUTROOM_ASSIGN_OR_RETURN(int64_t n, tx.Execute(insert, params));
        *copied += n;
      }
      return Status::Ok();
    }).WithContext("copying " + table));
    // Text ids and job_events' integer ids alike page by the last key.
    after = rows.rows.back().front();
    if (static_cast<int64_t>(rows.size()) < kBatch) break;
  }
  return Status::Ok();
}

Status CopyBlobs(storage::BlobStore& source, storage::BlobStore& target, int64_t* copied, int64_t* skipped,
                 uint64_t* bytes) {
  CUTROOM_ASSIGN_OR_RETURN(auto listed, source.List());
  std::vector<char> buf(4 << 20);
  for (const auto& blob : listed) {
    if (auto size = target.Size(blob.key); size.ok() && *size == blob.size) {
      ++*skipped;
      continue;
    }
    CUTROOM_ASSIGN_OR_RETURN(auto reader, source.OpenReader(blob.key));
    CUTROOM_ASSIGN_OR_RETURN(auto writer, target.NewWriter(blob.key));
    for (uint64_t offset = 0; offset < reader->size();) {
      CUTROOM_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(offset, buf.data(), buf.size()));
      if (n == 0) return Status::IOError("blob " + blob.key + " ended early at byte " + std::to_string(offset));
      CUTROOM_RETURN_IF_ERROR(writer->Append(buf.data(), n));
      offset += n;
    }
    CUTROOM_RETURN_IF_ERROR(writer->Commit().WithContext("copying blob " + blob.key));
    ++*copied;
    *bytes += reader->size();
  }
  return Status::Ok();
}

}  // namespace

void AddMigrateStoreCommand(CLI::App& app, CommandTable& table) {
  auto* sub = app.add_subcommand(
      "migrate-store",
      "copy this install's database and blobs into another database and blob store (e.g. to PostgreSQL + S3)");
  auto to_database = std::make_shared<std::string>();
  auto to_blobs = std::make_shared<std::string>();
  sub->add_option("--to-database", *to_database, "target database URL (postgresql://... or sqlite://...)")->required();
  sub->add_option("--to-blob-url", *to_blobs, "target blob store (s3://bucket/prefix or file://DIR); empty: blobs stay");
  table.Add(sub, [to_database, to_blobs](Runtime& rt) {
    Status st = OpenRuntime(rt);
    if (!st.ok()) return ReportError(st);
    auto target = db::Database::Open(*to_database, rt.env, {});
    if (!target.ok()) return ReportError(target.status().WithContext("target database"));
    auto migrated = db::Migrate(**target, rt.env);
    if (!migrated.ok()) return ReportError(migrated.status().WithContext("target database"));
    for (const char* t : kTables) {
      auto n = Count(**target, t);
      if (!n.ok()) return ReportError(n.status());
      if (*n > (std::string(t) == "owners" ? 1 : 0)) {
        return ReportError(Status::FailedPrecondition("the target database already holds " + std::to_string(*n) +
                                                      " row(s) in " + t + "; migrate-store copies into an empty one"));
      }
    }
    std::unique_ptr<storage::BlobStore> target_blobs;
    if (!to_blobs->empty()) {
      Config target_config = rt.config;
      if (Status set = target_config.Set("storage.blob_url", *to_blobs); !set.ok()) return ReportError(set);
      auto opened = storage::BlobStore::Open(target_config, rt.env);
      if (!opened.ok()) return ReportError(opened.status().WithContext("target blob store"));
      target_blobs = std::move(opened).value();
    }
    for (const char* t : kTables) {
      int64_t copied = 0;
      Status copy = CopyTable(*rt.db, **target, t, &copied);
      if (!copy.ok()) return ReportError(copy);
      auto want = Count(*rt.db, t);
      auto have = Count(**target, t);
      if (!want.ok() || !have.ok() || *want != *have) {
        return ReportError(Status::Internal(std::string("row counts of ") + t + " differ after the copy: " +
                                            std::to_string(want.value_or(-1)) + " in the source, " +
                                            std::to_string(have.value_or(-1)) + " in the target"));
      }
      std::printf("  %-20s %lld row(s)\n", t, static_cast<long long>(copied));
    }
    if ((*target)->dialect() == db::Dialect::kPostgres) {
      // New events must get ids after the copied ones.
      Status seq = (*target)
                       ->Query("SELECT setval(pg_get_serial_sequence('job_events', 'event_id'), "
                               "COALESCE((SELECT MAX(event_id) FROM job_events), 0) + 1, false)")
                       .status();
      if (!seq.ok()) return ReportError(seq);
    }
    if (target_blobs) {
      int64_t copied = 0, skipped = 0;
      uint64_t bytes = 0;
      Status blobs = CopyBlobs(*rt.blobs, *target_blobs, &copied, &skipped, &bytes);
      if (!blobs.ok()) return ReportError(blobs);
      std::printf("  %-20s %lld copied (%.1f MiB), %lld already there\n", "blobs", static_cast<long long>(copied),
                  static_cast<double>(bytes) / (1 << 20), static_cast<long long>(skipped));
    }
    std::printf("done: point database.url%s at the target and run `cutroom fsck`\n",
                target_blobs ? " and storage.blob_url" : "");
    return 0;
  });
}

}  // namespace cutroom::cli
