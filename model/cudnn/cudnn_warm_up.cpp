// warm_up(): a dense block in miniature through CudnnGraph (contract in cudnn_warm_up.h).
#include "model/cudnn/cudnn_warm_up.h"

#include "kernels/cuda_raii.h"
#include "model/cudnn/cudnn_graph.h"

#include <cstddef>
#include <vector>

namespace upscaled::model::cudnn {
namespace {

using kernels::cuda_check;
using kernels::DeviceBuffer;

DeviceBuffer zeroed(std::size_t bytes, cudaStream_t stream) {
  DeviceBuffer buffer(bytes);
  cuda_check(cudaMemsetAsync(buffer.get(), 0, bytes, stream), "cuDNN warm-up: cudaMemsetAsync");
  return buffer;
}

// Owns every buffer the graph asks for until the warm-up ends (values handed back included).
class OwningAllocator final : public Allocator {
 public:
  explicit OwningAllocator(cudaStream_t stream) : stream_(stream) {}
  void* allocate(std::size_t bytes) override {
    buffers_.push_back(zeroed(bytes, stream_));
    return buffers_.back().get();
  }
  void release(void*) override {}  // freed with the allocator, after the stream is idle

 private:
  cudaStream_t stream_;
  std::vector<DeviceBuffer> buffers_;
};

}  // namespace

std::vector<GraphOp> mini_dense_block(const void* grow_weight, const void* grow_bias, const void* fuse_weight,
                                      const void* fuse_bias) {
  std::vector<GraphOp> ops(6);
  ops[0].kind = GraphOp::Kind::input;
  ops[0].channels = kMiniFeatures;
  auto conv = [](GraphOp& op, int input, int channels, const void* weight, const void* bias, bool relu) {
    op.kind = GraphOp::Kind::conv;
    op.inputs = {input};
    op.channels = channels;
    op.kernel = 3;
    op.pad = 1;
    op.relu = relu;
    op.weight = weight;
    op.bias = bias;
  };
  conv(ops[1], 0, kMiniGrowth, grow_weight, grow_bias, true);
  ops[2].kind = GraphOp::Kind::concat;
  ops[2].inputs = {0, 1};
  ops[2].channels = kMiniFeatures + kMiniGrowth;
  conv(ops[3], 2, kMiniFeatures, fuse_weight, fuse_bias, false);
  ops[4].kind = GraphOp::Kind::add;
  ops[4].inputs = {3, 0};
  ops[4].alphas = {0.2f, 1.0f};
  ops[4].channels = kMiniFeatures;
  ops[5].kind = GraphOp::Kind::relu;
  ops[5].inputs = {4};
  ops[5].channels = kMiniFeatures;
  return ops;
}

void warm_up(cudaStream_t stream) {
  constexpr int kSide = 16;
  const DeviceBuffer grow_w = zeroed(std::size_t{kMiniGrowth} * 9 * kMiniFeatures * 2, stream);
  const DeviceBuffer fuse_w = zeroed(std::size_t{kMiniFeatures} * 9 * (kMiniFeatures + kMiniGrowth) * 2, stream);
  const DeviceBuffer bias = zeroed(std::size_t{kMiniFeatures} * 2, stream);
  CudnnGraph graph(mini_dense_block(grow_w.get(), bias.get(), fuse_w.get(), bias.get()), true);
  OwningAllocator alloc(stream);
  const DeviceBuffer x = zeroed(std::size_t{kSide} * kSide * kMiniFeatures * 2, stream);
  graph.run(x.get(), 1, kSide, kSide, stream, alloc);
  cuda_check(cudaStreamSynchronize(stream), "cuDNN warm-up: waiting for its run");
}

}  // namespace upscaled::model::cudnn
