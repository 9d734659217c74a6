// A bounded multi-producer multi-consumer queue joining two pipeline stages.
//
// Contract: thread-safe. push() blocks while the queue is full (backpressure) and returns
// false once the queue is closed or cancelled (the item is dropped). pop() blocks while the
// queue is empty and open; it returns std::nullopt when the queue is closed and drained, or
// cancelled. close() means "no more items": consumers drain what is left. cancel() means
// "abort": waiting producers and consumers wake at once and queued items are dropped.
// Waiting times are accumulated for --stats.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace upscaled::pipeline {

// Anything a StageGroup can wake up on cancel.
class Cancellable {
 public:
  virtual ~Cancellable() = default;
  virtual void cancel() = 0;
};

struct QueueStats {
  double push_wait_s = 0;  // producers blocked on a full queue
  double pop_wait_s = 0;   // consumers blocked on an empty queue
  std::size_t max_depth = 0;
};

template <typename T>
class BoundedQueue final : public Cancellable {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("BoundedQueue capacity must be at least 1");
  }

  bool push(T item) {
    std::unique_lock lock(mutex_);
    if (items_.size() >= capacity_ && !closed_ && !cancelled_) {
      const auto t0 = Clock::now();
      not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_ || cancelled_; });
      stats_.push_wait_s += seconds_since(t0);
    }
    if (closed_ || cancelled_) return false;
    items_.push_back(std::move(item));
    if (items_.size() > stats_.max_depth) stats_.max_depth = items_.size();
    lock.unlock();
    not_empty_.notify_one();
    return true;
  }

  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    if (items_.empty() && !closed_ && !cancelled_) {
      const auto t0 = Clock::now();
      not_empty_.wait(lock, [&] { return !items_.empty() || closed_ || cancelled_; });
      stats_.pop_wait_s += seconds_since(t0);
    }
    if (cancelled_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return item;
  }

  // Non-blocking pop: nullopt when nothing is queued right now.
  std::optional<T> try_pop() {
    std::unique_lock lock(mutex_);
    if (cancelled_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return item;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  void cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      items_.clear();
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }
  QueueStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  bool cancelled_ = false;
  QueueStats stats_;
};

}  // namespace upscaled::pipeline
