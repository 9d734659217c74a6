// CudnnGraph::prime (model/cudnn/cudnn_graph.h): priming a size changes nothing that run()
// computes there and leaves the stream idle with no error; run() after it still works at
// other sizes. The warm-up's dense block in miniature with random weights, split plan.
// Needs a GPU; skipped without one.
#include "kernels/backend.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "model/cudnn/cudnn_graph.h"
#include "model/cudnn/cudnn_warm_up.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <vector>

namespace upscaled::test {
namespace {

using kernels::Half;
using model::cudnn::Allocator;
using model::cudnn::CudnnGraph;
using model::cudnn::GraphOp;

// Owns everything it hands out until destroyed (after the stream is idle).
class Buffers final : public Allocator {
 public:
  void* allocate(std::size_t bytes) override {
    held_.emplace_back(bytes);
    return held_.back().get();
  }
  void release(void*) override {}

 private:
  std::vector<kernels::DeviceBuffer> held_;
};

kernels::DeviceBuffer random_halves(std::size_t count, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<Half> host(count);
  for (Half& h : host) h = kernels::float_to_half(u(rng));
  kernels::DeviceBuffer d(count * 2);
  kernels::cuda_check(cudaMemcpy(d.get(), host.data(), count * 2, cudaMemcpyHostToDevice), "up");
  // A pageable copy may return before its DMA lands; the graph runs on a non-blocking stream.
  kernels::cuda_check(cudaDeviceSynchronize(), "sync after upload");
  return d;
}

// The warm-up's dense block in miniature (model/cudnn/cudnn_warm_up.h), random weights.
struct Block {
  static constexpr int kFeatures = model::cudnn::kMiniFeatures, kGrowth = model::cudnn::kMiniGrowth;
  kernels::DeviceBuffer grow_w, fuse_w, grow_b, fuse_b;
  explicit Block(std::mt19937& rng)
      : grow_w(random_halves(std::size_t{kGrowth} * 9 * kFeatures, rng, 0.05f)),
        fuse_w(random_halves(std::size_t{kFeatures} * 9 * (kFeatures + kGrowth), rng, 0.05f)),
        grow_b(random_halves(kGrowth, rng, 0.1f)),
        fuse_b(random_halves(kFeatures, rng, 0.1f)) {}
  std::vector<GraphOp> ops() const {
    return model::cudnn::mini_dense_block(grow_w.get(), grow_b.get(), fuse_w.get(), fuse_b.get());
  }
};

std::vector<Half> run_block(CudnnGraph& graph, const void* x, int n, int h, int w, cudaStream_t stream) {
  Buffers buffers;
  const std::vector<void*> out = graph.run(x, n, h, w, stream, buffers);
  kernels::cuda_check(cudaStreamSynchronize(stream), "sync");
  std::vector<Half> host(static_cast<std::size_t>(n) * h * w * Block::kFeatures);
  kernels::cuda_check(cudaMemcpy(host.data(), out.back(), host.size() * 2, cudaMemcpyDeviceToHost), "down");
  return host;
}

TEST(CudnnPrime, LeavesRunResultsUnchanged) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  std::mt19937 rng(7);
  const Block block(rng);
  const int n = 2, h = 23, w = 37;
  const kernels::DeviceBuffer x = random_halves(std::size_t{n} * h * w * Block::kFeatures, rng, 1.0f);
  kernels::CudaStream stream;

  CudnnGraph plain(block.ops(), true);
  const std::vector<Half> want = run_block(plain, x.get(), n, h, w, stream.get());

  CudnnGraph primed(block.ops(), true);
  {
    Buffers scratch;
    primed.prime(n, h, w, stream.get(), scratch);
    kernels::cuda_check(cudaStreamSynchronize(stream.get()), "sync after priming");
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<Half> got = run_block(primed, x.get(), n, h, w, stream.get());
  ASSERT_EQ(got.size(), want.size());
  int differ = 0;
  for (std::size_t i = 0; i < got.size(); ++i) differ += got[i].bits != want[i].bits;
  EXPECT_EQ(differ, 0) << "of " << got.size() << " values";
  // Another size after priming: still runs (its own first call).
  EXPECT_EQ(run_block(primed, x.get(), 1, h, w, stream.get()).size(), std::size_t{h} * w * Block::kFeatures);
}

}  // namespace
}  // namespace upscaled::test
