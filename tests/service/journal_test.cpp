// Job journal: keys, content identity, the state machine's transitions, crash recovery.
#include "service/journal.h"
#include "tests/service/test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace upscaled::service {
namespace {

JobRecord job(const std::string& path, std::int64_t size = 100, std::int64_t mtime = 5, const std::string& hash = "h") {
  JobRecord j;
  j.watch = "/in";
  j.path = path;
  j.size = size;
  j.mtime_ns = mtime;
  j.hash = hash;
  return j;
}

TEST(Journal, UsesWalMode) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "j.sqlite3").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(Journal, KeyIsPathSizeAndMtime) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  std::int64_t id = j.add(job("/in/a.mp4"));
  EXPECT_EQ(j.find_by_key("/in/a.mp4", 100, 5)->id, id);
  EXPECT_FALSE(j.find_by_key("/in/a.mp4", 101, 5));  // changed size: a new job
  EXPECT_FALSE(j.find_by_key("/in/a.mp4", 100, 6));  // changed mtime: a new job
  std::int64_t id2 = j.add(job("/in/a.mp4", 100, 6, "h2"));
  EXPECT_NE(id, id2);
}

TEST(Journal, ContentLookupIgnoresFailedAndSkipped) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  std::int64_t id = j.add(job("/in/a.mp4", 100, 5, "abc"));
  EXPECT_EQ(j.find_by_content(100, "abc")->id, id);
  EXPECT_FALSE(j.find_by_content(100, "abd"));
  EXPECT_FALSE(j.find_by_content(99, "abc"));
  j.mark_failed(id, "bad");
  EXPECT_FALSE(j.find_by_content(100, "abc"));
}

TEST(Journal, PathsThatAreNotUtf8RoundTrip) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  const std::string name = std::string("/in/-x \n\xff\xfe.mp4");
  std::int64_t id = j.add(job(name));
  EXPECT_EQ(j.get(id)->path.native(), name);
  EXPECT_TRUE(j.find_by_key(name, 100, 5));
}

TEST(Journal, ClaimCountsAttemptsAndRespectsNotBefore) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  std::int64_t a = j.add(job("/in/a"));
  std::int64_t b = j.add(job("/in/b", 1, 1, "hb"));
  auto c1 = j.claim_next(now_seconds());
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->id, a);
  EXPECT_EQ(c1->state, JobState::running);
  EXPECT_EQ(c1->attempts, 1);
  EXPECT_EQ(j.get(a)->state, JobState::running);
  j.requeue(a, now_seconds() + 100, "later", true, false);
  auto c2 = j.claim_next(now_seconds());
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->id, b);  // a is not due yet
  EXPECT_FALSE(j.claim_next(now_seconds()));
  EXPECT_EQ(j.get(a)->attempts, 1);
  EXPECT_EQ(j.get(a)->error, "later");
  EXPECT_GT(j.next_due_in(now_seconds()), 90);
  auto c3 = j.claim_next(now_seconds() + 200);
  ASSERT_TRUE(c3);
  EXPECT_EQ(c3->attempts, 2);
}

TEST(Journal, UncountedRequeueGivesTheAttemptBack) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  std::int64_t a = j.add(job("/in/a"));
  j.claim_next(now_seconds());
  j.requeue(a, 0, "disk full", false, true);
  auto r = j.get(a);
  EXPECT_EQ(r->attempts, 0);
  EXPECT_EQ(r->transient, 1);
  EXPECT_EQ(r->state, JobState::queued);
}

TEST(Journal, RecoverRunningAndRetryFailed) {
  test::TempDir dir;
  std::int64_t a, b;
  {
    Journal j(dir / "j.sqlite3");
    a = j.add(job("/in/a"));
    b = j.add(job("/in/b", 1, 1, "hb"));
    j.claim_next(now_seconds());  // a running, then the process "dies"
    j.claim_next(now_seconds());
    j.mark_failed(b, "poison");
    j.set_moved_to(b, "/failed/b");
  }
  Journal j(dir / "j.sqlite3");
  EXPECT_EQ(j.recover_running(), 1);
  EXPECT_EQ(j.get(a)->state, JobState::queued);
  EXPECT_EQ(j.get(a)->attempts, 1);  // the run it did not survive counts
  EXPECT_FALSE(j.retry(a));          // only failed jobs
  EXPECT_TRUE(j.retry(b));
  auto r = j.get(b);
  EXPECT_EQ(r->state, JobState::queued);
  EXPECT_EQ(r->attempts, 0);
  EXPECT_TRUE(r->moved_to.empty());
  auto counts = j.counts();
  EXPECT_EQ(counts[JobState::queued], 2);
}

TEST(Journal, OutputReservationAndDone) {
  test::TempDir dir;
  Journal j(dir / "j.sqlite3");
  std::int64_t a = j.add(job("/in/a"));
  std::int64_t b = j.add(job("/in/b", 1, 1, "hb"));
  j.set_output(a, "/out/a.mkv");
  EXPECT_TRUE(j.output_reserved("/out/a.mkv", b));
  EXPECT_FALSE(j.output_reserved("/out/a.mkv", a));
  j.claim_next(now_seconds());
  j.mark_done(a, "/out/a.mkv");
  auto r = j.get(a);
  EXPECT_EQ(r->state, JobState::done);
  EXPECT_GT(r->finished_at, 0);
  EXPECT_EQ(j.list(JobState::done, 10, true).size(), 1u);
  EXPECT_EQ(j.list(std::nullopt, 1, true).front().id, b);
}

TEST(Journal, SecondConnectionSeesCommittedState) {
  test::TempDir dir;
  Journal service(dir / "j.sqlite3");
  std::int64_t a = service.add(job("/in/a"));
  Journal reader(dir / "j.sqlite3", true);
  EXPECT_EQ(reader.get(a)->state, JobState::queued);
  service.claim_next(now_seconds());
  EXPECT_EQ(reader.get(a)->state, JobState::running);
}

}  // namespace
}  // namespace upscaled::service
