// Runs a pipeline's stages, each on its own thread, and turns the first failure into the
// whole pipeline's failure.
//
// Contract: add queues and stages, then run() once; run() is synchronous and returns when
// every stage thread has finished. start() (optional, before run()) launches the stages added
// so far, so that the head of a pipeline (demux, decode) works while the main thread still
// sets up the rest; stages and queues may be added after it. A group that was started must
// reach run() or be destroyed: the destructor cancels and joins what runs (an exception in
// the set-up between start() and run()). When a stage throws, every registered queue is
// cancelled (so blocked neighbours wake up), the other stages finish, and run() rethrows
// the first exception; later exceptions that are only consequences (Cancelled) are
// dropped. cancel() (any thread) does the same with upscaled::Cancelled. Per-stage busy
// time is measured as wall time minus the time the stage's queues report waiting (the
// caller adds GPU time where a stage's work runs asynchronously: StageStats::device_s).
#pragma once

#include "pipeline/bounded_queue.h"
#include "pipeline/cancel_token.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace upscaled::pipeline {

struct StageTiming {
  std::string name;
  double wall_s = 0;
};

// Where a stage's time went: waiting for input, waiting for room downstream, or working.
// A stage that only queues GPU work and hands it on (the GPU path's infer) is busy for as long
// as that work runs on the device, which its own thread does not see: device_s, from events.
struct StageStats {
  std::string name;
  double wall_s = 0;
  double wait_input_s = 0;   // blocked on an empty input queue
  double wait_output_s = 0;  // blocked on a full output queue or an empty pool (backpressure)
  double device_s = 0;       // GPU time of work the stage queued without waiting for it; 0: none
  double host_busy_s() const { return wall_s - wait_input_s - wait_output_s; }
  double busy_s() const { return std::max(device_s, host_busy_s()); }
};

class StageGroup {
 public:
  explicit StageGroup(CancelToken cancel = CancelToken());
  ~StageGroup();
  StageGroup(const StageGroup&) = delete;
  StageGroup& operator=(const StageGroup&) = delete;

  // A queue added after a failure is cancelled at once.
  void add_queue(Cancellable& queue);
  // The body runs on its own thread. on_exit runs on that thread after the body, whether it
  // returned or threw (typically: close the stage's output queue).
  void add_stage(std::string name, std::function<void()> body, std::function<void()> on_exit = {});

  // Main thread. Launches the stages added since the last start().
  void start();
  // Main thread. Launches the rest (none after a failure), joins all, rethrows the first error.
  void run();
  void cancel();
  const std::vector<StageTiming>& timings() const { return timings_; }

 private:
  void fail(std::exception_ptr error);
  void join_all();

  struct Stage {
    std::string name;
    std::function<void()> body;
    std::function<void()> on_exit;
    double wall_s = 0;  // written by the stage's thread, read after its join
  };
  CancelToken cancel_;
  std::size_t cancel_subscription_ = SIZE_MAX;
  std::vector<Cancellable*> queues_;
  std::deque<Stage> stages_;  // a deque: running threads keep references while stages are added
  std::vector<std::thread> threads_;
  std::vector<StageTiming> timings_;
  std::mutex mutex_;
  std::exception_ptr first_error_;
  bool failed_ = false;
};

}  // namespace upscaled::pipeline
