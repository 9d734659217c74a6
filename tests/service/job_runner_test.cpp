// The job state machine with a fake transcoder: success, naming, poison files, transient
// errors, cancellation, crash recovery and retry. No FFmpeg work here.
#include "service/job_runner.h"
#include "core/error.h"
#include "service/admin.h"
#include "service/file_ops.h"
#include "tests/service/test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace upscaled::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct RunnerTest : ::testing::Test {
  test::TempDir dir;
  Journal journal{dir / "journal.sqlite3"};
  std::atomic<int> calls{0};
  // The fake job: output = "OUT:" + input, or whatever `behaviour` does first.
  std::function<void(const TranscodeRequest&, const pipeline::CancelToken&)> behaviour;
  std::shared_ptr<ServiceConfig> config = std::make_shared<ServiceConfig>();
  JobRunner runner{journal,
                   [this](const TranscodeRequest& r, const pipeline::CancelToken& c) {
                     ++calls;
                     if (behaviour) behaviour(r, c);
                     EXPECT_EQ(r.output.parent_path(), r.temp_dir);
                     test::write_file(r.output, "OUT:" + test::read_file(r.input));
                   },
                   [](const fs::path& in, const fs::path& out) {
                     if (test::read_file(out) != "OUT:" + test::read_file(in)) {
                       throw Error(ErrorCode::internal, out.string() + ": verification failed");
                     }
                   }};

  void SetUp() override {
    WatchConfig w;
    w.input = dir / "in";
    w.output = dir / "out";
    w.done_dir = dir / "done";
    w.failed_dir = dir / "failed";
    w.on_done = InputAction::move;
    for (auto& p : {w.input, w.output}) fs::create_directories(p);
    config->watches.push_back(w);
    config->max_attempts = 3;
    config->retry_delay_seconds = 0;
    config->transient_backoff_seconds = 0.2;
    runner.set_config(config);
  }
  const WatchConfig& watch() const { return config->watches[0]; }

  std::int64_t enqueue(const std::string& name, const std::string& content) {
    fs::path p = watch().input / name;
    test::write_file(p, content);
    auto key = regular_file_key(p);
    JobRecord j;
    j.watch = watch().input;
    j.path = p;
    j.size = key->size;
    j.mtime_ns = key->mtime_ns;
    j.hash = content_hash(p);
    return journal.add(j);
  }
  bool run() { return runner.run_next(-1, pipeline::CancelToken()); }
};

TEST_F(RunnerTest, SuccessRenamesOutputThenMovesInput) {
  std::int64_t id = enqueue("clip one.y4m", "abc");
  ASSERT_TRUE(run());
  auto j = journal.get(id);
  EXPECT_EQ(j->state, JobState::done);
  EXPECT_EQ(j->output, watch().output / "clip one.mkv");
  EXPECT_EQ(test::read_file(j->output), "OUT:abc");
  EXPECT_EQ(test::list_dir(watch().input), std::vector<std::string>{});
  EXPECT_EQ(test::list_dir(watch().done_dir), std::vector<std::string>{"clip one.y4m"});
  EXPECT_EQ(j->moved_to, watch().done_dir / "clip one.y4m");
  EXPECT_EQ(test::list_dir(staging_dir(watch())), std::vector<std::string>{});
  EXPECT_FALSE(run());
}

TEST_F(RunnerTest, NeverOverwritesAnExistingOutput) {
  test::write_file(watch().output / "a.mkv", "somebody else's");
  std::int64_t id = enqueue("a.mp4", "1");
  std::int64_t id2 = enqueue("a.webm", "2");
  ASSERT_TRUE(run());
  ASSERT_TRUE(run());
  EXPECT_EQ(test::read_file(watch().output / "a.mkv"), "somebody else's");
  EXPECT_EQ(journal.get(id)->output, watch().output / "a-1.mkv");
  EXPECT_EQ(journal.get(id2)->output, watch().output / "a-2.mkv");
  EXPECT_EQ(test::read_file(watch().output / "a-2.mkv"), "OUT:2");
}

TEST_F(RunnerTest, PoisonFileFailsAfterMaxAttemptsWhileOthersProceed) {
  behaviour = [](const TranscodeRequest& r, const pipeline::CancelToken&) {
    if (r.input.filename() == "bad.mkv") throw Error(ErrorCode::input_invalid, r.input.string() + ": not media");
  };
  std::int64_t bad = enqueue("bad.mkv", "garbage");
  std::int64_t good = enqueue("good.mkv", "fine");
  for (int i = 0; i < 10 && run();) ++i;
  EXPECT_EQ(journal.get(good)->state, JobState::done);
  auto b = journal.get(bad);
  EXPECT_EQ(b->state, JobState::failed);
  EXPECT_EQ(b->attempts, 3);
  EXPECT_NE(b->error.find("not media"), std::string::npos);
  EXPECT_EQ(test::list_dir(watch().failed_dir), (std::vector<std::string>{"bad.mkv", "bad.mkv.error.txt"}));
  EXPECT_EQ(test::read_file(watch().failed_dir / "bad.mkv"), "garbage");
  EXPECT_NE(test::read_file(watch().failed_dir / "bad.mkv.error.txt").find("not media"), std::string::npos);
  EXPECT_FALSE(fs::exists(watch().output / "bad.mkv"));
  EXPECT_EQ(calls.load(), 4);

  // upscaled retry: the input goes back where it was found, the job is queued afresh.
  fs::path back = retry_job(journal, bad);
  EXPECT_EQ(back, watch().input / "bad.mkv");
  EXPECT_EQ(test::read_file(back), "garbage");
  EXPECT_EQ(test::list_dir(watch().failed_dir), std::vector<std::string>{});
  EXPECT_EQ(journal.get(bad)->state, JobState::queued);
  EXPECT_EQ(journal.get(bad)->attempts, 0);
  EXPECT_THROW(retry_job(journal, good), Error);
}

TEST_F(RunnerTest, TransientErrorsBackOffWithoutCountingAttempts) {
  int failures = 4;
  behaviour = [&](const TranscodeRequest& r, const pipeline::CancelToken&) {
    if (failures-- > 0) throw Error(ErrorCode::no_space, r.output.string() + ": No space left on device");
  };
  config->max_attempts = 1;  // a counted failure would fail the job at once
  std::int64_t id = enqueue("x.mkv", "data");
  double last_delay = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(run());
    auto j = journal.get(id);
    ASSERT_EQ(j->state, JobState::queued);
    EXPECT_EQ(j->attempts, 0);
    EXPECT_EQ(j->transient, i + 1);
    EXPECT_EQ(test::read_file(watch().input / "x.mkv"), "data");  // input intact
    EXPECT_EQ(test::list_dir(watch().output), std::vector<std::string>{".upscaled-staging"});
    double delay = j->not_before - now_seconds();
    EXPECT_GT(delay, last_delay * 1.5) << "backoff doubles";
    last_delay = delay;
    EXPECT_FALSE(run()) << "not due during the backoff";
    journal.requeue(id, 0, j->error, true, false);  // due now, without waiting out the backoff
  }
  ASSERT_TRUE(run());
  EXPECT_EQ(journal.get(id)->state, JobState::done);
}

TEST_F(RunnerTest, CancelledJobGoesBackToQueuedUncounted) {
  std::atomic<bool> started{false};
  behaviour = [&](const TranscodeRequest&, const pipeline::CancelToken& c) {
    started = true;
    while (!c.requested()) std::this_thread::sleep_for(5ms);
    throw Cancelled();
  };
  std::int64_t id = enqueue("long.mkv", "l");
  pipeline::CancelToken cancel;
  std::thread t([&] { runner.run_next(-1, cancel); });
  ASSERT_TRUE(test::wait_until([&] { return started.load(); }, 5s));
  EXPECT_EQ(journal.get(id)->state, JobState::running);
  cancel.request();
  t.join();
  auto j = journal.get(id);
  EXPECT_EQ(j->state, JobState::queued);
  EXPECT_EQ(j->attempts, 0);
  EXPECT_EQ(test::list_dir(staging_dir(watch())), std::vector<std::string>{});
  EXPECT_TRUE(fs::exists(watch().input / "long.mkv"));
}

TEST_F(RunnerTest, OutputRenamedBeforeACrashIsRecognisedNotRedone) {
  std::int64_t id = enqueue("c.mkv", "crash");
  // The state a crash leaves between rename and mark_done: running, output in place.
  journal.claim_next(now_seconds());
  journal.set_output(id, watch().output / "c.mkv");
  test::write_file(watch().output / "c.mkv", "OUT:crash");
  EXPECT_EQ(journal.recover_running(), 1);
  ASSERT_TRUE(run());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(journal.get(id)->state, JobState::done);
  EXPECT_EQ(test::list_dir(watch().output), (std::vector<std::string>{".upscaled-staging", "c.mkv"}));
  EXPECT_EQ(test::list_dir(watch().done_dir), std::vector<std::string>{"c.mkv"});
}

TEST_F(RunnerTest, OrphanedStagingFilesAreRemoved) {
  fs::create_directories(staging_dir(watch()));
  test::write_file(staging_dir(watch()) / "job-7.mkv", "partial");
  test::write_file(staging_dir(watch()) / "job-7.mkv.tmp-pipeline", "partial");
  clean_staging(*config);
  EXPECT_EQ(test::list_dir(staging_dir(watch())), std::vector<std::string>{});
}

TEST_F(RunnerTest, InputChangedOrVanishedIsSkippedUntouched) {
  std::int64_t changed = enqueue("changed.mkv", "v1");
  std::int64_t gone = enqueue("gone.mkv", "g");
  test::write_file(watch().input / "changed.mkv", "version two");
  fs::remove(watch().input / "gone.mkv");
  ASSERT_TRUE(run());
  ASSERT_TRUE(run());
  EXPECT_EQ(journal.get(changed)->state, JobState::skipped);
  EXPECT_EQ(journal.get(gone)->state, JobState::skipped);
  EXPECT_EQ(test::read_file(watch().input / "changed.mkv"), "version two");
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(RunnerTest, VerificationFailureLeavesNothingAtTheFinalName) {
  behaviour = [](const TranscodeRequest& r, const pipeline::CancelToken&) {
    test::write_file(r.output, "truncated");
    throw Error(ErrorCode::internal, r.output.string() + ": verification failed");
  };
  config->max_attempts = 2;
  std::int64_t id = enqueue("v.mkv", "v");
  ASSERT_TRUE(run());
  EXPECT_EQ(journal.get(id)->state, JobState::queued);
  EXPECT_EQ(journal.get(id)->attempts, 1);
  EXPECT_EQ(test::list_dir(watch().output), std::vector<std::string>{".upscaled-staging"});
  EXPECT_EQ(test::list_dir(staging_dir(watch())), std::vector<std::string>{});
  EXPECT_EQ(test::read_file(watch().input / "v.mkv"), "v");
}

TEST_F(RunnerTest, WorkersPerGpuAndDeleteAction) {
  config->gpus = {3, 5};
  config->jobs_per_gpu = 2;
  config->watches[0].on_done = InputAction::remove;
  std::mutex m;
  std::set<int> gpus_seen;
  std::atomic<int> concurrent{0}, peak{0};
  behaviour = [&](const TranscodeRequest& r, const pipeline::CancelToken&) {
    int now = ++concurrent;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(30ms);
    --concurrent;
    std::lock_guard lock(m);
    gpus_seen.insert(r.gpu);
  };
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(enqueue("f" + std::to_string(i) + ".mkv", "c" + std::to_string(i)));
  runner.start();
  ASSERT_TRUE(test::wait_until([&] { return journal.counts()[JobState::done] == 12; }, 20s));
  runner.stop_taking();
  runner.join();
  EXPECT_EQ(gpus_seen, (std::set<int>{3, 5}));
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 2);
  EXPECT_EQ(test::list_dir(watch().input), std::vector<std::string>{});
  EXPECT_EQ(test::list_dir(watch().output).size(), 13u);  // 12 outputs + the staging folder
}

// A worker bound to GPU N runs its whole job on cuda:N with the service's memory settings;
// a watch that wants the CPU keeps it.
TEST(TranscodeOptions, WorkerGpuSelectsTheDeviceAndMemorySettingsReachTheModel) {
  WatchConfig w;
  w.model = "esrgan-slim";
  w.device = "auto";
  TranscodeRequest req;
  req.input = "/in/a.mp4";
  req.output = "/out/.staging/a.mkv";
  req.watch = &w;
  req.gpu = 3;
  ServiceConfig service;
  service.gpu_memory_mb = 512;
  service.gpu_memory_wait_seconds = 42;
  service.jobs_per_gpu = 2;
  req.service = &service;
  pipeline::JobOptions o = transcode_options(req);
  EXPECT_EQ(o.model.device, "cuda:3");
  EXPECT_EQ(o.model.gpu_memory_limit, 512u << 20);
  EXPECT_EQ(o.model.gpu_memory_wait_seconds, 42);
  EXPECT_EQ(o.model.gpu_jobs, 2);
  EXPECT_EQ(o.model.memory_cost_cache, service.state_dir / "memory-costs.json");
  EXPECT_EQ(o.model.name, "esrgan-slim");
  EXPECT_EQ(o.input, "/in/a.mp4");
  EXPECT_FALSE(o.overwrite);
  EXPECT_EQ(o.models, nullptr);
  model::UpscalerCache models;
  req.models = &models;
  EXPECT_EQ(transcode_options(req).models, &models);

  w.device = "cuda";
  EXPECT_EQ(transcode_options(req).model.device, "cuda:3");
  w.device = "cpu";
  EXPECT_EQ(transcode_options(req).model.device, "cpu");
  w.device = "auto";
  req.gpu = -1;  // no gpus listed: the pipeline picks
  EXPECT_EQ(transcode_options(req).model.device, "auto");
}

}  // namespace
}  // namespace upscaled::service
