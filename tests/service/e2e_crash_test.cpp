// kill -9 at random moments, restarting each time: the journal and the file steps must add
// up to every input handled exactly once, with no partial or temporary file left behind.
#include "tests/service/service_harness.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

namespace upscaled::service::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(ServiceCrash, KillNineAtRandomMomentsThenEveryJobDoneExactlyOnce) {
  ServiceFolders f;
  // Kills interrupt jobs, and an interrupted run counts as an attempt (poison protection),
  // so the limit is set above the number of rounds.
  f.write_config("max_attempts = 100\nsettle_seconds = 0.05", "extensions = [\"y4m\"]");
  constexpr int kRounds = 24, kPerRound = 3;
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::map<std::string, std::string> inputs;  // name -> bytes
  fs::create_directories(f.root / "drop");
  int next = 0;
  int killed_while_running = 0;

  for (int round = 0; round < kRounds; ++round) {
    // New files keep arriving so that there is work at every kill.
    for (int i = 0; i < kPerRound; ++i, ++next) {
      std::string name = "c" + std::to_string(next) + ".y4m";
      inputs[name] = y4m_clip(160, 90, 8, 5000 + static_cast<unsigned>(next));
      write_file(f.root / "drop" / name, inputs[name]);
      fs::rename(f.root / "drop" / name, f.in / name);
    }
    ServiceProcess svc(f);
    svc.start();
    if (round % 2 == 0) {
      // Somewhere inside a job: wait for one to run, then a little more.
      wait_until([&] { return f.count(JobState::running) > 0; }, 10s);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 80)(rng)));
    } else {
      // Anywhere: start-up, recovery, scanning, settling, a job, idle.
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(10, 400)(rng)));
    }
    killed_while_running += f.count(JobState::running) > 0;
    svc.signal(SIGKILL);
    ASSERT_EQ(svc.wait(10s), 128 + SIGKILL);

    // After every crash: nothing partial at a final name.
    for (auto& name : list_dir(f.out)) {
      if (name[0] == '.') continue;
      EXPECT_EQ(frames_of(f.out / name), 8) << "partial output at final name " << name << " after round " << round;
    }
  }
  std::printf("kill -9 rounds: %d of %d landed while a job was running\n", killed_while_running, kRounds);
  EXPECT_GE(killed_while_running, kRounds / 3) << "too few kills landed during a job to prove anything";

  ServiceProcess svc(f);
  svc.start();
  const int total = static_cast<int>(inputs.size());
  ASSERT_TRUE(wait_until([&] { return f.count(JobState::done) == total; }, 120s))
      << f.count(JobState::done) << " of " << total << " done";
  svc.signal(SIGTERM);
  ASSERT_EQ(svc.wait(20s), 0);

  // Journal: one row per input, all done.
  auto jobs = f.jobs();
  EXPECT_EQ(jobs.size(), inputs.size());
  std::map<std::string, int> seen;
  for (auto& j : jobs) {
    EXPECT_EQ(j.state, JobState::done) << j.path << ": " << j.error;
    ++seen[j.path.filename().string()];
  }
  // Outputs: exactly one per input under its own name, complete; no temporaries anywhere.
  std::vector<std::string> want_out, want_done;
  for (auto& [name, bytes] : inputs) {
    EXPECT_EQ(seen[name], 1) << name;
    want_out.push_back(fs::path(name).stem().string() + ".mkv");
    want_done.push_back(name);
    EXPECT_EQ(read_file(f.done / name), bytes) << name;
  }
  std::sort(want_out.begin(), want_out.end());
  auto outs = list_dir(f.out);
  outs.erase(std::remove(outs.begin(), outs.end(), ".upscaled-staging"), outs.end());
  EXPECT_EQ(outs, want_out);
  for (auto& o : outs) EXPECT_EQ(frames_of(f.out / o), 8) << o;
  EXPECT_EQ(list_dir(f.out / ".upscaled-staging"), std::vector<std::string>{});
  EXPECT_EQ(list_dir(f.done), want_done);
  EXPECT_EQ(list_dir(f.in), std::vector<std::string>{});
}

}  // namespace
}  // namespace upscaled::service::test
