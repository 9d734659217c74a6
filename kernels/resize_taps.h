// Filter tap tables shared by resize_cpu and the CUDA resize plan, so both backends use the
// same weights bit for bit (internal to kernels/).
#pragma once

#include "kernels/resize.h"

#include <vector>

namespace upscaled::kernels::detail {

// For each destination index d: taps at source indices first[d] + k, k in [0, count),
// clamped into [0, src_size) by the user (replicated border); weights sum to 1.
struct Taps {
  int count = 0;
  std::vector<int> first;
  std::vector<float> weights;  // dst_size * count
};

Taps make_taps(int src_size, int dst_size, ResizeFilter f);

// A resize by p / q whose tap tables repeat: destination index d = p m + r takes the
// taps w[r][0 .. kw) at source indices q m + origin + k (replicated border outside the
// source). Every phase's taps are aligned to one window start, the ones that start later
// padded with zero weights in front, so all phases share kw (sums are unchanged: a zero tap
// adds 0 * a finite value). Where make_taps folded taps onto the border the two agree as
// sums (folding is how make_taps spells the replicated border), up to float rounding.
struct PeriodicTaps {
  static constexpr int kMaxPhases = 4, kMaxTaps = 16;
  int p = 0, q = 0;  // p destination samples per q source samples
  int kw = 0;        // taps per phase, after alignment
  int origin = 0;    // window start of phase 0's period m = 0
  float w[kMaxPhases][kMaxTaps] = {};
};

// The periodic form of a resize from (sw, sh) to (dw, dh) with tables h and v, when both
// axes scale by the same factor p / q in {2, 4, 1/2, 3/2} and every tap entry that make_taps did
// not fold matches it bit for bit; false otherwise (other ratios, tiny sizes with no interior
// entry, more taps than kMaxTaps).
bool find_periodic(const Taps& h, const Taps& v, int sw, int sh, int dw, int dh, PeriodicTaps& out);

#ifdef __CUDACC__
#define UPSCALED_TAPS_HD __host__ __device__
#else
#define UPSCALED_TAPS_HD
#endif

// floor(a / b) for b > 0.
UPSCALED_TAPS_HD constexpr int periodic_floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// First tap of phase r of a p / q resize that periodic_taps_fit allows: how far phase r's
// source position, (r + 1/2) q / p - 1/2, lies past phase 0's in whole samples, floored as
// make_taps starts a symmetric filter's taps (x2 up: 0, 1; x4 up: 0, 0, 1, 1; x2 down: 0;
// x1.5 up: 0, 1, 2). The CUDA kernels that compute only those taps use this same rule on the
// device.
UPSCALED_TAPS_HD constexpr int periodic_first_tap(int p, int q, int r) {
  return periodic_floor_div((2 * r + 1) * q - p, 2 * p) - periodic_floor_div(q - p, 2 * p);
}

// Window taps the p phases span together when each computes n: n past the last phase's first.
UPSCALED_TAPS_HD constexpr int periodic_span(int p, int q, int n) {
  return n + periodic_first_tap(p, q, p - 1);
}

// Whether every phase r of t has its nonzero weights in [periodic_first_tap(p, q, r), + n): then only
// those n taps need computing (make_taps pads its tables with zero weights: x2 up takes 2 of
// a phase's 4 aligned taps for bilinear, 6 of 8 for Lanczos-3), with the same sums (the
// others add 0 * a finite value).
bool periodic_taps_fit(const PeriodicTaps& t, int n);

#ifdef __CUDACC__
// One axis of a periodic resize over U periods, as the periodic CUDA kernels' horizontal passes
// compute it (their vertical passes take the same terms in the same order, column by column):
// o[P u + ph] is the sum, from 0 in increasing k, of w[ph][k] * v[Q u + k] over the N taps k
// from periodic_first_tap(P, Q, ph). Inlined with compile-time indices, so w's entries stay
// operands and v's stay registers.
template <int P, int Q, int N, int U, typename Wt>
__host__ __device__ __forceinline__ void periodic_sums(const Wt& w, const float* v, float* o) {
#pragma unroll
  for (int u = 0; u < U; ++u)
#pragma unroll
    for (int ph = 0; ph < P; ++ph) {
      float s = 0.f;
#pragma unroll
      for (int k = periodic_first_tap(P, Q, ph); k < periodic_first_tap(P, Q, ph) + N; ++k)
        s += w[ph][k] * v[Q * u + k];
      o[P * u + ph] = s;
    }
}
#endif

}  // namespace upscaled::kernels::detail
