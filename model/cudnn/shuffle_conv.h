// The idealo RRDN networks' last two layers (esrgan-thick: PixelShuffle<b>x, then the 3x3
// Conv2D "SR" from 3 to 3 channels) as one pass of the executor's own kernel:
//
//   s[n][Y][X][i]    = x[n][Y / b][X / b][((Y % b) * b + X % b) * 3 + i]   (TF depth_to_space)
//   y[n][o][Y][X]    = act(bias[o] + sum over ky, kx, i of w[o][ky][kx][i] * s[n][Y+ky-1][X+kx-1][i])
//
// with s zero outside the image (TF's "same" padding), act linear or ReLU, y planar.
//
// Why: eager libtorch runs these as a pixel-shuffle copy and a 3-channel cuDNN convolution at
// the output size: 2.5 ms per 4 x 640x360 -> 2560x1440 batch on an H200 (2.2 ms of it the
// convolution), and cuDNN's first call at each new size spent 5-76 ms of host time choosing
// its kernel (scripts/gpu/tail_probe.py). Here the 3·b² input channels are read once and the
// output written once, already in the planar layout the upscaler hands on.
//
// Contract: asynchronous on `stream` (enqueue only; invalid arguments throw
// upscaled::Error(ErrorCode::internal), a launch error ErrorCode::device with CUDA's text).
// `in` and `out` are device memory owned by the caller, 16-byte aligned, valid until the work
// is done. Accumulation is float32 with one rounding to float16, as cuDNN's float16
// convolutions with float32 compute.
#pragma once

#include <cuda_runtime_api.h>

namespace upscaled::model::cudnn {

struct ShuffleConv {
  static constexpr int kChannels = 3;  // channels of s and of y
  static constexpr int kKernel = 3;    // square kernel, zero padding 1
  const void* in = nullptr;            // float16 NHWC n x h x w x (3·block²), packed
  void* out = nullptr;                 // float16 NCHW n x 3 x (h·block) x (w·block), packed
  int n = 0, h = 0, w = 0;
  int block = 0;  // depth_to_space block size: shuffle_conv_supports(block)
  float weight[kChannels][kKernel][kKernel][kChannels] = {};  // [out][ky][kx][in]
  float bias[kChannels] = {};
  bool relu = false;
};

// The block sizes the kernel is built for (2, 3, 4 and 8: every esrgan-thick scale).
bool shuffle_conv_supports(int block);

void run_shuffle_conv(const ShuffleConv& s, cudaStream_t stream);

}  // namespace upscaled::model::cudnn
