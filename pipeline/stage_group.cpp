#include "pipeline/stage_group.h"

#include "core/error.h"
#include "core/log.h"

#include <chrono>

namespace upscaled::pipeline {

StageGroup::StageGroup(CancelToken cancel) : cancel_(std::move(cancel)) {}

StageGroup::~StageGroup() {
  if (!threads_.empty()) {
    // Started and never run(): the set-up after start() threw. Stop what runs before the
    // queues and objects its stages use go away.
    cancel();
    join_all();
  }
  if (cancel_subscription_ != SIZE_MAX) cancel_.unsubscribe(cancel_subscription_);
}

void StageGroup::add_queue(Cancellable& queue) {
  bool cancel_now = false;
  {
    std::lock_guard lock(mutex_);
    queues_.push_back(&queue);
    cancel_now = failed_;
  }
  if (cancel_now) queue.cancel();
}

void StageGroup::add_stage(std::string name, std::function<void()> body, std::function<void()> on_exit) {
  stages_.push_back({std::move(name), std::move(body), std::move(on_exit)});
}

void StageGroup::fail(std::exception_ptr error) {
  std::vector<Cancellable*> to_cancel;
  {
    std::lock_guard lock(mutex_);
    if (!failed_) {
      failed_ = true;
      first_error_ = error;
      to_cancel = queues_;
    }
  }
  for (auto* q : to_cancel) q->cancel();
}

void StageGroup::cancel() {
  fail(std::make_exception_ptr(Cancelled()));
}

void StageGroup::start() {
  if (cancel_subscription_ == SIZE_MAX) cancel_subscription_ = cancel_.subscribe([this] { cancel(); });
  for (std::size_t i = threads_.size(); i < stages_.size(); ++i) {
    Stage& stage = stages_[i];
    threads_.emplace_back([this, &stage] {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        stage.body();
      } catch (const Cancelled&) {
        fail(std::current_exception());
      } catch (const std::exception& e) {
        log::debug(log::cat("stage ", stage.name, " failed: ", e.what()));
        fail(std::current_exception());
      } catch (...) {
        fail(std::current_exception());
      }
      if (stage.on_exit) {
        try {
          stage.on_exit();
        } catch (...) {
          fail(std::current_exception());
        }
      }
      stage.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    });
  }
}

void StageGroup::join_all() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void StageGroup::run() {
  bool failed = false;
  {
    std::lock_guard lock(mutex_);
    failed = failed_;
  }
  // After a failure the stages not yet started stay so: their queues are cancelled.
  if (!failed) start();
  join_all();
  timings_.clear();
  for (std::size_t i = 0; i < stages_.size(); ++i) timings_.push_back({stages_[i].name, stages_[i].wall_s});
  if (cancel_subscription_ != SIZE_MAX) cancel_.unsubscribe(cancel_subscription_);
  cancel_subscription_ = SIZE_MAX;
  if (first_error_) std::rethrow_exception(first_error_);
}

}  // namespace upscaled::pipeline
