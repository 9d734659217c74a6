// take_batch (frame_upscaler.h): full batches even when frames arrive one at a time, the
// remainder at the end of input, nothing after it.
#include "pipeline/frame_upscaler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace upscaled::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(TakeBatch, WaitsForAFullBatchThenTakesTheRemainderAtTheEnd) {
  // A queue smaller than the batch, fed slower than it is drained: a batch must still fill.
  BoundedQueue<io::FramePtr> queue(2);
  std::thread producer([&] {
    for (int i = 0; i < 6; ++i) {
      io::FramePtr f = io::make_frame();
      f->pts = i;
      std::this_thread::sleep_for(3ms);
      ASSERT_TRUE(queue.push(std::move(f)));
    }
    queue.close();
  });
  std::vector<std::vector<std::int64_t>> batches;
  for (;;) {
    std::vector<io::FramePtr> frames = take_batch(queue, 4);
    if (frames.empty()) break;
    batches.emplace_back();
    for (const auto& f : frames) batches.back().push_back(f->pts);
  }
  producer.join();
  const std::vector<std::vector<std::int64_t>> expected{{0, 1, 2, 3}, {4, 5}};
  EXPECT_EQ(batches, expected);
}

TEST(TakeBatch, CancelReturnsWhatWasTaken) {
  BoundedQueue<io::FramePtr> queue(4);
  ASSERT_TRUE(queue.push(io::make_frame()));
  std::thread canceller([&] {
    std::this_thread::sleep_for(10ms);
    queue.cancel();
  });
  EXPECT_EQ(take_batch(queue, 4).size(), 1u);
  canceller.join();
  EXPECT_TRUE(take_batch(queue, 4).empty());
}

}  // namespace
}  // namespace upscaled::pipeline
