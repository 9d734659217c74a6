// The register-window resize kernel (contract in resize_sliding_cuda.cuh).
//
// The tile kernel (resize_periodic_first.cuh) goes through shared memory three times per tile
// (source window, horizontal results, vertical pass) with a barrier between each; at
// 3840x2160 it executed about 35 instructions per output sample for Lanczos x2 up, twice
// the arithmetic, and stayed issue-bound below 60% of the copy rate. Here (filters of 2-4
// taps per phase: bilinear, bicubic and area up, bilinear and area down) a thread owns a
// column strip (8 output columns going up, 4 going down) and walks down it: each source row
// it needs is loaded once with a few 8/16-byte loads, filtered horizontally into registers,
// and kept in a window of the last KW filtered rows, from which each output row takes its N
// vertical taps. No shared memory, no barriers; with the row loop unrolled, shifting the
// window is register renaming, and the next row's loads are issued before the current rows'
// arithmetic. The sums are the tile kernel's, term for term (same weights, same order, float
// in between), so the two give the same values.
#include "kernels/cuda_modules.h"
#include "kernels/resize_sliding_cuda.cuh"

#include <stdexcept>

namespace upscaled::kernels::cudadetail {
namespace {

constexpr int kThreads = 64;  // threads per block, side by side along the row

// Measured on the H200 at 3840x2160 (docs/benchmarks.md, float16): 8 output rows per thread
// and 2 source rows in flight beat 16 rows with 1, 2 or 4 in flight for every tap count
// (bilinear x2 up 2199-2240 -> 2397 GB/s, bilinear x2 down 1522-1635 -> 1970 GB/s): more,
// shorter strips keep more warps resident, and a deeper prefetch costs registers. 4 rows was
// no better (bilinear up and down within the noise, bicubic up 2053-2143 -> 1910 GB/s).
constexpr int kRows = 8, kDepth = 2;

template <int P, int Q, int N, typename T, int RO = kRows>
struct Win {
  static constexpr int KW = detail::periodic_span(P, Q, N);  // taps the phases span
  static constexpr int ORG = P > 1 ? -(N / 2) : 1 - N / 2;   // make_taps' window origin for these filters
  static constexpr int OC = P > 1 ? 8 : 4;                   // output columns per thread
  static constexpr int PER = OC / P;                         // periods per thread along the row
  static constexpr int R = RO;                               // output rows per thread
  static constexpr int PR = R / P;                           // periods per thread down the rows
  static constexpr int NS = Q * (PER - 1) + KW;              // source columns per thread
  static constexpr int STEP = Q * PER;                       // source columns between neighbours
  static constexpr int CE = STEP < 16 / static_cast<int>(sizeof(T)) ? STEP : 16 / static_cast<int>(sizeof(T));
  static constexpr int C0 = detail::periodic_floor_div(ORG, CE);  // first chunk, relative to the strip
  static constexpr int NC = detail::periodic_floor_div(ORG + NS - 1, CE) - C0 + 1;  // chunks per source row
  static constexpr int SKIP = ORG - C0 * CE;                                        // first used element of the chunks
  static constexpr int ROWS = KW + Q * (PR - 1);                                    // source rows per thread
  static constexpr int CW = CE * static_cast<int>(sizeof(T)) / 4;                   // 32-bit words per chunk
  __host__ __device__ static constexpr int first(int ph) { return detail::periodic_first_tap(P, Q, ph); }
  static_assert(STEP % CE == 0 && CW >= 1 && CW <= 4, "chunks aligned with the strips");
};

struct SlidingArgs {
  int sw, sh, dw, dh;
  bool vec_src, vec_dst;  // 16-byte aligned bases and pitches
  float w[detail::PeriodicTaps::kMaxPhases][detail::PeriodicTaps::kMaxTaps];
};

__device__ __forceinline__ float word_elem(const unsigned* w, int e, float) {
  return __uint_as_float(w[e]);
}
__device__ __forceinline__ float word_elem(const unsigned* w, int e, __half) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(w[e / 2] >> (16 * (e % 2)))));
}
__device__ __forceinline__ unsigned elem_bits(float v) {
  return __float_as_uint(v);
}
__device__ __forceinline__ unsigned elem_bits(__half v) {
  return __half_as_ushort(v);
}

// One source row's chunks as raw words, loaded before they are used (the row after the one
// being filtered is in flight while the current rows' arithmetic runs).
template <typename W>
struct RawRow {
  unsigned w[W::NC * W::CW];
};

template <typename W, typename T>
__device__ __forceinline__ RawRow<W> load_row(const T* row, int s0, int sw, bool fast) {
  RawRow<W> r;
  if (fast) {
#pragma unroll
    for (int c = 0; c < W::NC; ++c) {
      const T* p = row + s0 + c * W::CE;
      if constexpr (W::CW == 4) {
        const uint4 q = *reinterpret_cast<const uint4*>(p);
        r.w[4 * c] = q.x, r.w[4 * c + 1] = q.y, r.w[4 * c + 2] = q.z, r.w[4 * c + 3] = q.w;
      } else if constexpr (W::CW == 2) {
        const uint2 q = *reinterpret_cast<const uint2*>(p);
        r.w[2 * c] = q.x, r.w[2 * c + 1] = q.y;
      } else {
        r.w[c] = *reinterpret_cast<const unsigned*>(p);
      }
    }
    return r;
  }
  // Border strips: each element clamped into the row (the replicated border), same layout.
  constexpr int per = 4 / static_cast<int>(sizeof(T));
#pragma unroll
  for (int i = 0; i < W::NC * W::CW; ++i) {
    unsigned v = 0;
#pragma unroll
    for (int e = 0; e < per; ++e) v |= elem_bits(row[clampi(s0 + per * i + e, 0, sw - 1)]) << (32 / per * e);
    r.w[i] = v;
  }
  return r;
}

// Horizontal pass of one source row: the thread's OC outputs, phase by phase, in the tile
// kernel's order.
template <int P, int Q, int N, typename T, typename W>
__device__ __forceinline__ void filter_row(const SlidingArgs& a, const RawRow<W>& r, float out[W::OC]) {
  float v[W::NS];
#pragma unroll
  for (int j = 0; j < W::NS; ++j) v[j] = word_elem(r.w, W::SKIP + j, T{});
  detail::periodic_sums<P, Q, N, W::PER>(a.w, v, out);
}

template <typename W>
__device__ __forceinline__ void store_strip(float* row, int x0, int dw, bool vec, const float o[W::OC]) {
  if (vec && x0 + W::OC <= dw) {
#pragma unroll
    for (int i = 0; i < W::OC / 4; ++i)
      reinterpret_cast<float4*>(row + x0)[i] = make_float4(o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]);
    return;
  }
#pragma unroll
  for (int i = 0; i < W::OC; ++i)
    if (x0 + i < dw) row[x0 + i] = o[i];
}
template <typename W>
__device__ __forceinline__ void store_strip(__half* row, int x0, int dw, bool vec, const float o[W::OC]) {
  if (vec && x0 + W::OC <= dw) {
    if constexpr (W::OC == 8)
      *reinterpret_cast<uint4*>(row + x0) =
          make_uint4(pack_half2(o[0], o[1]), pack_half2(o[2], o[3]), pack_half2(o[4], o[5]), pack_half2(o[6], o[7]));
    else
      *reinterpret_cast<uint2*>(row + x0) = make_uint2(pack_half2(o[0], o[1]), pack_half2(o[2], o[3]));
    return;
  }
#pragma unroll
  for (int i = 0; i < W::OC; ++i)
    if (x0 + i < dw) row[x0 + i] = __float2half_rn(o[i]);
}

// D: source rows in flight ahead of the one being filtered. A thread's rows follow one
// another, so with D = 1 each row's load latency is hidden only by one row's arithmetic.
template <int P, int Q, int N, int D, typename T, int RO = kRows>
__global__ void __launch_bounds__(kThreads) resize_sliding(SlidingArgs a, Planes3<const T> src, Planes3<T> dst) {
  using W = Win<P, Q, N, T, RO>;
  constexpr int PRE = W::KW - Q;  // rows filtered before the first period's
  const int tx = blockIdx.x * kThreads + threadIdx.x, z = blockIdx.z;
  const int x0 = W::OC * tx;
  if (x0 >= a.dw) return;
  const int y0 = blockIdx.y * W::R;
  const int s0 = W::STEP * tx + W::C0 * W::CE;  // source column of the first chunk
  const bool fast = a.vec_src && s0 >= 0 && s0 + W::NC * W::CE <= a.sw;
  const int r0 = Q * (y0 / P) + W::ORG;  // source row of window row 0
  auto src_row = [&](int i) { return src.row_dyn(z, clampi(r0 + i, 0, a.sh - 1)); };
  const std::ptrdiff_t pitch = z == 0 ? dst.pitch[0] : (z == 1 ? dst.pitch[1] : dst.pitch[2]);
  T* out = dst.row_dyn(z, y0);

  float win[W::KW][W::OC];  // filtered rows r0 + n Q + k, k < KW, for the current period n
  RawRow<W> ahead[D];       // rows i + 1 .. i + D, loaded
#pragma unroll
  for (int d = 0; d < D; ++d)
    if (d < W::ROWS) ahead[d] = load_row<W>(src_row(d), s0, a.sw, fast);
#pragma unroll
  for (int i = 0; i < W::ROWS; ++i) {
    const RawRow<W> cur = ahead[0];
#pragma unroll
    for (int d = 0; d + 1 < D; ++d) ahead[d] = ahead[d + 1];
    if (i + D < W::ROWS) ahead[D - 1] = load_row<W>(src_row(i + D), s0, a.sw, fast);
    const int slot = i < PRE ? i : PRE + (i - PRE) % Q;
    filter_row<P, Q, N, T, W>(a, cur, win[slot]);
    if (i < PRE || (i - PRE) % Q != Q - 1) continue;
    const int n = (i - PRE) / Q;  // period complete: its P output rows
#pragma unroll
    for (int ph = 0; ph < P; ++ph) {
      float o[W::OC];
#pragma unroll
      for (int c = 0; c < W::OC; ++c) {
        float s = 0.f;
#pragma unroll
        for (int k = W::first(ph); k < W::first(ph) + N; ++k) s += a.w[ph][k] * win[k][c];
        o[c] = s;
      }
      if (y0 + P * n + ph < a.dh) store_strip<W>(out, x0, a.dw, a.vec_dst, o);
      out = reinterpret_cast<T*>(reinterpret_cast<std::uint8_t*>(out) + pitch);
    }
#pragma unroll
    for (int k = 0; k < PRE; ++k)
#pragma unroll
      for (int c = 0; c < W::OC; ++c) win[k][c] = win[k + Q][c];
  }
}

// Taps per phase with a kernel: x2 up 2 (bilinear, area) and 4 (bicubic); x2 down 2 (area)
// and 4 (bilinear): the fewest that hold t's weights, if its origin is the one the kernel
// assumes for that count; 0 otherwise. Longer filters (Lanczos-3 both ways, bicubic down)
// stay on the tile kernel: with 6-12 taps the window takes 86-130 registers, too few warps
// stay resident to hide the row-after-row loads, and the tile kernel measured faster
// (Lanczos x2 up 1572 against 1292-1335 GB/s, x2 down 1003 against 598-806 GB/s; bicubic
// down even, 1182 against 1170-1199).
int sliding_taps(const detail::PeriodicTaps& t) {
  if (t.p == 2 && t.q == 1) {
    for (int n : {2, 4})
      if (detail::periodic_taps_fit(t, n)) return t.origin == -(n / 2) ? n : 0;
  } else if (t.p == 1 && t.q == 2) {
    for (int n : {2, 4})
      if (detail::periodic_taps_fit(t, n)) return t.origin == 1 - n / 2 ? n : 0;
  }
  return 0;
}

template <typename F>
bool dispatch(const detail::PeriodicTaps& t, F&& f) {
  using std::integral_constant;
  const int n = sliding_taps(t);
  if (t.p == 2)
    return with_constant<2, 4>(n, [&](auto k) { f(integral_constant<int, 2>{}, integral_constant<int, 1>{}, k); });
  return with_constant<2, 4>(n, [&](auto k) { f(integral_constant<int, 1>{}, integral_constant<int, 2>{}, k); });
}

}  // namespace

bool sliding_supported(const detail::PeriodicTaps& t) {
  return sliding_taps(t) != 0;
}

bool sliding_preferred(const detail::PeriodicTaps& t) {
  return sliding_taps(t) == 2;
}

template <typename T>
void launch_sliding(const detail::PeriodicTaps& t, const Planes3<const T>& src, const Planes3<T>& dst, int planes,
                    int sw, int sh, int dw, int dh, cudaStream_t stream) {
  SlidingArgs a{sw, sh, dw, dh, true, true, {}};
  for (int c = 0; c < planes; ++c) {
    a.vec_src = a.vec_src && aligned16(src.p[c], src.pitch[c]);
    a.vec_dst = a.vec_dst && aligned16(dst.p[c], dst.pitch[c]);
  }
  for (int r = 0; r < detail::PeriodicTaps::kMaxPhases; ++r)
    for (int k = 0; k < detail::PeriodicTaps::kMaxTaps; ++k) a.w[r][k] = t.w[r][k];
  const bool ok = dispatch(t, [&](auto p, auto q, auto n) {
    constexpr int P = decltype(p)::value, Q = decltype(q)::value, N = decltype(n)::value;
    using W = Win<P, Q, N, T>;
    const dim3 grid(div_up(div_up(dw, W::OC), kThreads), div_up(dh, W::R), static_cast<unsigned>(planes));
    resize_sliding<P, Q, N, kDepth, T><<<grid, kThreads, 0, stream>>>(a, src, dst);
  });
  if (!ok) throw std::logic_error("ResizeCuda: no register-window kernel for this ratio and tap count");
  cuda_check_launch("ResizeCuda register-window pass");
}

template void launch_sliding<float>(const detail::PeriodicTaps&, const Planes3<const float>&, const Planes3<float>&,
                                    int, int, int, int, int, cudaStream_t);
template void launch_sliding<__half>(const detail::PeriodicTaps&, const Planes3<const __half>&, const Planes3<__half>&,
                                     int, int, int, int, int, cudaStream_t);

}  // namespace upscaled::kernels::cudadetail

namespace upscaled::kernels::detail {
const void* resize_sliding_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&cudadetail::resize_sliding<2, 1, 2, cudadetail::kDepth, float>);
}
}  // namespace upscaled::kernels::detail
