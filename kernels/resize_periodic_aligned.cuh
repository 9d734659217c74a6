// The periodic resize kernel for planes whose rows all sit alike against 16 bytes (every
// source pitch a multiple of 16 bytes), internal to resize_periodic_cuda.cu, which launches it
// under the contract of resize_periodic_cuda.cuh and keeps its first kernel for other planes.
//
// Why a second kernel: the first (resize_periodic_first.cuh) executed 157 instructions per output
// for Lanczos x2 down at 3840x2160 (ncu, twenty-second session: 30.5 million warp instructions
// at 86% issue), in small items (4 outputs per window row, 2 x 2 outputs in the vertical pass)
// whose window reads take each row's shift at run time (read_window picks among 8 register
// layouts per item), and a window fill with clamps and index arithmetic per 16-byte chunk.
// When the source pitch is a multiple of 16 bytes, every window row of a block starts the same
// number of samples (`SH`) before the tile's first source column, so the block picks a
// horizontal pass compiled for that shift: whole 16-byte shared-memory loads, samples taken
// out by register selection. Items are larger (8 periods per window row; 2 (down) or 4 (up)
// columns by 4 or 8 output rows in the vertical pass), so loads, conversions and index work
// are shared by more FMAs; tiles whose window lies inside the plane are filled by a pointer
// walk (fill_inside). The sums are the first kernel's, term for term (same weights, same
// order, float between the passes), so the two give identical values.
//
// Contract of resize_periodic_aligned: as launch_periodic's (resize_periodic_cuda.cuh), on the
// caller's stream; grid (tiles across, tiles down, planes) of S::kThreads threads with
// aligned_smem_bytes<S, T>() of dynamic shared memory; every src pitch a multiple of 16 bytes
// and every src row aligned to the sample size; vec_dst: every dst base and pitch a multiple
// of 4 samples.
#pragma once

#include "kernels/resize_periodic_fill.cuh"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace upscaled::kernels::cudadetail {

// Tile of the aligned kernel for ratio P / Q with N computed taps per phase (KW window taps),
// and the blocks per multiprocessor it is compiled for (MB: its register bound), as measured
// on the H200 at 3840x2160 float16 (docs/kernels.md, twenty-second and twenty-third sessions):
// - down: Lanczos 64x32 tiles at 4 blocks (60 registers; 16 rows: 46.5-48.0% of the copy
//   rate, 32 rows: 53.6-54.1%, 128x24: 50.5-50.8% against 54.7-56.0%; 5 blocks at 48
//   registers spilled 8 bytes and ran at 53.0-54.6% against 55.6-57.9%); bicubic and bilinear
//   64x28 at 6 blocks (40 registers, no spills; bicubic 61.5-63.4% against 57.5-60.2% on
//   64x16, bilinear 68.9-70.7% against 68.4-69.9% on 128x16 and 60.2-62.3% on the
//   register-window kernel);
// - x2 up: 128x128 tiles at 4 blocks (Lanczos 63.0-64.8% against 57.2-58.5% at 64 columns and
//   60.5-62.8% at 128x112, bicubic 68.1-70.3% against 65.5-67.1% at 128x120 and the
//   register-window kernel's 65.5-68.0%; the 6-block bound spilled and ran at 22%); x4 up
//   keeps 64x128 (not measured wider);
// - x1.5 up: 96x120 (whole items of 24 columns and 6 rows; 2160 = 18 tiles); 48 columns ran
//   4-8 points slower.
template <int P_, int Q_, int N_>
struct AlignedShape {
  static constexpr int kThreads = 256;
  static constexpr int P = P_, Q = Q_, N = N_;
  static constexpr int KW = detail::periodic_span(P, Q, N);
  __host__ __device__ static constexpr int first(int ph) { return detail::periodic_first_tap(P, Q, ph); }
  static constexpr int UH = 8;                   // periods per horizontal item (Q UH source columns:
                                                 // a whole number of 16-byte chunks, so SH stays the offset)
  static constexpr int NH = P * UH;              // outputs per horizontal item
  static constexpr int NSH = Q * (UH - 1) + KW;  // window samples per horizontal item
  static constexpr int TW = P == 3 ? 96 : (P == 2 ? 128 : 64);  // output columns per tile
  static constexpr int GH = TW / NH;                            // horizontal items per window row
  static constexpr int VC = P == 1 ? 2 : 4;                     // columns per vertical item (x2 down: 18 mid
                                                                // rows of 4 took more than 64 registers)
  static constexpr int UV = P == 1 ? 4 : 8 / P;                 // periods per vertical item (x1.5: 2, 6 rows)
  static constexpr int NV = P * UV;                             // output rows per vertical item
  static constexpr int TH = P == 3 ? 120 : (P > 1 ? 128 : (N > 8 ? 32 : 28));  // output rows per tile
  static constexpr int MB = P == 1 && N <= 8 ? 6 : 4;
  static constexpr int GV = TH / NV;             // vertical items per VC columns
  static constexpr int NSV = Q * (UV - 1) + KW;  // mid rows per vertical item
  static constexpr int WR = Q * (TH / P - 1) + KW;
  static constexpr int WC = Q * (TW / P - 1) + KW;
  static constexpr int MS = TW + 4;  // mid row stride in floats: 17 or 25 16-byte slots, an odd number
  static_assert(TW % NH == 0 && TH % NV == 0 && TW % VC == 0 && TW % P == 0 && TH % P == 0, "whole items per tile");
  static_assert((MS / 4) % 2 == 1, "mid rows an odd number of 16-byte slots apart");
};

template <typename S, typename T>
constexpr std::size_t aligned_smem_bytes() {
  using W = AsyncWindow<T, S::WR, S::WC>;
  return W::bytes + static_cast<std::size_t>(S::WR) * S::MS * sizeof(float);
}

// Fills the window of a tile that lies inside the plane (no row or column clamped) from `src`,
// the 16-byte-aligned sample at or before its first column in its first row: one cp.async per
// 16-byte chunk with no index arithmetic but a pointer step (async_fill's clamped work is for
// the tiles at the borders).
template <typename W, int WR, int Threads, typename T>
__device__ __forceinline__ void fill_inside(T* win, const T* src, std::ptrdiff_t pitch, int tid) {
  constexpr int RL = Threads / W::NCH;
  const int c = tid % W::NCH, r0 = tid / W::NCH;
  if (r0 < RL) {
    const std::uint8_t* s = reinterpret_cast<const std::uint8_t*>(row_ptr(src, pitch, r0) + W::A * c);
    T* d = win + r0 * W::WS + W::A * c;
    const std::ptrdiff_t step = RL * pitch;
#pragma unroll
    for (int k = 0; k < (WR + RL - 1) / RL; ++k) {
      if (r0 + k * RL >= WR) break;
      copy16_async(d + k * RL * W::WS, s + k * step);
    }
  }
  wait_async_copies();
}

// Horizontal pass with the window rows' common shift SH known at compile time: item (r, g)
// filters window row r over periods [UH g, UH g + UH) into mid row r.
template <int SH, typename S, typename T, typename Wt>
__device__ __forceinline__ void aligned_horizontal(const Wt& w, const T* win, float* mid, int tid) {
  constexpr int P = S::P, Q = S::Q, N = S::N;
  using W = AsyncWindow<T, S::WR, S::WC>;
  constexpr int A = W::A, NL = (SH + S::NSH + A - 1) / A;  // 16-byte slots per item
  static_assert((Q * S::UH) % A == 0, "items start on a 16-byte slot");
#pragma unroll 1
  for (int i = tid; i < S::WR * S::GH; i += S::kThreads) {
    const int r = i % S::WR, g = i / S::WR;
    const uint4* slot = reinterpret_cast<const uint4*>(win + r * W::WS + Q * S::UH * g);
    uint4 raw[NL];
#pragma unroll
    for (int j = 0; j < NL; ++j) raw[j] = slot[j];
    float v[S::NSH];
#pragma unroll
    for (int k = 0; k < S::NSH; ++k) v[k] = sample_of(raw, SH + k, T{});
    float o[S::NH];
    detail::periodic_sums<P, Q, N, S::UH>(w, v, o);
    float4* m = reinterpret_cast<float4*>(mid + r * S::MS + S::NH * g);
#pragma unroll
    for (int j = 0; j < S::NH / 4; ++j) m[j] = make_float4(o[4 * j], o[4 * j + 1], o[4 * j + 2], o[4 * j + 3]);
  }
}

template <typename S, typename T, typename Wt, int... SH>
__device__ __forceinline__ void aligned_horizontal_at(int sh, const Wt& w, const T* win, float* mid, int tid,
                                                      std::integer_sequence<int, SH...>) {
  ((sh == SH ? aligned_horizontal<SH, S>(w, win, mid, tid) : void()), ...);
}

// Vertical pass: item (c, gv) takes mid columns [VC c, VC c + VC) and writes output rows
// [NV gv, NV gv + NV) of the tile from mid rows Q UV gv + [0, NSV).
template <typename S, typename T, typename Wt>
__device__ __forceinline__ void aligned_vertical(const Wt& w, const float* mid, T* dst, std::ptrdiff_t pitch,
                                                 bool vec_dst, int x0, int y0, int dw, int dh, int tid) {
  constexpr int P = S::P, Q = S::Q, N = S::N;
  constexpr int VC = S::VC, GC = S::TW / VC;
  using Vec = std::conditional_t<VC == 4, float4, float2>;
#pragma unroll 1
  for (int i = tid; i < GC * S::GV; i += S::kThreads) {
    const int c = i % GC, gv = i / GC;
    const int x = x0 + VC * c;
    if (x >= dw) continue;
    float v[S::NSV][VC];
    const float* col = mid + Q * S::UV * gv * S::MS + VC * c;
#pragma unroll
    for (int j = 0; j < S::NSV; ++j) {
      const Vec m = *reinterpret_cast<const Vec*>(col + j * S::MS);
      memcpy(v[j], &m, sizeof m);
    }
    const int yb = y0 + S::NV * gv;
    T* out = row_ptr(dst, pitch, yb) + x;
    const bool vec = vec_dst && x + VC <= dw;
#pragma unroll
    for (int u = 0; u < S::UV; ++u)
#pragma unroll
      for (int ph = 0; ph < P; ++ph) {
        float o[VC] = {};
#pragma unroll
        for (int k = S::first(ph); k < S::first(ph) + N; ++k)
#pragma unroll
          for (int e = 0; e < VC; ++e) o[e] += w[ph][k] * v[Q * u + k][e];
        if (yb + P * u + ph < dh) store_run<VC>(out, vec, dw - x, o);
        out = row_ptr(out, pitch, 1);
      }
  }
}

// The kernel of resize_periodic_aligned.cuh: every source pitch a multiple of 16 bytes, so the
// block's window rows share one shift, worked out here as async_fill does per row.
// T: the source's samples, D: the destination's (float sources into float16 planes for the
// fused frame run; otherwise the same). Args: PeriodicArgs (resize_periodic_first.cuh)
// (sizes, origin, weights w[phase][tap]).
template <typename S, typename T, typename D, typename Args>
__global__ void __launch_bounds__(S::kThreads, S::MB)
    resize_periodic_aligned(Args a, Planes3<const T> src, Planes3<D> dst, bool vec_dst) {
  constexpr int P = S::P, Q = S::Q;
  using W = AsyncWindow<T, S::WR, S::WC>;
  extern __shared__ float4 smem4[];
  T* win = reinterpret_cast<T*>(smem4);
  float* mid = reinterpret_cast<float*>(reinterpret_cast<std::uint8_t*>(smem4) + W::bytes);
  const int tid = threadIdx.x, z = blockIdx.z;
  const int x0 = blockIdx.x * S::TW, y0 = blockIdx.y * S::TH;
  const int wx0 = Q * (x0 / P) + a.origin, wy0 = Q * (y0 / P) + a.origin;
  // Selects, not src.p[z]: indexing the parameter by a run-time z copies it to the stack, which
  // made this kernel 1.5-2x slower (twenty-second session, run 4).
  const T* base = z == 0 ? src.p[0] : (z == 1 ? src.p[1] : src.p[2]);
  const std::ptrdiff_t pitch = z == 0 ? src.pitch[0] : (z == 1 ? src.pitch[1] : src.pitch[2]);
  const unsigned lead = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(base)) +
                        static_cast<unsigned>(wx0) * static_cast<unsigned>(sizeof(T));
  const int sh = static_cast<int>((lead & 15u) / sizeof(T));
  const int c0 = wx0 - sh;
  if (c0 >= 0 && c0 + W::NCH * W::A <= a.sw && wy0 >= 0 && wy0 + S::WR <= a.sh)
    fill_inside<W, S::WR, S::kThreads>(win, row_ptr(base, pitch, wy0) + c0, pitch, tid);
  else
    async_fill<W, S::WR, S::kThreads, T, false>(win, nullptr, base, pitch, wx0, wy0, a.sw, a.sh, tid);
  __syncthreads();
  aligned_horizontal_at<S>(sh, a.w, win, mid, tid, std::make_integer_sequence<int, W::A>{});
  __syncthreads();
  D* out = z == 0 ? dst.p[0] : (z == 1 ? dst.p[1] : dst.p[2]);
  const std::ptrdiff_t dpitch = z == 0 ? dst.pitch[0] : (z == 1 ? dst.pitch[1] : dst.pitch[2]);
  aligned_vertical<S>(a.w, mid, out, dpitch, vec_dst, x0, y0, a.dw, a.dh, tid);
}

}  // namespace upscaled::kernels::cudadetail
