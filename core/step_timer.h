// StepTimer: the host time of consecutive steps of one thread's work, for a debug line
// ("read 0.01 s, compiled 0.02 s").
//
// Contract: synchronous, one thread; step() closes the step that began at the previous
// step() (or at construction) and names it. Costs one clock read a step, so it is left on
// whether or not the line is printed.
#pragma once

#include "core/log.h"

#include <chrono>
#include <string>

namespace upscaled {

class StepTimer {
 public:
  using Clock = std::chrono::steady_clock;

  void step(const char* what) {
    const Clock::time_point now = Clock::now();
    text_ += log::cat(text_.empty() ? "" : ", ", what, " ", seconds(last_, now), " s");
    last_ = now;
  }
  const std::string& text() const { return text_; }

 private:
  static double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  }
  Clock::time_point last_ = Clock::now();
  std::string text_;
};

}  // namespace upscaled
