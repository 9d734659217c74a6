// The aligned periodic kernel's horizontal pass on the tensor cores, for float16 windows on
// sm_80 and later (internal to resize_periodic_aligned.cuh, which chooses it).
//
// Why: with its FMAs the horizontal pass was most of the aligned kernel's work (Lanczos x2 down
// at 3840x2160: 74 window rows of 64 outputs x 12 taps per 64x32 tile, 70% of the FMAs, and
// the half -> float conversions and register selection around them: 17.5 million warp
// instructions, issue-bound; docs/kernels.md). A window row times a banded weight matrix is a
// matrix product: 16 window rows (M) by 8 outputs (N) over 16-sample steps of the row (K), one
// mma.sync.m16n8k16 with float accumulators per step, the window loaded by ldmatrix as it lies
// in shared memory (16-byte aligned rows an odd number of 16-byte slots apart: no conflicts).
//
// Exactness: the samples are float16 already. A weight w is split into hi = half(w) and
// lo = half(w - hi), and each step runs twice (hi, then lo): every product is exact in the float
// accumulator and hi + lo is w to 2^-22 of it, so the sums are the FMA pass's up to float
// rounding (not term for term: the tensor cores add in their own order). A zero weight
// multiplies whatever sample shares its step, so a non-finite sample turns to NaN the outputs
// whose 16-sample steps reach it (the FMA pass: only those whose taps do); the window's unused
// slots are zeroed for that reason.
//
// Tiling: G consecutive 8-output tiles make a group whose window columns start on a 16-byte
// boundary (DG = 8 G Q / P samples: x2 down 1 tile, x2 up 2, x4 up 4, x1.5 up 3), so the
// per-tile step starts KB and step counts ST depend only on the window's shift SH (a template
// argument) and the tile's place in the group. A warp takes units of 16 rows x 1 group, loads
// the group's 8-column chunks once (ldmatrix) and runs each tile's steps from them. A thread's
// B fragments (the weights for its lane) come from `wpad`, the weights laid out with zero
// padding in shared memory, once per block.
#pragma once

#include "kernels/resize_taps.h"

#include <cuda_fp16.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace upscaled::kernels::cudadetail {

// Shared-memory weights: wpad[ph * kStride + kPad + k] = w[ph][k] for the N taps from
// periodic_first_tap, 0 for the other k in [-kPad, kStride - kPad).
struct MmaWeights {
  static constexpr int kPad = 32, kStride = 96;
};

template <typename S>
struct MmaPlan {
  static constexpr int P = S::P, Q = S::Q, N = S::N;
  __host__ __device__ static constexpr int group_tiles() {
    for (int g = 1; g <= 8; ++g)
      if ((8 * g * Q) % P == 0 && ((8 * g * Q) / P) % 8 == 0) return g;
    return 0;
  }
  static constexpr int G = group_tiles();
  static_assert(G > 0 && S::TW % (8 * G) == 0, "whole groups of 8-output tiles per tile row");
  static constexpr int DG = 8 * G * Q / P;        // window columns per group
  static constexpr int NG = S::TW / (8 * G);      // groups per tile row
  static constexpr int MT = (S::WR + 15) / 16;    // 16-row units per window
  __host__ __device__ static constexpr int first(int ph) { return detail::periodic_first_tap(P, Q, ph); }
  // Window columns (from the group's start) of tile r's first and last tap, for shift sh.
  __host__ __device__ static constexpr int lo(int sh, int r) { return sh + Q * (8 * r / P) + first(8 * r % P); }
  __host__ __device__ static constexpr int hi(int sh, int r) { return sh + Q * ((8 * r + 7) / P) + first((8 * r + 7) % P) + N - 1; }
  __host__ __device__ static constexpr int kb(int sh, int r) { return lo(sh, r) / 8 * 8; }     // first step's column
  __host__ __device__ static constexpr int st(int sh, int r) { return (hi(sh, r) - kb(sh, r)) / 16 + 1; }  // steps
  __host__ __device__ static constexpr int ck0(int sh) { return kb(sh, 0) / 8; }              // first chunk loaded
  __host__ __device__ static constexpr int ck_end(int sh) {
    int e = 0;
    for (int r = 0; r < G; ++r) e = e > (kb(sh, r) + 16 * st(sh, r)) / 8 ? e : (kb(sh, r) + 16 * st(sh, r)) / 8;
    return e;
  }
  __host__ __device__ static constexpr int max_st() {
    int m = 0;
    for (int sh = 0; sh < 8; ++sh)
      for (int r = 0; r < G; ++r) m = m > st(sh, r) ? m : st(sh, r);
    return m;
  }
  // Furthest column read past a window row's WS samples (into the next row, or the zeroed tail).
  __host__ __device__ static constexpr int overrun(int ws) {
    int m = 0;
    for (int sh = 0; sh < 8; ++sh) m = m > DG * (NG - 1) + 8 * ck_end(sh) - ws ? m : DG * (NG - 1) + 8 * ck_end(sh) - ws;
    return m;
  }
  __host__ __device__ static constexpr bool weights_in_pad() {
    for (int sh = 0; sh < 8; ++sh)
      for (int r = 0; r < G; ++r) {
        const int kmin = kb(sh, r) - sh - Q * ((8 * r + 7) / P), kmax = kb(sh, r) + 16 * st(sh, r) - 1 - sh - Q * (8 * r / P);
        if (kmin < -MmaWeights::kPad || kmax >= MmaWeights::kStride - MmaWeights::kPad || first(0) < 0) return false;
      }
    return true;
  }
  static_assert(weights_in_pad(), "every weight index a B fragment takes lies in wpad");
};

__device__ __forceinline__ void ldmatrix_x4(unsigned addr, unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x2(unsigned addr, unsigned& r0, unsigned& r1) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r0), "=r"(r1) : "r"(addr));
}
__device__ __forceinline__ void mma_16816(float (&d)[4], unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0,
                                          unsigned b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ unsigned half2_bits(__half2 h) {
  unsigned u;
  memcpy(&u, &h, 4);
  return u;
}

// w0, w1 (consecutive k) as the hi and lo halves of a B register.
__device__ __forceinline__ void split_pair(float w0, float w1, unsigned& hi, unsigned& lo) {
  const __half2 h = __floats2half2_rn(w0, w1);
  hi = half2_bits(h);
  lo = half2_bits(__floats2half2_rn(w0 - __low2float(h), w1 - __high2float(h)));
}

// Shared memory of the pass: wpad, then the B fragments (G x max_st() x 32 lanes of 16 bytes).
template <typename S>
__host__ __device__ constexpr std::size_t mma_smem_bytes() {
  using M = MmaPlan<S>;
  return static_cast<std::size_t>(S::P) * MmaWeights::kStride * sizeof(float) +
         static_cast<std::size_t>(M::G) * M::max_st() * 32 * sizeof(uint4);
}

// One warp (lane = 0 .. 31): wpad from the weights w[ph][k], then every lane's B fragments for
// shift SH into bfrag[(r max_st() + q) 32 + lane] = {hi, hi, lo, lo} (k = 2 (lane % 4) + {0, 1}
// and + {8, 9} of step q of tile r, output lane / 4). The block's barrier publishes bfrag.
template <int SH, typename S, typename Wt>
__device__ __forceinline__ void mma_fragments(const Wt& w, float* wpad, uint4* bfrag, int lane) {
  using M = MmaPlan<S>;
  constexpr int P = S::P, Q = S::Q, STM = M::max_st();
  for (int i = lane; i < P * MmaWeights::kStride; i += 32) {  // zeros outside the taps
    const int ph = i / MmaWeights::kStride, k = i % MmaWeights::kStride - MmaWeights::kPad;
    if (k < M::first(ph) || k >= M::first(ph) + S::N) wpad[i] = 0.f;
  }
  if (lane == 0) {  // compile-time indices: the weights stay constant-bank operands
#pragma unroll
    for (int ph = 0; ph < P; ++ph)
#pragma unroll
      for (int k = M::first(ph); k < M::first(ph) + S::N; ++k)
        wpad[ph * MmaWeights::kStride + MmaWeights::kPad + k] = w[ph][k];
  }
  __syncwarp();
#pragma unroll
  for (int r = 0; r < M::G; ++r) {
    const int o = 8 * r + lane / 4;
    const float* wl = wpad + (o % P) * MmaWeights::kStride + MmaWeights::kPad - SH - Q * (o / P) + 2 * (lane % 4);
#pragma unroll
    for (int q = 0; q < STM; ++q) {  // STM, not st(SH, r): a constant trip count, so it unrolls
      if (q >= M::st(SH, r)) break;
      const int c = M::kb(SH, r) + 16 * q;
      uint4 f;
      split_pair(wl[c], wl[c + 1], f.x, f.z);
      split_pair(wl[c + 8], wl[c + 9], f.y, f.w);
      bfrag[(r * STM + q) * 32 + lane] = f;
    }
  }
}

template <typename S, typename Wt, int... SH>
__device__ __forceinline__ void mma_fragments_at(int sh, const Wt& w, float* wpad, uint4* bfrag, int lane,
                                                 std::integer_sequence<int, SH...>) {
  ((sh == SH ? mma_fragments<SH, S>(w, wpad, bfrag, lane) : void()), ...);
}

// The horizontal pass (as aligned_horizontal's FMA loop: mid row r, output column c = the sum
// over the phase's taps of w * window sample SH + Q (c / P) + k), by the block's warps; `ws`:
// the window's row stride in samples.
template <int SH, typename S>
__device__ __forceinline__ void mma_horizontal(const uint4* bfrag, const __half* win, float* mid, int ws, int tid) {
  using M = MmaPlan<S>;
  constexpr int G = M::G, STM = M::max_st();
  constexpr int CK0 = M::ck0(SH), NCK = M::ck_end(SH) - CK0;
  const int lane = tid & 31, warp = tid / 32;
  const unsigned win_s = static_cast<unsigned>(__cvta_generic_to_shared(win));
#pragma unroll 1
  for (int unit = warp; unit < M::MT * M::NG; unit += S::kThreads / 32) {
    const int mt = unit % M::MT, gm = unit / M::MT;
    const int row = min(16 * mt + (lane & 7) + (lane & 8), S::WR - 1);  // rows past the window: read, not stored
    const unsigned addr = win_s + 2u * static_cast<unsigned>(row * ws + gm * M::DG + 8 * CK0 + 8 * (lane / 16));
    unsigned a[NCK][2];
#pragma unroll
    for (int c = 0; c + 1 < NCK; c += 2) ldmatrix_x4(addr + 16 * c, a[c][0], a[c][1], a[c + 1][0], a[c + 1][1]);
    if constexpr (NCK % 2 == 1) ldmatrix_x2(addr + 16 * (NCK - 1), a[NCK - 1][0], a[NCK - 1][1]);
    const int r0 = 16 * mt + lane / 4;
#pragma unroll
    for (int r = 0; r < G; ++r) {
      float d[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int q = 0; q < STM; ++q) {
        if (q >= M::st(SH, r)) break;
        const int s = (M::kb(SH, r) + 16 * q) / 8 - CK0;
        const uint4 f = bfrag[(r * STM + q) * 32 + lane];
        mma_16816(d, a[s][0], a[s][1], a[s + 1][0], a[s + 1][1], f.z, f.w);  // lo, then hi
        mma_16816(d, a[s][0], a[s][1], a[s + 1][0], a[s + 1][1], f.x, f.y);
      }
      float* m = mid + 8 * (G * gm + r) + 2 * (lane % 4);
      if (r0 < S::WR) *reinterpret_cast<float2*>(m + r0 * S::MS) = make_float2(d[0], d[1]);
      if (r0 + 8 < S::WR) *reinterpret_cast<float2*>(m + (r0 + 8) * S::MS) = make_float2(d[2], d[3]);
    }
  }
}

}  // namespace upscaled::kernels::cudadetail
