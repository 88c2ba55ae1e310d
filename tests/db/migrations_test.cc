#include "db/migrations.h"

#include <gtest/gtest.h>

#include <set>

#include "db_fixture.h"

namespace cutroom::db {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::WriteFile;

class Migrations : public DbFixture {};

TEST_F(Migrations, CreateEveryTableOfTheDataModel) {
  auto rows = db_->Query("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view')", {});
  ASSERT_OK(rows.status());
  std::set<std::string> names;
  for (size_t i = 0; i < rows->size(); ++i) names.insert(*rows->Text(i, "name"));
  for (const char* t : {"media", "videos", "video_assets", "uploads", "upload_chunks", "jobs", "processing_logs",
                        "video_processing", "frames", "scene_index", "transcriptions", "transcript_segments",
                        "transcript_words", "clip_candidates", "edit_jobs", "retention_analyses", "ai_edit_jobs",
                        "owners", "api_keys", "transcript_segments_fts", "scene_index_fts", "frames_fts",
                        "schema_migrations"}) {
    EXPECT_TRUE(names.count(t)) << "missing table " << t;
  }
}

TEST_F(Migrations, EnableWalAndForeignKeys) {
  EXPECT_EQ(*db_->Query("PRAGMA journal_mode", {})->Text(0, "journal_mode"), "wal");
  EXPECT_EQ(*db_->Query("PRAGMA foreign_keys", {})->Int(0, "foreign_keys"), 1);
}

TEST_F(Migrations, AreIdempotent) {
  auto again = Migrate(*db_, &env_);
  ASSERT_OK(again.status());
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->to_version, LatestSchemaVersion(Dialect::kSqlite));
  auto count = db_->Query("SELECT COUNT(*) AS n FROM schema_migrations", {});
  EXPECT_EQ(*count->Int(0, "n"), LatestSchemaVersion(Dialect::kSqlite));
}

TEST_F(Migrations, RefuseADatabaseFromANewerBinary) {
  ASSERT_OK(db_->Execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES (999, 'future', 'x')", {})
                .status());
  auto r = Migrate(*db_, &env_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("schema version 999"), std::string::npos) << r.status().ToString();
  // Nothing was dropped or rewritten.
  EXPECT_TRUE(db_->Query("SELECT COUNT(*) FROM media", {}).ok());
}

TEST(DatabaseOpen, RefusesAFileThatIsNotADatabaseAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("cutroom.db");
  std::string junk(8192, 'j');
  junk.replace(0, 20, "this is not sqlite!!");
  WriteFile(path, junk);
  auto db = Database::Open("sqlite://" + path, Env::Default(), {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_NE(db.status().message().find("not a cutroom database"), std::string::npos) << db.status().ToString();
  EXPECT_EQ(ReadFile(path), junk);
}

TEST(DatabaseOpen, RejectsUnsupportedUrls) {
  EXPECT_TRUE(Database::Open("mysql://x", Env::Default(), {}).status().IsInvalidArgument());
  EXPECT_EQ(Database::Open("postgresql://localhost/x", Env::Default(), {}).status().code(),
            StatusCode::kNotSupported);
}

TEST(DatabaseOpen, InMemoryDatabaseIsSharedAcrossPooledConnections) {
  auto db = Database::Open("sqlite::memory:", Env::Default(), {});
  ASSERT_OK(db.status());
  ASSERT_OK((*db)->ExecuteScript("CREATE TABLE t(x INTEGER)"));
  // A transaction holds one connection while another query needs a second.
  ASSERT_OK((*db)->Transaction([&](DbSession& tx) -> Status {
    CUTROOM_RETURN_IF_ERROR(tx.Execute("INSERT INTO t VALUES (1)", {}).status());
    return Status::Ok();
  }));
  EXPECT_EQ(*(*db)->Query("SELECT COUNT(*) AS n FROM t", {})->Int(0, "n"), 1);
}

TEST_F(Migrations, TransactionsRollBackOnError) {
  Status st = db_->Transaction([&](DbSession& tx) -> Status {
    Repositories repos(tx, &env_, &ids_);
    MediaRow m;
    m.owner_id = kLocalOwnerId;
    CUTROOM_RETURN_IF_ERROR(repos.media.Insert(m).status());
    return Status::Internal("boom");
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(*repos_->media.Count({}), 0);
}

}  // namespace
}  // namespace cutroom::db
