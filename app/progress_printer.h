// Shows a job's progress: a one-line bar redrawn in place on a terminal (frames done/total,
// fps, ETA), or a log line every few seconds when stderr is not a terminal.
//
// Contract: update() may be called from any one pipeline thread at a time; finish() from
// the caller after the job. Writes to stderr only.
#pragma once

#include "pipeline/transcode_job.h"

#include <chrono>
#include <mutex>

namespace upscaled::app {

class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool enabled);
  void update(const pipeline::Progress& p);
  void finish();

 private:
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_log_;
};

}  // namespace upscaled::app
