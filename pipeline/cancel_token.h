// Cooperative cancellation shared between a job's owner and its pipeline stages.
//
// Contract: thread-safe. request() may be called from any thread, including a signal
// handler's forwarding thread (it only stores an atomic and notifies callbacks registered
// by the pipeline). Copies share one state.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace upscaled::pipeline {

class CancelToken {
 public:
  CancelToken() : state_(std::make_shared<State>()) {}

  void request() const {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->requested.exchange(true)) return;
      callbacks = state_->callbacks;
    }
    for (auto& cb : callbacks) cb();
  }
  bool requested() const { return state_->requested.load(); }

  // Registers a callback run once on request (immediately if already requested).
  // Returns an id for unsubscribe().
  std::size_t subscribe(std::function<void()> cb) const {
    std::unique_lock lock(state_->mutex);
    if (state_->requested) {
      lock.unlock();
      cb();
      return SIZE_MAX;
    }
    state_->callbacks.push_back(std::move(cb));
    return state_->callbacks.size() - 1;
  }
  void unsubscribe(std::size_t id) const {
    std::lock_guard lock(state_->mutex);
    if (id < state_->callbacks.size()) state_->callbacks[id] = [] {};
  }

 private:
  struct State {
    std::atomic<bool> requested{false};
    std::mutex mutex;
    std::vector<std::function<void()>> callbacks;
  };
  std::shared_ptr<State> state_;
};

}  // namespace upscaled::pipeline
