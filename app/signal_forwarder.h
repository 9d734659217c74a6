// Turns SIGINT/SIGTERM into a CancelToken request, from a dedicated thread (sigwait), so
// that no work happens in a signal handler.
//
// Contract: construct before any other thread starts (it blocks the signals for the whole
// process so that new threads inherit the mask); the destructor stops the waiting thread
// and restores the mask. One instance per process.
#pragma once

#include "pipeline/cancel_token.h"

#include <signal.h>

#include <atomic>
#include <thread>

namespace upscaled::app {

class SignalForwarder {
 public:
  explicit SignalForwarder(pipeline::CancelToken token);
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  int last_signal() const { return last_signal_.load(); }

 private:
  pipeline::CancelToken token_;
  sigset_t previous_{};
  std::atomic<int> last_signal_{0};
  std::thread thread_;
};

}  // namespace upscaled::app
