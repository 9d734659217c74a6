// find_periodic (resize_taps.h): recognises the integer-ratio resizes whose tap tables
// repeat, for the CUDA backend's periodic kernel (resize_periodic_cuda.cu). Host code only,
// so CPU tests check it in every build.
#include "kernels/resize_taps.h"

#include <algorithm>
#include <cstring>

namespace upscaled::kernels::detail {
namespace {

struct Axis {
  int c[PeriodicTaps::kMaxPhases] = {};  // window start of phase r at period 0
  const float* w[PeriodicTaps::kMaxPhases] = {};
};

// The phases of one axis from an interior period, then every unfolded entry checked
// against them.
bool periodic_axis(const Taps& t, int src, int dst, int p, int q, Axis& a) {
  const int periods = dst / p;
  const int m = periods / 2;
  for (int r = 0; r < p; ++r) {
    const int d = p * m + r;
    a.c[r] = t.first[d] - q * m;
    a.w[r] = t.weights.data() + static_cast<std::size_t>(d) * t.count;
    if (a.c[r] + q * m < 0 || a.c[r] + q * m + t.count > src) return false;  // no interior entry
  }
  for (int d = 0; d < dst; ++d) {
    const int mm = d / p, r = d % p;
    const int f = q * mm + a.c[r];
    if (f < 0 || f + t.count > src) continue;  // folded by make_taps: a replicated border
    if (t.first[d] != f ||
        std::memcmp(t.weights.data() + static_cast<std::size_t>(d) * t.count, a.w[r], sizeof(float) * t.count) != 0)
      return false;
  }
  return true;
}

}  // namespace

bool find_periodic(const Taps& h, const Taps& v, int sw, int sh, int dw, int dh, PeriodicTaps& out) {
  static constexpr int kRatios[][2] = {{2, 1}, {4, 1}, {1, 2}, {3, 2}};
  int p = 0, q = 0;
  for (const auto& pq : kRatios)
    if (static_cast<long>(dw) * pq[1] == static_cast<long>(sw) * pq[0] &&
        static_cast<long>(dh) * pq[1] == static_cast<long>(sh) * pq[0])
      p = pq[0], q = pq[1];
  if (p == 0 || h.count != v.count || dw < 2 * p || dh < 2 * p) return false;
  Axis ah, av;
  if (!periodic_axis(h, sw, dw, p, q, ah) || !periodic_axis(v, sh, dh, p, q, av)) return false;
  int lo = ah.c[0], hi = ah.c[0];
  for (int r = 0; r < p; ++r) {
    // One weight table serves both axes.
    if (ah.c[r] != av.c[r] || std::memcmp(ah.w[r], av.w[r], sizeof(float) * h.count) != 0) return false;
    lo = std::min(lo, ah.c[r]);
    hi = std::max(hi, ah.c[r]);
  }
  PeriodicTaps t;
  t.p = p;
  t.q = q;
  t.origin = lo;
  t.kw = h.count + hi - lo;
  if (t.kw > PeriodicTaps::kMaxTaps) return false;
  for (int r = 0; r < p; ++r)
    for (int k = 0; k < h.count; ++k) t.w[r][ah.c[r] - lo + k] = ah.w[r][k];
  out = t;
  return true;
}

bool periodic_taps_fit(const PeriodicTaps& t, int n) {
  if (t.p < 1 || t.p > PeriodicTaps::kMaxPhases) return false;
  for (int r = 0; r < t.p; ++r) {
    const int first = periodic_first_tap(t.p, t.q, r);
    if (first + n > PeriodicTaps::kMaxTaps) return false;
    for (int k = 0; k < PeriodicTaps::kMaxTaps; ++k)
      if ((k < first || k >= first + n) && t.w[r][k] != 0.f) return false;
  }
  return true;
}

}  // namespace upscaled::kernels::detail
