// The periodic resize kernel (contract in resize_periodic_cuda.cuh).
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
#include "kernels/cuda_modules.h"
#include "kernels/resize_periodic_cuda.cuh"

#include "kernels/resize_periodic_aligned.cuh"
#include "kernels/resize_periodic_fill.cuh"
#include "kernels/resize_sliding_cuda.cuh"

#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

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

// Two outputs at p[0], p[1]: one 8/4-byte store when `pair` (both inside the row and the
// address aligned, decided once per thread), else p[1] only when `second`.
__device__ __forceinline__ void store2(float* p, bool pair, bool second, float a, float b) {
  if (pair) {
    *reinterpret_cast<float2*>(p) = make_float2(a, b);
    return;
  }
  p[0] = a;
  if (second) p[1] = b;
}
__device__ __forceinline__ void store2(__half* p, bool pair, bool second, float a, float b) {
  if (pair) {
    *reinterpret_cast<unsigned*>(p) = pack_half2(a, b);
    return;
  }
  p[0] = __float2half_rn(a);
  if (second) p[1] = __float2half_rn(b);
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
  const bool second = x + 1 < a.dw;
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
      if (yb + P * u + ph < a.dh) store2(out, pair, second, sx, sy);
      out = reinterpret_cast<T*>(reinterpret_cast<std::uint8_t*>(out) + pitch);
    }
}

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
