// Tile and batch chosen from a memory budget (core/inference_plan.h).
#include "core/inference_plan.h"

#include <gtest/gtest.h>

namespace upscaled::model {
namespace {

constexpr std::size_t MiB = 1024 * 1024;

// Roughly esrgan-thick x4 in float16: a few KiB of activations per input pixel.
const MemoryCost kCost{64.0 * MiB, 4096.0};

PlanRequest request(int w, int h) {
  PlanRequest r;
  r.width = w;
  r.height = h;
  r.max_batch = 4;
  r.overlap = 16;
  r.min_tile = 32;
  r.io_bytes_per_frame = 153.0 * w * h;  // scale 4: 9 * (1 + 16) per input pixel
  return r;
}

TEST(InferencePlan, BytesGrowWithWindowAndBatch) {
  const PlanRequest r = request(1280, 720);
  EXPECT_EQ(plan_bytes(kCost, r, 0, 1),
            static_cast<std::size_t>(64.0 * MiB + 4096.0 * 1280 * 720 + 153.0 * 1280 * 720));
  EXPECT_LT(plan_bytes(kCost, r, 256, 1), plan_bytes(kCost, r, 512, 1));
  EXPECT_LT(plan_bytes(kCost, r, 256, 1), plan_bytes(kCost, r, 256, 2));
  EXPECT_EQ(plan_bytes(kCost, r, 4096, 1), plan_bytes(kCost, r, 0, 1));  // a tile larger than the frame
}

TEST(InferencePlan, CallerBuffersCountOncePlusPerFrameOfTheBatch) {
  PlanRequest r = request(1280, 720);
  const std::size_t without = plan_bytes(kCost, r, 0, 3);
  r.io_fixed_bytes = 100.0 * MiB;
  EXPECT_EQ(plan_bytes(kCost, r, 0, 3), without + 100 * MiB);
  EXPECT_EQ(plan_bytes(kCost, r, 256, 1) + 100 * MiB, [&] {
    PlanRequest twice = r;
    twice.io_fixed_bytes = 200.0 * MiB;
    return plan_bytes(kCost, twice, 256, 1);
  }());
  // One more frame in the batch adds its network pixels and the caller's per-frame buffers.
  EXPECT_EQ(plan_bytes(kCost, r, 0, 2) - plan_bytes(kCost, r, 0, 1),
            static_cast<std::size_t>(4096.0 * 1280 * 720 + 153.0 * 1280 * 720));
  // A budget that held the full batch without the fixed buffers holds a smaller one with them.
  PlanRequest bare = request(1280, 720);
  const auto plan = fit_plan(kCost, r, plan_bytes(kCost, bare, 0, 4));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->tile, 0);
  EXPECT_EQ(plan->batch, 3);
  EXPECT_LE(plan->bytes, plan_bytes(kCost, bare, 0, 4));
}

TEST(InferencePlan, PlentyOfMemoryGivesWholeFramesAtTheFullBatch) {
  const PlanRequest r = request(1280, 720);
  const auto plan = fit_plan(kCost, r, 64 * 1024 * MiB);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->tile, 0);
  EXPECT_EQ(plan->batch, 4);
  EXPECT_EQ(plan->bytes, preferred_plan(kCost, r).bytes);
}

TEST(InferencePlan, LessMemoryLowersTheBatchThenTiles) {
  const PlanRequest r = request(1280, 720);
  const std::size_t two_frames = plan_bytes(kCost, r, 0, 2);
  auto plan = fit_plan(kCost, r, two_frames);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->tile, 0);
  EXPECT_EQ(plan->batch, 2);

  plan = fit_plan(kCost, r, plan_bytes(kCost, r, 0, 1) - 1);  // not even one whole frame
  ASSERT_TRUE(plan);
  EXPECT_GT(plan->tile, 0);
  EXPECT_LE(plan->bytes, plan_bytes(kCost, r, 0, 1) - 1);
  // The largest tile that fits: the next larger candidate would not have.
  EXPECT_EQ(plan->tile, 1024);

  EXPECT_FALSE(fit_plan(kCost, r, smallest_plan(kCost, r).bytes - 1));
  plan = fit_plan(kCost, r, smallest_plan(kCost, r).bytes);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->tile, 32);
  EXPECT_EQ(plan->batch, 1);
}

TEST(InferencePlan, EveryBudgetGetsAPlanThatFitsIt) {
  const PlanRequest r = request(1920, 1080);
  for (std::size_t budget = smallest_plan(kCost, r).bytes; budget < preferred_plan(kCost, r).bytes;
       budget = budget * 5 / 4) {
    const auto plan = fit_plan(kCost, r, budget);
    ASSERT_TRUE(plan) << budget;
    EXPECT_LE(plan->bytes, budget);
    EXPECT_EQ(plan->bytes, plan_bytes(kCost, r, plan->tile, plan->batch));
  }
}

TEST(InferencePlan, UserTileAndBatchAreKept) {
  PlanRequest r = request(1280, 720);
  r.user_tile = 200;
  r.user_batch = 3;
  EXPECT_EQ(preferred_plan(kCost, r).tile, 200);
  EXPECT_EQ(smallest_plan(kCost, r).bytes, preferred_plan(kCost, r).bytes);
  const auto plan = fit_plan(kCost, r, preferred_plan(kCost, r).bytes);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->tile, 200);
  EXPECT_EQ(plan->batch, 3);
  EXPECT_FALSE(fit_plan(kCost, r, preferred_plan(kCost, r).bytes - 1));
}

}  // namespace
}  // namespace upscaled::model
