// A migrated SQLite database in a temporary directory, with a fake clock,
// plus helpers that create the parent rows child tables need.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core/fake_env.h"
#include "db/migrations.h"
#include "db/tables.h"
#include "support/test_support.h"

namespace cutroom::db {

class DbFixture : public ::testing::Test {
 public:
  void SetUp() override {
    auto opened = Database::Open(cutroom::testing::TestDatabaseUrl(dir_), &env_, {});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
    auto migrated = Migrate(*db_, &env_);
    ASSERT_TRUE(migrated.ok()) << migrated.status().ToString();
    repos_ = std::make_unique<Repositories>(*db_, &env_, &ids_);
  }

  MediaRow NewMedia(const std::string& owner = kLocalOwnerId) {
    MediaRow m;
    m.owner_id = owner;
    m.media_type = "video";
    m.title = "talk " + std::to_string(++counter_);
    m.status = "ready";
    m.duration_s = 12.5;
    auto r = repos_->media.Insert(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value_or(m);
  }

  VideoProcessingRow NewProcessing(const std::string& video_id, const std::string& kind = "scenes") {
    VideoProcessingRow p;
    p.video_id = video_id;
    p.kind = kind;
    auto r = repos_->video_processing.Insert(p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value_or(p);
  }

  int Next() { return ++counter_; }

  cutroom::testing::TempDir dir_;
  FakeEnv env_;
  IdGenerator ids_{&env_};
  std::unique_ptr<Database> db_;
  std::unique_ptr<Repositories> repos_;
  int counter_ = 0;
};

}  // namespace cutroom::db
