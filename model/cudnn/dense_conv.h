// A 3x3 convolution of the executor's own for the dense blocks (issue #3, docs/network-speed.md):
// float16 NHWC in and out, float32 accumulation on the tensor cores (mma.sync m16n8k16 on every
// architecture; wgmma on compute capability 9.0), with the epilogue in the same kernel:
//
//   out[p][co] = act( alpha * (sum_{ky,kx,ci} in[p + (ky-1, kx-1)][ci] * w[co][ky][kx][ci] + bias[co])
//                     + beta * z[p][co] + beta2 * z2[p][co] )   (and out2[p][co], the same value)
//
// Why: cuDNN's kernels cannot read or write a channel slice of a wider tensor (its NHWC
// convolutions refuse pixel strides above the channel count), so the executor splits each
// dense-block convolution and adds the parts in separate epilogue passes, which move about a
// third of the network's time in bytes. This kernel reads a dense block's prefix in place and
// writes its result straight into the block's next slice, with bias, scaled residual and ReLU.
//
// Contract: asynchronous on `stream` (enqueue only); every pointer is device memory owned by
// the caller, valid until the work is done. Views: pixel p of image n at row y, column x is
// base + ((n * h + y) * w + x) * stride. Input: `in_channels` a multiple of 32, stride a multiple
// of 8, base 16-byte aligned, w * stride under 2^29. Outputs and residuals (out, out2, z, z2):
// stride and base of even elements (4-byte aligned pairs); `out_channels` 32 or 64, or 48 (run as
// 64 with weights packed for 64 outputs whose last 16 rows are zero; channels 48-63 are neither
// read from bias and residuals nor written). Padding 1
// with zeros. Weights in the order pack_dense_conv_weights gives. Throws std::invalid_argument
// for views it cannot take, upscaled::Error(device) with CUDA's text for launch errors. z and z2
// may alias out or out2 (each element is read before it is written, by the same warp); the
// channels read must not be written (a prefix of a buffer in and a later slice of the same
// buffer out, as the executor does, is fine). Where out and out2 are 16-byte aligned with
// strides of multiples of 8, the wgmma kernel stores whole 16-byte units of a pixel
// (UPSCALED_DENSE_CONV_STAGED=0: pairs, as elsewhere).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <vector>

namespace upscaled::model::cudnn {

// Which kernel runs: `automatic` takes the wgmma kernel where dense_conv_uses_wgmma says so,
// else the mma.sync one; the tests and benchmarks name one (the wgmma one throws
// std::invalid_argument where it is not available).
enum class DenseConvKernel { automatic, mma, wgmma };

struct DenseConvArgs {
  const void* in = nullptr;  // float16
  int in_stride = 0, in_channels = 0;
  void* out = nullptr;  // float16, at the output slice's first channel
  int out_stride = 0, out_channels = 0;
  const void* weights = nullptr;  // float16, pack_dense_conv_weights order
  const void* bias = nullptr;     // float16 [out_channels], or null
  const void* z = nullptr;        // float16 view like out, or null
  int z_stride = 0;
  const void* z2 = nullptr;  // a second residual, like z
  int z2_stride = 0;
  float beta2 = 0.0f;
  void* out2 = nullptr;  // a second output view receiving the same values, or null
  int out2_stride = 0;
  float alpha = 1.0f, beta = 0.0f;
  bool relu = false;
  int n = 0, h = 0, w = 0;
  DenseConvKernel kernel = DenseConvKernel::automatic;
};

void run_dense_conv(const DenseConvArgs& a, cudaStream_t stream);

// Loads the kernels on the current device and sets their shared-memory allowance, once per
// process and device (run_dense_conv does it at its first launch otherwise, where CUDA's lazy
// loading would land on the first batch). Synchronous, host only. Throws upscaled::Error(device).
void load_dense_conv();

// Whether the wgmma kernel (Hopper's warpgroup MMA) can run on the current device: built with sm_90a and a compute
// capability 9.0 device. Throws upscaled::Error(device) if the device cannot be queried.
bool dense_conv_wgmma_available();
// Whether `automatic` picks it for `out_channels`: available, and not turned off with
// UPSCALED_DENSE_CONV_WGMMA=0 (read once per process).
bool dense_conv_uses_wgmma(int out_channels);

// OHWI float16 weights (as uint16 bits: [out][3][3][in]) into the kernel's order: for each block
// of 32 input channels, for each of the 9 taps, for each output channel, 32 input channels.
std::vector<std::uint16_t> pack_dense_conv_weights(const std::vector<std::uint16_t>& ohwi, int out_channels,
                                                   int in_channels);
// The same on the device, asynchronous on `stream`: `packed` (out * 9 * in float16) from `ohwi`.
void pack_dense_conv_weights_cuda(const void* ohwi, void* packed, int out_channels, int in_channels,
                                  cudaStream_t stream);

}  // namespace upscaled::model::cudnn
