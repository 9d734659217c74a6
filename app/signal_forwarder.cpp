#include "app/signal_forwarder.h"

#include "core/log.h"

#include <pthread.h>

namespace upscaled::app {
namespace {

// SIGUSR2 is only used to wake the waiting thread when the forwarder is destroyed.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

SignalForwarder::SignalForwarder(pipeline::CancelToken token) : token_(std::move(token)) {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, &previous_);
  thread_ = std::thread([this, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR2) return;
      last_signal_ = sig;
      log::warn(log::cat("received signal ", sig, ", cancelling"));
      token_.request();
    }
  });
}

SignalForwarder::~SignalForwarder() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace upscaled::app
