#include "pipeline/stage_group.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using upscaled::Cancelled;
using upscaled::pipeline::BoundedQueue;
using upscaled::pipeline::CancelToken;
using upscaled::pipeline::StageGroup;
using namespace std::chrono_literals;

namespace {

// source -> a -> middle -> b -> sink, the shape of the real pipeline.
struct ThreeStages {
  BoundedQueue<int> a{2}, b{2};
  std::atomic<int> produced{0}, consumed{0};
  StageGroup group;

  explicit ThreeStages(CancelToken token = CancelToken()) : group(std::move(token)) {
    group.add_queue(a);
    group.add_queue(b);
  }

  // The first stage: pushes 0 .. count - 1 into a (counting what got in), then closes it.
  void add_source(int count) {
    group.add_stage(
        "source",
        [this, count] {
          for (int i = 0; i < count; ++i)
            if (a.push(i)) ++produced;
        },
        [this] { a.close(); });
  }
};

}  // namespace

TEST(StageGroup, RunsEveryStageToCompletion) {
  ThreeStages s;
  s.add_source(1000);
  s.group.add_stage(
      "middle",
      [&] {
        while (auto v = s.a.pop()) s.b.push(*v * 2);
      },
      [&] { s.b.close(); });
  long long sum = 0;
  s.group.add_stage("sink", [&] {
    while (auto v = s.b.pop()) {
      sum += *v;
      ++s.consumed;
    }
  });
  s.group.run();
  EXPECT_EQ(s.produced, 1000);
  EXPECT_EQ(s.consumed, 1000);
  EXPECT_EQ(sum, 999LL * 1000);
  ASSERT_EQ(s.group.timings().size(), 3u);
  EXPECT_EQ(s.group.timings()[1].name, "middle");
}

TEST(StageGroup, FailureInTheMiddleStopsBlockedNeighboursAndRethrows) {
  ThreeStages s;
  // The source would block forever on a full queue, the sink forever on an empty one:
  // only cancellation by the failing stage lets run() return.
  s.group.add_stage(
      "source",
      [&] {
        for (int i = 0;; ++i)
          if (!s.a.push(i)) return;
      },
      [&] { s.a.close(); });
  s.group.add_stage(
      "middle",
      [&] {
        int n = 0;
        while (auto v = s.a.pop()) {
          if (++n == 50) throw std::runtime_error("model exploded at frame 50");
          s.b.push(*v);
        }
      },
      [&] { s.b.close(); });
  s.group.add_stage("sink", [&] {
    while (s.b.pop()) ++s.consumed;
  });
  try {
    s.group.run();
    FAIL() << "run() must rethrow the stage's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "model exploded at frame 50");
  }
  EXPECT_LT(s.consumed, 50);
  EXPECT_TRUE(s.a.cancelled());
  EXPECT_TRUE(s.b.cancelled());
}

TEST(StageGroup, FirstErrorWinsOverLaterOnes) {
  BoundedQueue<int> q(1);
  StageGroup group;
  group.add_queue(q);
  group.add_stage("first", [&] { throw upscaled::Error(upscaled::ErrorCode::input_invalid, "first failure"); });
  group.add_stage("second", [&] {
    q.pop();  // woken by the cancel that the first failure causes
    throw std::runtime_error("consequence");
  });
  try {
    group.run();
    FAIL();
  } catch (const upscaled::Error& e) {
    EXPECT_EQ(e.code(), upscaled::ErrorCode::input_invalid);
    EXPECT_STREQ(e.what(), "first failure");
  }
}

TEST(StageGroup, ExternalCancelStopsEverythingWithCancelled) {
  CancelToken token;
  ThreeStages s(token);
  s.group.add_stage(
      "source",
      [&] {
        for (int i = 0;; ++i)
          if (!s.a.push(i)) return;
      },
      [&] { s.a.close(); });
  s.group.add_stage("sink", [&] {
    while (s.a.pop()) std::this_thread::sleep_for(1ms);
  });
  std::thread canceller([&] {
    std::this_thread::sleep_for(30ms);
    token.request();
  });
  EXPECT_THROW(s.group.run(), Cancelled);
  canceller.join();
}

TEST(StageGroup, OnExitRunsEvenWhenTheBodyThrows) {
  BoundedQueue<int> out(1);
  StageGroup group;
  group.add_queue(out);
  std::atomic<bool> exited{false};
  group.add_stage(
      "thrower", [] { throw std::runtime_error("boom"); }, [&] { exited = true; });
  EXPECT_THROW(group.run(), std::runtime_error);
  EXPECT_TRUE(exited);
}

TEST(StageGroup, StartedHeadWorksWhileTheRestIsAdded) {
  ThreeStages s;
  s.add_source(100);
  s.group.start();
  // The source fills its queue (2) and waits for a consumer that does not exist yet.
  for (int i = 0; i < 200 && s.a.size() < 2; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(s.a.size(), 2u);
  s.group.add_stage("sink", [&] {
    while (s.a.pop()) ++s.consumed;
  });
  s.group.run();
  EXPECT_EQ(s.produced, 100);
  EXPECT_EQ(s.consumed, 100);
  ASSERT_EQ(s.group.timings().size(), 2u);
  EXPECT_EQ(s.group.timings()[0].name, "source");
  EXPECT_EQ(s.group.timings()[1].name, "sink");
}

TEST(StageGroup, DestroyedAfterStartWithoutRunCancelsAndJoins) {
  BoundedQueue<int> q(1);
  std::atomic<bool> stopped{false};
  {
    StageGroup group;
    group.add_queue(q);
    group.add_stage(
        "source",
        [&] {
          for (int i = 0;; ++i)
            if (!q.push(i)) return;  // blocks on the full queue until the cancel
        },
        [&] { stopped = true; });
    group.start();
    // The set-up after start() fails here: the group goes out of scope without run().
  }
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(q.cancelled());
}

TEST(StageGroup, AfterAnEarlyFailureLaterQueuesAreCancelledAndLaterStagesNeverStart) {
  BoundedQueue<int> early(1), late(1);
  StageGroup group;
  group.add_queue(early);
  group.add_stage("decode", [] { throw upscaled::Error(upscaled::ErrorCode::input_invalid, "corrupt input"); });
  group.start();
  for (int i = 0; i < 500 && !early.cancelled(); ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(early.cancelled());
  group.add_queue(late);
  EXPECT_TRUE(late.cancelled());
  std::atomic<bool> ran{false};
  group.add_stage("encode", [&] { ran = true; });
  try {
    group.run();
    FAIL() << "run() must rethrow the early stage's error";
  } catch (const upscaled::Error& e) {
    EXPECT_STREQ(e.what(), "corrupt input");
  }
  EXPECT_FALSE(ran);
}
