// One batch of the GPU upscale path in flight, and the packed picture layout its host and
// device buffers use (CUDA builds only; includes the CUDA runtime).
//
// Contract: a GpuBatch is a SlotChain slot (slot_chain.h): the GPU frame upscaler makes a
// fixed pool of them when its stages are added (every buffer sized for the job's batch, on
// the model's device; nothing is allocated per frame) and each one is owned by one stage at
// a time: preprocess fills it, infer and postprocess follow, then it returns to the pool.
// Its events order the stages' streams: `preprocessed` is recorded on the preprocess stream
// and waited on by the infer stream, `inferred` is recorded on the infer stream and waited on
// by the postprocess stream (cudaStreamWaitEvent). `infer_started` and `inferred` are timed:
// postprocess reads the network's GPU time between them once `inferred` has completed. The
// per-batch fields are reset by preprocess; the buffers and events live as long as the batch.
#pragma once

#include "io/av_handles.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "kernels/pixel_format.h"
#include "pipeline/duplicate_skipper.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace upscaled::pipeline {

// Planes of picture i of a dense n x 3 x height x width batch, viewed at (x, y) as w x h.
kernels::RgbPlanes<kernels::Half> batch_planes(kernels::Half* base, int i, int width, int height, int x, int y, int w,
                                               int h);

// A picture packed plane after plane, rows tight (pitch = row bytes); `bytes` is rounded up
// so that every picture of a batch stays 256-byte aligned.
struct PackedLayout {
  kernels::PixelLayout layout{};
  int width = 0, height = 0, planes = 0;
  std::size_t offset[3] = {0, 0, 0};
  std::size_t pitch[3] = {0, 0, 0};
  int rows[3] = {0, 0, 0};
  std::size_t bytes = 0;

  PackedLayout() = default;
  PackedLayout(kernels::PixelLayout l, int w, int h);
  kernels::FrameView view(const std::uint8_t* base) const;
  kernels::MutableFrameView view(std::uint8_t* base) const;
  // Copies an AVFrame of this layout into `dst` / a packed picture into a new AVFrame of
  // `format` (host memory, synchronous).
  void pack(const AVFrame* frame, std::uint8_t* dst) const;
  io::FramePtr unpack(const std::uint8_t* src, AVPixelFormat format, std::int64_t pts) const;
};

// Buffer sizes of one batch: what crosses from one stage to the next. Buffers that one stage
// fills and waits for within a batch (packed uploads and downloads, thumbnails) belong to that
// stage, not to each batch (gpu_frame_upscaler_cuda.cpp).
struct GpuBatchShape {
  int capacity = 1;                                 // frames
  std::size_t rgb_in_bytes = 0, rgb_out_bytes = 0;  // one network input / output picture
};

struct GpuBatch {
  explicit GpuBatch(const GpuBatchShape& shape);

  // Per batch, set by preprocess.
  std::vector<io::FramePtr> frames;  // decoded; preprocess releases them (CPU route: infer)
  std::vector<std::int64_t> pts;     // every frame's
  DuplicateSkipper::Selection selection;
  bool cpu = false;  // a frame changed size or format: the CPU route, in infer
  std::vector<io::FramePtr> cpu_outputs;
  std::chrono::steady_clock::time_point infer_begin;  // infer: when its host work began

  // Made once.
  kernels::DeviceBuffer rgb_in, rgb_out;
  kernels::CudaEvent preprocessed, infer_started, inferred;
};

}  // namespace upscaled::pipeline
