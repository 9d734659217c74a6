// The periodic resize kernel's window fill (the default; UPSCALED_RESIZE_ASYNC_FILL=0 keeps the
// float fill, chosen on the host by launch_periodic), internal to resize_periodic_cuda.cu.
//
// The default fill loads each 4-sample chunk into registers, converts it to float and stores
// it; going down, the profile (docs/kernels.md, twentieth session) had the warps waiting on
// those loads before the conversions, and about 40% of the instructions were the chunks'
// integer index math (row, column, clamp, alignment tests, store predicates) against 18-24%
// FFMA. Here the window keeps the source's own type (float16 windows take half the shared
// memory, so more blocks fit a multiprocessor) and is filled by `cp.async` 16-byte copies,
// global to shared with no register round trip; the samples become float when the horizontal
// pass reads them. cp.async needs the source and the shared address equally aligned, so each
// window row starts at the 16-byte boundary of its source row at or before column wx0: its
// `shift` (0 .. A - 1 samples) is kept per row, and the horizontal pass reads from there.
// A thread copies one fixed column chunk of every RL-th row, so its column work is done once
// per block; only the chunks that reach past either end of the row (where the border is
// replicated) take plain clamped loads, in the same type.
//
// Contract (AsyncWindow, async_fill, read_window): the window of WR rows by WC columns from
// source column wx0 and row wy0 (rows and columns clamped into sw x sh) is WR rows of WS
// samples in shared memory, 16-byte aligned; after async_fill by all kThreads threads and a
// barrier, read_window(row r, o) gives the samples wx0 + o - shift[r] + [0, NS) of row r for
// any o in [shift[r], shift[r] + WC - NS] as floats, exactly (float16 -> float is exact). The
// source rows must be aligned to their sample size (launch_periodic checks).
#pragma once

#include "kernels/cuda_common.cuh"

#include <cstddef>
#include <cstdint>
#include <utility>

namespace upscaled::kernels::cudadetail {

template <typename T, int WR, int WC>
struct AsyncWindow {
  static constexpr int A = 16 / static_cast<int>(sizeof(T));  // samples per 16-byte chunk
  static constexpr int NCH = (WC + 2 * (A - 1)) / A;          // chunks per row: WC samples after a shift
  // Row stride: an odd number of 16-byte slots, so that the horizontal pass's 16-byte loads of
  // consecutive rows by consecutive threads do not conflict.
  static constexpr int WS = A * (NCH % 2 == 0 ? NCH + 1 : NCH);
  static constexpr std::size_t bytes = static_cast<std::size_t>(WR) * WS * sizeof(T);  // a multiple of 16
};

__device__ __forceinline__ void copy16_async(void* smem, const void* gmem) {
#if __CUDA_ARCH__ >= 800
  const unsigned d = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(__cvta_generic_to_global(gmem)) : "memory");
#else  // no cp.async before sm_80: the same copy through registers
  *static_cast<uint4*>(smem) = *static_cast<const uint4*>(gmem);
#endif
}

__device__ __forceinline__ void wait_async_copies() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

// Fills the window (W = AsyncWindow<T, WR, WC>) and, with Shifts, shift[0 .. WR) from the plane
// at `base` with `pitch`; the caller's barrier makes both visible to the block. Callers whose
// rows share one shift (the aligned kernel) pass Shifts = false and no table.
template <typename W, int WR, int Threads, typename T, bool Shifts = true>
__device__ __forceinline__ void async_fill(T* win, int* shift, const T* base, std::ptrdiff_t pitch, int wx0, int wy0,
                                           int sw, int sh, int tid) {
  constexpr int A = W::A, RL = Threads / W::NCH;  // RL: rows filled side by side
  static_assert(RL >= 1, "a row's chunks fit the block");
  const int c = tid % W::NCH, r0 = tid / W::NCH;
  if (r0 < RL) {
#pragma unroll
    for (int k = 0; k < (WR + RL - 1) / RL; ++k) {
      const int r = r0 + k * RL;
      if (r >= WR) break;
      const T* row = row_ptr(base, pitch, clampi(wy0 + r, 0, sh - 1));
      // Samples between the 16-byte boundary at or before column wx0 and wx0 (mod 2^32: only
      // the low 4 bits count).
      const unsigned lead = static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(row)) +
                            static_cast<unsigned>(wx0) * static_cast<unsigned>(sizeof(T));
      const int s = static_cast<int>((lead & 15u) / sizeof(T));
      if (Shifts && c == 0) shift[r] = s;
      const int gc = wx0 - s + A * c;
      T* out = win + r * W::WS + A * c;
      if (gc >= 0 && gc + A <= sw) {
        copy16_async(out, row + gc);
      } else {
#pragma unroll
        for (int e = 0; e < A; ++e) out[e] = row[clampi(gc + e, 0, sw - 1)];
      }
    }
  }
  wait_async_copies();
}

__device__ __forceinline__ unsigned word_of(const uint4* raw, int i) {
  const uint4 q = raw[i / 4];
  return i % 4 == 0 ? q.x : (i % 4 == 1 ? q.y : (i % 4 == 2 ? q.z : q.w));
}
__device__ __forceinline__ float sample_of(const uint4* raw, int e, float) {
  return __uint_as_float(word_of(raw, e));
}
__device__ __forceinline__ float sample_of(const uint4* raw, int e, __half) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(word_of(raw, e / 2) >> (16 * (e % 2)))));
}

// NS samples from sample S of the 16-byte slots at `slot`: the slots that hold them, loaded
// whole; S is a compile-time constant so that taking the samples out is register selection.
template <int S, int NS, typename T>
__device__ __forceinline__ void take_samples(const T* slot, float* v) {
  constexpr int A = 16 / static_cast<int>(sizeof(T)), NV = (S + NS + A - 1) / A;
  uint4 raw[NV];
#pragma unroll
  for (int j = 0; j < NV; ++j) raw[j] = reinterpret_cast<const uint4*>(slot)[j];
#pragma unroll
  for (int k = 0; k < NS; ++k) v[k] = sample_of(raw, S + k, T{});
}

template <int NS, typename T, int... S>
__device__ __forceinline__ void take_at(const T* slot, int s, float* v, std::integer_sequence<int, S...>) {
  ((s == S ? take_samples<S, NS>(slot, v) : void()), ...);
}

// Samples [o, o + NS) of a window row (from its 16-byte aligned start) as floats.
template <int NS, typename T>
__device__ __forceinline__ void read_window(const T* row, int o, float* v) {
  constexpr int A = 16 / static_cast<int>(sizeof(T));
  take_at<NS>(row + (o & ~(A - 1)), o & (A - 1), v, std::make_integer_sequence<int, A>{});
}

}  // namespace upscaled::kernels::cudadetail
