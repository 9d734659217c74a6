// A chain of stages that hand slots (one batch of work with its buffers) from thread to
// thread, drawing them from a fixed pool made at start. The GPU upscale path's preprocess,
// infer and postprocess stages run on it (gpu_frame_upscaler_cuda.cpp); it knows nothing of
// CUDA and is tested with fake work (tests/pipeline/slot_chain_test.cpp).
//
// Contract: the chain owns its slots (nothing is allocated per batch) and must outlive the
// StageGroup's run(). add_to() adds one stage (thread) per step to the group and registers
// the pool and the queues between steps (`depth` slots each) for cancel. The first step
// takes a free slot (blocking while every slot is in use: backpressure from the end of the
// chain), fills it and returns true, or returns false at end of input (the slot goes back
// unused). Later steps get the slots in the order the first step filled them. A step may
// hand a slot on with its work only queued, if the next step orders itself after that work
// (CUDA: an event recorded on the producer's stream that the consumer's stream waits on). A
// slot goes back to the pool when the last step's work on it returns: by then every use of
// the slot's resources must have completed, not only been queued. Each step's `init` runs
// once on its thread before its first slot. End of input: each step drains its input and
// closes its output; the last step's exit runs `finished` (typically: close the consumer's
// queue). Error or cancel: the StageGroup cancels the queues and the pool, every step
// returns, and slots still in queues stay owned by the chain (destroyed with it).
#pragma once

#include "pipeline/bounded_queue.h"
#include "pipeline/stage_group.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::pipeline {

template <typename Slot>
class SlotChain {
 public:
  struct First {
    std::string name;
    std::function<bool(Slot&)> fill;  // false: end of input
    std::function<void()> init;       // optional
  };
  struct Step {
    std::string name;
    std::function<void(Slot&)> work;
    std::function<void()> init;  // optional
    // Optional: runs on the step's thread once its input has ended and it handed on every
    // slot, before its output closes: e.g. waiting for work it only queued, so that the
    // stage's wall time covers that work.
    std::function<void()> drained;
  };

  // Slots that keep a chain of `steps` steps with queues of `depth` busy: one in each step
  // and `depth` in each queue between two steps.
  static std::size_t pool_size(std::size_t steps, std::size_t depth) { return steps + (steps - 1) * depth; }

  SlotChain(std::vector<std::unique_ptr<Slot>> slots, std::size_t depth)
      : slots_(std::move(slots)), depth_(depth), pool_(slots_.empty() ? 1 : slots_.size()) {
    if (slots_.empty() || depth_ == 0) throw std::invalid_argument("SlotChain needs slots and a queue depth of 1+");
    for (auto& s : slots_) pool_.push(s.get());
  }
  SlotChain(const SlotChain&) = delete;
  SlotChain& operator=(const SlotChain&) = delete;

  std::size_t size() const { return slots_.size(); }

  // Call once, before group.run().
  void add_to(StageGroup& group, First first, std::vector<Step> rest, std::function<void()> finished) {
    names_ = {first.name};
    for (const Step& s : rest) names_.push_back(s.name);
    for (std::size_t i = 0; i < rest.size(); ++i) queues_.push_back(std::make_unique<BoundedQueue<Slot*>>(depth_));
    group.add_queue(pool_);
    for (auto& q : queues_) group.add_queue(*q);

    // Where step i (0 = first) sends a slot: the next queue, or back to the pool.
    auto send = [this](std::size_t i, Slot* slot) {
      return i < queues_.size() ? queues_[i]->push(slot) : pool_.push(slot);
    };
    auto close = [this, finished](std::size_t i) {
      if (i < queues_.size())
        queues_[i]->close();
      else if (finished)
        finished();
    };

    group.add_stage(
        first.name,
        [this, first, send] {
          if (first.init) first.init();
          for (;;) {
            std::optional<Slot*> slot = pool_.pop();
            if (!slot) return;
            if (!first.fill(**slot)) {
              pool_.push(*slot);
              return;
            }
            if (!send(0, *slot)) return;
          }
        },
        [close] { close(0); });

    for (std::size_t i = 0; i < rest.size(); ++i) {
      group.add_stage(
          rest[i].name,
          [this, i, step = rest[i], send] {
            if (step.init) step.init();
            while (std::optional<Slot*> slot = queues_[i]->pop()) {
              step.work(**slot);
              if (!send(i + 1, *slot)) return;
            }
            if (step.drained) step.drained();
          },
          [close, i] { close(i + 1); });
    }
  }

  // After run(): per step, in order, its waits on the chain's own queues and pool (wall_s is
  // left 0: the StageGroup measured it). The first step's wait_output_s is the wait for a
  // free slot plus pushing; the first's wait_input_s and the last's wait_output_s are 0
  // (the caller's queues, if any, are outside the chain).
  std::vector<StageStats> waits() const {
    std::vector<StageStats> out;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      StageStats s;
      s.name = names_[i];
      if (i == 0) s.wait_output_s += pool_.stats().pop_wait_s;
      if (i > 0) s.wait_input_s = queues_[i - 1]->stats().pop_wait_s;
      if (i < queues_.size()) s.wait_output_s += queues_[i]->stats().push_wait_s;
      out.push_back(s);
    }
    return out;
  }

 private:
  std::vector<std::unique_ptr<Slot>> slots_;
  std::size_t depth_;
  BoundedQueue<Slot*> pool_;  // free slots; never closed, only cancelled
  std::vector<std::unique_ptr<BoundedQueue<Slot*>>> queues_;
  std::vector<std::string> names_;
};

}  // namespace upscaled::pipeline
