// Runs journal jobs on worker threads: the state machine of one job, from `queued` to
// `done`, `failed`, `skipped` or back to `queued`.
//
// Contract: thread-safe. start() spawns jobs_per_gpu workers per GPU; each claims the next
// due job from the journal, transcodes it through the injected TranscodeFn (the pipeline in
// the service, a fake in unit tests) into a staging file in the output folder, fsyncs and
// verifies it, renames it into place without overwriting, fsyncs the folder, marks the job
// done and only then handles the input (keep / move / delete). Failures never touch the
// input, except that a job failing max_attempts times moves it to failed_dir beside a
// "<name>.error.txt". Cancellation and transient errors (GPU out of memory, disk full)
// requeue without counting an attempt; transient ones with exponential backoff.
#pragma once

#include "pipeline/cancel_token.h"
#include "pipeline/transcode_job.h"
#include "service/config.h"
#include "service/journal.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace upscaled::service {

struct TranscodeRequest {
  std::filesystem::path input;
  std::filesystem::path output;    // the staging file to create
  std::filesystem::path temp_dir;  // where the pipeline may stage its own temporaries
  const WatchConfig* watch = nullptr;
  int gpu = -1;                             // GPU index from [service] gpus, -1 when none is listed
  const ServiceConfig* service = nullptr;   // GPU memory settings ([service]); none: pipeline defaults
  std::function<void(double)> on_progress;  // fraction 0..1, from any thread
  model::UpscalerCache* models = nullptr;   // models kept loaded between jobs ([service] keep_models)
};
// Synchronous; throws upscaled::Error / Cancelled like pipeline::run_transcode.
using TranscodeFn = std::function<void(const TranscodeRequest&, const pipeline::CancelToken&)>;
// Throws when `output` is not a complete rendering of `input` (service/verify.h).
using VerifyFn = std::function<void(const std::filesystem::path& input, const std::filesystem::path& output)>;

// The real thing: pipeline::run_transcode with the watch's model and encoder settings.
TranscodeFn pipeline_transcoder();
// The pipeline options a request runs with (the watch's settings, the worker's GPU).
pipeline::JobOptions transcode_options(const TranscodeRequest& request);

// Hidden folder inside the output folder (same file system, so the final rename is atomic).
std::filesystem::path staging_dir(const WatchConfig& watch);
// Removes everything in every staging folder: at start-up nothing in them can be live.
void clean_staging(const ServiceConfig& config);

class JobRunner {
 public:
  JobRunner(Journal& journal, TranscodeFn transcode, VerifyFn verify);
  ~JobRunner();

  void set_config(std::shared_ptr<const ServiceConfig> config);
  std::shared_ptr<const ServiceConfig> config() const;

  void start();        // workers per config()->workers()
  void wake();         // a job was queued
  void stop_taking();  // workers finish their current job, then exit
  // Waits until no job runs or the timeout passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout);
  void abort_running();  // cancels the running jobs (they go back to queued)
  void join();

  struct Active {
    std::int64_t id;
    std::filesystem::path input;
    double progress;
  };
  std::vector<Active> active() const;

  // Claims and runs one due job on this thread; false when none was due.
  bool run_next(int gpu, const pipeline::CancelToken& cancel);

  // A done or failed job's input found again at its path, unchanged: finish what a crash
  // interrupted (move/delete after done; move to failed_dir after failure).
  void settle_input(const JobRecord& job, const WatchConfig& watch);

 private:
  void worker(std::size_t slot, int gpu);
  void process(JobRecord job, const ServiceConfig& config, int gpu, const pipeline::CancelToken& cancel,
               std::size_t slot);
  std::filesystem::path choose_output(const JobRecord& job, const WatchConfig& watch);
  void fail_input(const JobRecord& job, const WatchConfig& watch, const std::string& error);

  Journal& journal_;
  TranscodeFn transcode_;
  VerifyFn verify_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::shared_ptr<const ServiceConfig> config_;
  bool stop_ = false;
  bool woken_ = false;
  std::mutex naming_;
  struct Slot {
    std::int64_t id = 0;
    std::filesystem::path input;
    double progress = 0;
    std::unique_ptr<pipeline::CancelToken> cancel;
  };
  std::vector<Slot> slots_;
  std::vector<std::thread> threads_;
  // Idle models for [service] keep_models; destroyed after ~JobRunner has joined the workers.
  model::UpscalerCache models_{8};
};

}  // namespace upscaled::service
