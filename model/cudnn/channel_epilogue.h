// The cuDNN executor's own elementwise pass over float16 NHWC tensors: the epilogue of a
// convolution (bias, scaled residual, ReLU) and the plain adds/scales/ReLUs of the graph, each
// writing its result to several channel slices at once. That last part is what removes the
// dense blocks' concatenation copies: a growth convolution's features are written straight
// into every later concatenation that contains them (docs/network-speed.md).
//
//   out_d[p][c] = act( sum_k alpha_k * in_k[p][c] + bias_alpha * bias[c] )   for every d
//
// Contract: asynchronous on `stream` (enqueue only; a launch error throws
// upscaled::Error(ErrorCode::device) with CUDA's text). Pointers are device memory owned by
// the caller and must stay valid until the work is done. Views are NHWC: pixel p, channel c
// at base[p * stride + c]; an output may be one of the inputs (in place: each element is read
// before it is written, by the same thread). Accumulation is float32, rounding to float16 once.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace upscaled::model::cudnn {

struct ChannelView {
  void* base = nullptr;  // float16, already offset to the view's first channel
  int stride = 0;        // elements from one pixel to the next
};

struct ChannelEpilogue {
  static constexpr int kMaxInputs = 8;
  static constexpr int kMaxOutputs = 6;
  ChannelView in[kMaxInputs];
  float alpha[kMaxInputs] = {};
  int inputs = 0;
  const void* bias = nullptr;  // float16 [channels], or null
  float bias_alpha = 1.0f;
  bool relu = false;
  ChannelView out[kMaxOutputs];
  int outputs = 0;
  std::int64_t pixels = 0;  // n * h * w; pixels * max stride must stay below 2^31
  int channels = 0;
};

void run_channel_epilogue(const ChannelEpilogue& e, cudaStream_t stream);

}  // namespace upscaled::model::cudnn
