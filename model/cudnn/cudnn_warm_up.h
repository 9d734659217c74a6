// The cuDNN executor's one-off process set-up, paid ahead of a network's first run.
//
// Why: the first convolution query of a process makes cuDNN load its engine libraries and
// heuristics (0.09 s of the thick x4 job's first run on the H200, cuDNN 9.19), and CUDA loads
// each kernel's module at its first launch. Run on a thread of its own while the model file
// is read (model/model_loader.h, DeviceWarmUp), that time overlaps the read instead of
// following it.
//
// Contract: synchronous (returns when the work it enqueued on `stream` is done); uses the
// calling thread's current device; owns and frees every buffer it makes; throws
// upscaled::Error(ErrorCode::device) with cuDNN's text (from CudnnGraph::run()) or
// kernels::CudaError with CUDA's (its own allocations and copies).
#pragma once

#include "model/cudnn/cudnn_graph.h"

#include <cuda_runtime_api.h>

#include <vector>

namespace upscaled::model::cudnn {

// The warm-up's network, a dense block in miniature: input (kMiniFeatures channels) -> 3x3
// ReLU convolution to kMiniGrowth -> concatenation -> 3x3 convolution back to kMiniFeatures ->
// 0.2 x + input -> ReLU. Weights (OHWI float16) and biases are the caller's device buffers.
constexpr int kMiniFeatures = 64, kMiniGrowth = 32;
std::vector<GraphOp> mini_dense_block(const void* grow_weight, const void* grow_bias, const void* fuse_weight,
                                      const void* fuse_bias);

// Runs a small dense block (a ReLU convolution, a concatenation, a fusion convolution and a
// scaled residual add, split like the product's plans) at 1x16x16 with zero weights.
void warm_up(cudaStream_t stream);

}  // namespace upscaled::model::cudnn
