// A network's first convolution on the executor's own kernel: 3x3, zero padding 1, from an
// image's few channels (1 to 4) to 32 or 64 feature channels, float16 NHWC, with bias and ReLU,
// written to one or two outputs (a value's own buffer and a concatenation slot, or two slots):
//
//   y[n][Y][X][o] = act(bias[o] + sum over ky, kx, i of w[o][ky][kx][i] * x[n][Y+ky-1][X+kx-1][i])
//
// with x zero outside the image, act linear or ReLU.
//
// Why: cuDNN's float16 NHWC kernels for 3 input channels took 0.43 ms for esrgan-thick's head
// convolution at 1280x720 on an H200, plus 0.09 ms for the epilogue pass that added the bias and
// wrote its two destinations (twenty-first session, docs/network-speed.md), for 1.6 GMAC: a
// convolution this narrow is a few float32 multiply-adds per output, which CUDA cores do with
// the weights in shared memory, and its cost is writing the output.
//
// Contract: asynchronous on `stream` (enqueue only). Invalid views throw std::invalid_argument;
// a launch error throws upscaled::Error(ErrorCode::device) with CUDA's text. Every pointer is
// device memory owned by the caller and valid until the work is done: `in` (pixel stride
// in_stride >= in_channels), `weight` float16 [out][3][3][in] (KRSC), `bias` float16 [out] or
// null, `out` and `out2` (or null) at pixel strides >= out_channels, even, 4-byte aligned
// (16-byte units where base and stride allow). Outputs must not overlap the input.
// Accumulation is float32 with one rounding to float16.
#pragma once

#include <cuda_runtime_api.h>

namespace upscaled::model::cudnn {

struct InputConvArgs {
  const void* in = nullptr;
  int in_channels = 0, in_stride = 0;
  const void* weight = nullptr;
  const void* bias = nullptr;
  bool relu = false;
  void* out = nullptr;
  int out_channels = 0, out_stride = 0;
  void* out2 = nullptr;
  int out2_stride = 0;
  int n = 0, h = 0, w = 0;
};

// Whether run_input_conv takes a convolution of this shape (kernel, padding, channels).
bool input_conv_takes(int kernel, int pad, int in_channels, int out_channels);

void run_input_conv(const InputConvArgs& a, cudaStream_t stream);

// Loads the kernels on the current device now (CUDA loads a kernel lazily at its first launch,
// and a load waits for the work then in flight) and caches how many blocks of each are
// resident there, which run_input_conv sizes its grid by: called at model load. Synchronous,
// host only.
// Throws upscaled::Error(ErrorCode::device).
void load_input_conv();

}  // namespace upscaled::model::cudnn
