// The libtorch side of the cuDNN executor: translates the compiled graph into cudnn::GraphOps
// (weights stay in the graph's tensors: a channels_last OIHW float16 weight is KRSC in
// memory), lends libtorch's caching allocator to it, and hands its results to the eager tail.
#include "model/torch/tfjs_cudnn.h"

#include "core/error.h"
#include "core/log.h"

#ifdef UPSCALED_CUDNN_GRAPH
#include "model/cudnn/cudnn_graph.h"
#include "model/cudnn/shuffle_conv.h"

#include <c10/cuda/CUDAStream.h>
#endif

#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace upscaled::model::torchnet {

#ifdef UPSCALED_CUDNN_GRAPH
namespace {

using Kind = GraphNode::Kind;
using Op = cudnn::GraphOp;

// Each allocation is a byte tensor from the caching allocator, on the current stream.
class TorchAllocator final : public cudnn::Allocator {
 public:
  explicit TorchAllocator(const torch::TensorOptions& like) : options_(like.dtype(torch::kByte)) {}
  void* allocate(std::size_t bytes) override {
    torch::Tensor t = torch::empty({static_cast<int64_t>(bytes)}, options_);
    void* p = t.data_ptr();
    live_.emplace(p, std::move(t));
    return p;
  }
  void release(void* p) override { live_.erase(p); }
  // Moves the owner of p out (null tensor when p is not, or no longer, held here).
  torch::Tensor take(void* p) {
    auto it = live_.find(p);
    if (it == live_.end()) return {};
    torch::Tensor t = std::move(it->second);
    live_.erase(it);
    return t;
  }

 private:
  torch::TensorOptions options_;
  std::unordered_map<void*, torch::Tensor> live_;
};

// prime()'s scratch: stream-ordered allocations on the priming stream, given back to the
// driver at that stream's synchronisation (the default pool keeps nothing), so that none of it
// stays cached in libtorch's allocator for a stream no batch runs on.
class StreamScratch final : public cudnn::Allocator {
 public:
  explicit StreamScratch(cudaStream_t stream) : stream_(stream) {}
  void* allocate(std::size_t bytes) override {
    void* p = nullptr;
    const cudaError_t e = cudaMallocAsync(&p, bytes, stream_);
    if (e != cudaSuccess)
      throw Error(ErrorCode::device, std::string("CUDA cudaMallocAsync (priming scratch): ") + cudaGetErrorString(e));
    return p;
  }
  void release(void* p) override { cudaFreeAsync(p, stream_); }

 private:
  cudaStream_t stream_;
};

Op to_op(const GraphNode& n, std::vector<torch::Tensor>& keep) {
  Op op;
  op.inputs = n.inputs;
  op.channels = n.channels;
  switch (n.kind) {
    case Kind::input:
      op.kind = Op::Kind::input;
      break;
    case Kind::conv: {
      const bool square = n.weight.size(2) == n.weight.size(3);
      const bool symmetric = n.pad[0] == n.pad[1] && n.pad[1] == n.pad[2] && n.pad[2] == n.pad[3];
      const bool activation = n.activation == "linear" || n.activation == "relu";
      if (!square || !symmetric || !activation || n.spatial != 1) break;
      torch::Tensor w = n.weight.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor b = n.bias.defined() ? n.bias.contiguous() : torch::zeros({n.weight.size(0)}, n.weight.options());
      op.kind = Op::Kind::conv;
      op.kernel = static_cast<int>(n.weight.size(2));
      op.pad = static_cast<int>(n.pad[0]);
      op.relu = n.activation == "relu";
      op.weight = w.data_ptr();
      op.bias = b.data_ptr();
      keep.push_back(std::move(w));
      keep.push_back(std::move(b));
      break;
    }
    case Kind::activation:
      if (n.activation == "relu") {
        op.kind = Op::Kind::relu;
      } else if (n.activation == "linear") {
        op.kind = Op::Kind::scale;
        op.factor = 1.0f;
      }
      break;
    case Kind::concat:
      op.kind = Op::Kind::concat;
      break;
    case Kind::add:
      op.kind = Op::Kind::add;
      op.alphas.assign(n.alphas.begin(), n.alphas.end());
      break;
    case Kind::scale:
      op.kind = Op::Kind::scale;
      op.factor = static_cast<float>(n.factor);
      break;
    case Kind::depth_to_space:
    case Kind::upsample:
      break;  // the eager tail does these
  }
  return op;
}

std::vector<Op> to_ops(const TfjsGraph& graph, std::vector<torch::Tensor>& keep) {
  std::vector<Op> ops;
  ops.reserve(graph.nodes.size());
  for (const GraphNode& n : graph.nodes) ops.push_back(to_op(n, keep));
  return ops;
}

// The graph's last two nodes as one pass of the executor's own kernel (model/cudnn/shuffle_conv.h)
// when they rearrange the executor's last value to block times the size and convolve it 3x3
// with "same" padding and a linear or ReLU activation into 3 channels: a depth_to_space into
// 3 channels (every esrgan-thick scale) or a nearest up-sampling of 3·block² channels
// (esrgan-slim and -medium x2-x4). UPSCALED_FUSED_TAIL=0 keeps them in eager libtorch (for
// comparisons).
struct OnePassTail {
  std::variant<std::monostate, cudnn::ShuffleConv, cudnn::UpsampleConv> op;
  torch::Tensor weights;  // UpsampleConv's, float32 [out][ky][kx][in] on the graph's device
};

// Whether environment variable `name` is set to `value` (the executor's A/B settings).
bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v && std::string(v) == value;
}

OnePassTail one_pass_tail(const TfjsGraph& graph, int stop) {
  if (env_is("UPSCALED_FUSED_TAIL", "0") || stop < 1 || static_cast<std::size_t>(stop) + 2 != graph.nodes.size())
    return {};
  const GraphNode& r = graph.nodes[static_cast<std::size_t>(stop)];
  const GraphNode& conv = graph.nodes.back();
  constexpr int K = 3;
  const bool shuffle = r.kind == Kind::depth_to_space && cudnn::shuffle_conv_supports(r.block) && r.channels == 3;
  const bool upsample = r.kind == Kind::upsample && !r.bilinear && cudnn::upsample_conv_supports(r.block) &&
                        r.channels == 3 * r.block * r.block;
  if ((!shuffle && !upsample) || r.inputs.size() != 1 || conv.kind != Kind::conv ||
      conv.inputs != std::vector<int>{stop} || (conv.activation != "linear" && conv.activation != "relu") ||
      conv.channels != 3 || conv.weight.sizes() != torch::IntArrayRef{3, r.channels, K, K})
    return {};
  for (int64_t p : conv.pad)
    if (p != K / 2) return {};
  // OIHW -> [out][ky][kx][in], float32 on the host.
  const torch::Tensor w = conv.weight.to(torch::kCPU, torch::kFloat).permute({0, 2, 3, 1}).contiguous();
  const torch::Tensor b =
      conv.bias.defined() ? conv.bias.to(torch::kCPU, torch::kFloat).contiguous() : torch::zeros({3});
  auto common = [&](auto& s) {
    s.block = r.block;
    s.relu = conv.activation == "relu";
    for (int o = 0; o < 3; ++o) s.bias[o] = b[o].item<float>();
  };
  OnePassTail tail;
  if (shuffle) {
    cudnn::ShuffleConv s;
    common(s);
    static_assert(sizeof(s.weight) == 3 * K * K * 3 * sizeof(float));
    std::memcpy(s.weight, w.data_ptr<float>(), sizeof(s.weight));
    tail.op = s;
  } else {
    cudnn::UpsampleConv s;
    common(s);
    tail.weights = w.to(conv.weight.device());
    s.weight = tail.weights.data_ptr<float>();
    tail.op = s;
  }
  return tail;
}

bool split_wanted() {
  return !env_is("UPSCALED_CUDNN_SPLIT", "0");
}

// The own convolution kernel for the dense blocks' growth convolutions unless
// UPSCALED_CUDNN_OWN_CONV=0 (docs/network-speed.md).
bool own_convs_wanted() {
  return !env_is("UPSCALED_CUDNN_OWN_CONV", "0");
}

// The dense blocks' fusion convolutions on the own kernel too unless UPSCALED_CUDNN_OWN_FUSION=0
// (docs/network-speed.md: faster since their outputs are read in their slots).
bool own_fusion_wanted() {
  return !env_is("UPSCALED_CUDNN_OWN_FUSION", "0");
}

// Values read in their concatenation slots and an RRDB's add folded into its last fusion
// convolution unless UPSCALED_CUDNN_SLOTS=0 / UPSCALED_CUDNN_SECOND_RESIDUAL=0 (comparisons for
// docs/network-speed.md).
bool slots_wanted() {
  return !env_is("UPSCALED_CUDNN_SLOTS", "0");
}
bool second_residual_wanted() {
  return !env_is("UPSCALED_CUDNN_SECOND_RESIDUAL", "0");
}

class CudnnFusedRunner final : public FusedRunner {
 public:
  // Split convolutions (cudnn_graph.h) unless UPSCALED_CUDNN_SPLIT=0 asks for concatenations
  // filled by placement: split was faster at every size measured (docs/network-speed.md).
  // The part weights are assembled here, on the stream that converted the weights (the
  // caller's current one), which TorchUpscaler synchronises before the stages' streams run.
  explicit CudnnFusedRunner(const TfjsGraph& graph, c10::DeviceIndex device)
      : exec_(to_ops(graph, keep_), split_wanted(), own_convs_wanted(), own_fusion_wanted(), slots_wanted(),
              second_residual_wanted()),
        tail_(one_pass_tail(graph, exec_.stop())) {
    if (exec_.stop() > 1) exec_.assemble_weights(c10::cuda::getCurrentCUDAStream(device).stream());
    std::visit(
        [](const auto& tail) {
          if constexpr (std::is_same_v<std::decay_t<decltype(tail)>, cudnn::ShuffleConv>)
            cudnn::load_shuffle_conv(tail);
          else if constexpr (std::is_same_v<std::decay_t<decltype(tail)>, cudnn::UpsampleConv>)
            cudnn::load_upsample_conv(tail);
        },
        tail_.op);
  }
  int stop() const { return exec_.stop(); }

  torch::Tensor run(const TfjsGraph& graph, const torch::Tensor& input) override {
    const int64_t n = input.size(0), h = input.size(2), w = input.size(3);
    // cuDNN indexes its tensors with 32 bits; eager libtorch splits such batches itself.
    if (n * h * w * exec_.max_channels() >= (int64_t{1} << 31)) return graph.run(input);
    const torch::Tensor x = input.contiguous(torch::MemoryFormat::ChannelsLast);
    TorchAllocator alloc(x.options());
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(x.device().index()).stream();
    const std::vector<void*> out =
        exec_.run(x.data_ptr(), static_cast<int>(n), static_cast<int>(h), static_cast<int>(w), stream, alloc);
    // The executor's surviving buffers become NCHW-shaped channels_last views that own them.
    std::vector<torch::Tensor> values(graph.nodes.size());
    values[0] = x;
    std::unordered_map<void*, torch::Tensor> owners;
    for (int i = 1; i < exec_.stop(); ++i) {
      if (exec_.alias_of(i) == 0) {
        values[static_cast<size_t>(i)] = x;
        continue;
      }
      void* p = out[static_cast<size_t>(i)];
      if (!p) continue;
      torch::Tensor& owner = owners[p];
      if (!owner.defined()) owner = alloc.take(p);
      const int64_t c = graph.nodes[static_cast<size_t>(i)].channels;
      values[static_cast<size_t>(i)] = owner.view(torch::kHalf).as_strided({n, c, h, w}, {h * w * c, 1, w * c, c});
    }
    owners.clear();  // the views are the owners now: the tail may reuse sole-owned buffers
    const torch::Tensor& last =
        values[static_cast<std::size_t>(graph.nodes[static_cast<std::size_t>(exec_.stop())].inputs[0])];
    if (tail_.op.index() != 0 && last.defined() && last.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
      // Its input is the executor's last value, packed NHWC; the output comes out planar.
      return std::visit(
          [&](auto tail) {
            if constexpr (std::is_same_v<decltype(tail), std::monostate>) {
              return torch::Tensor();
            } else {
              const int64_t b = tail.block;
              torch::Tensor y = torch::empty({n, 3, h * b, w * b}, x.options());
              tail.in = last.data_ptr();
              tail.out = y.data_ptr();
              tail.n = static_cast<int>(n);
              tail.h = static_cast<int>(h);
              tail.w = static_cast<int>(w);
              if constexpr (std::is_same_v<decltype(tail), cudnn::ShuffleConv>)
                cudnn::run_shuffle_conv(tail, stream);
              else
                cudnn::run_upsample_conv(tail, stream);
              return y;
            }
          },
          tail_.op);
    }
    return graph.run_from(std::move(values), static_cast<std::size_t>(exec_.stop()));
  }

  void prime(int64_t n, int64_t h, int64_t w, const torch::TensorOptions& options,
             const std::function<void(const char* step)>& after_step) override {
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(options.device().index()).stream();
    StreamScratch scratch(stream);
    exec_.prime(static_cast<int>(n), static_cast<int>(h), static_cast<int>(w), stream, scratch, after_step);
  }

  std::string describe() const override {
    int split = 0;
    for (int i = 1; i < exec_.stop(); ++i) split += exec_.part_slices(i).empty() ? 0 : 1;
    return log::cat("cuDNN fused executor: ", exec_.ops_run(), " of ", exec_.op_count() - 1, " ops, ", exec_.fused(),
                    " fused into convolutions, ", split, " convolutions split into ", exec_.part_count(),
                    " part convolutions, ", exec_.placed(), " concatenations filled in place, ",
                    exec_.values_in_slots(), " values read in their slots, ", exec_.own_kernel_convs(),
                    " convolutions on the own kernel, ", exec_.input_kernel_convs(), " on the input kernel",
                    tail_.op.index() == 1   ? ", depth_to_space and the last convolution in one pass"
                    : tail_.op.index() == 2 ? ", up-sampling and the last convolution in one pass"
                                            : "");
  }

 private:
  std::vector<torch::Tensor> keep_;  // contiguous weight/bias copies the ops point into
  cudnn::CudnnGraph exec_;
  OnePassTail tail_;  // the last two nodes, when they fit
};

}  // namespace

std::unique_ptr<FusedRunner> make_fused_runner(const TfjsGraph& graph) {
  if (env_is("UPSCALED_NETWORK_EXECUTOR", "eager")) return nullptr;
  c10::DeviceIndex device = 0;
  for (const GraphNode& n : graph.nodes) {
    if (!n.weight.defined()) continue;
    if (!n.weight.is_cuda() || n.weight.scalar_type() != torch::kHalf) return nullptr;
    device = n.weight.device().index();
  }
  auto runner = std::make_unique<CudnnFusedRunner>(graph, device);
  if (runner->stop() <= 1) return nullptr;
  return runner;
}

#else

std::unique_ptr<FusedRunner> make_fused_runner(const TfjsGraph&) {
  return nullptr;
}

#endif

}  // namespace upscaled::model::torchnet
