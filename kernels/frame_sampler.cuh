// Device-side reader of a decoded frame: the RGB of pixel (x, y) with to_rgb's semantics
// (matrix, range, chroma siting, clamping). Shared by to_rgb_cuda and the fused
// conversion + resize in resize_cuda, so both compute the same values (internal).
#pragma once

#include "kernels/cuda_common.cuh"
#include "kernels/pixel_format.h"

namespace upscaled::kernels::cudadetail {

struct FrameSampler {
  const std::uint8_t* p[3];
  std::ptrdiff_t pitch[3];
  int width, height, cw, ch;
  LayoutInfo li;
  detail::YuvToRgb m;
  detail::CodeScale gs;
  float offx, offy;
};

inline FrameSampler make_sampler(const FrameView& src, const ColorSpec& spec) {
  const LayoutInfo li = layout_info(src.layout);
  const PlaneSize cps = plane_size(src.layout, src.width, src.height, li.yuv ? 1 : 0);
  return {{src.data[0], src.data[1], src.data[2]},
          {src.pitch[0], src.pitch[1], src.pitch[2]},
          src.width,
          src.height,
          cps.width,
          cps.height,
          li,
          detail::make_yuv_to_rgb(spec, li.bits),
          detail::code_scale(spec.range, li.bits, false),
          detail::chroma_offset_x(spec.siting),
          detail::chroma_offset_y(spec.siting)};
}

template <typename S>
UPSCALED_HD float ld_sample(const std::uint8_t* base, std::ptrdiff_t pitch, int x, int y, int stride, int shift) {
  const S* row = reinterpret_cast<const S*>(base + y * pitch);
  return static_cast<float>(row[x * stride] >> shift);
}

// S: uint8_t or uint16_t sample words (f.li.bytes). Same operation order as to_rgb_cpu.
template <typename S>
UPSCALED_HD float3 sample_rgb(const FrameSampler& f, int x, int y) {
  const LayoutInfo& li = f.li;
  if (li.packed_rgb) {
    const std::uint8_t* in = f.p[0] + y * f.pitch[0] + 3 * x;
    constexpr float k = 1.f / 255.f;
    return make_float3(in[li.bgr ? 2 : 0] * k, in[1] * k, in[li.bgr ? 0 : 2] * k);
  }
  if (li.gray) {
    const float v = detail::clamp01(ld_sample<S>(f.p[0], f.pitch[0], x, y, 1, 0) * f.gs.y_scale + f.gs.y_offset);
    return make_float3(v, v, v);
  }
  const float Y = ld_sample<S>(f.p[0], f.pitch[0], x, y, 1, li.msb_shift);
  const detail::Lerp vl = detail::chroma_lerp(y, li.chroma_shift_y, f.offy, f.ch);
  const detail::Lerp hl = detail::chroma_lerp(x, li.chroma_shift_x, f.offx, f.cw);
  const int st = li.interleaved_uv ? 2 : 1;
  const std::uint8_t* up = f.p[1];
  const std::uint8_t* vp = li.interleaved_uv ? f.p[1] + sizeof(S) : f.p[2];
  const std::ptrdiff_t upt = f.pitch[1], vpt = li.interleaved_uv ? f.pitch[1] : f.pitch[2];
  const int sh = li.msb_shift;
  const float fy = vl.f, fx = hl.f;
  const float u0 =
      (1.f - fy) * ld_sample<S>(up, upt, hl.i0, vl.i0, st, sh) + fy * ld_sample<S>(up, upt, hl.i0, vl.i1, st, sh);
  const float u1 =
      (1.f - fy) * ld_sample<S>(up, upt, hl.i1, vl.i0, st, sh) + fy * ld_sample<S>(up, upt, hl.i1, vl.i1, st, sh);
  const float v0 =
      (1.f - fy) * ld_sample<S>(vp, vpt, hl.i0, vl.i0, st, sh) + fy * ld_sample<S>(vp, vpt, hl.i0, vl.i1, st, sh);
  const float v1 =
      (1.f - fy) * ld_sample<S>(vp, vpt, hl.i1, vl.i0, st, sh) + fy * ld_sample<S>(vp, vpt, hl.i1, vl.i1, st, sh);
  const float U = (1.f - fx) * u0 + fx * u1, V = (1.f - fx) * v0 + fx * v1;
  const detail::YuvToRgb& m = f.m;
  return make_float3(detail::clamp01(m.m[0] * Y + m.m[1] * U + m.m[2] * V + m.off[0]),
                     detail::clamp01(m.m[3] * Y + m.m[4] * U + m.m[5] * V + m.off[1]),
                     detail::clamp01(m.m[6] * Y + m.m[7] * U + m.m[8] * V + m.off[2]));
}

}  // namespace upscaled::kernels::cudadetail
