// InputConv on the GPU (contract in input_conv.h). A thread computes one pixel's COUT outputs
// in float32 from its 3x3 neighbourhood's CIN channels, the weights and bias read from shared
// memory (every thread of a warp reads the same weight: a broadcast). Where the outputs take
// 16-byte units, a block's 128 pixels are staged through shared memory so that each output row
// leaves in whole 16-byte units, consecutive threads writing consecutive units (a packed output
// is one contiguous run per block); otherwise each thread stores its channel pairs.
#include "model/cudnn/input_conv.h"

#include "core/error.h"

#include <cuda_fp16.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace upscaled::model::cudnn {
namespace {

constexpr int kThreads = 128;  // pixels per block

struct Params {
  const __half* in;
  const __half* weight;
  const __half* bias;
  __half* out;
  __half* out2;
  int in_stride, out_stride, out2_stride;
  int relu;
  int h, w;
  std::int64_t pixels;
};

// The staged unit `unit` of pixel q (UNITS units of 16 bytes each), permuted so that the 8
// threads of a 16-byte shared-memory phase hit distinct banks both ways.
template <int UNITS>
__device__ __forceinline__ int staged_offset(int q, int unit) {
  const int f = (q / (8 / UNITS)) & (UNITS - 1);
  return q * UNITS * 16 + ((unit ^ f) << 4);
}

// One pixel's COUT outputs, bias and ReLU applied, as half2 pairs; zeros' sums for a pixel
// past the end (its stores are skipped).
template <int CIN, int COUT>
__device__ __forceinline__ void convolve_pixel(const Params& p, const float4* w_s, const float* b_s, std::int64_t pixel,
                                               unsigned (&packed)[COUT / 2]) {
  const bool live = pixel < p.pixels;
  const int x = static_cast<int>(pixel % p.w);
  const int y = static_cast<int>((pixel / p.w) % p.h);
  float acc[COUT];
#pragma unroll
  for (int o = 0; o < COUT; ++o) acc[o] = b_s[o];
#pragma unroll
  for (int ky = 0; ky < 3; ++ky)
#pragma unroll
    for (int kx = 0; kx < 3; ++kx) {
      const int yy = y + ky - 1, xx = x + kx - 1;
      const bool inside = live && yy >= 0 && yy < p.h && xx >= 0 && xx < p.w;
      const std::int64_t at = (pixel + static_cast<std::int64_t>(ky - 1) * p.w + (kx - 1)) * p.in_stride;
#pragma unroll
      for (int i = 0; i < CIN; ++i) {
        const float v = inside ? __half2float(__ldg(p.in + at + i)) : 0.0f;
        const float4* wt = w_s + ((ky * 3 + kx) * CIN + i) * (COUT / 4);
#pragma unroll
        for (int o = 0; o < COUT / 4; ++o) {
          const float4 wv = wt[o];
          acc[4 * o] += v * wv.x;
          acc[4 * o + 1] += v * wv.y;
          acc[4 * o + 2] += v * wv.z;
          acc[4 * o + 3] += v * wv.w;
        }
      }
    }
#pragma unroll
  for (int k = 0; k < COUT / 2; ++k) {
    float a = acc[2 * k], b = acc[2 * k + 1];
    if (p.relu) {
      a = fmaxf(a, 0.0f);
      b = fmaxf(b, 0.0f);
    }
    const __half2 v = __floats2half2_rn(a, b);
    packed[k] = *reinterpret_cast<const unsigned*>(&v);
  }
}

// A block fills the weights once, then (staged) takes groups of kThreads pixels kThreads *
// gridDim.x apart, the grid as many blocks as are resident: the weights' copy and
// transposition, 1728 values for 3 -> 64, cost about as much as a group's convolution.
template <int CIN, int COUT, bool STAGED>
__global__ void __launch_bounds__(kThreads) input_conv_kernel(Params p) {
  constexpr int kTaps = 9 * CIN;
  __shared__ float4 w_s[kTaps * COUT / 4];  // [ky][kx][i][o]
  __shared__ float b_s[COUT];
  __shared__ __align__(16) unsigned char stage[STAGED ? kThreads * COUT * 2 : 16];
  const int tid = static_cast<int>(threadIdx.x);
  float* w_f = reinterpret_cast<float*>(w_s);
  for (int k = tid; k < kTaps * COUT; k += kThreads) {
    const int o = k / kTaps, t = k - o * kTaps;  // source order [o][ky][kx][i]
    w_f[t * COUT + o] = __half2float(p.weight[k]);
  }
  for (int o = tid; o < COUT; o += kThreads) b_s[o] = p.bias ? __half2float(p.bias[o]) : 0.0f;
  __syncthreads();

  if constexpr (STAGED) {
    for (std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kThreads; first < p.pixels;
         first += static_cast<std::int64_t>(gridDim.x) * kThreads) {
      unsigned packed[COUT / 2];
      convolve_pixel<CIN, COUT>(p, w_s, b_s, first + tid, packed);
      constexpr int kUnits = COUT / 8;
#pragma unroll
      for (int u = 0; u < kUnits; ++u)
        *reinterpret_cast<uint4*>(stage + staged_offset<kUnits>(tid, u)) =
            make_uint4(packed[4 * u], packed[4 * u + 1], packed[4 * u + 2], packed[4 * u + 3]);
      __syncthreads();
#pragma unroll
      for (int k = 0; k < kUnits; ++k) {
        const int item = k * kThreads + tid, q = item / kUnits, unit = item % kUnits;
        if (first + q >= p.pixels) continue;
        const uint4 v = *reinterpret_cast<const uint4*>(stage + staged_offset<kUnits>(q, unit));
        *reinterpret_cast<uint4*>(p.out + (first + q) * p.out_stride + unit * 8) = v;
        if (p.out2) *reinterpret_cast<uint4*>(p.out2 + (first + q) * p.out2_stride + unit * 8) = v;
      }
      __syncthreads();  // the next group's staging overwrites what was just read
    }
  } else {  // one group per block (ptxas spilled this path's registers in the loop above)
    const std::int64_t pixel = static_cast<std::int64_t>(blockIdx.x) * kThreads + tid;
    unsigned packed[COUT / 2];
    convolve_pixel<CIN, COUT>(p, w_s, b_s, pixel, packed);
    if (pixel >= p.pixels) return;
#pragma unroll
    for (int k = 0; k < COUT / 2; ++k) {
      reinterpret_cast<unsigned*>(p.out + pixel * p.out_stride)[k] = packed[k];
      if (p.out2) reinterpret_cast<unsigned*>(p.out2 + pixel * p.out2_stride)[k] = packed[k];
    }
  }
}

// Resident blocks of each staged kernel per device, [device][CIN - 1][COUT == 64], 0 until
// known: CUDA is asked once per device (by load_input_conv at model load, or at the first
// launch), not once per frame as before (device, SM count and occupancy on every call).
constexpr int kMaxDevices = 64;
std::atomic<int> g_resident[kMaxDevices][4][2];

template <int CIN, int COUT>
int resident_blocks(int device) {
  std::atomic<int>* slot = device >= 0 && device < kMaxDevices ? &g_resident[device][CIN - 1][COUT == 64] : nullptr;
  if (slot) {
    const int known = slot->load(std::memory_order_relaxed);
    if (known > 0) return known;
  }
  int sms = 0, per_sm = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, input_conv_kernel<CIN, COUT, true>, kThreads, 0) !=
          cudaSuccess ||
      sms * per_sm <= 0)
    return 0;  // the error, if any, is left for the launch's check
  if (slot) slot->store(sms * per_sm, std::memory_order_relaxed);
  return sms * per_sm;
}

// As many blocks as are resident on the current device, at most one per group of pixels.
// UPSCALED_INPUT_CONV_GROUPS=1: one block per group instead (a comparison, read once).
template <int CIN, int COUT>
unsigned staged_grid(const Params& p) {
  const std::int64_t groups = (p.pixels + kThreads - 1) / kThreads;
  static const bool per_group = [] {
    const char* v = std::getenv("UPSCALED_INPUT_CONV_GROUPS");
    return v && std::string(v) == "1";
  }();
  if (per_group) return static_cast<unsigned>(groups);
  int device = 0;
  const int resident = cudaGetDevice(&device) == cudaSuccess ? resident_blocks<CIN, COUT>(device) : 0;
  return static_cast<unsigned>(std::min<std::int64_t>(groups, resident > 0 ? resident : 1024));
}

template <int CIN, int COUT>
void launch(const Params& p, bool staged, cudaStream_t stream) {
  if (staged)
    input_conv_kernel<CIN, COUT, true><<<staged_grid<CIN, COUT>(p), kThreads, 0, stream>>>(p);
  else
    input_conv_kernel<CIN, COUT, false>
        <<<static_cast<unsigned>((p.pixels + kThreads - 1) / kThreads), kThreads, 0, stream>>>(p);
}

template <int COUT>
void launch(const Params& p, int in_channels, bool staged, cudaStream_t stream) {
  switch (in_channels) {
    case 1:
      return launch<1, COUT>(p, staged, stream);
    case 2:
      return launch<2, COUT>(p, staged, stream);
    case 3:
      return launch<3, COUT>(p, staged, stream);
    default:
      return launch<4, COUT>(p, staged, stream);
  }
}

bool aligned(const void* p, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % bytes == 0;
}

template <int COUT, bool STAGED>
cudaError_t load(cudaError_t err) {
  cudaFuncAttributes attributes;
  for (auto kernel : {input_conv_kernel<1, COUT, STAGED>, input_conv_kernel<2, COUT, STAGED>,
                      input_conv_kernel<3, COUT, STAGED>, input_conv_kernel<4, COUT, STAGED>})
    if (err == cudaSuccess) err = cudaFuncGetAttributes(&attributes, kernel);
  return err;
}

template <int COUT>
void cache_resident(int device) {
  resident_blocks<1, COUT>(device);
  resident_blocks<2, COUT>(device);
  resident_blocks<3, COUT>(device);
  resident_blocks<4, COUT>(device);
}

}  // namespace

void load_input_conv() {
  cudaError_t err = load<64, true>(load<64, false>(load<32, true>(load<32, false>(cudaSuccess))));
  int device = 0;
  if (err == cudaSuccess) err = cudaGetDevice(&device);
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA input convolution load: ") + cudaGetErrorString(err));
  cache_resident<32>(device);
  cache_resident<64>(device);
}

bool input_conv_takes(int kernel, int pad, int in_channels, int out_channels) {
  return kernel == 3 && pad == 1 && in_channels >= 1 && in_channels <= 4 && (out_channels == 32 || out_channels == 64);
}

void run_input_conv(const InputConvArgs& a, cudaStream_t stream) {
  auto output_ok = [&](const void* out, int stride) {
    return stride >= a.out_channels && stride % 2 == 0 && aligned(out, 4);
  };
  if (!input_conv_takes(3, 1, a.in_channels, a.out_channels) || !a.in || !a.weight || !a.out ||
      a.in_stride < a.in_channels || !output_ok(a.out, a.out_stride) || (a.out2 && !output_ok(a.out2, a.out2_stride)) ||
      a.n < 1 || a.h < 1 || a.w < 1 || !aligned(a.in, 2) || !aligned(a.weight, 2) || (a.bias && !aligned(a.bias, 2)))
    throw std::invalid_argument(
        "run_input_conv: unsupported view (1-4 input channels, 32 or 64 outputs at even strides, 4-byte aligned)");
  Params p{static_cast<const __half*>(a.in),
           static_cast<const __half*>(a.weight),
           static_cast<const __half*>(a.bias),
           static_cast<__half*>(a.out),
           static_cast<__half*>(a.out2),
           a.in_stride,
           a.out_stride,
           a.out2_stride,
           a.relu ? 1 : 0,
           a.h,
           a.w,
           static_cast<std::int64_t>(a.n) * a.h * a.w};
  auto units_fit = [](const void* out, int stride) { return aligned(out, 16) && stride % 8 == 0; };
  const bool staged = units_fit(a.out, a.out_stride) && (!a.out2 || units_fit(a.out2, a.out2_stride));
  if (a.out_channels == 32)
    launch<32>(p, a.in_channels, staged, stream);
  else
    launch<64>(p, a.in_channels, staged, stream);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA input convolution launch: ") + cudaGetErrorString(err));
}

}  // namespace upscaled::model::cudnn
