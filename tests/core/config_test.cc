#include "core/config.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace cutroom {
namespace {

using cutroom::testing::TempDir;
using cutroom::testing::WriteFile;

TEST(Config, DefaultsResolveReferencesToOtherKeys) {
  Config c = Config::Defaults();
  EXPECT_EQ(c.GetString("server.listen"), "127.0.0.1:8080");
  EXPECT_EQ(c.GetString("database.url"), "sqlite://./cutroom-data/cutroom.db");
  ASSERT_OK(c.Set("storage.data_dir", "/srv/cr"));
  EXPECT_EQ(c.GetString("database.url"), "sqlite:///srv/cr/cutroom.db");
  EXPECT_EQ(c.GetString("storage.blob_url"), "file:///srv/cr/blobs");
  EXPECT_GE(c.GetInt("workers.count"), 1);
  EXPECT_FALSE(c.GetBool("ingest.allow_private_urls"));
}

TEST(Config, FileThenEnvironmentThenFlagsWin) {
  TempDir dir;
  WriteFile(dir.File("c.toml"),
            "[server]\nlisten = \"0.0.0.0:9000\"\nmax_body_bytes = 1000\n"
            "[workers]\ncount = 7\n[log]\nlevel = \"debug\"\n");
  ConfigSources src;
  src.file = dir.File("c.toml");
  src.environment = {{"CUTROOM_WORKERS_COUNT", "5"}, {"CUTROOM_LOG_LEVEL", "warn"}, {"UNRELATED", "x"}};
  src.flags = {{"log.level", "error"}};
  auto c = Config::Load(src);
  ASSERT_OK(c.status());
  EXPECT_EQ(c->GetString("server.listen"), "0.0.0.0:9000");  // file
  EXPECT_EQ(c->GetInt("server.max_body_bytes"), 1000);
  EXPECT_EQ(c->GetInt("workers.count"), 5);                 // env beats file
  EXPECT_EQ(c->GetString("log.level"), "error");            // flag beats env
  for (const auto& e : c->Entries()) {
    if (e.key == "server.listen") {
      EXPECT_EQ(e.source, "file " + dir.File("c.toml"));
    } else if (e.key == "workers.count") {
      EXPECT_EQ(e.source, "env CUTROOM_WORKERS_COUNT");
    } else if (e.key == "log.level") {
      EXPECT_EQ(e.source, "flag");
    } else if (e.key == "transcribe.engine") {
      EXPECT_EQ(e.source, "default");
    }
  }
}

TEST(Config, EnvironmentNamesFollowTheSectionKeyRule) {
  EXPECT_EQ(Config::EnvironmentName("server.listen"), "CUTROOM_SERVER_LISTEN");
  EXPECT_EQ(Config::EnvironmentName("storage.data_dir"), "CUTROOM_STORAGE_DATA_DIR");
}

TEST(Config, RejectsUnknownKeysAndWrongTypesNamingTheSource) {
  TempDir dir;
  WriteFile(dir.File("typo.toml"), "[server]\nlisen = \"x\"\n");
  auto typo = Config::Load({.file = dir.File("typo.toml")});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("server.lisen"), std::string::npos);

  auto bad_env = Config::Load({.environment = {{"CUTROOM_WORKERS_COUNT", "many"}}});
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.status().message().find("CUTROOM_WORKERS_COUNT"), std::string::npos);

  auto bad_bool = Config::Load({.flags = {{"ingest.allow_private_urls", "yes please"}}});
  EXPECT_TRUE(bad_bool.status().IsInvalidArgument());
}

TEST(Config, ReportsTomlSyntaxErrorsWithLine) {
  TempDir dir;
  WriteFile(dir.File("broken.toml"), "[server]\nlisten = \n");
  auto c = Config::Load({.file = dir.File("broken.toml")});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("broken.toml:2"), std::string::npos) << c.status().ToString();
}

TEST(Config, MissingExplicitFileIsAnError) {
  auto c = Config::Load({.file = "/nonexistent/cutroom.toml"});
  EXPECT_TRUE(c.status().IsNotFound());
}

}  // namespace
}  // namespace cutroom
