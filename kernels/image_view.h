// Plain pitched views of image planes: the only image type kernels/ knows.
//
// Contract: a view does not own its memory. `pitch` is the distance in bytes between the
// starts of two rows and may exceed width * sizeof(T). Host or device memory alike; which
// one is the caller's promise, stated by the function that takes the view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

// cudaStream_t without <cuda_runtime.h>, so that headers stay includable from CPU-only code.
struct CUstream_st;

namespace upscaled::kernels {

using Stream = CUstream_st*;

template <typename T>
struct PlaneView {
  T* data = nullptr;
  int width = 0;
  int height = 0;
  std::ptrdiff_t pitch = 0;  // bytes

  T* row(int y) const {
    using Byte = std::conditional_t<std::is_const_v<T>, const std::uint8_t, std::uint8_t>;
    return reinterpret_cast<T*>(reinterpret_cast<Byte*>(data) + y * pitch);
  }
  PlaneView<const T> as_const() const { return {data, width, height, pitch}; }
};

// Planar RGB: three planes of equal size (R, G, B).
template <typename T>
struct RgbPlanes {
  PlaneView<T> r, g, b;
  PlaneView<T> plane(int i) const { return i == 0 ? r : (i == 1 ? g : b); }
  RgbPlanes<const T> as_const() const { return {r.as_const(), g.as_const(), b.as_const()}; }
};

}  // namespace upscaled::kernels
