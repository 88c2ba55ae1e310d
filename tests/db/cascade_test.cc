// Deleting media removes everything derived from it, except AI edit jobs,
// which are kept for audit; the legacy videos view answers old readers; the
// full-text tables follow their source rows.
#include <gtest/gtest.h>

#include "db_fixture.h"

namespace cutroom::db {
namespace {

class Cascade : public DbFixture {
 protected:
  // One row in every table that hangs off the media row.
  void PopulateEverything(const std::string& video_id) {
    VideoAssetRow asset{.video_id = video_id, .kind = "keyframe", .storage_key = "assets/k.jpg"};
    auto a = repos_->video_assets.Insert(asset);
    ASSERT_OK(a.status());
    auto up = repos_->uploads.Insert({.owner_id = kLocalOwnerId, .video_id = video_id, .storage_key = "uploads/x"});
    ASSERT_OK(up.status());
    ASSERT_OK(repos_->upload_chunks
                  .Insert({.upload_id = up->upload_id, .video_id = video_id, .size = 10, .received_at = "t"})
                  .status());
    ASSERT_OK(repos_->jobs.Insert({.video_id = video_id, .kind = "scenes", .run_after = "t"}).status());
    ASSERT_OK(repos_->processing_logs.Insert({.video_id = video_id, .stage = "s", .message = "m", .ts = "t"}).status());
    auto prc = NewProcessing(video_id);
    ASSERT_OK(repos_->frames.Insert({.video_id = video_id, .processing_id = prc.processing_id, .asset_id = a->asset_id,
                                     .ocr_text = "whiteboard gradient descent"})
                  .status());
    ASSERT_OK(repos_->scenes
                  .Insert({.video_id = video_id, .processing_id = prc.processing_id, .scene_no = 1, .end_s = 3,
                           .keyframe_id = a->asset_id, .description = "a lecturer at a whiteboard"})
                  .status());
    auto tr = repos_->transcriptions.Insert({.video_id = video_id, .engine = "pocketsphinx"});
    ASSERT_OK(tr.status());
    auto seg = repos_->transcript_segments.Insert({.video_id = video_id, .transcription_id = tr->transcription_id,
                                                   .end_s = 2, .text = "ask not what your country can do for you"});
    ASSERT_OK(seg.status());
    ASSERT_OK(repos_->transcript_words
                  .Insert({.video_id = video_id, .transcription_id = tr->transcription_id,
                           .segment_id = seg->segment_id, .word = "ask", .end_s = 0.3})
                  .status());
    auto clip = repos_->clip_candidates.Insert({.video_id = video_id, .start_s = 0, .end_s = 20});
    ASSERT_OK(clip.status());
    ASSERT_OK(repos_->edit_jobs
                  .Insert({.video_id = video_id, .owner_id = kLocalOwnerId, .clip_candidate_id = clip->clip_id})
                  .status());
    ASSERT_OK(repos_->retention_analyses.Insert({.video_id = video_id}).status());
    ASSERT_OK(repos_->ai_edit_jobs.Insert({.video_id = video_id, .owner_id = kLocalOwnerId, .instruction = "cut"})
                  .status());
  }

  int64_t CountFor(const std::string& table, const std::string& video_id) {
    auto rows = db_->Query("SELECT COUNT(*) AS n FROM \"" + table + "\" WHERE video_id = ?", {video_id});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows->Int(0, "n") : -1;
  }

  // FTS5 in SQLite; in PostgreSQL the tsvector columns that stand for each
  // FTS5 table (websearch syntax: no prefix*, so "countr*" is "country").
  int64_t SearchHits(const std::string& fts, const std::string& query) {
    std::string sql = "SELECT COUNT(*) AS n FROM " + fts + " WHERE " + fts + " MATCH ?";
    std::string q = query;
    if (db_->dialect() == Dialect::kPostgres) {
      const std::string table = fts.substr(0, fts.size() - 4);
      const std::string vector = table == "transcript_segments" ? "text_tsv"
                                 : table == "scene_index"       ? "description_tsv"
                                                                : "(ocr_text_tsv || description_tsv)";
      sql = "SELECT COUNT(*) AS n FROM " + table + " WHERE " + vector + " @@ websearch_to_tsquery('english', ?)";
      if (q == "countr*") q = "country";
    }
    auto rows = db_->Query(sql, {q});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows->Int(0, "n") : -1;
  }
};

const char* kChildTables[] = {"video_assets", "uploads", "upload_chunks", "jobs", "processing_logs",
                              "video_processing", "frames", "scene_index", "transcriptions",
                              "transcript_segments", "transcript_words", "clip_candidates", "edit_jobs",
                              "retention_analyses"};

TEST_F(Cascade, DeletingMediaRemovesEveryDependentRow) {
  MediaRow keep = NewMedia();
  MediaRow doomed = NewMedia();
  PopulateEverything(keep.video_id);
  PopulateEverything(doomed.video_id);
  for (const char* t : kChildTables) ASSERT_EQ(CountFor(t, doomed.video_id), 1) << t;

  ASSERT_OK(repos_->media.Delete(doomed.video_id));
  for (const char* t : kChildTables) {
    EXPECT_EQ(CountFor(t, doomed.video_id), 0) << t << " kept rows of deleted media";
    EXPECT_EQ(CountFor(t, keep.video_id), 1) << t << " lost rows of other media";
  }
}

TEST_F(Cascade, AiEditJobsSurviveMediaDeletion) {
  MediaRow m = NewMedia();
  PopulateEverything(m.video_id);
  ASSERT_OK(repos_->media.Delete(m.video_id));
  EXPECT_EQ(CountFor("ai_edit_jobs", m.video_id), 1);
  auto page = repos_->ai_edit_jobs.List({.where = {{"video_id", m.video_id}}});
  ASSERT_OK(page.status());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].instruction, "cut");
}

TEST_F(Cascade, FullTextIndexesFollowTheirRows) {
  MediaRow m = NewMedia();
  PopulateEverything(m.video_id);
  EXPECT_EQ(SearchHits("transcript_segments_fts", "\"your country\""), 1);
  EXPECT_EQ(SearchHits("transcript_segments_fts", "countr*"), 1);
  EXPECT_EQ(SearchHits("scene_index_fts", "whiteboard"), 1);
  EXPECT_EQ(SearchHits("frames_fts", "gradient"), 1);
  ASSERT_OK(repos_->media.Delete(m.video_id));
  EXPECT_EQ(SearchHits("transcript_segments_fts", "country"), 0);
  EXPECT_EQ(SearchHits("scene_index_fts", "whiteboard"), 0);
  EXPECT_EQ(SearchHits("frames_fts", "gradient"), 0);
}

TEST_F(Cascade, LegacyVideosViewAnswersOldColumnNames) {
  MediaRow m = NewMedia();
  m.original_filename = "talk.mp4";
  m.size_bytes = 1234;
  m.storage_key = "media/x/source";
  ASSERT_OK(repos_->media.Update(m).status());
  MediaRow audio = NewMedia();
  audio.media_type = "audio";
  ASSERT_OK(repos_->media.Update(audio).status());

  auto rows = db_->Query("SELECT id, filename, file_size, file_path, duration, status FROM videos ORDER BY id", {});
  ASSERT_OK(rows.status());
  ASSERT_EQ(rows->size(), 1u);  // the view lists video media only
  EXPECT_EQ(*rows->Text(0, "id"), m.video_id);
  EXPECT_EQ(*rows->Text(0, "filename"), "talk.mp4");
  EXPECT_EQ(*rows->Int(0, "file_size"), 1234);
  EXPECT_EQ(*rows->Text(0, "file_path"), "media/x/source");
  EXPECT_DOUBLE_EQ(*rows->Real(0, "duration"), 12.5);
  EXPECT_EQ(*rows->Text(0, "status"), "ready");
}

TEST_F(Cascade, InvalidEnumValuesAreRejectedByTheSchema) {
  MediaRow m = NewMedia();
  m.status = "exploded";
  EXPECT_FALSE(repos_->media.Update(m).ok());
}

}  // namespace
}  // namespace cutroom::db
