// ReleaseTimer: debug timings of what follows a job's clock, the job's resources released
// as its function returns (pipeline/transcode_job.cpp).
//
// Contract: one thread. A Mark's destructor runs after everything declared after it (up to
// the next Mark) was destroyed, and names that step; nothing is timed before start() (so an
// exception unwinding the job prints nothing); the timer prints one debug line when it goes,
// after the Marks declared after it.
#pragma once

#include "core/log.h"
#include "core/step_timer.h"

#include <optional>
#include <string>

namespace upscaled {

class ReleaseTimer {
 public:
  struct Mark {
    ReleaseTimer& timer;
    const char* what;
    ~Mark() {
      if (timer.steps_) timer.steps_->step(what);
    }
  };
  void start() { steps_.emplace(); }
  ~ReleaseTimer() {
    if (steps_) log::debug("job released: " + steps_->text());
  }

 private:
  std::optional<StepTimer> steps_;  // from start(): none while an exception unwinds the job
};

}  // namespace upscaled
