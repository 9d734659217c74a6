// CUDA twin of from_rgb_cpu: one thread per chroma cell (2x2 luma pixels for 4:2:0, 2x1 for
// 4:2:2, one pixel otherwise). It writes the cell's luma samples and its chroma sample, so
// each output byte has exactly one writer; overlapping RGB reads of neighbouring cells are
// served from L1/L2.
#include "kernels/cuda_common.cuh"
#include "kernels/from_rgb.h"
#include "kernels/to_rgb.h"

namespace upscaled::kernels {
namespace {

using namespace cudadetail;

struct DstFrame {
  std::uint8_t* p[3];
  std::ptrdiff_t pitch[3];
  int width, height, cw, ch;
};

__device__ __forceinline__ float sane01(float v) {
  return v == v ? detail::clamp01(v) : 0.f;
}

template <typename In>
__device__ __forceinline__ float ldc(const Planes3<In>& s, int c, int x, int y) {
  return sane01(to_f(s.row(c, y)[x]));
}

template <typename S>
__device__ __forceinline__ void st(std::uint8_t* base, std::ptrdiff_t pitch, int x, int y, int v) {
  reinterpret_cast<S*>(base + y * pitch)[x] = static_cast<S>(v);
}

template <typename S, typename In>
__global__ void from_rgb_kernel(Planes3<In> src, DstFrame d, LayoutInfo li, detail::RgbToYuv m, bool dither,
                                bool h_centred, bool v_centred) {
  const int cx = blockIdx.x * blockDim.x + threadIdx.x;
  const int cy = blockIdx.y * blockDim.y + threadIdx.y;
  if (cx >= d.cw || cy >= d.ch) return;
  const int sx = li.chroma_shift_x, sy = li.chroma_shift_y;
  // Luma (or packed RGB / gray) samples of this cell.
  for (int dy = 0; dy < (1 << sy); ++dy) {
    const int y = (cy << sy) + dy;
    if (y >= d.height) break;
    for (int dx = 0; dx < (1 << sx); ++dx) {
      const int x = (cx << sx) + dx;
      if (x >= d.width) break;
      const float r = ldc(src, 0, x, y), g = ldc(src, 1, x, y), b = ldc(src, 2, x, y);
      const float t = dither ? detail::bayer8(x, y) : 0.5f;
      if (li.packed_rgb) {
        std::uint8_t* out = d.p[0] + y * d.pitch[0] + 3 * x;
        out[li.bgr ? 2 : 0] = static_cast<std::uint8_t>(detail::quantise(r * 255.f, t, 255.f));
        out[1] = static_cast<std::uint8_t>(detail::quantise(g * 255.f, t, 255.f));
        out[li.bgr ? 0 : 2] = static_cast<std::uint8_t>(detail::quantise(b * 255.f, t, 255.f));
      } else {
        const float code = m.m[0] * r + m.m[1] * g + m.m[2] * b + m.off[0];
        st<S>(d.p[0], d.pitch[0], x, y, detail::quantise(code, t, m.max_code) << li.msb_shift);
      }
    }
  }
  if (!li.yuv) return;
  // Chroma: filter RGB vertically, then horizontally (the CPU order), then the matrix.
  const detail::DownTaps tv = detail::down_taps(sy, v_centred);
  const detail::DownTaps th = detail::down_taps(sx, h_centred);
  float R = 0.f, G = 0.f, B = 0.f;
  for (int kx = 0; kx < th.n; ++kx) {
    int x = (cx << sx) + th.first + kx;
    x = x < 0 ? 0 : (x >= d.width ? d.width - 1 : x);
    float ar = 0.f, ag = 0.f, ab = 0.f;
    for (int ky = 0; ky < tv.n; ++ky) {
      int y = (cy << sy) + tv.first + ky;
      y = y < 0 ? 0 : (y >= d.height ? d.height - 1 : y);
      ar += tv.w[ky] * ldc(src, 0, x, y);
      ag += tv.w[ky] * ldc(src, 1, x, y);
      ab += tv.w[ky] * ldc(src, 2, x, y);
    }
    R += th.w[kx] * ar;
    G += th.w[kx] * ag;
    B += th.w[kx] * ab;
  }
  const float u = m.m[3] * R + m.m[4] * G + m.m[5] * B + m.off[1];
  const float v = m.m[6] * R + m.m[7] * G + m.m[8] * B + m.off[2];
  const int qu = detail::quantise(u, dither ? detail::bayer8(cx, cy) : 0.5f, m.max_code) << li.msb_shift;
  const int qv = detail::quantise(v, dither ? detail::bayer8(cx + 4, cy + 2) : 0.5f, m.max_code) << li.msb_shift;
  if (li.interleaved_uv) {
    st<S>(d.p[1], d.pitch[1], 2 * cx, cy, qu);
    st<S>(d.p[1], d.pitch[1], 2 * cx + 1, cy, qv);
  } else {
    st<S>(d.p[1], d.pitch[1], cx, cy, qu);
    st<S>(d.p[2], d.pitch[2], cx, cy, qv);
  }
}

template <typename HostIn>
void launch(RgbPlanes<HostIn> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither, Stream stream,
            const char* who) {
  validate_frame(dst, who);
  check_rgb_planes(src, dst.width, dst.height, who);
  using In = typename DeviceType<HostIn>::type;
  const LayoutInfo li = layout_info(dst.layout);
  const PlaneSize cps = plane_size(dst.layout, dst.width, dst.height, li.yuv ? 1 : 0);
  const DstFrame d{{dst.data[0], dst.data[1], dst.data[2]},
                   {dst.pitch[0], dst.pitch[1], dst.pitch[2]},
                   dst.width,
                   dst.height,
                   cps.width,
                   cps.height};
  const detail::RgbToYuv m = detail::make_rgb_to_yuv(spec, li.bits);
  const bool dith = dither == Dither::ordered && li.bits == 8;
  const bool hc = spec.siting == ChromaSiting::center, vc = spec.siting != ChromaSiting::topleft;
  const dim3 block(32, 8);
  const dim3 grid(div_up(d.cw, 32), div_up(d.ch, 8));
  const Planes3<In> s = planes3<In>(src);
  if (li.bytes == 1)
    from_rgb_kernel<std::uint8_t, In><<<grid, block, 0, to_cuda(stream)>>>(s, d, li, m, dith, hc, vc);
  else
    from_rgb_kernel<std::uint16_t, In><<<grid, block, 0, to_cuda(stream)>>>(s, d, li, m, dith, hc, vc);
  cuda_check_launch(who);
}

}  // namespace

void from_rgb_cuda(RgbPlanes<const float> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream) {
  launch(src, spec, dst, dither, stream, "from_rgb_cuda(float)");
}

void from_rgb_cuda(RgbPlanes<const Half> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream) {
  launch(src, spec, dst, dither, stream, "from_rgb_cuda(half)");
}

}  // namespace upscaled::kernels
