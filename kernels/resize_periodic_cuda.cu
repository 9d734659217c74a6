// The periodic resize kernels (contract in resize_periodic_cuda.cuh): the first kernel
// (resize_periodic_first.cuh), the aligned one (resize_periodic_aligned.cuh) and the
// register-window one (resize_sliding_cuda.cuh), the kernel choice and their launches.
#include "kernels/cuda_modules.h"
#include "kernels/resize_periodic_cuda.cuh"

#include "kernels/resize_periodic_aligned.cuh"
#include "kernels/resize_periodic_fill.cuh"
#include "kernels/resize_periodic_first.cuh"
#include "kernels/resize_sliding_cuda.cuh"

#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace upscaled::kernels::cudadetail {
namespace {

// Taps per phase that have a kernel, for each ratio: x2 / x4 up 2 (bilinear, area), 4
// (bicubic), 6 (Lanczos-3); x2 down the widened filters' 2 (area), 4, 8, 12. The fewest that
// hold every phase's nonzero weights; 0: none does.
int bucket(const detail::PeriodicTaps& t) {
  static constexpr int kUp[] = {2, 4, 6}, kDown[] = {2, 4, 8, 12};
  const int* const begin = t.p > 1 ? kUp : kDown;
  const int* const end = t.p > 1 ? std::end(kUp) : std::end(kDown);
  for (const int* n = begin; n != end; ++n)
    if (detail::periodic_taps_fit(t, *n)) return *n;
  return 0;
}

// f(P, Q, N) as integral constants for t's ratio and bucket; false when there is none.
template <typename F>
bool dispatch(const detail::PeriodicTaps& t, F&& f) {
  const int kw = bucket(t);
  using std::integral_constant;
  auto ratio = [&](auto p, auto q) { return [&, p, q](auto k) { f(p, q, k); }; };
  using I1 = integral_constant<int, 1>;
  using I2 = integral_constant<int, 2>;
  if (t.p == 2 && t.q == 1) return with_constant<2, 4, 6>(kw, ratio(I2{}, I1{}));
  if (t.p == 4 && t.q == 1) return with_constant<2, 4, 6>(kw, ratio(integral_constant<int, 4>{}, I1{}));
  if (t.p == 1 && t.q == 2) return with_constant<2, 4, 8, 12>(kw, ratio(I1{}, I2{}));
  if (t.p == 3 && t.q == 2) return with_constant<2, 4, 6>(kw, ratio(integral_constant<int, 3>{}, I2{}));
  return false;
}

// Whether the first kernel has a tile for ratio P / Q: its 64-column tiles hold whole
// horizontal items of 4 periods for x2 and x4 up and x2 down, not for x1.5 up (12 outputs),
// which has the aligned kernel only (sources with 16-byte pitches; others take the caller's
// tiled kernel).
template <int P, int Q>
constexpr bool first_kernel_has() {
  return kTileW % (4 * P) == 0;
}

// Above 48 KiB a kernel must opt in.
template <int P, int Q, int N, typename T, bool Async>
void allow_smem() {
  constexpr std::size_t bytes = smem_bytes<P, Q, N, T, Async>();
  if constexpr (bytes > 48 * 1024)
    cuda_check(cudaFuncSetAttribute(resize_periodic<P, Q, N, T, Async>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    static_cast<int>(bytes)),
               "ResizeCuda periodic: shared-memory limit");
}

template <int P, int Q, int N, typename T, typename D = T>
void allow_aligned_smem() {
  using S = AlignedShape<P, Q, N>;
  constexpr std::size_t bytes = aligned_smem_bytes<S, T>();
  if constexpr (bytes > 48 * 1024)
    cuda_check(cudaFuncSetAttribute(resize_periodic_aligned<S, T, D, PeriodicArgs>,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
               "ResizeCuda periodic: shared-memory limit");
}

bool env_off(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "0";
}

// The aligned kernel is the default where it can run: on the H200 at 3840x2160 float16 it took
// bicubic x2 down from 50.5-51.0% of the copy rate to 59.0-60.0%, Lanczos x2 down from 44.4% to
// 53.6-54.1% and Lanczos x2 up from 53.7-53.8% to 58.8-60.3% (docs/benchmarks.md, twenty-second
// session, run 6). UPSCALED_RESIZE_ALIGNED=0 (read once per process) keeps the first kernel
// for plane runs, for comparisons.
bool aligned_chosen() {
  static const bool on = !env_off("UPSCALED_RESIZE_ALIGNED");
  return on;
}

// The cp.async window fill (resize_periodic_fill.cuh) is the default: on the H200 at 3840x2160
// it took bicubic x2 down from 36.8 to 50.2-51.7% of the copy rate, Lanczos x2 down from 31.7 to
// 44.1-45.7% and Lanczos x2 up from 49.2 to 53.2-54.4% (docs/kernels.md, twenty-first session).
// UPSCALED_RESIZE_ASYNC_FILL=0 (read once per process) keeps the float fill, for comparisons.
bool async_fill_chosen() {
  static const bool on = !env_off("UPSCALED_RESIZE_ASYNC_FILL");
  return on;
}

// The async fill's row shifts are whole samples only when every plane's rows are aligned to
// the sample size (any legal view is; the test costs nothing).
template <typename T>
bool rows_sample_aligned(const Planes3<const T>& src, int planes) {
  for (int c = 0; c < planes; ++c)
    if (!aligned_to(src.p[c], sizeof(T)) || src.pitch[c] % static_cast<std::ptrdiff_t>(sizeof(T)) != 0) return false;
  return true;
}

}  // namespace

bool periodic_supported(const detail::PeriodicTaps& t) {
  return sliding_supported(t) || dispatch(t, [](auto, auto, auto) {});
}

void configure_periodic(const detail::PeriodicTaps& t) {
  dispatch(t, [](auto p, auto q, auto n) {
    constexpr int P = decltype(p)::value, Q = decltype(q)::value, N = decltype(n)::value;
    if constexpr (first_kernel_has<P, Q>()) {
      allow_smem<P, Q, N, float, false>();
      allow_smem<P, Q, N, __half, false>();
      allow_smem<P, Q, N, float, true>();
      allow_smem<P, Q, N, __half, true>();
    }
    allow_aligned_smem<P, Q, N, float>();
    allow_aligned_smem<P, Q, N, __half>();
    allow_aligned_smem<P, Q, N, float, __half>();
  });
}

template <typename T, typename D>
bool launch_periodic(const detail::PeriodicTaps& t, const Planes3<const T>& src, const Planes3<D>& dst, int planes,
                     int sw, int sh, int dw, int dh, cudaStream_t stream, bool intermediate) {
  constexpr bool same = std::is_same_v<T, D>;
  // The comparison switches steer plane runs only: mixed types (aligned kernel only) and the
  // frame runs' intermediate take the aligned kernel whenever the register-window one is not
  // the preferred one.
  const bool forced = !same || intermediate;
  const bool async = (async_fill_chosen() || forced) && rows_sample_aligned(src, planes);
  bool aligned = async && (aligned_chosen() || forced), vec_dst = true;
  for (int c = 0; c < planes; ++c) {
    aligned = aligned && src.pitch[c] % 16 == 0;
    vec_dst = vec_dst && aligned_to(dst.p[c], 4 * sizeof(D)) && dst.pitch[c] % (4 * sizeof(D)) == 0;  // VC <= 4
  }
  // The register-window kernel where it is the faster one, or where the aligned kernel cannot run.
  if constexpr (same)
    if (sliding_supported(t) && (sliding_preferred(t) || !aligned)) {
      launch_sliding<T>(t, src, dst, planes, sw, sh, dw, dh, stream);
      return true;
    }
  PeriodicArgs a{sw, sh, dw, dh, t.origin, {}};
  for (int r = 0; r < detail::PeriodicTaps::kMaxPhases; ++r)
    for (int k = 0; k < detail::PeriodicTaps::kMaxTaps; ++k) a.w[r][k] = t.w[r][k];
  if (forced && !aligned)
    throw std::logic_error(
        "ResizeCuda: a periodic run from the frame intermediate or float to half needs source "
        "pitches of 16-byte multiples");
  bool launched = false;
  const bool ok = dispatch(t, [&](auto p, auto q, auto n) {
    constexpr int P = decltype(p)::value, Q = decltype(q)::value, N = decltype(n)::value;
    if (aligned) {
      using S = AlignedShape<P, Q, N>;
      const dim3 grid(div_up(dw, S::TW), div_up(dh, S::TH), static_cast<unsigned>(planes));
      resize_periodic_aligned<S, T, D, PeriodicArgs>
          <<<grid, S::kThreads, aligned_smem_bytes<S, T>(), stream>>>(a, src, dst, vec_dst);
      launched = true;
      return;
    }
    if constexpr (same && first_kernel_has<P, Q>()) {
      launched = true;
      const dim3 grid(div_up(dw, kTileW), div_up(dh, Shape<P, Q, N>::TH), static_cast<unsigned>(planes));
      if (async)
        resize_periodic<P, Q, N, T, true><<<grid, kThreads, smem_bytes<P, Q, N, T, true>(), stream>>>(a, src, dst);
      else
        resize_periodic<P, Q, N, T, false><<<grid, kThreads, smem_bytes<P, Q, N, T, false>(), stream>>>(a, src, dst);
    }
  });
  if (!ok) throw std::logic_error("ResizeCuda: no periodic kernel for this ratio and tap count");
  if (!launched) return false;
  cuda_check_launch("ResizeCuda periodic pass");
  return true;
}

template bool launch_periodic<float, float>(const detail::PeriodicTaps&, const Planes3<const float>&,
                                            const Planes3<float>&, int, int, int, int, int, cudaStream_t, bool);
template bool launch_periodic<__half, __half>(const detail::PeriodicTaps&, const Planes3<const __half>&,
                                              const Planes3<__half>&, int, int, int, int, int, cudaStream_t, bool);
template bool launch_periodic<float, __half>(const detail::PeriodicTaps&, const Planes3<const float>&,
                                             const Planes3<__half>&, int, int, int, int, int, cudaStream_t, bool);

}  // namespace upscaled::kernels::cudadetail

namespace upscaled::kernels::detail {
const void* resize_periodic_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&cudadetail::resize_periodic<2, 1, 2, float, false>);
}
}  // namespace upscaled::kernels::detail
