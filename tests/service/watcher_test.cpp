// Watcher: settling, writers that pause, moved-in files, symlinks, odd names, subfolders.
#include "service/watcher.h"
#include "tests/service/test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

namespace upscaled::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
constexpr double kSettle = 0.2;

// Pumps the watcher like the service's main loop does, for `d`; returns what became ready.
std::vector<ReadyFile> pump(Watcher& w, std::chrono::milliseconds d) {
  std::vector<ReadyFile> all;
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (w.read_events()) w.rescan();
    for (auto& r : w.take_ready()) all.push_back(r);
    std::this_thread::sleep_for(10ms);
  }
  return all;
}

std::vector<std::string> names(const std::vector<ReadyFile>& r) {
  std::vector<std::string> out;
  for (auto& f : r) out.push_back(f.path.filename().string());
  return out;
}

struct WatcherTest : ::testing::Test {
  test::TempDir dir;
  fs::path in = dir / "in";
  void SetUp() override { fs::create_directories(in); }
  Watcher make(std::vector<std::string> ext = {}) {
    return Watcher({WatchRoot{in, {in / "out"}, true, std::move(ext)}}, kSettle);
  }
};

TEST(WatcherNames, IgnoresHiddenTemporaryAndPartialNames) {
  for (const char* n : {".hidden.mp4", "a.mp4.part", "a.PART", "x.tmp", "y.crdownload", "z~", "~$doc.mp4",
                        "a.mp4.error.txt", "b.partial"}) {
    EXPECT_TRUE(ignored_name(n, {})) << n;
  }
  for (const char* n : {"a.mp4", "-rf", "with space.mkv", "no_extension"}) EXPECT_FALSE(ignored_name(n, {})) << n;
  EXPECT_TRUE(ignored_name("a.txt", {"mp4", "mkv"}));
  EXPECT_FALSE(ignored_name("A.MP4", {"mp4", "mkv"}));
  EXPECT_TRUE(ignored_name("noext", {"mp4"}));
}

// The kernel drops events once its queue holds max_queued_events; the watcher must report
// the overflow and the rescan must find every file whose events were lost.
TEST_F(WatcherTest, QueueOverflowIsReportedAndTheRescanFindsEverything) {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long limit = 0;
  if (!(limit_file >> limit) || limit <= 0) GTEST_SKIP() << "cannot read /proc/sys/fs/inotify/max_queued_events";
  if (limit > 200000) GTEST_SKIP() << "max_queued_events is " << limit << ": overflowing it would take too long";
  Watcher w = make();
  w.rescan();
  // Each file queues at least IN_CLOSE_WRITE (and IN_CREATE): limit files are enough.
  const long count = limit + 16;
  for (long i = 0; i < count; ++i) {
    const int fd = ::open((in / ("f" + std::to_string(i) + ".mp4")).c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  bool overflowed = false;
  while (true) {  // drain like the main loop: read until the queue is empty
    const bool o = w.read_events();
    overflowed = overflowed || o;
    pollfd p{w.fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
  }
  ASSERT_TRUE(overflowed) << "no IN_Q_OVERFLOW after " << count << " files";
  w.rescan();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(kSettle * 1000) + 50));
  std::set<std::string> seen;
  for (auto& r : pump(w, 500ms)) seen.insert(r.path.filename().string());
  EXPECT_EQ(static_cast<long>(seen.size()), count);
}

TEST_F(WatcherTest, FileIsReadyOnceAfterSettling) {
  Watcher w = make();
  w.rescan();
  test::write_file(in / "a.mp4", "data");
  auto first = pump(w, 100ms);
  EXPECT_TRUE(first.empty()) << "reported before the settling delay";
  auto ready = pump(w, 500ms);
  ASSERT_EQ(names(ready), std::vector<std::string>{"a.mp4"});
  EXPECT_EQ(ready[0].key.size, 4);
  EXPECT_TRUE(pump(w, 400ms).empty());
}

TEST_F(WatcherTest, WriterPausingLongerThanSettlingIsWaitedFor) {
  Watcher w = make();
  w.rescan();
  int fd = ::open((in / "slow.mp4").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::write(fd, "0123456789", 10), 10);
    EXPECT_TRUE(pump(w, std::chrono::milliseconds(static_cast<int>(kSettle * 1000 * 3))).empty())
        << "reported while still open for writing, after chunk " << i;
  }
  ::close(fd);
  auto ready = pump(w, 600ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].key.size, 30);
}

TEST_F(WatcherTest, OpenWriterFoundByRescanIsWaitedFor) {
  // Started while a writer holds the file (no inotify history): the lease probe catches it.
  int fd = ::open((in / "busy.mp4").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "x", 1), 1);
  Watcher w = make();
  w.rescan();
  EXPECT_TRUE(pump(w, 700ms).empty());
  ::close(fd);
  EXPECT_EQ(pump(w, 600ms).size(), 1u);
}

TEST_F(WatcherTest, MovedInFileAndExistingFilesAreFound) {
  test::write_file(in / "before.mkv", "x");
  test::write_file(dir / "outside.mkv", "yy");
  Watcher w = make();
  w.rescan();
  fs::rename(dir / "outside.mkv", in / "moved.mkv");
  auto ready = names(pump(w, 600ms));
  std::sort(ready.begin(), ready.end());
  EXPECT_EQ(ready, (std::vector<std::string>{"before.mkv", "moved.mkv"}));
}

TEST_F(WatcherTest, SymlinksAreNeverFollowed) {
  fs::create_directories(dir / "elsewhere");
  test::write_file(dir / "elsewhere" / "secret.mkv", "s");
  fs::create_symlink(dir / "elsewhere" / "secret.mkv", in / "link.mkv");
  fs::create_directory_symlink(dir / "elsewhere", in / "linkdir");
  Watcher w = make();
  w.rescan();
  fs::create_symlink(dir / "elsewhere" / "secret.mkv", in / "link2.mkv");
  EXPECT_TRUE(pump(w, 500ms).empty());
}

TEST_F(WatcherTest, AnyFileNameWorks) {
  Watcher w = make();
  w.rescan();
  const std::vector<std::string> odd = {"-rf", "with space.mkv", "new\nline.mkv", std::string("bytes\xff\xfe.mkv")};
  for (auto& n : odd) test::write_file(in / n, n);
  auto ready = names(pump(w, 600ms));
  std::sort(ready.begin(), ready.end());
  auto want = odd;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ready, want);
}

TEST_F(WatcherTest, SubfoldersCreatedLaterAreWatchedExcludedOnesAreNot) {
  Watcher w = make({"mkv"});
  w.rescan();
  fs::create_directories(in / "sub" / "deeper");
  fs::create_directories(in / "out");
  std::this_thread::sleep_for(50ms);
  pump(w, 50ms);  // the watcher learns about the new folders
  test::write_file(in / "sub" / "deeper" / "a.mkv", "a");
  test::write_file(in / "out" / "own-output.mkv", "o");
  test::write_file(in / "sub" / "notes.txt", "n");
  auto ready = pump(w, 600ms);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].path, in / "sub" / "deeper" / "a.mkv");
}

TEST_F(WatcherTest, DeletedBeforeSettlingIsForgotten) {
  Watcher w = make();
  w.rescan();
  test::write_file(in / "gone.mkv", "g");
  pump(w, 50ms);
  fs::remove(in / "gone.mkv");
  EXPECT_TRUE(pump(w, 500ms).empty());
  EXPECT_EQ(w.pending(), 0u);
}

}  // namespace
}  // namespace upscaled::service
