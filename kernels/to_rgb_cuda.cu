// CUDA twin of to_rgb_cpu: one thread per output pixel, same arithmetic (color_math.h).
// Chroma neighbours are re-read by adjacent threads and served from L1/L2, so DRAM traffic
// stays at one read of the frame and one write of the RGB planes.
#include "kernels/cuda_common.cuh"
#include "kernels/to_rgb.h"

namespace upscaled::kernels {
namespace {

using namespace cudadetail;

struct SrcFrame {
  const std::uint8_t* p[3];
  std::ptrdiff_t pitch[3];
  int width, height, cw, ch;
};

template <typename S>
__device__ __forceinline__ float ld(const std::uint8_t* base, std::ptrdiff_t pitch, int x, int y, int stride,
                                    int shift) {
  const S* row = reinterpret_cast<const S*>(base + y * pitch);
  return static_cast<float>(row[x * stride] >> shift);
}

template <typename S, typename Out>
__global__ void to_rgb_kernel(SrcFrame f, LayoutInfo li, detail::YuvToRgb m, detail::CodeScale gs, float offx,
                              float offy, Planes3<Out> dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= f.width || y >= f.height) return;
  float r, g, b;
  if (li.packed_rgb) {
    const std::uint8_t* in = f.p[0] + y * f.pitch[0] + 3 * x;
    constexpr float k = 1.f / 255.f;
    r = in[li.bgr ? 2 : 0] * k;
    g = in[1] * k;
    b = in[li.bgr ? 0 : 2] * k;
  } else if (li.gray) {
    r = g = b = detail::clamp01(ld<S>(f.p[0], f.pitch[0], x, y, 1, 0) * gs.y_scale + gs.y_offset);
  } else {
    const float Y = ld<S>(f.p[0], f.pitch[0], x, y, 1, li.msb_shift);
    const detail::Lerp vl = detail::chroma_lerp(y, li.chroma_shift_y, offy, f.ch);
    const detail::Lerp hl = detail::chroma_lerp(x, li.chroma_shift_x, offx, f.cw);
    const int st = li.interleaved_uv ? 2 : 1;
    const std::uint8_t* up = f.p[1];
    const std::uint8_t* vp = li.interleaved_uv ? f.p[1] + sizeof(S) : f.p[2];
    const std::ptrdiff_t upt = f.pitch[1], vpt = li.interleaved_uv ? f.pitch[1] : f.pitch[2];
    const int sh = li.msb_shift;
    const float fy = vl.f, fx = hl.f;
    const float u0 = (1.f - fy) * ld<S>(up, upt, hl.i0, vl.i0, st, sh) + fy * ld<S>(up, upt, hl.i0, vl.i1, st, sh);
    const float u1 = (1.f - fy) * ld<S>(up, upt, hl.i1, vl.i0, st, sh) + fy * ld<S>(up, upt, hl.i1, vl.i1, st, sh);
    const float v0 = (1.f - fy) * ld<S>(vp, vpt, hl.i0, vl.i0, st, sh) + fy * ld<S>(vp, vpt, hl.i0, vl.i1, st, sh);
    const float v1 = (1.f - fy) * ld<S>(vp, vpt, hl.i1, vl.i0, st, sh) + fy * ld<S>(vp, vpt, hl.i1, vl.i1, st, sh);
    const float U = (1.f - fx) * u0 + fx * u1, V = (1.f - fx) * v0 + fx * v1;
    r = detail::clamp01(m.m[0] * Y + m.m[1] * U + m.m[2] * V + m.off[0]);
    g = detail::clamp01(m.m[3] * Y + m.m[4] * U + m.m[5] * V + m.off[1]);
    b = detail::clamp01(m.m[6] * Y + m.m[7] * U + m.m[8] * V + m.off[2]);
  }
  dst.row(0, y)[x] = from_f<Out>(r);
  dst.row(1, y)[x] = from_f<Out>(g);
  dst.row(2, y)[x] = from_f<Out>(b);
}

template <typename HostOut>
void launch(const FrameView& src, const ColorSpec& spec, RgbPlanes<HostOut> dst, Stream stream, const char* who) {
  validate_frame(src, who);
  check_rgb_planes(dst, src.width, src.height, who);
  using Out = typename DeviceType<HostOut>::type;
  const LayoutInfo li = layout_info(src.layout);
  const PlaneSize cps = plane_size(src.layout, src.width, src.height, li.yuv ? 1 : 0);
  const SrcFrame f{{src.data[0], src.data[1], src.data[2]},
                   {src.pitch[0], src.pitch[1], src.pitch[2]},
                   src.width,
                   src.height,
                   cps.width,
                   cps.height};
  const detail::YuvToRgb m = detail::make_yuv_to_rgb(spec, li.bits);
  const detail::CodeScale gs = detail::code_scale(spec.range, li.bits, false);
  const float offx = detail::chroma_offset_x(spec.siting), offy = detail::chroma_offset_y(spec.siting);
  const dim3 block(32, 8);
  const dim3 grid(div_up(src.width, 32), div_up(src.height, 8));
  const Planes3<Out> d = planes3<Out>(dst);
  if (li.bytes == 1)
    to_rgb_kernel<std::uint8_t, Out><<<grid, block, 0, to_cuda(stream)>>>(f, li, m, gs, offx, offy, d);
  else
    to_rgb_kernel<std::uint16_t, Out><<<grid, block, 0, to_cuda(stream)>>>(f, li, m, gs, offx, offy, d);
  cuda_check_launch(who);
}

}  // namespace

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(float)");
}

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(half)");
}

}  // namespace upscaled::kernels
