// Internal to the own 3x3 convolution (dense_conv.h): what its two kernels share, the
// mma.sync one (dense_conv_cuda.cu, every architecture) and the wgmma one
// (dense_conv_wgmma_cuda.cu, Hopper only): the launch parameters, the shared-memory layout of a
// stage's rows and the inline-PTX wrappers both use. Device code only; no state.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

namespace upscaled::model::cudnn::dense_conv_detail {

constexpr int kChunk = 32;  // input channels per stage: 64 bytes per pixel

struct DenseConvParams {
  const __half* in;
  __half* out;
  const __half* weights;
  const __half* bias;
  const __half* z;
  int in_stride, in_channels, out_stride, z_stride;
  float alpha, beta;
  int relu;
  int n, h, w;
  const __half* z2;  // a second residual (beta2 z2), or null
  int z2_stride;
  float beta2;
  __half* out2;  // a second output, or null
  int out2_stride;
};

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// Byte offset of 16-byte unit `unit` (0..3) of 64-byte row `row`, the units permuted by
// (row / 2) % 4: every ldmatrix of 8 consecutive rows is then free of bank conflicts, and from a
// 512-byte-aligned base it is the layout wgmma calls K-major with 64-byte swizzle.
__device__ __forceinline__ unsigned swizzled(int row, int unit) {
  return static_cast<unsigned>(row * 64 + ((unit ^ ((row >> 1) & 3)) << 4));
}

// 16 bytes global -> shared; zeros instead when !valid (src is then not read).
__device__ __forceinline__ void copy16(unsigned dst, const void* src, bool valid) {
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}

__device__ __forceinline__ void commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}

__device__ __forceinline__ void wait_all_but_one() {
  asm volatile("cp.async.wait_group 1;\n" ::);
}

__device__ __forceinline__ void load_matrices(unsigned addr, unsigned (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void mma(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The epilogue's arithmetic for a thread's ROWS x 2 pixels (pixel[i][h], negative where outside
// the image) and PAIRS channel pairs (pair + 8 j, pair + 8 j + 1; `value(i, h, j, c)` the
// accumulator of channel pair + 8 j + c): bias, alpha, the scaled residuals, ReLU, rounded to a
// half2 that `sink(i, h, j, v)` takes. Pairs from KEEP on (48 of 64 channels: KEEP 6 of 8) read no
// bias or residual, and the sinks store none of them. KEEP is a template argument: as a runtime
// test on every pair it made the 64-output kernel 9% slower (twenty-first session). Every bias and residual value is
// loaded before the first sink: the output may alias z (in place: each element is read before it is written, by the
// same thread, or by the same warp where the wgmma kernel stages its stores) and, as far as the compiler knows, the
// bias, so with loads and stores interleaved the compiler reloads the bias after every store (192 global loads in the
// wgmma kernels' PTX, 76 this way) and each load waits for the store before it.
template <int ROWS, int PAIRS, int KEEP, class Value, class Sink>
__device__ __forceinline__ void epilogue_pairs(const DenseConvParams& p, const std::int64_t (&pixel)[ROWS][2], int pair,
                                               Value value, Sink sink) {
  float2 bias[PAIRS];
#pragma unroll
  for (int j = 0; j < PAIRS; ++j)
    bias[j] = p.bias && j < KEEP ? __half22float2(*reinterpret_cast<const __half2*>(p.bias + j * 8 + pair))
                                 : float2{0.0f, 0.0f};
  // z, then z2 (one array of residual values at a time: the 64-output kernel's would not fit twice).
  float2 t[ROWS][2][PAIRS], z[ROWS][2][PAIRS];
  auto load_residual = [&](const __half* base, int stride) {
#pragma unroll
    for (int i = 0; i < ROWS; ++i)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int j = 0; j < PAIRS; ++j) {
          z[i][h][j] = float2{0.0f, 0.0f};
          if (base && pixel[i][h] >= 0 && j < KEEP)
            z[i][h][j] = __half22float2(*reinterpret_cast<const __half2*>(base + pixel[i][h] * stride + j * 8 + pair));
        }
  };
  load_residual(p.z, p.z_stride);
#pragma unroll
  for (int i = 0; i < ROWS; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int j = 0; j < PAIRS; ++j) {
        t[i][h][j].x = (value(i, h, j, 0) + bias[j].x) * p.alpha + p.beta * z[i][h][j].x;
        t[i][h][j].y = (value(i, h, j, 1) + bias[j].y) * p.alpha + p.beta * z[i][h][j].y;
      }
  if (p.z2) {
    load_residual(p.z2, p.z2_stride);
#pragma unroll
    for (int i = 0; i < ROWS; ++i)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int j = 0; j < PAIRS; ++j) {
          t[i][h][j].x += p.beta2 * z[i][h][j].x;
          t[i][h][j].y += p.beta2 * z[i][h][j].y;
        }
  }
#pragma unroll
  for (int i = 0; i < ROWS; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int j = 0; j < PAIRS; ++j) {
        float v0 = t[i][h][j].x, v1 = t[i][h][j].y;
        if (p.relu) {
          v0 = fmaxf(v0, 0.0f);
          v1 = fmaxf(v1, 0.0f);
        }
        sink(i, h, j, __floats2half2_rn(v0, v1));
      }
}

// The epilogue with one 4-byte store per pair straight from the registers (the mma.sync kernel;
// the wgmma kernel where the output is not 16-byte aligned).
template <int ROWS, int PAIRS, int KEEP, class Value>
__device__ __forceinline__ void store_outputs(const DenseConvParams& p, const std::int64_t (&pixel)[ROWS][2], int pair,
                                              Value value) {
  epilogue_pairs<ROWS, PAIRS, KEEP>(p, pixel, pair, value, [&](int i, int h, int j, __half2 v) {
    if (pixel[i][h] < 0 || j >= KEEP) return;
    *reinterpret_cast<__half2*>(p.out + pixel[i][h] * p.out_stride + j * 8 + pair) = v;
    if (p.out2) *reinterpret_cast<__half2*>(p.out2 + pixel[i][h] * p.out2_stride + j * 8 + pair) = v;
  });
}

// The wgmma kernels for 32 and 64 output channels (dense_conv_wgmma_cuda.cu), built where the
// CUDA compiler has sm_90a; the caller checks the device is compute capability 9.0.
// `staged`: the epilogue goes through shared memory so that each pixel's channels leave in 16-byte
// stores (needs out and out2 16-byte aligned and their strides multiples of 8; the caller checks).
// `overlap` (off unless UPSCALED_DENSE_CONV_OVERLAP=1; measured within noise): launched with
// programmatic stream serialization, so that the kernel's blocks start during the previous
// kernel's last ones. The kernel waits for that kernel's writes before it reads or writes
// anything but its weights, so with it on the weights must not come from the kernel launched
// just before (nothing orders that kernel's writes before the early copy). `a_shared_32` / `a_shared_64`: the tensor
// cores read the A operand (the window) from shared memory by descriptor, for 32 / 64 output channels, instead of from
// registers loaded with ldmatrix and reused for the three taps of a column (measured: 64 outputs 12% faster, 32 outputs
// 3-8% slower; docs/network-speed.md).
struct WgmmaLaunch {
  bool staged = true;
  bool overlap = false;
  bool a_shared_32 = false;
  bool a_shared_64 = true;
  int growth_rows = 6;  // output rows per tile for 32 outputs: 6, or 4 (the tile before)
};
cudaError_t prepare_wgmma_kernel();  // their shared-memory allowance on the current device
void launch_wgmma_kernel(const DenseConvParams& p, int out_channels, const WgmmaLaunch& how, cudaStream_t stream);

}  // namespace upscaled::model::cudnn::dense_conv_detail
