// `upscaled serve` end to end: the real binary, CPU, bicubic x2, tiny Y4M clips.
#include "core/error.h"
#include "tests/service/service_harness.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <thread>

namespace upscaled::service::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::vector<std::string> visible(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& n : list_dir(dir)) {
    if (n[0] != '.') out.push_back(n);
  }
  return out;
}

TEST(ServiceE2E, SlowWriterIsProcessedOnceAfterItIsComplete) {
  ServiceFolders f;
  f.write_config();
  ServiceProcess svc(f);
  svc.start();
  const std::string clip = y4m_clip(64, 36, 6, 1);
  const std::size_t third = clip.size() / 3;
  {
    int fd = ::open((f.in / "slow.y4m").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    for (int part = 0; part < 3; ++part) {
      std::size_t n = part == 2 ? clip.size() - 2 * third : third;
      ASSERT_EQ(::write(fd, clip.data() + part * third, n), static_cast<ssize_t>(n));
      if (part < 2) std::this_thread::sleep_for(900ms);  // 3x the settling delay
    }
    ::close(fd);
  }
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == 1; }, 30s));
  std::this_thread::sleep_for(500ms);  // would a second job follow?
  auto jobs = f.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].size, static_cast<std::int64_t>(clip.size()));
  EXPECT_EQ(jobs[0].attempts, 1);
  EXPECT_EQ(frames_of(f.out / "slow.mkv"), 6);
  EXPECT_EQ(read_file(f.done / "slow.y4m"), clip);
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

TEST(ServiceE2E, MovedInFileIsProcessedOnce) {
  ServiceFolders f;
  f.write_config();
  ServiceProcess svc(f);
  svc.start();
  const std::string clip = y4m_clip(64, 36, 5, 2);
  write_file(f.root / "elsewhere.y4m", clip);
  std::this_thread::sleep_for(200ms);
  fs::rename(f.root / "elsewhere.y4m", f.in / "moved in.y4m");
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == 1; }, 30s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(f.jobs().size(), 1u);
  EXPECT_EQ(visible(f.out), std::vector<std::string>{"moved in.mkv"});
  EXPECT_EQ(frames_of(f.out / "moved in.mkv"), 5);
  EXPECT_EQ(list_dir(f.in), std::vector<std::string>{});
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

TEST(ServiceE2E, AnyFileNameWorksAndSymlinksAreNotFollowed) {
  ServiceFolders f;
  f.write_config("", "on_done = \"keep\"");
  const std::vector<std::string> stems = {"-rf", "with space", "new\nline", std::string("bytes\xff\xfe"), "--config"};
  for (std::size_t i = 0; i < stems.size(); ++i) {
    write_file(f.in / (stems[i] + ".y4m"), y4m_clip(64, 36, 3, 300 + static_cast<unsigned>(i)));
  }
  // A symlink to a clip outside the tree, and to a folder outside it: never processed.
  fs::create_directories(f.root / "outside");
  write_file(f.root / "outside" / "secret.y4m", y4m_clip(64, 36, 3, 399));
  fs::create_symlink(f.root / "outside" / "secret.y4m", f.in / "link.y4m");
  fs::create_directory_symlink(f.root / "outside", f.in / "linkdir");
  ServiceProcess svc(f);
  svc.start();
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == static_cast<int>(stems.size()); }, 60s))
      << read_file(f.log);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(f.jobs().size(), stems.size());
  for (auto& stem : stems) EXPECT_EQ(frames_of(f.out / (stem + ".mkv")), 3) << stem;
  EXPECT_EQ(visible(f.out).size(), stems.size());
  EXPECT_TRUE(fs::exists(f.in / "with space.y4m"));  // on_done = "keep"
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

TEST(ServiceE2E, TwoHundredFilesDroppedAtOnceEachComeOutExactlyOnce) {
  ServiceFolders f;
  f.write_config("", "extensions = [\"y4m\"]");
  constexpr int kFiles = 200;
  fs::create_directories(f.root / "batch");
  for (int i = 0; i < kFiles; ++i) {
    write_file(f.root / "batch" / ("clip" + std::to_string(i) + ".y4m"), y4m_clip(32, 18, 3, 1000 + i));
  }
  ServiceProcess svc(f);
  svc.start();
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < kFiles; ++i) {
    std::string n = "clip" + std::to_string(i) + ".y4m";
    fs::rename(f.root / "batch" / n, f.in / n);
  }
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == kFiles; }, 150s))
      << f.count(JobState::done) << " done";
  std::this_thread::sleep_for(500ms);
  auto jobs = f.jobs();
  EXPECT_EQ(jobs.size(), static_cast<std::size_t>(kFiles));
  std::set<fs::path> inputs;
  for (auto& j : jobs) {
    EXPECT_EQ(j.state, JobState::done) << j.path << ": " << j.error;
    EXPECT_TRUE(inputs.insert(j.path).second) << "processed twice: " << j.path;
  }
  auto outs = visible(f.out);
  ASSERT_EQ(outs.size(), static_cast<std::size_t>(kFiles));
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_TRUE(std::binary_search(outs.begin(), outs.end(), "clip" + std::to_string(i) + ".mkv")) << i;
  }
  EXPECT_EQ(frames_of(f.out / "clip7.mkv"), 3);
  EXPECT_EQ(visible(f.done).size(), static_cast<std::size_t>(kFiles));
  EXPECT_EQ(list_dir(f.in), std::vector<std::string>{});
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

// A clip long enough to be interrupted (made by ffmpeg; bicubic x2 doubles its size).
fs::path ffmpeg_clip(const fs::path& dir, const std::string& size, int frames) {
  fs::path p = dir / "long.mkv";
  std::string cmd = "ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=" + size + ":rate=25 -frames:v " +
                    std::to_string(frames) + " -c:v libx264 -preset ultrafast -pix_fmt yuv420p '" + p.string() + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  return p;
}

TEST(ServiceE2E, SigtermAbortsAJobPastTheStopTimeoutAndExitsZero) {
  ServiceFolders f;
  f.write_config("stop_timeout_seconds = 0.3");
  fs::path clip = ffmpeg_clip(f.root.path(), "640x360", 250);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not generate the test clip";
  const std::string bytes = read_file(clip);
  ServiceProcess svc(f);
  svc.start();
  fs::rename(clip, f.in / "long.mkv");
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::running) == 1; }, 20s));
  std::this_thread::sleep_for(300ms);
  svc.signal(SIGTERM);
  auto code = svc.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  auto jobs = f.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::queued) << jobs[0].error;
  EXPECT_EQ(jobs[0].attempts, 0);
  EXPECT_EQ(visible(f.out), std::vector<std::string>{});
  EXPECT_EQ(list_dir(f.out / ".upscaled-staging"), std::vector<std::string>{});
  EXPECT_EQ(read_file(f.in / "long.mkv"), bytes);
  EXPECT_THAT(read_file(f.log), HasSubstr("aborting running jobs"));
}

TEST(ServiceE2E, SigtermLetsARunningJobFinishWithinTheStopTimeout) {
  ServiceFolders f;
  f.write_config("stop_timeout_seconds = 60", "extensions = [\"mkv\"]");
  ServiceProcess svc(f);
  svc.start();
  fs::path clip = ffmpeg_clip(f.root.path(), "320x180", 200);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not generate the test clip";
  fs::rename(clip, f.in / "m.mkv");
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::running) == 1; }, 20s));
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(60s), 0);
  auto jobs = f.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::done);
  EXPECT_EQ(frames_of(f.out / "m.mkv"), 200);
  const std::string log = read_file(f.log);
  auto stop = log.find("stopping"), done = log.find("job 1: done");
  ASSERT_NE(stop, std::string::npos);
  ASSERT_NE(done, std::string::npos);
  EXPECT_LT(stop, done) << "the job was to be running when SIGTERM came:\n" << log;
}

TEST(ServiceE2E, CorruptedFileGoesToFailedAfterNAttemptsWhileOthersProceed) {
  ServiceFolders f;
  f.write_config("max_attempts = 2");
  ServiceProcess svc(f);
  svc.start();
  std::mt19937 rng(7);
  std::string junk(20000, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  write_file(f.in / "corrupt.mkv", junk);
  for (int i = 0; i < 3; ++i) write_file(f.in / ("good" + std::to_string(i) + ".y4m"), y4m_clip(64, 36, 4, 50 + i));
  ASSERT_TRUE(wait_until(
      [&] {
        return f.count(JobState::done) == 3 && f.count(JobState::failed) == 1 &&
               fs::exists(f.failed / "corrupt.mkv.error.txt");
      },
      60s));
  std::int64_t failed_id = 0, done_id = 0;
  for (auto& j : f.jobs()) {
    if (j.state == JobState::done) done_id = j.id;
    if (j.state == JobState::failed) {
      failed_id = j.id;
      EXPECT_EQ(j.attempts, 2);
      EXPECT_THAT(j.error, HasSubstr("corrupt.mkv"));
    }
  }
  EXPECT_EQ(list_dir(f.failed), (std::vector<std::string>{"corrupt.mkv", "corrupt.mkv.error.txt"}));
  EXPECT_EQ(read_file(f.failed / "corrupt.mkv"), junk);
  EXPECT_THAT(read_file(f.failed / "corrupt.mkv.error.txt"), HasSubstr("corrupt.mkv"));
  EXPECT_EQ(visible(f.out).size(), 3u);

  // `upscaled status` lists it; `upscaled retry ID` puts it back, and it fails again.
  RunResult st = run_upscaled("status --config '" + f.config.string() + "'");
  EXPECT_EQ(st.code, 0);
  EXPECT_THAT(st.output, HasSubstr("3 done, 1 failed"));
  RunResult rt = run_upscaled("retry " + std::to_string(failed_id) + " --config '" + f.config.string() + "'");
  EXPECT_EQ(rt.code, 0) << rt.output;
  EXPECT_THAT(rt.output, HasSubstr("queued again"));
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = f.jobs();
        return jobs.size() == 4 && f.count(JobState::failed) == 1 && fs::exists(f.failed / "corrupt.mkv.error.txt");
      },
      30s));
  EXPECT_EQ(read_file(f.failed / "corrupt.mkv"), junk);
  RunResult again = run_upscaled("retry " + std::to_string(done_id) + " --config '" + f.config.string() + "'");
  EXPECT_EQ(again.code, static_cast<int>(ErrorCode::usage)) << again.output;
  EXPECT_THAT(again.output, HasSubstr("only failed jobs can be retried"));
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

// Mounts a small tmpfs for the life of the object (root only).
struct Tmpfs {
  fs::path at;
  bool ok = false;
  Tmpfs(const fs::path& p, const char* size) : at(p) {
    std::string opts = std::string("size=") + size;
    ok = ::mount("tmpfs", p.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~Tmpfs() {
    if (ok) ::umount2(at.c_str(), MNT_DETACH);
  }
};

TEST(ServiceE2E, FullOutputFilesystemIsRetriedNeverMarkedDoneAndInputStaysIntact) {
  ServiceFolders f;
  Tmpfs mount(f.out, "4m");
  if (!mount.ok) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root); the simulated ENOSPC path is covered by "
                    "RunnerTest.TransientErrorsBackOffWithoutCountingAttempts";
  }
  // Fill it up.
  {
    int fd = ::open((f.out / "filler").c_str(), O_WRONLY | O_CREAT, 0644);
    std::string block(64 * 1024, 'x');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    while (::write(fd, block.data(), 1) > 0) {
    }
    ::close(fd);
  }
  f.write_config("max_attempts = 1", "extensions = [\"y4m\"]");
  const std::string clip = y4m_clip(64, 36, 5, 99);
  write_file(f.in / "full.y4m", clip);
  ServiceProcess svc(f);
  svc.start();
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = f.jobs();
        return jobs.size() == 1 && jobs[0].transient >= 3;
      },
      30s));
  auto j = f.jobs()[0];
  EXPECT_EQ(j.state == JobState::queued || j.state == JobState::running, true) << job_state_name(j.state);
  EXPECT_EQ(j.attempts == 0 || j.state == JobState::running, true);  // transient: never counted
  EXPECT_NE(j.state, JobState::done);
  EXPECT_NE(j.state, JobState::failed);
  EXPECT_EQ(visible(f.out), std::vector<std::string>{"filler"});
  EXPECT_EQ(read_file(f.in / "full.y4m"), clip);
  // Space comes back: the job completes.
  fs::remove(f.out / "filler");
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == 1; }, 30s));
  EXPECT_EQ(frames_of(f.out / "full.mkv"), 5);
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

TEST(ServiceE2E, SighupReloadsTheConfigurationAndKeepsTheOldOneWhenBad) {
  ServiceFolders f;
  f.write_config("", "extensions = [\"y4m\"]");
  ServiceProcess svc(f);
  svc.start();
  ASSERT_TRUE(wait_until([&] { return read_file(f.log).find("serving") != std::string::npos; }, 10s));
  // A second watch appears.
  const fs::path in2 = f.root / "in2", out2 = f.root / "out2";
  fs::create_directories(in2);
  {
    std::ofstream c(f.config, std::ios::app);
    c << "[[watch]]\ninput = \"" << in2.string() << "\"\noutput = \"" << out2.string() << "\"\nfailed_dir = \""
      << (f.root / "failed2").string() << "\"\nmodel = \"bicubic\"\npreset = \"ultrafast\"\n";
  }
  svc.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return read_file(f.log).find("reloaded") != std::string::npos; }, 10s));
  write_file(in2 / "second.y4m", y4m_clip(64, 36, 4, 11));
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == 1; }, 30s));
  EXPECT_EQ(frames_of(out2 / "second.mkv"), 4);
  EXPECT_TRUE(fs::exists(in2 / "second.y4m"));  // on_done defaults to keep
  // A broken file on SIGHUP: logged, the running configuration stays.
  write_file(f.config, read_file(f.config) + "nonsense = 1\n");
  svc.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return read_file(f.log).find("reload failed") != std::string::npos; }, 10s));
  EXPECT_THAT(read_file(f.log), HasSubstr("key 'watch[1].nonsense': unknown key"));
  write_file(f.in / "first.y4m", y4m_clip(64, 36, 4, 12));
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == 2; }, 30s));
  EXPECT_EQ(frames_of(f.out / "first.mkv"), 4);
  svc.signal(SIGTERM);
  EXPECT_EQ(svc.wait(20s), 0);
}

TEST(ServiceE2E, ConfigurationErrorsNameFileLineAndKey) {
  TempDir dir;
  fs::path cfg = dir / "bad.toml";
  write_file(cfg,
             "[service]\nstate_dir = \"/tmp/x\"\nsettle_seconds = -1\n[[watch]]\ninput = \"/a\"\noutput = \"/b\"\n"
             "failed_dir = \"/c\"\n");
  RunResult r = run_upscaled("serve --config '" + cfg.string() + "'");
  EXPECT_EQ(r.code, static_cast<int>(ErrorCode::usage));
  EXPECT_THAT(r.output, HasSubstr(cfg.string() + ":3: key 'service.settle_seconds': must be between 0 and 3600"));

  write_file(cfg, "[service]\n[[watch]]\ninput = \"/a\"\noutput = \"/b\"\nfailed_dir = \"/c\"\nmodle = \"x\"\n");
  r = run_upscaled("serve --config '" + cfg.string() + "'");
  EXPECT_EQ(r.code, static_cast<int>(ErrorCode::usage));
  EXPECT_THAT(r.output, HasSubstr(cfg.string() + ":6: key 'watch[0].modle': unknown key"));
}

TEST(ServiceE2E, AGpuIndexThatIsNotADeviceHereStopsTheStart) {
  TempDir dir;
  fs::path cfg = dir / "gpus.toml";
  for (const char* d : {"in", "out", "failed", "state"}) fs::create_directories(dir / d);
  write_file(cfg, "[service]\nstate_dir = \"" + (dir / "state").string() + "\"\ngpus = [77]\n[[watch]]\ninput = \"" +
                      (dir / "in").string() + "\"\noutput = \"" + (dir / "out").string() + "\"\nfailed_dir = \"" +
                      (dir / "failed").string() + "\"\n");
  RunResult r = run_upscaled("serve --config '" + cfg.string() + "'");
  EXPECT_EQ(r.code, static_cast<int>(ErrorCode::device)) << r.output;
  EXPECT_THAT(r.output, HasSubstr(cfg.string() + ": gpus: GPU 77 is not a CUDA device of this machine"));
  EXPECT_FALSE(fs::exists(dir / "state" / "journal.sqlite3"));  // stopped before touching any state
}

}  // namespace
}  // namespace upscaled::service::test
