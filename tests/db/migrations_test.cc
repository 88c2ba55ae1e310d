#include "db/migrations.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <vector>

#include "db_fixture.h"

namespace cutroom::db {
namespace {

using cutroom::testing::ReadFile;
using cutroom::testing::TempDir;
using cutroom::testing::WriteFile;

class Migrations : public DbFixture {};

// Tables and views, and the full-text indexes (FTS5 tables in SQLite, GIN
// indexes in PostgreSQL).
std::set<std::string> SchemaObjects(Database& db) {
  const bool pg = db.dialect() == Dialect::kPostgres;
  auto rows = db.Query(pg ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' "
                            "UNION ALL SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
                          : "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')",
                       {});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::set<std::string> names;
  for (size_t i = 0; rows.ok() && i < rows->size(); ++i) names.insert(*rows->Text(i, "name"));
  return names;
}

TEST_F(Migrations, CreateEveryTableOfTheDataModel) {
  std::set<std::string> names = SchemaObjects(*db_);
  for (const char* t : {"media", "videos", "video_assets", "uploads", "upload_chunks", "jobs", "processing_logs",
                        "video_processing", "frames", "scene_index", "transcriptions", "transcript_segments",
                        "transcript_words", "clip_candidates", "edit_jobs", "retention_analyses", "ai_edit_jobs",
                        "owners", "api_keys", "schema_migrations", "job_events", "retention_models"}) {
    EXPECT_TRUE(names.count(t)) << "missing table " << t;
  }
  const bool pg = db_->dialect() == Dialect::kPostgres;
  for (const char* fts : pg ? std::vector<const char*>{"transcript_segments_fts", "scene_index_fts", "frames_ocr_fts",
                                                       "frames_description_fts"}
                            : std::vector<const char*>{"transcript_segments_fts", "scene_index_fts", "frames_fts"}) {
    EXPECT_TRUE(names.count(fts)) << "missing full-text index " << fts;
  }
}

// The columns of every table: name, declared type class and nullability.
// Both dialects must give the same set (the migrations are written twice).
std::set<std::string> Columns(Database& db) {
  std::set<std::string> out;
  auto kind = [](std::string type) {
    for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (type.find("INT") != std::string::npos) return "integer";
    if (type.find("DOUBLE") != std::string::npos || type.find("REAL") != std::string::npos) return "real";
    if (type.find("TSVECTOR") != std::string::npos) return "tsvector";
    return "text";
  };
  if (db.dialect() == Dialect::kPostgres) {
    auto rows = db.Query(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
        {});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
      std::string type = kind(*rows->Text(i, "data_type"));
      if (type == "tsvector") continue;  // PostgreSQL's stand-in for the FTS5 tables
      out.insert(*rows->Text(i, "table_name") + "." + *rows->Text(i, "column_name") + " " + type +
                 (*rows->Text(i, "is_nullable") == "NO" ? " not null" : ""));
    }
    return out;
  }
  auto tables = db.Query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '%fts%' "
                         "AND name NOT LIKE 'sqlite_%'",
                         {});
  EXPECT_TRUE(tables.ok());
  for (size_t t = 0; tables.ok() && t < tables->size(); ++t) {
    std::string table = *tables->Text(t, "name");
    auto cols = db.Query("SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info(?)", {table});
    for (size_t i = 0; cols.ok() && i < cols->size(); ++i) {
      // A primary key is NOT NULL in PostgreSQL whatever the declaration says.
      bool not_null = *cols->Int(i, "nn") != 0 || *cols->Int(i, "pk") != 0;
      out.insert(table + "." + *cols->Text(i, "name") + " " + kind(*cols->Text(i, "type")) +
                 (not_null ? " not null" : ""));
    }
  }
  return out;
}

// Foreign keys as "table.column -> parent.column on delete ACTION", and
// indexes as "table(col, ...)" (unique ones marked; FTS ones left out).
std::set<std::string> ForeignKeys(Database& db) {
  std::set<std::string> out;
  if (db.dialect() == Dialect::kPostgres) {
    auto rows = db.Query(
        "SELECT tc.table_name, kcu.column_name, ccu.table_name AS parent, ccu.column_name AS parent_column, "
        "rc.delete_rule FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name "
        "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
        "JOIN information_schema.referential_constraints rc ON rc.constraint_name = tc.constraint_name "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'",
        {});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
      out.insert(*rows->Text(i, "table_name") + "." + *rows->Text(i, "column_name") + " -> " +
                 *rows->Text(i, "parent") + "." + *rows->Text(i, "parent_column") + " on delete " +
                 *rows->Text(i, "delete_rule"));
    }
    return out;
  }
  auto rows = db.Query("SELECT m.name AS table_name, f.\"from\" AS column_name, f.\"table\" AS parent, "
                       "f.\"to\" AS parent_column, f.on_delete FROM sqlite_schema m, pragma_foreign_key_list(m.name) f "
                       "WHERE m.type = 'table'",
                       {});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
    out.insert(*rows->Text(i, "table_name") + "." + *rows->Text(i, "column_name") + " -> " + *rows->Text(i, "parent") +
               "." + *rows->Text(i, "parent_column") + " on delete " + *rows->Text(i, "on_delete"));
  }
  return out;
}

std::set<std::string> Indexes(Database& db) {
  std::set<std::string> out;
  if (db.dialect() == Dialect::kPostgres) {
    auto rows = db.Query(
        "SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS uniq, ix.indisprimary AS pk, "
        "array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ', ') AS cols, "
        "am.amname FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid "
        "JOIN pg_am am ON am.oid = i.relam JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
        {});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
      if (*rows->Text(i, "amname") == "gin" || *rows->Int(i, "pk")) continue;
      out.insert(std::string(*rows->Int(i, "uniq") ? "unique " : "") + *rows->Text(i, "table_name") + "(" +
                 *rows->Text(i, "cols") + ")");
    }
    return out;
  }
  auto rows = db.Query(
      "SELECT m.name AS table_name, il.name AS index_name, il.\"unique\" AS uniq, il.origin, "
      "(SELECT group_concat(name, ', ') FROM (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) "
      "AS cols FROM sqlite_schema m, pragma_index_list(m.name) il WHERE m.type = 'table' AND m.name NOT LIKE '%fts%'",
      {});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  for (size_t i = 0; rows.ok() && i < rows->size(); ++i) {
    if (*rows->Text(i, "origin") == "pk") continue;
    out.insert(std::string(*rows->Int(i, "uniq") ? "unique " : "") + *rows->Text(i, "table_name") + "(" +
               *rows->Text(i, "cols") + ")");
  }
  return out;
}

// One schema, two dialects: a fresh SQLite database and this PostgreSQL
// one have the same tables, columns, foreign keys and indexes.
// (OnPostgres: discovered for the PostgreSQL run only, tests/CMakeLists.txt.)
TEST_F(Migrations, OnPostgresBothDialectsGiveTheSameSchema) {
  ASSERT_EQ(db_->dialect(), Dialect::kPostgres);
  TempDir dir;
  auto sqlite = Database::Open("sqlite://" + dir.File("parity.db"), &env_, {});
  ASSERT_OK(sqlite.status());
  ASSERT_OK(Migrate(**sqlite, &env_).status());
  EXPECT_EQ(Columns(**sqlite), Columns(*db_));
  EXPECT_EQ(ForeignKeys(**sqlite), ForeignKeys(*db_));
  EXPECT_EQ(Indexes(**sqlite), Indexes(*db_));
  EXPECT_GT(Columns(*db_).size(), 200u);
  EXPECT_GT(ForeignKeys(*db_).size(), 20u);
}

TEST_F(Migrations, OnSqliteEnableWalAndForeignKeys) {
  ASSERT_EQ(db_->dialect(), Dialect::kSqlite);
  EXPECT_EQ(*db_->Query("PRAGMA journal_mode", {})->Text(0, "journal_mode"), "wal");
  EXPECT_EQ(*db_->Query("PRAGMA foreign_keys", {})->Int(0, "foreign_keys"), 1);
}

TEST_F(Migrations, AreIdempotent) {
  auto again = Migrate(*db_, &env_);
  ASSERT_OK(again.status());
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->to_version, LatestSchemaVersion(db_->dialect()));
  EXPECT_EQ(LatestSchemaVersion(Dialect::kSqlite), LatestSchemaVersion(Dialect::kPostgres));
  auto count = db_->Query("SELECT COUNT(*) AS n FROM schema_migrations", {});
  EXPECT_EQ(*count->Int(0, "n"), LatestSchemaVersion(db_->dialect()));
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
  // A PostgreSQL server that is not there: Unavailable, naming where.
  auto pg = Database::Open("postgresql://cutroom:secret@127.0.0.1:1/x", Env::Default(), {});
  EXPECT_EQ(pg.status().code(), StatusCode::kUnavailable) << pg.status().ToString();
  EXPECT_NE(pg.status().message().find("connect to postgresql://cutroom:***@127.0.0.1:1/x"), std::string::npos)
      << pg.status().ToString();
  EXPECT_EQ(pg.status().message().find("secret"), std::string::npos) << "the password stays out of errors";
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
