// The UpscalerJS networks' last two layers as one pass of the executor's own kernel: a
// rearrangement of x (n x h x w x C, C = 3·b²) to b times the size, then a 3x3 convolution to 3
// channels with "same" padding:
//
//   ShuffleConv (esrgan-thick, idealo RRDN: PixelShuffle<b>x, Conv2D "SR", 3 -> 3 channels)
//     s[n][Y][X][i] = x[n][Y / b][X / b][((Y % b) * b + X % b) * 3 + i]   (TF depth_to_space), i < 3
//   UpsampleConv (esrgan-slim and -medium, idealo RDN: UpSampling2D nearest, Conv2D, C -> 3)
//     s[n][Y][X][i] = x[n][Y / b][X / b][i], i < C
//   y[n][o][Y][X]   = act(bias[o] + sum over ky, kx, i of w[o][ky][kx][i] * s[n][Y+ky-1][X+kx-1][i])
//
// with s zero outside the image, act linear or ReLU, y planar.
//
// Why: eager libtorch runs these as a pixel-shuffle copy and a 3-channel cuDNN convolution at
// the output size: 2.5 ms per 4 x 640x360 -> 2560x1440 batch on an H200 (2.2 ms of it the
// convolution), and cuDNN's first call at each new size spent 5-76 ms of host time choosing
// its kernel (scripts/gpu/tail_probe.py); the up-sampled variant also writes and reads a
// b²-times larger copy of x. Here x is read once and the output written once, already in the
// planar layout the upscaler hands on.
//
// Contract: asynchronous on `stream` (enqueue only; invalid arguments throw
// upscaled::Error(ErrorCode::internal), a launch error ErrorCode::device with CUDA's text).
// `in` and `out` (and UpsampleConv's `weight`) are device memory owned by the caller, `in` and
// `out` 16-byte aligned, all valid until the work is done. Accumulation is float32 with one rounding to float16, as
// cuDNN's float16 convolutions with float32 compute.
#pragma once

#include <cuda_runtime_api.h>

namespace upscaled::model::cudnn {

struct ShuffleConv {
  static constexpr int kChannels = 3;  // channels of s and of y
  static constexpr int kKernel = 3;    // square kernel, zero padding 1
  const void* in = nullptr;            // float16 NHWC n x h x w x (3·block²), packed
  void* out = nullptr;                 // float16 NCHW n x 3 x (h·block) x (w·block), packed
  int n = 0, h = 0, w = 0;
  int block = 0;                                              // depth_to_space block size: shuffle_conv_supports(block)
  float weight[kChannels][kKernel][kKernel][kChannels] = {};  // [out][ky][kx][in]
  float bias[kChannels] = {};
  bool relu = false;
};

// The block sizes the kernel is built for (2, 3, 4 and 8: every esrgan-thick scale).
bool shuffle_conv_supports(int block);

void run_shuffle_conv(const ShuffleConv& s, cudaStream_t stream);
// Loads the kernel that run_shuffle_conv() launches for s.block, now (synchronous). CUDA loads
// kernels lazily at their first launch, and a load waits for the work then in flight on the
// device: called at model load, so that the first batch does not wait for its own network.
void load_shuffle_conv(const ShuffleConv& s);

struct UpsampleConv {
  static constexpr int kOutChannels = 3;
  static constexpr int kKernel = 3;
  const void* in = nullptr;  // float16 NHWC n x h x w x (3·block²), packed
  void* out = nullptr;       // float16 NCHW n x 3 x (h·block) x (w·block), packed
  // float32 [out][ky][kx][in], in < 3·block², in device memory owned by the caller (up to
  // 5 KiB: more than the 4 KiB of kernel parameters that CUDA before 12.1 allows).
  const float* weight = nullptr;
  int n = 0, h = 0, w = 0;
  int block = 0;  // up-sampling factor: upsample_conv_supports(block); x has 3·block² channels
  float bias[kOutChannels] = {};
  bool relu = false;
};

// 2, 3 and 4 (x8's 192-channel convolution stays with cuDNN).
bool upsample_conv_supports(int block);

void run_upsample_conv(const UpsampleConv& s, cudaStream_t stream);
void load_upsample_conv(const UpsampleConv& s);  // as load_shuffle_conv

}  // namespace upscaled::model::cudnn
