#include "pipeline/gpu_frame_memory.h"

#include <algorithm>

namespace upscaled::pipeline {

std::size_t rgb_half_bytes(int width, int height) {
  constexpr std::size_t kHalf = 2;
  return std::size_t{3} * static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * kHalf;
}

model::IoDeviceBytes gpu_frame_device_bytes(const FramePlan& plan, const GpuFrameBuffers& b) {
  model::IoDeviceBytes io;
  const auto pool = static_cast<std::size_t>(std::max(1, b.pool));
  io.per_frame =
      b.in_picture + b.out_picture + b.thumb +
      pool * (rgb_half_bytes(plan.net_width, plan.net_height) + rgb_half_bytes(plan.model_width, plan.model_height));
  io.fixed = b.pre_resize + b.post_resize;
  if (plan.post_resize()) io.fixed += rgb_half_bytes(plan.canvas_width, plan.canvas_height);
  return io;
}

}  // namespace upscaled::pipeline
