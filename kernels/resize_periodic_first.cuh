// The first periodic resize kernel, internal to resize_periodic_cuda.cu (its only includer),
// which launches it under the contract of resize_periodic_cuda.cuh. In an anonymous namespace,
// as when it was part of that file: its kernels keep their names and code.
//
// When a resize scales both axes by the same ratio p / q (x2, x4 up; x2 down; x1.5 up, which
// has the aligned kernel only), destination sample p m + r always takes the same taps w[r][.]
// from source q m + origin: the weights are compile-time-indexed kernel parameters
// (constant-bank operands of the FMAs, no loads) and every source offset is a constant, so a
// thread keeps a run of source values in registers and computes several outputs from them,
// with no tap tables and no data-dependent loops
// (those roughly double the general tiled kernel's instructions: Lanczos x2 up at 3840x2160
// executes 53 million warp instructions there, 28 million here, measured with ncu). Only the
// N taps of a phase that can be nonzero are computed (detail::periodic_taps_fit): make_taps'
// tables carry zero weights that are no work here (x2 up bilinear 2 of 4, Lanczos-3 6 of 8;
// x2 down area 2 of 5).
//
// A block owns a 64-column output tile of TH rows of one plane:
//   1. fill: the tile's source window (rows and columns clamped into the plane: the replicated
//      border) converted to float into shared memory, 4 samples per thread and step, with one
//      8/16-byte load where the row allows;
//   2. horizontal: a thread takes one window row and 4 periods (4p outputs) from 16-byte
//      shared-memory loads, into a float32 tile `mid` (16-byte stores);
//   3. vertical: a thread takes 2 adjacent columns (8-byte loads from mid) and a run of NV
//      output rows, and stores 2 outputs per row (4 or 8 bytes).
// Row strides of the window and of mid are odd multiples of 16 bytes, so the 16-byte
// accesses of consecutive rows by consecutive threads do not conflict.
// By default step 1 is resize_periodic_fill.cuh's: cp.async copies into a window of the
// source's type, converted as step 2 reads it (same values); UPSCALED_RESIZE_ASYNC_FILL=0 keeps
// the float fill below.
#pragma once

#include "kernels/resize_periodic_fill.cuh"
#include "kernels/resize_taps.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace upscaled::kernels::cudadetail {
namespace {

constexpr int kThreads = 256;
constexpr int kTileW = 64;  // output columns per block: 32 threads x 2 columns in the vertical pass
constexpr int kMidStride = kTileW + 4;

constexpr int odd_slots(int floats) {  // floats rounded up to an odd number of 16-byte slots
  const int s = (floats + 3) / 4;
  return 4 * (s % 2 == 0 ? s + 1 : s);
}

// N: taps computed per phase, starting at detail::periodic_first_tap; KW: the window of taps
// the phases span together.
template <int P, int Q, int N>
struct Shape {
  static constexpr int KW = detail::periodic_span(P, Q, N);
  __host__ __device__ static constexpr int first(int ph) { return detail::periodic_first_tap(P, Q, ph); }
  static constexpr int UH = 4;       // periods per horizontal item
  static constexpr int NH = P * UH;  // outputs per horizontal item
  // Downscales: 16-row tiles, so a block's window (2 source rows per output row plus the
  // filter) leaves room for 6 blocks per multiprocessor instead of 3 with 32 rows: x2 down
  // went from 25-35% to 31-44% of the copy rate on the H200 (docs/benchmarks.md).
  static constexpr int UV = P == 1 ? 2 : 8 / P;               // periods per vertical item
  static constexpr int NV = P * UV;                           // output rows per vertical item
  static constexpr int TH = (kThreads / (kTileW / 2)) * NV;   // 8 row groups of NV rows
  static constexpr int WR = Q * (TH / P - 1) + KW;            // window rows = mid rows
  static constexpr int WC = Q * (kTileW / P - 1) + KW;        // window columns
  static constexpr int GH = kTileW / NH;                      // horizontal items per row
  static constexpr int NSH = Q * (UH - 1) + KW;               // source values per item
  static constexpr int NSH4 = (NSH + 3) / 4 * 4;              // ... loaded 4 at a time
  static constexpr int NSV = Q * (UV - 1) + KW;               // mid rows per vertical item
  static constexpr int last_load = Q * UH * (GH - 1) + NSH4;  // end of the last item's loads
  static constexpr int WS = odd_slots(last_load > WC ? last_load : WC);
  static constexpr int NCH = (WC + 3) / 4 + 1;  // fill chunks per row (unaligned start)
  static constexpr std::size_t smem = static_cast<std::size_t>(WR) * (WS + kMidStride) * sizeof(float);
  static_assert(kTileW % NH == 0 && (Q * UH) % 4 == 0, "16-byte aligned horizontal loads");
};

// Shared memory of a launch: the window (float, or the source's type with the async fill,
// then its rows' shifts after mid) and mid.
template <int P, int Q, int N, typename T, bool Async>
constexpr std::size_t smem_bytes() {
  using S = Shape<P, Q, N>;
  if constexpr (Async)
    return AsyncWindow<T, S::WR, S::WC>::bytes + static_cast<std::size_t>(S::WR) * (kMidStride + 1) * sizeof(float);
  else
    return S::smem;
}

struct PeriodicArgs {
  int sw, sh, dw, dh, origin;
  float w[detail::PeriodicTaps::kMaxPhases][detail::PeriodicTaps::kMaxTaps];
};

__device__ __forceinline__ void load4(const float* p, float v[4]) {
  const float4 f = *reinterpret_cast<const float4*>(p);
  v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
}
__device__ __forceinline__ void load4(const __half* p, float v[4]) {
  const uint2 u = *reinterpret_cast<const uint2*>(p);
  __half2 a, b;
  memcpy(&a, &u.x, 4);
  memcpy(&b, &u.y, 4);
  v[0] = __low2float(a), v[1] = __high2float(a), v[2] = __low2float(b), v[3] = __high2float(b);
}

// 1. Source window as float, from 4-sample chunks aligned in the source row; a thread issues
// the loads of up to kBatch chunks before it stores any (one memory round trip per batch).
template <typename S, typename T>
__device__ __forceinline__ void fill_float(float* win, const Planes3<const T>& src, int z, int wx0, int wy0, int sw,
                                           int sh, int tid) {
  const int g0 = wx0 & ~3;
  constexpr int kItems = S::WR * S::NCH, kPer = (kItems + kThreads - 1) / kThreads, kBatch = 4;
#pragma unroll
  for (int b0 = 0; b0 < kPer; b0 += kBatch) {
    float v[kBatch][4];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = tid + (b0 + b) * kThreads;
      if (b0 + b >= kPer || i >= kItems) break;
      const int r = i / S::NCH, gc = g0 + 4 * (i - r * S::NCH);
      const T* row = src.row_dyn(z, clampi(wy0 + r, 0, sh - 1));
      if (gc >= 0 && gc + 4 <= sw && aligned_to(row + gc, 4 * sizeof(T))) {
        load4(row + gc, v[b]);
      } else {
#pragma unroll
        for (int e = 0; e < 4; ++e) v[b][e] = to_f(row[clampi(gc + e, 0, sw - 1)]);
      }
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int i = tid + (b0 + b) * kThreads;
      if (b0 + b >= kPer || i >= kItems) break;
      const int r = i / S::NCH, c0 = g0 + 4 * (i - r * S::NCH) - wx0;
      float* w = win + r * S::WS;
#pragma unroll
      for (int e = 0; e < 4; ++e)
        if (c0 + e >= 0 && c0 + e < S::WS) w[c0 + e] = v[b][e];
    }
  }
}

// Async: the window fill of resize_periodic_fill.cuh (its window and shift table) instead of
// step 1 below; the sums are the same. Its float16 windows are small enough for 8 blocks per
// multiprocessor (the float window of x2 down: 6), which 32 registers allow: ptxas took 36 for
// Lanczos x2 down unbounded, 32 without spilling under the bound.
template <int P, int Q, int N, typename T, bool Async>
__global__ void __launch_bounds__(kThreads, Async && sizeof(T) == 2 ? 8 : 0)
    resize_periodic(PeriodicArgs a, Planes3<const T> src, Planes3<T> dst) {
  using S = Shape<P, Q, N>;
  using W = AsyncWindow<T, S::WR, S::WC>;
  extern __shared__ float4 smem4[];
  float* win = reinterpret_cast<float*>(smem4);
  T* win_t = reinterpret_cast<T*>(smem4);
  float* mid =
      Async ? reinterpret_cast<float*>(reinterpret_cast<std::uint8_t*>(smem4) + W::bytes) : win + S::WR * S::WS;
  int* shift = reinterpret_cast<int*>(mid + S::WR * kMidStride);
  const int tid = threadIdx.x, z = blockIdx.z;
  const int x0 = blockIdx.x * kTileW, y0 = blockIdx.y * S::TH;
  const int wx0 = Q * (x0 / P) + a.origin, wy0 = Q * (y0 / P) + a.origin;

  if constexpr (Async) {
    const T* base = z == 0 ? src.p[0] : (z == 1 ? src.p[1] : src.p[2]);
    const std::ptrdiff_t pitch = z == 0 ? src.pitch[0] : (z == 1 ? src.pitch[1] : src.pitch[2]);
    async_fill<W, S::WR, kThreads>(win_t, shift, base, pitch, wx0, wy0, a.sw, a.sh, tid);
  } else {
    fill_float<S>(win, src, z, wx0, wy0, a.sw, a.sh, tid);
  }
  __syncthreads();

  // 2. Horizontal: window row r, periods [UH g, UH g + UH) of the tile.
  for (int i = tid; i < S::WR * S::GH; i += kThreads) {
    const int r = i % S::WR, g = i / S::WR;
    float v[S::NSH4];
    if constexpr (Async) {
      read_window<S::NSH>(win_t + r * W::WS, shift[r] + Q * S::UH * g, v);
    } else {
      const float* in = win + r * S::WS + Q * S::UH * g;
#pragma unroll
      for (int j = 0; j < S::NSH4 / 4; ++j) load4(in + 4 * j, v + 4 * j);
    }
    float o[S::NH];
    detail::periodic_sums<P, Q, N, S::UH>(a.w, v, o);
    float4* m = reinterpret_cast<float4*>(mid + r * kMidStride + S::NH * g);
#pragma unroll
    for (int j = 0; j < S::NH / 4; ++j) m[j] = make_float4(o[4 * j], o[4 * j + 1], o[4 * j + 2], o[4 * j + 3]);
  }
  __syncthreads();

  // 3. Vertical: columns x0 + 2 cp, + 1; output rows [y0 + NV g, + NV).
  const int cp = tid & 31, g = tid >> 5;
  const int x = x0 + 2 * cp;
  if (x >= a.dw) return;
  const float* col = mid + Q * S::UV * g * kMidStride + 2 * cp;
  float2 v[S::NSV];
#pragma unroll
  for (int j = 0; j < S::NSV; ++j) v[j] = *reinterpret_cast<const float2*>(col + j * kMidStride);
  // Row addresses by adding the pitch; whether pairs can be stored whole is decided once.
  const int yb = y0 + S::NV * g;
  const std::ptrdiff_t pitch = z == 0 ? dst.pitch[0] : (z == 1 ? dst.pitch[1] : dst.pitch[2]);
  T* out = dst.row_dyn(z, yb) + x;
  const bool pair = x + 2 <= a.dw && aligned_to(out, 2 * sizeof(T)) && pitch % (2 * sizeof(T)) == 0;
#pragma unroll
  for (int u = 0; u < S::UV; ++u)
#pragma unroll
    for (int ph = 0; ph < P; ++ph) {
      float sx = 0.f, sy = 0.f;
#pragma unroll
      for (int k = S::first(ph); k < S::first(ph) + N; ++k) {
        sx += a.w[ph][k] * v[Q * u + k].x;
        sy += a.w[ph][k] * v[Q * u + k].y;
      }
      const float o[2] = {sx, sy};
      if (yb + P * u + ph < a.dh) store_run<2>(out, pair, a.dw - x, o);
      out = reinterpret_cast<T*>(reinterpret_cast<std::uint8_t*>(out) + pitch);
    }
}

}  // namespace
}  // namespace upscaled::kernels::cudadetail
