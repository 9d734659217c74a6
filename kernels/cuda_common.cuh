// Device-side helpers shared by the *_cuda.cu files (internal to kernels/).
#pragma once

#include "kernels/color_math.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "kernels/image_view.h"

#include <cuda_fp16.h>

#include <cstdint>

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

__device__ __forceinline__ float to_f(float v) {
  return v;
}
__device__ __forceinline__ float to_f(__half v) {
  return __half2float(v);
}
template <typename T>
__device__ __forceinline__ T from_f(float v);
template <>
__device__ __forceinline__ float from_f<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_f<__half>(float v) {
  return __float2half_rn(v);
}

// Three planes with pitches, passed to kernels by value.
template <typename T>
struct Planes3 {
  T* p[3];
  std::ptrdiff_t pitch[3];
  __device__ __forceinline__ T* row(int c, int y) const {
    using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
    return reinterpret_cast<T*>(reinterpret_cast<Byte*>(p[c]) + y * pitch[c]);
  }
};

template <typename Dev, typename Host>
Planes3<Dev> planes3(const RgbPlanes<Host>& rgb) {
  return {{reinterpret_cast<Dev*>(rgb.r.data), reinterpret_cast<Dev*>(rgb.g.data), reinterpret_cast<Dev*>(rgb.b.data)},
          {rgb.r.pitch, rgb.g.pitch, rgb.b.pitch}};
}

template <typename T>
__device__ __forceinline__ T* row_ptr(T* base, std::ptrdiff_t pitch, int y) {
  using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
  return reinterpret_cast<T*>(reinterpret_cast<Byte*>(base) + y * pitch);
}

inline unsigned div_up(int a, int b) {
  return static_cast<unsigned>((a + b - 1) / b);
}

}  // namespace upscaled::kernels::cudadetail
