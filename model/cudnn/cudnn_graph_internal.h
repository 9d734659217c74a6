// Internal to the cuDNN executor (cudnn_graph.cpp: set-up, plans and weights; cudnn_graph_run.cpp:
// run()): the descriptor owners, the error checks and the definitions of CudnnGraph's private
// state types. Host code; not for use outside model/cudnn.
#pragma once

#include "model/cudnn/cudnn_graph.h"

#include "kernels/cuda_raii.h"

#include "core/error.h"

#include <cudnn.h>

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::model::cudnn {
namespace graph_detail {

using Kind = GraphOp::Kind;

inline void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw Error(ErrorCode::device, std::string("cuDNN ") + what + ": " + cudnnGetErrorString(s));
}
inline void check(cudaError_t e, const char* what) {
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

// Implicit-GEMM with precomputed indices is the fastest algorithm cudnnFind picked for every
// packed float16 NHWC shape of these networks on an H200 (bench/cudnn_dense_bench.cpp).
constexpr cudnnConvolutionFwdAlgo_t kAlgo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;

// The filter and convolution descriptors of one convolution shape, the same at every input
// size: the graph's many convolutions share a handful of shapes.
struct ConvShape {
  FilterDesc filter;
  ConvDesc conv;
};
using ConvKey = std::array<int, 4>;  // out, in, kernel, pad

}  // namespace graph_detail

struct CudnnGraph::Handles {
  cudnnHandle_t handle{};
  std::map<graph_detail::ConvKey, std::unique_ptr<graph_detail::ConvShape>> shapes;
  Handles() { graph_detail::check(cudnnCreate(&handle), "creating a handle"); }
  ~Handles() { cudnnDestroy(handle); }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
};

// The part convolutions' weights: each reader's slice of its weights along the input
// channels, readers side by side along the outputs (KRSC like the ops' own weights).
struct CudnnGraph::PartWeights {
  std::vector<kernels::DeviceBuffer> buffers;  // by part
};

struct CudnnGraph::OwnWeights {
  std::map<int, kernels::DeviceBuffer> by_op;
  std::map<int, kernels::DeviceBuffer> padded;  // 48-output convolutions' weights as 64 rows
};

// Descriptors for one input size: tensors by (channels, pixel stride), each convolution's
// shape, and the workspace the convolutions need.
struct CudnnGraph::Plan {
  int n, h, w;
  std::map<std::pair<int, int>, std::unique_ptr<graph_detail::TensorDesc>> tensors;
  std::map<int, const graph_detail::ConvShape*> convs;       // by op
  std::map<int, const graph_detail::ConvShape*> part_convs;  // by part convolution
  std::size_t workspace = 0;
  bool ran = false;  // run() at this size once (prime() alone does not count)

  Plan(int n_, int h_, int w_) : n(n_), h(h_), w(w_) {}
  cudnnTensorDescriptor_t tensor(int channels, int stride = 0) {
    if (stride == 0) stride = channels;
    auto& d = tensors[{channels, stride}];
    if (!d) {
      d = std::make_unique<graph_detail::TensorDesc>();
      graph_detail::check(cudnnSetTensor4dDescriptorEx(d->get(), CUDNN_DATA_HALF, n, channels, h, w, h * w * stride, 1,
                                                       w * stride, stride),
                          "tensor descriptor");
    }
    return d->get();
  }
  std::size_t bytes(int channels) const { return std::size_t(n) * h * w * channels * 2; }
};

}  // namespace upscaled::model::cudnn
