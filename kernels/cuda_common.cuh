// Device-side helpers shared by the *_cuda.cu files (internal to kernels/).
#pragma once

#include "kernels/color_math.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "kernels/image_view.h"

#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace upscaled::kernels::cudadetail {

// Host Half <-> device __half (same 16 bits).
template <typename T>
struct DeviceType {
  using type = T;
};
template <>
struct DeviceType<Half> {
  using type = __half;
};
template <>
struct DeviceType<const Half> {
  using type = const __half;
};

// Host-callable too (UPSCALED_HD), so that the per-thread bodies below can be checked on the
// host against the CPU twins without a GPU.
UPSCALED_HD float to_f(float v) {
  return v;
}
UPSCALED_HD float to_f(__half v) {
  return __half2float(v);
}
template <typename T>
UPSCALED_HD T from_f(float v);
template <>
UPSCALED_HD float from_f<float>(float v) {
  return v;
}
template <>
UPSCALED_HD __half from_f<__half>(float v) {
  return __float2half_rn(v);
}

// Three planes with pitches, passed to kernels by value.
template <typename T>
struct Planes3 {
  T* p[3];
  std::ptrdiff_t pitch[3];
  UPSCALED_HD T* row(int c, int y) const {
    using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
    return reinterpret_cast<T*>(reinterpret_cast<Byte*>(p[c]) + y * pitch[c]);
  }
  // Row y of plane c for a plane index known only at run time: selects instead of an
  // indexed access, which would copy the kernel parameter to local memory.
  UPSCALED_HD T* row_dyn(int c, int y) const {
    using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
    T* base = c == 0 ? p[0] : (c == 1 ? p[1] : p[2]);
    const std::ptrdiff_t pt = c == 0 ? pitch[0] : (c == 1 ? pitch[1] : pitch[2]);
    return reinterpret_cast<T*>(reinterpret_cast<Byte*>(base) + y * pt);
  }
};

template <typename Dev, typename Host>
Planes3<Dev> planes3(const RgbPlanes<Host>& rgb) {
  return {{reinterpret_cast<Dev*>(rgb.r.data), reinterpret_cast<Dev*>(rgb.g.data), reinterpret_cast<Dev*>(rgb.b.data)},
          {rgb.r.pitch, rgb.g.pitch, rgb.b.pitch}};
}

template <typename T>
UPSCALED_HD T* row_ptr(T* base, std::ptrdiff_t pitch, int y) {
  using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
  return reinterpret_cast<T*>(reinterpret_cast<Byte*>(base) + y * pitch);
}

inline unsigned div_up(int a, int b) {
  return static_cast<unsigned>((a + b - 1) / b);
}

// ---- Exact conversions on the fast arithmetic pipes (int <-> float conversion instructions
// run at a quarter of the FMA rate on sm_90). Host: the plain casts, same values.

// u < 2^23 as float: the bits of 2^23 + u, minus 2^23 (exact).
UPSCALED_HD float u2f(unsigned u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(0x4b000000u | u) - 8388608.f;
#else
  return static_cast<float>(u);
#endif
}

// Byte i (0..3) of w as float: one byte permute builds the bits of 2^23 + byte (instead of a
// shift, a mask and an or), then the same exact subtraction as u2f.
UPSCALED_HD float byte_to_float(unsigned w, int i) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(__byte_perm(w, 0x4b000000u, 0x7540u | static_cast<unsigned>(i))) - 8388608.f;
#else
  return static_cast<float>((w >> (8 * i)) & 0xffu);
#endif
}

// detail::clamp01 for finite values; on the device a saturating modifier, which the compiler
// folds into the instruction that produced v (an FMA's .SAT) instead of two extra ones.
UPSCALED_HD float saturate01(float v) {
#ifdef __CUDA_ARCH__
  return __saturatef(v);
#else
  return detail::clamp01(v);
#endif
}

// detail::quantise for finite codes: floor(clamp(code + t, 0, max_code)), the floor taken by
// an add rounding down onto the integer grid of [2^23, 2^24) (exact for values below 2^23).
UPSCALED_HD int quantise_fast(float code, float t, float max_code) {
#ifdef __CUDA_ARCH__
  float v = code + t;
  v = v < 0.f ? 0.f : (v > max_code ? max_code : v);
  return __float_as_int(__fadd_rd(v, 8388608.f)) - 0x4b000000;
#else
  return detail::quantise(code, t, max_code);
#endif
}

// ---- Wide memory accesses. Every vector access is guarded by an alignment test of its
// actual address (views may have any pitch: odd pitches and sub-rectangles are legal), and
// callers fall back to scalar accesses when it fails or when a row ends inside the vector.

UPSCALED_HD bool aligned_to(const void* p, unsigned bytes) {
  return (reinterpret_cast<std::uintptr_t>(p) & (bytes - 1)) == 0;
}

UPSCALED_HD int clampi(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// 8 consecutive samples starting at p (8- or 16-byte aligned), each shifted right by `shift`.
UPSCALED_HD void load8_aligned(const std::uint8_t* p, int /*shift*/, float out[8]) {
  const uint2 v = *reinterpret_cast<const uint2*>(p);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    out[i] = u2f((v.x >> (8 * i)) & 0xffu);
    out[4 + i] = u2f((v.y >> (8 * i)) & 0xffu);
  }
}
UPSCALED_HD void load8_aligned(const std::uint16_t* p, int shift, float out[8]) {
  const uint4 v = *reinterpret_cast<const uint4*>(p);
  const unsigned w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = u2f((w[i] & 0xffffu) >> shift);
    out[2 * i + 1] = u2f((w[i] >> 16) >> shift);
  }
}

// Samples x0 .. x0 + 7 of a row of `width` samples, indices clamped into the row.
template <typename S>
UPSCALED_HD void load8_clamped(const S* row, int x0, int width, int shift, float out[8]) {
  if (x0 + 8 <= width && aligned_to(row + x0, 8 * sizeof(S))) {
    load8_aligned(row + x0, shift, out);
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) out[i] = u2f(row[x0 + i < width ? x0 + i : width - 1] >> shift);
}

// 8 values of planar RGB (float or __half) starting at x0 of a row of `width`, clamped.
UPSCALED_HD void load8_clamped(const float* row, int x0, int width, int /*shift*/, float out[8]) {
  if (x0 + 8 <= width && aligned_to(row + x0, 16)) {
    const float4 a = *reinterpret_cast<const float4*>(row + x0);
    const float4 b = *reinterpret_cast<const float4*>(row + x0 + 4);
    out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w;
    out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) out[i] = row[x0 + i < width ? x0 + i : width - 1];
}
UPSCALED_HD void load8_clamped(const __half* row, int x0, int width, int /*shift*/, float out[8]) {
  if (x0 + 8 <= width && aligned_to(row + x0, 16)) {
    const uint4 v = *reinterpret_cast<const uint4*>(row + x0);
    const unsigned w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      __half2 h;
      static_assert(sizeof(h) == 4);
      memcpy(&h, &w[i], 4);
      out[2 * i] = __low2float(h);
      out[2 * i + 1] = __high2float(h);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) out[i] = __half2float(row[x0 + i < width ? x0 + i : width - 1]);
}

// Stores v[0..8) at row[x0 ..] (only the samples inside [0, width)), as float or rounded
// to float16 (round to nearest even, as from_f). vec: row + x0 is 16-byte aligned (kernels
// that checked their planes' bases and pitches on the host pass that result).
UPSCALED_HD void store8(float* row, int x0, int width, bool vec, const float v[8]) {
  if (vec && x0 + 8 <= width) {
    *reinterpret_cast<float4*>(row + x0) = make_float4(v[0], v[1], v[2], v[3]);
    *reinterpret_cast<float4*>(row + x0 + 4) = make_float4(v[4], v[5], v[6], v[7]);
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i)
    if (x0 + i < width) row[x0 + i] = v[i];
}
UPSCALED_HD unsigned pack_half2(float a, float b) {
  const __half2 h = __floats2half2_rn(a, b);
  unsigned u;
  memcpy(&u, &h, 4);
  return u;
}
UPSCALED_HD void store8(__half* row, int x0, int width, bool vec, const float v[8]) {
  if (vec && x0 + 8 <= width) {
    *reinterpret_cast<uint4*>(row + x0) =
        make_uint4(pack_half2(v[0], v[1]), pack_half2(v[2], v[3]), pack_half2(v[4], v[5]), pack_half2(v[6], v[7]));
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i)
    if (x0 + i < width) row[x0 + i] = __float2half_rn(v[i]);
}
// VC (2 or 4) outputs at p[0 .. VC): one 8/16-byte (VC = 4) or 4/8-byte (VC = 2) store when
// `vec` (the caller's test: all inside the row, address aligned), else each inside the row
// (`left` samples remain in it). The periodic resize kernels' vertical passes.
template <int VC, typename D>
UPSCALED_HD void store_run(D* p, bool vec, int left, const float* o) {
  if (vec) {
    if constexpr (std::is_same_v<D, float> && VC == 4)
      *reinterpret_cast<float4*>(p) = make_float4(o[0], o[1], o[2], o[3]);
    else if constexpr (std::is_same_v<D, float>)
      *reinterpret_cast<float2*>(p) = make_float2(o[0], o[1]);
    else if constexpr (VC == 4)
      *reinterpret_cast<uint2*>(p) = make_uint2(pack_half2(o[0], o[1]), pack_half2(o[2], o[3]));
    else
      *reinterpret_cast<unsigned*>(p) = pack_half2(o[0], o[1]);
    return;
  }
#pragma unroll
  for (int e = 0; e < VC; ++e)
    if (e < left) p[e] = from_f<D>(o[e]);
}

template <typename T>
UPSCALED_HD void store8(T* row, int x0, int width, const float v[8]) {
  store8(row, x0, width, aligned_to(row + x0, 16), v);
}
// Whether a plane's base and pitch are multiples of 16 bytes: then every 16-byte group of
// its rows is aligned, whatever the row.
inline bool aligned16(const void* p, std::ptrdiff_t pitch) {
  return aligned_to(p, 16) && pitch % 16 == 0;
}

// Host side: calls f(std::integral_constant<int, V>{}) for the V of Vs equal to n (a kernel's
// compile-time parameter picked from a run-time value); false when none is.
template <int... Vs, typename F>
bool with_constant(int n, F&& f) {
  bool done = false;
  ((n == Vs && !done ? (f(std::integral_constant<int, Vs>{}), done = true) : false), ...);
  return done;
}

}  // namespace upscaled::kernels::cudadetail
