// CudnnGraph: planning (which ops run here, which fold into a convolution's epilogue, when
// each buffer dies) in the constructor; per-size descriptors on first use; run() enqueues.
#include "model/cudnn/cudnn_graph.h"

#include "core/error.h"
#include "kernels/cuda_raii.h"

#include <cudnn.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

namespace upscaled::model::cudnn {
namespace {

using Kind = GraphOp::Kind;

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw Error(ErrorCode::device, std::string("cuDNN ") + what + ": " + cudnnGetErrorString(s));
}
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(ErrorCode::device, std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

// One owner per cuDNN descriptor type, written once.
template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Desc {
 public:
  Desc() { check(Create(&d_), "creating a descriptor"); }
  ~Desc() { Destroy(d_); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  T get() const { return d_; }

 private:
  T d_{};
};
using TensorDesc = Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDesc = Desc<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvDesc =
    Desc<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using ActDesc = Desc<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;
using OpDesc = Desc<cudnnOpTensorDescriptor_t, cudnnCreateOpTensorDescriptor, cudnnDestroyOpTensorDescriptor>;

// Implicit-GEMM with precomputed indices is the one algorithm cuDNN's fused call accepts with
// an identity activation, and the fastest one cudnnFind picked for every packed float16 NHWC
// shape of these networks on an H200 (bench/cudnn_dense_bench.cpp).
constexpr cudnnConvolutionFwdAlgo_t kAlgo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;

}  // namespace

struct CudnnGraph::Handles {
  cudnnHandle_t handle{};
  ActDesc relu, identity;
  OpDesc add;
  std::map<int, kernels::DeviceBuffer> scaled_bias;  // residual conv op -> alpha * bias
  bool biases_scaled = false;
  Handles() {
    check(cudnnCreate(&handle), "creating a handle");
    check(cudnnSetActivationDescriptor(relu.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0), "relu");
    check(cudnnSetActivationDescriptor(identity.get(), CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0.0),
          "identity");
    check(cudnnSetOpTensorDescriptor(add.get(), CUDNN_OP_TENSOR_ADD, CUDNN_DATA_FLOAT, CUDNN_NOT_PROPAGATE_NAN), "add");
  }
  ~Handles() { cudnnDestroy(handle); }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

// Descriptors for one input size: tensors by (channels, pixel stride), per-conv filters and
// convolution descriptors, and the workspace the convolutions need.
struct CudnnGraph::Plan {
  int n, h, w;
  std::map<std::pair<int, int>, std::unique_ptr<TensorDesc>> tensors;
  std::map<int, std::unique_ptr<TensorDesc>> biases;
  std::map<int, std::unique_ptr<FilterDesc>> filters;  // by op
  std::map<int, std::unique_ptr<ConvDesc>> convs;      // by op
  std::size_t workspace = 0;

  Plan(int n_, int h_, int w_) : n(n_), h(h_), w(w_) {}
  cudnnTensorDescriptor_t tensor(int channels, int stride = 0) {
    if (stride == 0) stride = channels;
    auto& d = tensors[{channels, stride}];
    if (!d) {
      d = std::make_unique<TensorDesc>();
      check(cudnnSetTensor4dDescriptorEx(d->get(), CUDNN_DATA_HALF, n, channels, h, w, h * w * stride, 1, w * stride,
                                         stride),
            "tensor descriptor");
    }
    return d->get();
  }
  cudnnTensorDescriptor_t bias(int channels) {
    auto& d = biases[channels];
    if (!d) {
      d = std::make_unique<TensorDesc>();
      check(cudnnSetTensor4dDescriptor(d->get(), CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, 1, channels, 1, 1),
            "bias descriptor");
    }
    return d->get();
  }
  std::size_t bytes(int channels) const { return std::size_t(n) * h * w * channels * 2; }
};

CudnnGraph::CudnnGraph(std::vector<GraphOp> ops) : ops_(std::move(ops)) {
  const int count = static_cast<int>(ops_.size());
  stop_ = count;
  for (int i = 1; i < count; ++i) {
    const GraphOp& op = ops_[i];
    bool ok = op.kind != Kind::unsupported && op.kind != Kind::input;
    if (op.kind == Kind::conv)
      ok = ok && op.kernel % 2 == 1 && op.pad == op.kernel / 2 && op.weight && op.bias && !op.inputs.empty();
    if (op.kind == Kind::add) ok = ok && op.alphas.size() == op.inputs.size() && !op.inputs.empty();
    if (!ok) {
      stop_ = i;
      break;
    }
  }
  for (int i = 0; i < stop_; ++i) max_channels_ = std::max(max_channels_, ops_[i].channels);
  std::vector<int> readers(ops_.size(), 0), last_read(ops_.size(), -1);
  for (int i = 1; i < count; ++i)
    for (int in : ops_[i].inputs) {
      ++readers[in];
      last_read[in] = std::max(last_read[in], i);
    }
  alias_.resize(ops_.size());
  residual_.assign(ops_.size(), -1);
  for (int i = 0; i < count; ++i) alias_[i] = i;
  auto fusable_conv = [&](int c) {
    return c > 0 && c < stop_ && ops_[c].kind == Kind::conv && !ops_[c].relu && residual_[c] < 0 && readers[c] == 1;
  };
  for (int i = 1; i < stop_; ++i) {
    GraphOp& op = ops_[i];
    if (op.kind == Kind::relu && fusable_conv(op.inputs[0])) {
      ops_[op.inputs[0]].relu = true;
      alias_[i] = op.inputs[0];
      ++fused_;
    } else if (op.kind == Kind::add && op.inputs.size() == 2) {
      // The later input may be a convolution that computes the whole add: the earlier one
      // is then ready when it runs and becomes its z.
      const int k = op.inputs[0] > op.inputs[1] ? 0 : 1;
      if (op.inputs[0] != op.inputs[1] && fusable_conv(op.inputs[k])) {
        residual_[op.inputs[k]] = i;
        alias_[i] = op.inputs[k];
        ++fused_;
      }
    } else if (op.kind == Kind::scale && op.factor == 1.0f) {
      alias_[i] = op.inputs[0];
    }
  }
  for (int i = 0; i < count; ++i)
    while (alias_[i] != alias_[alias_[i]]) alias_[i] = alias_[alias_[i]];
  // A buffer dies after the last read of any op that lives in it; it survives run() when an
  // op at or past stop() reads it or it holds the graph's output.
  std::vector<int> dies(ops_.size(), -1);
  kept_.assign(ops_.size(), false);
  for (int i = 1; i < stop_; ++i) {
    const int b = alias_[i];
    if (i == count - 1 || last_read[i] >= stop_) kept_[b] = true;
    dies[b] = std::max({dies[b], i, last_read[i]});
  }
  releases_.assign(ops_.size(), {});
  for (int b = 1; b < stop_; ++b)
    if (alias_[b] == b && !kept_[b] && dies[b] >= 0) releases_[dies[b]].push_back(b);
}

CudnnGraph::~CudnnGraph() = default;

CudnnGraph::Plan& CudnnGraph::plan_for(int n, int h, int w) {
  for (auto& p : plans_)
    if (p->n == n && p->h == h && p->w == w) return *p;
  if (plans_.size() >= 8) plans_.erase(plans_.begin());  // tiling uses a handful of sizes
  auto plan = std::make_unique<Plan>(n, h, w);
  for (int i = 1; i < stop_; ++i) {
    const GraphOp& op = ops_[i];
    if (op.kind != Kind::conv || alias_[i] != i) continue;
    const int in_channels = ops_[op.inputs[0]].channels;
    auto filter = std::make_unique<FilterDesc>();
    check(cudnnSetFilter4dDescriptor(filter->get(), CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, op.channels, in_channels,
                                     op.kernel, op.kernel),
          "filter descriptor");
    auto conv = std::make_unique<ConvDesc>();
    check(cudnnSetConvolution2dDescriptor(conv->get(), op.pad, op.pad, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
                                          CUDNN_DATA_FLOAT),
          "convolution descriptor");
    check(cudnnSetConvolutionMathType(conv->get(), CUDNN_TENSOR_OP_MATH), "math type");
    std::size_t ws = 0;
    check(cudnnGetConvolutionForwardWorkspaceSize(handles_->handle, plan->tensor(in_channels), filter->get(),
                                                  conv->get(), plan->tensor(op.channels), kAlgo, &ws),
          "workspace size");
    plan->workspace = std::max(plan->workspace, ws);
    plan->filters[i] = std::move(filter);
    plan->convs[i] = std::move(conv);
  }
  plans_.push_back(std::move(plan));
  return *plans_.back();
}

// Once, on the first run's stream: alpha * bias for the convolutions that compute a scaled
// add (cuDNN adds the bias unscaled).
void CudnnGraph::scale_residual_biases(Plan& plan, cudaStream_t stream) {
  Handles& hd = *handles_;
  for (int c = 1; c < stop_; ++c) {
    const int a = residual_[c];
    if (a < 0) continue;
    const GraphOp& add = ops_[a];
    const float alpha = add.alphas[add.inputs[0] == c ? 0 : 1];
    const std::size_t bytes = std::size_t(ops_[c].channels) * 2;
    kernels::DeviceBuffer buf(bytes);
    check(cudaMemcpyAsync(buf.get(), ops_[c].bias, bytes, cudaMemcpyDeviceToDevice, stream), "copying a bias");
    check(cudnnScaleTensor(hd.handle, plan.bias(ops_[c].channels), buf.get(), &alpha), "scaling a bias");
    hd.scaled_bias.insert_or_assign(c, std::move(buf));
  }
  hd.biases_scaled = true;
}

std::vector<void*> CudnnGraph::run(const void* x, int n, int h, int w, cudaStream_t stream, Allocator& alloc) {
  if (static_cast<long long>(n) * h * w * max_channels_ >= (1LL << 31))
    throw Error(ErrorCode::device, "cuDNN executor: input too large for 32-bit tensor indexing");
  if (!handles_) handles_ = std::make_unique<Handles>();
  Handles& hd = *handles_;
  check(cudnnSetStream(hd.handle, stream), "setting the stream");
  Plan& plan = plan_for(n, h, w);
  const float one = 1.0f, zero = 0.0f;

  if (!hd.biases_scaled) scale_residual_biases(plan, stream);

  void* workspace = plan.workspace ? alloc.allocate(plan.workspace) : nullptr;
  std::vector<void*> value(ops_.size(), nullptr);
  value[0] = const_cast<void*>(x);
  auto out = [&](int i) { return value[i] = alloc.allocate(plan.bytes(ops_[i].channels)); };
  auto desc = [&](int i) { return plan.tensor(ops_[i].channels); };
  for (int i = 1; i < stop_; ++i) {
    const GraphOp& op = ops_[i];
    if (alias_[i] != i) {
      value[i] = value[alias_[i]];
    } else if (op.kind == Kind::conv) {
      const int in = op.inputs[0];
      const int a = residual_[i];
      float alpha1 = 1.0f, alpha2 = 0.0f;
      void* y = out(i);
      const void* z = y;
      const void* bias = op.bias;
      if (a >= 0) {
        const GraphOp& add = ops_[a];
        const int k = add.inputs[0] == i ? 0 : 1;
        alpha1 = add.alphas[k];
        alpha2 = add.alphas[1 - k];
        z = value[add.inputs[1 - k]];
        bias = hd.scaled_bias.at(i).get();
      }
      check(cudnnConvolutionBiasActivationForward(hd.handle, &alpha1, desc(in), value[in], plan.filters.at(i)->get(),
                                                  op.weight, plan.convs.at(i)->get(), kAlgo, workspace, plan.workspace,
                                                  &alpha2, desc(i), z, plan.bias(op.channels), bias,
                                                  op.relu ? hd.relu.get() : hd.identity.get(), desc(i), y),
            "convolution");
    } else if (op.kind == Kind::relu) {
      check(cudnnActivationForward(hd.handle, hd.relu.get(), &one, desc(op.inputs[0]), value[op.inputs[0]], &zero,
                                   desc(i), out(i)),
            "relu");
    } else if (op.kind == Kind::concat) {
      auto* base = static_cast<char*>(out(i));
      int offset = 0;
      for (int in : op.inputs) {
        const int c = ops_[in].channels;
        check(cudnnTransformTensor(hd.handle, &one, desc(in), value[in], &zero, plan.tensor(c, op.channels),
                                   base + std::size_t(offset) * 2),
              "concatenation");
        offset += c;
      }
    } else if (op.kind == Kind::add) {
      void* y = out(i);
      const int a0 = op.inputs[0];
      if (op.inputs.size() == 1) {
        check(cudnnTransformTensor(hd.handle, &op.alphas[0], desc(a0), value[a0], &zero, desc(i), y), "add");
      } else {
        const int a1 = op.inputs[1];
        check(cudnnOpTensor(hd.handle, hd.add.get(), &op.alphas[0], desc(a0), value[a0], &op.alphas[1], desc(a1),
                            value[a1], &zero, desc(i), y),
              "add");
        for (std::size_t k = 2; k < op.inputs.size(); ++k)
          check(cudnnAddTensor(hd.handle, &op.alphas[k], desc(op.inputs[k]), value[op.inputs[k]], &one, desc(i), y),
                "add");
      }
    } else if (op.kind == Kind::scale) {
      check(
          cudnnTransformTensor(hd.handle, &op.factor, desc(op.inputs[0]), value[op.inputs[0]], &zero, desc(i), out(i)),
          "scale");
    }
    for (int b : releases_[i]) alloc.release(value[b]);
  }
  if (workspace) alloc.release(workspace);
  std::vector<void*> kept(static_cast<std::size_t>(stop_), nullptr);
  for (int i = 1; i < stop_; ++i)
    if (alias_[i] != 0 && kept_[alias_[i]]) kept[i] = value[i];
  return kept;
}

}  // namespace upscaled::model::cudnn
