// Private to model/torch: runs the leading part of a compiled TF.js graph with cuDNN's fused
// convolution calls (model/cudnn/cudnn_graph.h) and the rest in eager libtorch.
//
// Contract: make_fused_runner() is called after TfjsGraph::to(cuda, float16, channels_last);
// it returns null when this build has no cuDNN executor (UPSCALED_CUDNN_GRAPH), when the
// environment says UPSCALED_NETWORK_EXECUTOR=eager, or when no leading op is supported.
// It enqueues the executor's own copy of some weights on the current CUDA stream; the caller
// synchronises that stream before other streams run the network.
// run() takes an N x C x H x W float16 CUDA tensor and returns what TfjsGraph::run() would
// (to float16 rounding); it enqueues on the current CUDA stream of the input's device and
// allocates through libtorch's caching allocator. Not thread-safe (like TfjsGraph::run).
#pragma once

#include "model/torch/tfjs_graph.h"

#include <functional>
#include <memory>
#include <string>

namespace upscaled::model::torchnet {

class FusedRunner {
 public:
  virtual ~FusedRunner() = default;
  virtual torch::Tensor run(const TfjsGraph& graph, const torch::Tensor& x) = 0;
  // Pays run()'s first-call costs for an n x 3 x h x w input ahead of it (cudnn_graph.h,
  // CudnnGraph::prime), on the current CUDA stream of `options`' device; asynchronous.
  // `after_step`: as CudnnGraph::prime's.
  virtual void prime(int64_t n, int64_t h, int64_t w, const torch::TensorOptions& options,
                     const std::function<void(const char* step)>& after_step) = 0;
  // e.g. "cuDNN fused executor: 470 of 477 ops, 160 fused into convolutions"
  virtual std::string describe() const = 0;
};

std::unique_ptr<FusedRunner> make_fused_runner(const TfjsGraph& graph);

}  // namespace upscaled::model::torchnet
