// SlotChain with fake work: order, pool bounds and reuse, draining at end of input, error
// propagation and cancel, and the waits it reports.
#include "pipeline/slot_chain.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace upscaled::pipeline {
namespace {

using namespace std::chrono_literals;

struct FakeSlot {
  int item = -1;
  int stages_done = 0;
  std::atomic<bool> in_use{false};
};

// source (fills items 0..n-1 from `in`) -> three steps -> `out`, as the GPU upscale path.
struct Harness {
  static constexpr std::size_t kDepth = 2;
  BoundedQueue<int> in{4};
  BoundedQueue<int> out{4};
  StageGroup group;
  std::unique_ptr<SlotChain<FakeSlot>> chain;
  std::atomic<int> in_flight{0}, max_in_flight{0}, fills{0}, finished{0}, infer_drained{0};
  std::atomic<int> finished_before_drained{0};
  std::atomic<bool> reused_while_busy{false}, out_of_order{false};

  explicit Harness(CancelToken token = CancelToken()) : group(std::move(token)) {
    std::vector<std::unique_ptr<FakeSlot>> slots;
    for (std::size_t i = 0; i < SlotChain<FakeSlot>::pool_size(3, kDepth); ++i)
      slots.push_back(std::make_unique<FakeSlot>());
    chain = std::make_unique<SlotChain<FakeSlot>>(std::move(slots), kDepth);
    group.add_queue(in);
    group.add_queue(out);
  }

  // `fail_at`: the middle step throws on this item; `delay`: per step, a random sleep up to it.
  void add(int fail_at = -1, std::chrono::microseconds delay = 200us) {
    auto jitter = [delay](unsigned seed) {
      thread_local std::mt19937 rng(seed);
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % (delay.count() + 1)));
    };
    SlotChain<FakeSlot>::First first;
    first.name = "pre";
    first.fill = [this, jitter](FakeSlot& s) {
      std::optional<int> v = in.pop();
      if (!v) return false;
      if (s.in_use.exchange(true)) reused_while_busy = true;
      const int now = ++in_flight;
      for (int m = max_in_flight; now > m && !max_in_flight.compare_exchange_weak(m, now);) {
      }
      ++fills;
      s.item = *v;
      s.stages_done = 1;
      jitter(1);
      return true;
    };
    SlotChain<FakeSlot>::Step infer;
    infer.name = "infer";
    infer.work = [this, jitter, fail_at](FakeSlot& s) {
      if (s.stages_done != 1) out_of_order = true;
      if (s.item == fail_at) throw std::runtime_error("infer failed on purpose");
      s.stages_done = 2;
      jitter(2);
    };
    SlotChain<FakeSlot>::Step post;
    post.name = "post";
    post.work = [this, jitter](FakeSlot& s) {
      if (s.stages_done != 2) out_of_order = true;
      jitter(3);
      const int item = s.item;
      s.item = -1;
      --in_flight;
      s.in_use = false;  // the slot's "device work" is complete before it returns
      out.push(item);
    };
    infer.drained = [this] {
      if (finished > 0) ++finished_before_drained;
      ++infer_drained;
    };
    std::vector<SlotChain<FakeSlot>::Step> rest{infer, post};
    chain->add_to(group, first, rest, [this] {
      ++finished;
      out.close();
    });
  }
};

TEST(SlotChain, KeepsOrderBoundsSlotsAndDrainsAtEndOfInput) {
  Harness h;
  h.add();
  constexpr int kItems = 300;
  h.group.add_stage(
      "source",
      [&] {
        for (int i = 0; i < kItems; ++i) h.in.push(i);
      },
      [&] { h.in.close(); });
  std::vector<int> got;
  h.group.add_stage("sink", [&] {
    while (auto v = h.out.pop()) got.push_back(*v);
  });
  h.group.run();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(got[i], i) << "out of order";
  EXPECT_FALSE(h.out_of_order);
  EXPECT_FALSE(h.reused_while_busy) << "a slot was filled again before the last step released it";
  EXPECT_LE(h.max_in_flight.load(), static_cast<int>(h.chain->size()));
  EXPECT_EQ(h.fills, kItems);  // slots are reused: 7 slots served 300 items
  EXPECT_EQ(h.chain->size(), 7u);
  EXPECT_EQ(h.finished, 1);
  EXPECT_EQ(h.infer_drained, 1);  // once, at end of input, before the chain's end
  EXPECT_EQ(h.finished_before_drained, 0);
  const auto waits = h.chain->waits();
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_EQ(waits[0].name, "pre");
  EXPECT_EQ(waits[1].name, "infer");
  EXPECT_EQ(waits[2].name, "post");
}

TEST(SlotChain, ASlowLastStepHoldsTheFirstBackThroughThePool) {
  Harness h;
  h.add(-1, 0us);
  // A slow sink: `out` fills, post blocks, and the pool runs dry.
  h.group.add_stage(
      "source",
      [&] {
        for (int i = 0; i < 40; ++i) h.in.push(i);
      },
      [&] { h.in.close(); });
  int count = 0;
  h.group.add_stage("sink", [&] {
    while (h.out.pop()) {
      std::this_thread::sleep_for(2ms);
      ++count;
    }
  });
  h.group.run();
  EXPECT_EQ(count, 40);
  EXPECT_LE(h.max_in_flight.load(), 7);
  // The first step waited for free slots (backpressure is measured where it lands).
  EXPECT_GT(h.chain->waits()[0].wait_output_s, 0.02);
}

TEST(SlotChain, AFailingStepFailsTheRunAndEveryStageFinishes) {
  Harness h;
  h.add(50);
  h.group.add_stage(
      "source",
      [&] {
        for (int i = 0; i < 100000; ++i)
          if (!h.in.push(i)) return;
      },
      [&] { h.in.close(); });
  int count = 0;
  h.group.add_stage("sink", [&] {
    while (h.out.pop()) ++count;
  });
  const auto t0 = std::chrono::steady_clock::now();
  try {
    h.group.run();
    FAIL() << "run() returned normally";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "infer failed on purpose");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_LE(count, 50);
  EXPECT_EQ(h.finished, 1);  // the last step's exit still ran (closes the consumer's queue)
}

TEST(SlotChain, CancelStopsEveryStage) {
  CancelToken token;
  Harness h(token);
  h.add();
  h.group.add_stage(
      "source",
      [&] {
        for (int i = 0;; ++i)
          if (!h.in.push(i)) return;
      },
      [&] { h.in.close(); });
  std::atomic<int> count{0};
  h.group.add_stage("sink", [&] {
    while (h.out.pop())
      if (++count == 20) token.request();
  });
  EXPECT_THROW(h.group.run(), Cancelled);
  EXPECT_GE(count.load(), 20);
  EXPECT_EQ(h.finished, 1);
}

TEST(SlotChain, EndOfInputBeforeAnyItemClosesTheOutput) {
  Harness h;
  h.add();
  h.in.close();
  bool got_any = false;
  h.group.add_stage("sink", [&] {
    while (h.out.pop()) got_any = true;
  });
  h.group.run();
  EXPECT_FALSE(got_any);
  EXPECT_EQ(h.fills, 0);
  EXPECT_EQ(h.finished, 1);
}

TEST(SlotChain, RejectsAnEmptyPoolOrZeroDepth) {
  EXPECT_THROW(SlotChain<FakeSlot>({}, 2), std::invalid_argument);
  std::vector<std::unique_ptr<FakeSlot>> one;
  one.push_back(std::make_unique<FakeSlot>());
  EXPECT_THROW(SlotChain<FakeSlot>(std::move(one), 0), std::invalid_argument);
}

}  // namespace
}  // namespace upscaled::pipeline
