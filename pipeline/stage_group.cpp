#include "pipeline/stage_group.h"

#include "core/error.h"
#include "core/log.h"

#include <chrono>
#include <thread>

namespace upscaled::pipeline {

StageGroup::StageGroup(CancelToken cancel) : cancel_(std::move(cancel)) {}

StageGroup::~StageGroup() {
  if (cancel_subscription_ != SIZE_MAX) cancel_.unsubscribe(cancel_subscription_);
}

void StageGroup::add_queue(Cancellable& queue) {
  queues_.push_back(&queue);
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

void StageGroup::run() {
  cancel_subscription_ = cancel_.subscribe([this] { cancel(); });
  timings_.assign(stages_.size(), {});
  std::vector<std::thread> threads;
  threads.reserve(stages_.size());
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    threads.emplace_back([this, i] {
      auto& stage = stages_[i];
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
      timings_[i] = {stage.name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    });
  }
  for (auto& t : threads) t.join();
  cancel_.unsubscribe(cancel_subscription_);
  cancel_subscription_ = SIZE_MAX;
  if (first_error_) std::rethrow_exception(first_error_);
}

}  // namespace upscaled::pipeline
