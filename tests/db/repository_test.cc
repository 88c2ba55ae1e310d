// Every repository, through the same checks: insert, read back every
// column, update, list with paging, delete.
#include "db/repository.h"

#include <gtest/gtest.h>

#include <set>

#include "db_fixture.h"

namespace cutroom::db {
namespace {

// Per-table knowledge the generic test needs: how to make a valid row (with
// its parents) and how to change one column.
template <typename Row>
struct Traits;

template <>
struct Traits<OwnerRow> {
  static Repository<OwnerRow>& Repo(Repositories& r) { return r.owners; }
  static OwnerRow Make(DbFixture& f) {
    OwnerRow o;
    o.name = "owner-" + std::to_string(f.Next());
    return o;
  }
  static void Change(OwnerRow& o) { o.name += "-renamed"; }
};

template <>
struct Traits<ApiKeyRow> {
  static Repository<ApiKeyRow>& Repo(Repositories& r) { return r.api_keys; }
  static ApiKeyRow Make(DbFixture& f) {
    ApiKeyRow k;
    k.owner_id = kLocalOwnerId;
    k.key_hash = "hash-" + std::to_string(f.Next());
    k.key_prefix = "cr_abc";
    k.scopes = {"videos:read"};
    return k;
  }
  static void Change(ApiKeyRow& k) { k.revoked_at = "2026-01-01T00:00:00.000Z"; }
};

template <>
struct Traits<MediaRow> {
  static Repository<MediaRow>& Repo(Repositories& r) { return r.media; }
  static MediaRow Make(DbFixture& f) {
    MediaRow m;
    m.owner_id = kLocalOwnerId;
    m.media_type = "video";
    m.source_type = "reference";
    m.source_url = "https://example.com/v.mp4";
    m.title = "t" + std::to_string(f.Next());
    m.width = 1920;
    m.height = 1080;
    m.fps = 29.97;
    m.duration_s = 61.5;
    m.status = "ready";
    m.metadata = {{"k", "v"}};
    return m;
  }
  static void Change(MediaRow& m) {
    m.status = "failed";
    m.error = "probe failed";
  }
};

template <>
struct Traits<VideoAssetRow> {
  static Repository<VideoAssetRow>& Repo(Repositories& r) { return r.video_assets; }
  static VideoAssetRow Make(DbFixture& f) {
    VideoAssetRow a;
    a.video_id = f.NewMedia().video_id;
    a.kind = "thumbnail";
    a.storage_key = "assets/x/thumb.jpg";
    a.width = 320;
    return a;
  }
  static void Change(VideoAssetRow& a) { a.size_bytes = 4096; }
};

template <>
struct Traits<UploadRow> {
  static Repository<UploadRow>& Repo(Repositories& r) { return r.uploads; }
  static UploadRow Make(DbFixture&) {
    UploadRow u;
    u.owner_id = kLocalOwnerId;
    u.storage_key = "uploads/u/data";
    u.length = 1000;
    u.metadata = {{"filename", "a.mp4"}};
    return u;
  }
  static void Change(UploadRow& u) { u.offset = 500; }
};

template <>
struct Traits<UploadChunkRow> {
  static Repository<UploadChunkRow>& Repo(Repositories& r) { return r.upload_chunks; }
  static UploadChunkRow Make(DbFixture& f) {
    UploadRow u;
    u.owner_id = kLocalOwnerId;
    u.storage_key = "uploads/u/data";
    auto up = f.repos_->uploads.Insert(u);
    UploadChunkRow c;
    c.upload_id = up->upload_id;
    c.offset = 0;
    c.size = 100;
    c.received_at = "2026-01-01T00:00:00.000Z";
    return c;
  }
  static void Change(UploadChunkRow& c) { c.checksum = "sha256 abc"; }
};

template <>
struct Traits<JobRow> {
  static Repository<JobRow>& Repo(Repositories& r) { return r.jobs; }
  static JobRow Make(DbFixture& f) {
    JobRow j;
    j.video_id = f.NewMedia().video_id;
    j.kind = "scenes";
    j.params = {{"detector", "content"}};
    j.run_after = "2026-01-01T00:00:00.000Z";
    return j;
  }
  static void Change(JobRow& j) {
    j.status = "running";
    j.progress = 0.5;
    j.cancel_requested = true;
  }
};

template <>
struct Traits<ProcessingLogRow> {
  static Repository<ProcessingLogRow>& Repo(Repositories& r) { return r.processing_logs; }
  static ProcessingLogRow Make(DbFixture& f) {
    ProcessingLogRow l;
    l.video_id = f.NewMedia().video_id;
    l.stage = "probe";
    l.message = "started";
    l.ts = "2026-01-01T00:00:00.000Z";
    return l;
  }
  static void Change(ProcessingLogRow& l) { l.level = "error"; }
};

template <>
struct Traits<VideoProcessingRow> {
  static Repository<VideoProcessingRow>& Repo(Repositories& r) { return r.video_processing; }
  static VideoProcessingRow Make(DbFixture& f) {
    VideoProcessingRow p;
    p.video_id = f.NewMedia().video_id;
    p.kind = "transcription";
    p.engine = "pocketsphinx";
    return p;
  }
  static void Change(VideoProcessingRow& p) {
    p.status = "succeeded";
    p.progress = 1;
  }
};

template <>
struct Traits<FrameRow> {
  static Repository<FrameRow>& Repo(Repositories& r) { return r.frames; }
  static FrameRow Make(DbFixture& f) {
    FrameRow fr;
    fr.video_id = f.NewMedia().video_id;
    fr.processing_id = f.NewProcessing(fr.video_id, "frames").processing_id;
    fr.ts_s = 1.5;
    fr.features = {{"brightness", 0.4}};
    fr.ocr_text = "hello";
    return fr;
  }
  static void Change(FrameRow& fr) { fr.description = "a cat"; }
};

template <>
struct Traits<SceneRow> {
  static Repository<SceneRow>& Repo(Repositories& r) { return r.scenes; }
  static SceneRow Make(DbFixture& f) {
    SceneRow s;
    s.video_id = f.NewMedia().video_id;
    s.processing_id = f.NewProcessing(s.video_id).processing_id;
    s.scene_no = f.Next();
    s.start_s = 1;
    s.end_s = 2;
    return s;
  }
  static void Change(SceneRow& s) { s.transition = "dissolve"; }
};

template <>
struct Traits<TranscriptionRow> {
  static Repository<TranscriptionRow>& Repo(Repositories& r) { return r.transcriptions; }
  static TranscriptionRow Make(DbFixture& f) {
    TranscriptionRow t;
    t.video_id = f.NewMedia().video_id;
    t.engine = "pocketsphinx";
    t.language = "en";
    return t;
  }
  static void Change(TranscriptionRow& t) { t.text = "hello world"; }
};

template <>
struct Traits<TranscriptSegmentRow> {
  static Repository<TranscriptSegmentRow>& Repo(Repositories& r) { return r.transcript_segments; }
  static TranscriptSegmentRow Make(DbFixture& f) {
    TranscriptionRow t;
    t.video_id = f.NewMedia().video_id;
    t.engine = "openai";
    auto tr = f.repos_->transcriptions.Insert(t);
    TranscriptSegmentRow s;
    s.video_id = t.video_id;
    s.transcription_id = tr->transcription_id;
    s.segment_no = f.Next();
    s.start_s = 0;
    s.end_s = 2;
    s.text = "ask not what your country can do";
    return s;
  }
  static void Change(TranscriptSegmentRow& s) { s.speaker = "A"; }
};

template <>
struct Traits<TranscriptWordRow> {
  static Repository<TranscriptWordRow>& Repo(Repositories& r) { return r.transcript_words; }
  static TranscriptWordRow Make(DbFixture& f) {
    TranscriptionRow t;
    t.video_id = f.NewMedia().video_id;
    t.engine = "openai";
    auto tr = f.repos_->transcriptions.Insert(t);
    TranscriptWordRow w;
    w.video_id = t.video_id;
    w.transcription_id = tr->transcription_id;
    w.word_no = f.Next();
    w.word = "country";
    w.start_s = 1;
    w.end_s = 1.4;
    return w;
  }
  static void Change(TranscriptWordRow& w) { w.confidence = 0.9; }
};

template <>
struct Traits<ClipCandidateRow> {
  static Repository<ClipCandidateRow>& Repo(Repositories& r) { return r.clip_candidates; }
  static ClipCandidateRow Make(DbFixture& f) {
    ClipCandidateRow c;
    c.video_id = f.NewMedia().video_id;
    c.start_s = 10;
    c.end_s = 40;
    c.score = 0.8;
    c.features = {{"hook", 1}};
    return c;
  }
  static void Change(ClipCandidateRow& c) { c.status = "accepted"; }
};

template <>
struct Traits<EditJobRow> {
  static Repository<EditJobRow>& Repo(Repositories& r) { return r.edit_jobs; }
  static EditJobRow Make(DbFixture& f) {
    EditJobRow e;
    e.video_id = f.NewMedia().video_id;
    e.owner_id = kLocalOwnerId;
    e.spec = {{"aspect", "9:16"}};
    return e;
  }
  static void Change(EditJobRow& e) { e.status = "succeeded"; }
};

template <>
struct Traits<RetentionAnalysisRow> {
  static Repository<RetentionAnalysisRow>& Repo(Repositories& r) { return r.retention_analyses; }
  static RetentionAnalysisRow Make(DbFixture& f) {
    RetentionAnalysisRow r;
    r.video_id = f.NewMedia().video_id;
    r.curve = {1.0, 0.9, 0.8};
    return r;
  }
  static void Change(RetentionAnalysisRow& r) { r.summary = "drops at 2 s"; }
};

template <>
struct Traits<AiEditJobRow> {
  static Repository<AiEditJobRow>& Repo(Repositories& r) { return r.ai_edit_jobs; }
  static AiEditJobRow Make(DbFixture& f) {
    AiEditJobRow a;
    a.video_id = f.NewMedia().video_id;
    a.owner_id = kLocalOwnerId;
    a.instruction = "make it punchy";
    return a;
  }
  static void Change(AiEditJobRow& a) { a.plan = {{"ranges", {{1, 2}}}}; }
};

template <typename Row>
class RepositoryTest : public DbFixture {
 protected:
  Repository<Row>& repo() { return Traits<Row>::Repo(*repos_); }

  // Compares two rows column by column through the table spec.
  void ExpectSameColumns(const Row& a, const Row& b) {
    for (const auto& col : repo().spec().columns) {
      EXPECT_EQ(col.get(a), col.get(b)) << "column " << col.name << " of " << repo().spec().table;
    }
  }
};

using AllRows = ::testing::Types<OwnerRow, ApiKeyRow, MediaRow, VideoAssetRow, UploadRow, UploadChunkRow, JobRow,
                                 ProcessingLogRow, VideoProcessingRow, FrameRow, SceneRow, TranscriptionRow,
                                 TranscriptSegmentRow, TranscriptWordRow, ClipCandidateRow, EditJobRow,
                                 RetentionAnalysisRow, AiEditJobRow>;
TYPED_TEST_SUITE(RepositoryTest, AllRows);

TYPED_TEST(RepositoryTest, InsertAssignsAPrefixedIdAndReadsBackEveryColumn) {
  TypeParam row = Traits<TypeParam>::Make(*this);
  auto inserted = this->repo().Insert(row);
  ASSERT_OK(inserted.status());
  const std::string& id = (*inserted).*(this->repo().spec().id);
  EXPECT_TRUE(IsValidId(id, this->repo().spec().id_prefix)) << id;
  EXPECT_FALSE(inserted->created_at.empty());
  auto read = this->repo().Get(id);
  ASSERT_OK(read.status());
  this->ExpectSameColumns(*inserted, *read);
}

TYPED_TEST(RepositoryTest, UpdateChangesColumnsAndTimestamp) {
  auto inserted = this->repo().Insert(Traits<TypeParam>::Make(*this));
  ASSERT_OK(inserted.status());
  this->env_.AdvanceMs(1500);
  TypeParam changed = *inserted;
  Traits<TypeParam>::Change(changed);
  auto updated = this->repo().Update(changed);
  ASSERT_OK(updated.status());
  auto read = this->repo().Get((*inserted).*(this->repo().spec().id));
  ASSERT_OK(read.status());
  this->ExpectSameColumns(*updated, *read);
  EXPECT_EQ(read->created_at, inserted->created_at);
  EXPECT_GT(read->updated_at, inserted->updated_at);
}

TYPED_TEST(RepositoryTest, ListPagesWithoutGapsOrRepeats) {
  std::vector<std::string> ids;
  std::string table = this->repo().spec().table;
  int64_t before = *this->repo().Count({});
  for (int i = 0; i < 7; ++i) {
    auto r = this->repo().Insert(Traits<TypeParam>::Make(*this));
    ASSERT_OK(r.status());
    ids.push_back((*r).*(this->repo().spec().id));
    this->env_.AdvanceMs(1);
  }
  ListQuery q;
  q.limit = 3;
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = this->repo().List(q);
    ASSERT_OK(page.status());
    ++pages;
    for (const auto& row : page->items) seen.push_back(row.*(this->repo().spec().id));
    if (page->next_cursor.empty()) break;
    q.after = page->next_cursor;
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), before + 7);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  for (const auto& id : ids) EXPECT_NE(std::find(seen.begin(), seen.end(), id), seen.end());
  EXPECT_EQ(pages, static_cast<int>((before + 7 + 2) / 3));

  q = ListQuery{.limit = 2, .newest_first = true};
  auto newest = this->repo().List(q);
  ASSERT_OK(newest.status());
  ASSERT_EQ(newest->items.size(), 2u);
  EXPECT_EQ(newest->items[0].*(this->repo().spec().id), ids.back());
}

TYPED_TEST(RepositoryTest, DeleteRemovesTheRowAndMissingRowsAreNotFound) {
  auto r = this->repo().Insert(Traits<TypeParam>::Make(*this));
  ASSERT_OK(r.status());
  std::string id = (*r).*(this->repo().spec().id);
  ASSERT_OK(this->repo().Delete(id));
  EXPECT_TRUE(this->repo().Get(id).status().IsNotFound());
  EXPECT_TRUE(this->repo().Delete(id).IsNotFound());
  TypeParam ghost = *r;
  EXPECT_TRUE(this->repo().Update(ghost).status().IsNotFound());
}

TYPED_TEST(RepositoryTest, ListRejectsUnknownFilterColumnsAndBadLimits) {
  ListQuery q;
  q.where = {{"no_such_column; DROP TABLE media", std::string("x")}};
  EXPECT_TRUE(this->repo().List(q).status().IsInvalidArgument());
  EXPECT_TRUE(this->repo().List({.limit = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(this->repo().List({.limit = kMaxPageSize + 1}).status().IsInvalidArgument());
}

class Repositories_ : public DbFixture {};

TEST_F(Repositories_, DuplicateIdsAreAlreadyExists) {
  MediaRow m = NewMedia();
  EXPECT_TRUE(repos_->media.Insert(m).status().IsAlreadyExists());
}

TEST_F(Repositories_, ChildRowsNeedAnExistingParent) {
  VideoAssetRow a;
  a.video_id = "vid_00000000000000000000000000";
  a.kind = "thumbnail";
  a.storage_key = "k";
  EXPECT_EQ(repos_->video_assets.Insert(a).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(Repositories_, ListFiltersByColumnValues) {
  NewMedia();
  MediaRow failed = NewMedia();
  failed.status = "failed";
  ASSERT_OK(repos_->media.Update(failed).status());
  auto page = repos_->media.List({.where = {{"status", std::string("failed")}}});
  ASSERT_OK(page.status());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].video_id, failed.video_id);
}

TEST_F(Repositories_, JsonColumnsStoreBytesThatAreNotUtf8AsReplacementCharacters) {
  // A filename or header from a client can carry any bytes; storing it must
  // not throw (it did: a 500 on any route that saved such a value).
  MediaRow m = NewMedia();
  m.metadata = {{"filename", std::string("clip\xff\xfe.mp4")}, {"ok", "caf\xc3\xa9"}};
  ASSERT_OK(repos_->media.Update(m).status());
  auto back = repos_->media.Get(m.video_id);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->metadata["filename"], "clip\xef\xbf\xbd\xef\xbf\xbd.mp4");
  EXPECT_EQ(back->metadata["ok"], "caf\xc3\xa9");
}

}  // namespace
}  // namespace cutroom::db
