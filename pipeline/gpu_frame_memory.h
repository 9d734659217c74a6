// Device memory of the staged GPU frame path (gpu_frame_upscaler_cuda.cpp), told to the model
// before it reserves its own (Upscaler::prepare), so that one reservation covers the whole job.
//
// Why here and not in the model: the model saw only its own input size and counted the
// pipeline's pictures at that size, while the decoded pictures are the source's size (larger
// when the frame is shrunk before the network), the encoder's are the output's, and the
// pre-resize's float32 RGB intermediate (12 bytes per source pixel) and the post-resize canvas
// were not counted at all.
//
// Contract: pure arithmetic, no CUDA; the GPU frame path sizes its buffers with the same
// functions (rgb_half_bytes) and fills GpuFrameBuffers from its own layouts and plans.
#pragma once

#include "core/inference_plan.h"
#include "pipeline/frame_geometry.h"

#include <cstddef>

namespace upscaled::pipeline {

// Planar float16 RGB of w x h: a network input or output picture, or the canvas.
std::size_t rgb_half_bytes(int width, int height);

// What the GPU frame path holds besides the frame plan's sizes.
struct GpuFrameBuffers {
  std::size_t in_picture = 0;   // one packed decoded picture (PackedLayout::bytes), per batch frame
  std::size_t out_picture = 0;  // one packed encoder picture, per batch frame
  std::size_t thumb = 0;        // one --skip-duplicates thumbnail (float), per batch frame; 0 when off
  int pool = 1;                 // GpuBatch pool: float16 RGB in and out per frame of each
  std::size_t pre_resize = 0;   // the pre-resize plan's intermediate (ResizeCuda::intermediate_bytes)
  std::size_t post_resize = 0;  // the post-resize plan's
};

// Per frame of a batch: the packed pictures and thumbnail once, the network's float16 RGB
// input and output once per pooled batch. Once: the canvas (when the picture is resampled or
// padded) and the resize plans' intermediates.
model::IoDeviceBytes gpu_frame_device_bytes(const FramePlan& plan, const GpuFrameBuffers& buffers);

}  // namespace upscaled::pipeline
