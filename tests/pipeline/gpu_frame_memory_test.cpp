// The GPU frame path's device memory as told to the model's reservation (gpu_frame_memory.h).
#include "pipeline/gpu_frame_memory.h"

#include <gtest/gtest.h>

namespace upscaled::pipeline {
namespace {

TEST(GpuFrameMemory, RgbHalfPicturesAreThreePlanesOfTwoBytes) {
  EXPECT_EQ(rgb_half_bytes(3840, 2160), 3u * 3840 * 2160 * 2);
  EXPECT_EQ(rgb_half_bytes(1, 1), 6u);
}

TEST(GpuFrameMemory, WithoutResamplingOnlyThePicturesAndThePoolCount) {
  const FramePlan p = plan_frames({}, 640, 360, 0, 1, 4, true);  // 2560x1440, nothing resampled
  ASSERT_FALSE(p.pre_resize());
  ASSERT_FALSE(p.post_resize());
  GpuFrameBuffers b;
  b.in_picture = 640 * 360 * 3 / 2;     // yuv420p
  b.out_picture = 2560 * 1440 * 3 / 2;  // yuv420p
  b.pool = 4;
  const model::IoDeviceBytes io = gpu_frame_device_bytes(p, b);
  EXPECT_EQ(io.per_frame, 640u * 360 * 3 / 2 + 2560u * 1440 * 3 / 2 + 4u * (640u * 360 * 6 + 2560u * 1440 * 6));
  EXPECT_EQ(io.fixed, 0u);
  b.thumb = 64 * 36 * 4;
  EXPECT_EQ(gpu_frame_device_bytes(p, b).per_frame, io.per_frame + 64u * 36 * 4);
}

TEST(GpuFrameMemory, PreResizeCountsTheSourcePicturesAndTheIntermediatesOnce) {
  // A 4:3 1440x1080 source padded into 3840x2160 through an x4 model: the network gets
  // 720x540, the decoded pictures stay 1440x1080, the picture is drawn on a 3840x2160 canvas.
  GeometryOptions o;
  o.size = std::make_pair(3840, 2160);
  o.fit = Fit::pad;
  const FramePlan p = plan_frames(o, 1440, 1080, 0, 1, 4, true);
  ASSERT_TRUE(p.pre_resize());
  ASSERT_TRUE(p.post_resize());
  ASSERT_EQ(p.net_width, 720);
  ASSERT_EQ(p.canvas_width, 3840);
  GpuFrameBuffers b;
  b.in_picture = 1440u * 1080 * 3 / 2;
  b.out_picture = 3840u * 2160 * 3 / 2;
  b.pool = 3;
  b.pre_resize = 3u * 6144 * 1080;  // float32 RGB of the source, 512-byte rows
  b.post_resize = 0;                // the tiled kernel: no intermediate
  const model::IoDeviceBytes io = gpu_frame_device_bytes(p, b);
  EXPECT_EQ(io.fixed, 3u * 6144 * 1080 + 3u * 3840 * 2160 * 2);
  EXPECT_EQ(io.per_frame, b.in_picture + b.out_picture + 3u * (rgb_half_bytes(720, 540) + rgb_half_bytes(2880, 2160)));
  b.post_resize = 1000;
  EXPECT_EQ(gpu_frame_device_bytes(p, b).fixed, io.fixed + 1000);
  EXPECT_EQ(gpu_frame_device_bytes(p, b).per_frame, io.per_frame);
}

TEST(GpuFrameMemory, APoolOfNoneCountsAsOne) {
  const FramePlan p = plan_frames({}, 64, 32, 0, 1, 2, true);
  GpuFrameBuffers b;
  b.pool = 0;
  EXPECT_EQ(gpu_frame_device_bytes(p, b).per_frame, rgb_half_bytes(64, 32) + rgb_half_bytes(128, 64));
}

}  // namespace
}  // namespace upscaled::pipeline
