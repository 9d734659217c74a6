// CUDA twins of the grayscale kernels. The thumbnail runs one block per thumbnail pixel
// that reduces its source box directly from the decoded frame (no full-size luma plane).
#include "kernels/cuda_common.cuh"
#include "kernels/cuda_modules.h"
#include "kernels/grayscale.h"
#include "kernels/to_rgb.h"

#include <string>

namespace upscaled::kernels {
namespace {

using namespace cudadetail;

struct LumaSrc {
  const std::uint8_t* p;
  std::ptrdiff_t pitch;
  int width, height;
  LayoutInfo li;
  float y_scale, y_offset;  // YUV / gray
  float kr, kg, kb;         // packed RGB, pre-divided by 255
};

LumaSrc make_src(const FrameView& f, const ColorSpec& spec) {
  const LayoutInfo li = layout_info(f.layout);
  const detail::CodeScale cs = detail::code_scale(spec.range, li.bits, false);
  const detail::LumaCoeffs k = detail::luma_coeffs(spec.matrix);
  return {f.data[0],  f.pitch[0],  f.width,      f.height,     li,
          cs.y_scale, cs.y_offset, k.kr / 255.f, k.kg / 255.f, k.kb / 255.f};
}

__device__ __forceinline__ float luma_at(const LumaSrc& s, int x, int y) {
  const std::uint8_t* row = s.p + y * s.pitch;
  if (s.li.packed_rgb) {
    const std::uint8_t* px = row + 3 * x;
    return s.kr * px[s.li.bgr ? 2 : 0] + s.kg * px[1] + s.kb * px[s.li.bgr ? 0 : 2];
  }
  const float v = s.li.bytes == 1
                      ? static_cast<float>(row[x])
                      : static_cast<float>(reinterpret_cast<const std::uint16_t*>(row)[x] >> s.li.msb_shift);
  return detail::clamp01(v * s.y_scale + s.y_offset);
}

__global__ void luma_kernel(LumaSrc s, float* dst, std::ptrdiff_t pitch) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= s.width || y >= s.height) return;
  row_ptr(dst, pitch, y)[x] = luma_at(s, x, y);
}

constexpr int kThumbThreads = 256;

__global__ void thumbnail_kernel(LumaSrc s, float* dst, std::ptrdiff_t pitch, int tw, int th) {
  const int tx = blockIdx.x, ty = blockIdx.y;
  const int x0 = static_cast<int>(static_cast<long long>(tx) * s.width / tw);
  const int x1 = max(x0 + 1, static_cast<int>(static_cast<long long>(tx + 1) * s.width / tw));
  const int y0 = static_cast<int>(static_cast<long long>(ty) * s.height / th);
  const int y1 = max(y0 + 1, static_cast<int>(static_cast<long long>(ty + 1) * s.height / th));
  const int bw = x1 - x0, n = bw * (y1 - y0);
  float acc = 0.f;
  for (int i = threadIdx.x; i < n; i += kThumbThreads) acc += luma_at(s, x0 + i % bw, y0 + i / bw);
  __shared__ float part[kThumbThreads / 32];
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0.f;
    for (int w = 0; w < kThumbThreads / 32; ++w) t += part[w];
    row_ptr(dst, pitch, ty)[tx] = t / static_cast<float>(n);
  }
}

// 8 pixels per thread: one 16/32-byte load per plane, all three before any store (in place),
// then one 16/32-byte store per plane; unaligned rows and the right edge use scalar accesses.
template <typename T>
__global__ void __launch_bounds__(256) make_gray8_kernel(Planes3<T> p, int w, int h, detail::LumaCoeffs k) {
  const int x0 = 8 * (blockIdx.x * blockDim.x + threadIdx.x);
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x0 >= w || y >= h) return;
  float r[8], g[8], b[8], l[8];
  load8_clamped(p.row(0, y), x0, w, 0, r);
  load8_clamped(p.row(1, y), x0, w, 0, g);
  load8_clamped(p.row(2, y), x0, w, 0, b);
#pragma unroll
  for (int i = 0; i < 8; ++i)
    l[i] = k.kr * detail::clamp01(r[i]) + k.kg * detail::clamp01(g[i]) + k.kb * detail::clamp01(b[i]);
  store8(p.row(0, y), x0, w, l);
  store8(p.row(1, y), x0, w, l);
  store8(p.row(2, y), x0, w, l);
}

template <typename HostT>
void launch_gray(RgbPlanes<HostT> rgb, ColorMatrix matrix, Stream stream) {
  check_rgb_planes(rgb, rgb.r.width, rgb.r.height, "make_gray_cuda");
  using T = typename DeviceType<HostT>::type;
  const int w = rgb.r.width, h = rgb.r.height;
  make_gray8_kernel<T><<<dim3(div_up(div_up(w, 8), 32), div_up(h, 8)), dim3(32, 8), 0, to_cuda(stream)>>>(
      planes3<T>(rgb), w, h, detail::luma_coeffs(matrix));
  cuda_check_launch("make_gray_cuda");
}

}  // namespace

void luma_cuda(const FrameView& src, const ColorSpec& spec, PlaneView<float> dst, Stream stream) {
  validate_frame(src, "luma_cuda");
  if (dst.data == nullptr || dst.width != src.width || dst.height != src.height)
    throw std::invalid_argument("luma_cuda: destination is " + std::to_string(dst.width) + "x" +
                                std::to_string(dst.height) + ", expected the frame size");
  luma_kernel<<<dim3(div_up(src.width, 32), div_up(src.height, 8)), dim3(32, 8), 0, to_cuda(stream)>>>(
      make_src(src, spec), dst.data, dst.pitch);
  cuda_check_launch("luma_cuda");
}

void luma_thumbnail_cuda(const FrameView& src, const ColorSpec& spec, PlaneView<float> thumb, Stream stream) {
  validate_frame(src, "luma_thumbnail_cuda");
  if (thumb.data == nullptr || thumb.width <= 0 || thumb.height <= 0)
    throw std::invalid_argument("luma_thumbnail_cuda: empty thumbnail");
  thumbnail_kernel<<<dim3(thumb.width, thumb.height), kThumbThreads, 0, to_cuda(stream)>>>(
      make_src(src, spec), thumb.data, thumb.pitch, thumb.width, thumb.height);
  cuda_check_launch("luma_thumbnail_cuda");
}

void make_gray_cuda(RgbPlanes<float> rgb, ColorMatrix matrix, Stream stream) {
  launch_gray(rgb, matrix, stream);
}
void make_gray_cuda(RgbPlanes<Half> rgb, ColorMatrix matrix, Stream stream) {
  launch_gray(rgb, matrix, stream);
}

namespace detail {
const void* grayscale_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&luma_kernel);
}
}  // namespace detail

}  // namespace upscaled::kernels
