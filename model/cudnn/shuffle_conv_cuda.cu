// ShuffleConv and UpsampleConv on the GPU (contract in shuffle_conv.h). A thread makes the
// `block` output pixels of one input pixel's sub-row, all three planes: for each of the three
// source rows it loads what that sub-row reads of its own input pixel (vector loads) and of
// its neighbours, then does every multiply-add from registers. Bias and ShuffleConv's weights
// are kernel parameters (constant bank operands); UpsampleConv's weights, too many for the
// parameters, come from device memory.
#include "model/cudnn/shuffle_conv.h"

#include "core/error.h"

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

namespace upscaled::model::cudnn {
namespace {

constexpr int C = ShuffleConv::kChannels;

// The widest access that a run of N halves allows when it starts at a multiple of N halves
// from a 16-byte aligned base: gcd(2N, 16) bytes.
constexpr int chunk_bytes(int n) {
  return (2 * n) % 16 == 0 ? 16 : (2 * n) % 8 == 0 ? 8 : (2 * n) % 4 == 0 ? 4 : 2;
}
template <int Bytes>
struct ChunkOf;
template <>
struct ChunkOf<2> {
  using type = short;
};
template <>
struct ChunkOf<4> {
  using type = int;
};
template <>
struct ChunkOf<8> {
  using type = int2;
};
template <>
struct ChunkOf<16> {
  using type = int4;
};
template <int N>
using Chunk = typename ChunkOf<chunk_bytes(N)>::type;

template <int N>
__device__ inline void load_halves(const __half* p, __half (&dst)[N]) {
  using T = Chunk<N>;
  const T* s = reinterpret_cast<const T*>(p);
  T* d = reinterpret_cast<T*>(dst);
#pragma unroll
  for (int k = 0; k < int((N * 2) / sizeof(T)); ++k) d[k] = __ldg(s + k);
}

template <int N>
__device__ inline void store_halves(__half* p, const __half (&src)[N]) {
  using T = Chunk<N>;
  const T* s = reinterpret_cast<const T*>(src);
  T* d = reinterpret_cast<T*>(p);
#pragma unroll
  for (int k = 0; k < int((N * 2) / sizeof(T)); ++k) d[k] = s[k];
}

// A block: 32 input pixels of one input row and the B output rows they make; thread t makes
// pixel t / B's sub-row t % B, so that a warp's loads of a source row cover whole input
// pixels, contiguous, and its stores whole 32-byte sectors.
template <int B>
__global__ void __launch_bounds__(32 * B) shuffle_conv_kernel(ShuffleConv s) {
  constexpr int Cin = C * B * B;  // channels of the input pixel
  constexpr int Run = C * B;      // halves of one sub-row of an input pixel
  const int lx = blockIdx.x * 32 + int(threadIdx.x) / B;
  if (lx >= s.w) return;
  const int H = s.h * B, W = s.w * B;
  const int n = blockIdx.z;
  const __half* in = static_cast<const __half*>(s.in);
  for (int row = blockIdx.y; row < s.h; row += gridDim.y) {
    const int Y = row * B + int(threadIdx.x) % B;
    float acc[C][B];
#pragma unroll
    for (int o = 0; o < C; ++o)
#pragma unroll
      for (int j = 0; j < B; ++j) acc[o][j] = s.bias[o];
#pragma unroll
    for (int ky = 0; ky < 3; ++ky) {
      const int sy = Y + ky - 1;
      if (sy < 0 || sy >= H) continue;
      const int ly = sy / B, ry = sy - ly * B;
      const __half* centre = in + ((std::int64_t(n) * s.h + ly) * s.w + lx) * Cin + ry * Run;
      // v[k][i]: source column lx·B - 1 + k of this row, channel i.
      float v[B + 2][C];
      alignas(16) __half run[Run];
      load_halves<Run>(centre, run);
#pragma unroll
      for (int k = 0; k < Run; ++k) v[1 + k / C][k % C] = __half2float(run[k]);
#pragma unroll
      for (int i = 0; i < C; ++i) {
        v[0][i] = lx > 0 ? __half2float(__ldg(centre - Cin + (B - 1) * C + i)) : 0.0f;
        v[B + 1][i] = lx + 1 < s.w ? __half2float(__ldg(centre + Cin + i)) : 0.0f;
      }
#pragma unroll
      for (int j = 0; j < B; ++j)
#pragma unroll
        for (int kx = 0; kx < 3; ++kx)
#pragma unroll
          for (int i = 0; i < C; ++i)
#pragma unroll
            for (int o = 0; o < C; ++o) acc[o][j] = fmaf(s.weight[o][ky][kx][i], v[j + kx][i], acc[o][j]);
    }
#pragma unroll
    for (int o = 0; o < C; ++o) {
      alignas(16) __half r[B];
#pragma unroll
      for (int j = 0; j < B; ++j) r[j] = __float2half_rn(s.relu ? fmaxf(acc[o][j], 0.0f) : acc[o][j]);
      __half* row = static_cast<__half*>(s.out) + ((std::int64_t(n) * C + o) * H + Y) * W + std::int64_t(lx) * B;
      store_halves<B>(row, r);
    }
  }
}

// UpsampleConv: the same block and thread layout; each source row is x's row itself, so a
// thread reads its pixel and its two neighbours (all C channels, in chunks) for each of the
// three taps' rows, and source column lx·B + j + kx - 1 is pixel lx - 1, lx or lx + 1.
template <int B>
__global__ void __launch_bounds__(32 * B) upsample_conv_kernel(UpsampleConv s) {
  constexpr int Cin = C * B * B;
  constexpr int Step = Cin % 8 == 0 ? 8 : Cin % 4 == 0 ? 4 : 1;  // channels per load: 16, 8 or 2 bytes
  const int lx = blockIdx.x * 32 + int(threadIdx.x) / B;
  if (lx >= s.w) return;
  const int H = s.h * B, W = s.w * B;
  const int n = blockIdx.z;
  const __half* in = static_cast<const __half*>(s.in);
  const bool left = lx > 0, right = lx + 1 < s.w;
  for (int row = blockIdx.y; row < s.h; row += gridDim.y) {
    const int Y = row * B + int(threadIdx.x) % B;
    float acc[C][B];
#pragma unroll
    for (int o = 0; o < C; ++o)
#pragma unroll
      for (int j = 0; j < B; ++j) acc[o][j] = s.bias[o];
#pragma unroll
    for (int ky = 0; ky < 3; ++ky) {
      const int sy = Y + ky - 1;
      if (sy < 0 || sy >= H) continue;
      const __half* centre = in + ((std::int64_t(n) * s.h + sy / B) * s.w + lx) * Cin;
      for (int c = 0; c < Cin; c += Step) {
        alignas(16) __half raw[3][Step];
        load_halves<Step>(centre + c, raw[1]);
        if (left) load_halves<Step>(centre - Cin + c, raw[0]);
        if (right) load_halves<Step>(centre + Cin + c, raw[2]);
        float v[3][Step];
#pragma unroll
        for (int i = 0; i < Step; ++i) {
          v[0][i] = left ? __half2float(raw[0][i]) : 0.0f;
          v[1][i] = __half2float(raw[1][i]);
          v[2][i] = right ? __half2float(raw[2][i]) : 0.0f;
        }
#pragma unroll
        for (int kx = 0; kx < 3; ++kx)
#pragma unroll
          for (int o = 0; o < C; ++o) {
            // The same addresses in every thread: broadcast loads from L1, 16 bytes at a time
            // where the channel step allows (the weights' base is 16-byte aligned).
            float wt[Step];
            const float* wp = s.weight + ((o * 3 + ky) * 3 + kx) * Cin + c;
            if constexpr (Step % 4 == 0) {
#pragma unroll
              for (int q = 0; q < Step / 4; ++q) {
                const float4 f = __ldg(reinterpret_cast<const float4*>(wp) + q);
                wt[4 * q] = f.x, wt[4 * q + 1] = f.y, wt[4 * q + 2] = f.z, wt[4 * q + 3] = f.w;
              }
            } else {
#pragma unroll
              for (int i = 0; i < Step; ++i) wt[i] = __ldg(wp + i);
            }
#pragma unroll
            for (int i = 0; i < Step; ++i)
#pragma unroll
              for (int j = 0; j < B; ++j) {
                const int col = j + kx - 1 < 0 ? 0 : j + kx - 1 >= B ? 2 : 1;
                acc[o][j] = fmaf(wt[i], v[col][i], acc[o][j]);
              }
          }
      }
    }
#pragma unroll
    for (int o = 0; o < C; ++o) {
      alignas(16) __half r[B];
#pragma unroll
      for (int j = 0; j < B; ++j) r[j] = __float2half_rn(s.relu ? fmaxf(acc[o][j], 0.0f) : acc[o][j]);
      __half* out_row = static_cast<__half*>(s.out) + ((std::int64_t(n) * C + o) * H + Y) * W + std::int64_t(lx) * B;
      store_halves<B>(out_row, r);
    }
  }
}

dim3 grid_for(int n, int h, int w) {
  return dim3((w + 31) / 32, std::min(h, 65535), n);
}

// Launches `kernel` for s, or with load_only only loads it (cudaFuncGetAttributes loads a
// lazily loaded kernel; an error shows in dispatch's cudaGetLastError).
template <int B, typename Pass>
void launch(void (*kernel)(Pass), const Pass& s, cudaStream_t stream, bool load_only) {
  cudaFuncAttributes attributes{};
  if (load_only)
    cudaFuncGetAttributes(&attributes, kernel);
  else
    kernel<<<grid_for(s.n, s.h, s.w), 32 * B, 0, stream>>>(s);
}

template <int B>
void launch(const ShuffleConv& s, cudaStream_t stream, bool load_only) {
  launch<B>(shuffle_conv_kernel<B>, s, stream, load_only);
}

template <int B>
void launch(const UpsampleConv& s, cudaStream_t stream, bool load_only) {
  launch<B>(upsample_conv_kernel<B>, s, stream, load_only);
}

// One switch for both passes: the block size picks the kernel's instantiation (the up-sampling
// pass has none for 8: its callers check upsample_conv_supports first).
template <typename Pass>
void dispatch(const Pass& s, cudaStream_t stream, const char* what, bool load_only = false) {
  switch (s.block) {
    case 2:
      launch<2>(s, stream, load_only);
      break;
    case 3:
      launch<3>(s, stream, load_only);
      break;
    case 4:
      launch<4>(s, stream, load_only);
      break;
    default:
      if constexpr (std::is_same_v<Pass, ShuffleConv>) launch<8>(s, stream, load_only);
      break;
  }
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA ") + what + " launch: " + cudaGetErrorString(err));
}

bool valid(const void* in, const void* out, int n, int h, int w, int block) {
  const auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  const std::int64_t elements = std::int64_t(n) * h * w * C * block * block;
  return n >= 1 && n <= 65535 && h >= 1 && w >= 1 && in && out && aligned(in) && aligned(out) &&
         elements < (std::int64_t{1} << 31);
}

}  // namespace

bool shuffle_conv_supports(int block) {
  return block == 2 || block == 3 || block == 4 || block == 8;
}

void run_shuffle_conv(const ShuffleConv& s, cudaStream_t stream) {
  if (!shuffle_conv_supports(s.block) || !valid(s.in, s.out, s.n, s.h, s.w, s.block))
    throw Error(ErrorCode::internal, "shuffle convolution: invalid arguments");
  dispatch(s, stream, "shuffle convolution");
}

void load_shuffle_conv(const ShuffleConv& s) {
  if (shuffle_conv_supports(s.block)) dispatch(s, nullptr, "loading the shuffle convolution", true);
}

bool upsample_conv_supports(int block) {
  return block >= 2 && block <= 4;
}

void run_upsample_conv(const UpsampleConv& s, cudaStream_t stream) {
  if (!upsample_conv_supports(s.block) || !s.weight || !valid(s.in, s.out, s.n, s.h, s.w, s.block))
    throw Error(ErrorCode::internal, "up-sampling convolution: invalid arguments");
  dispatch(s, stream, "up-sampling convolution");
}

void load_upsample_conv(const UpsampleConv& s) {
  if (upsample_conv_supports(s.block)) dispatch(s, nullptr, "loading the up-sampling convolution", true);
}

}  // namespace upscaled::model::cudnn
