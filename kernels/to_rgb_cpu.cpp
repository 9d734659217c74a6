// CPU twin of to_rgb_cuda: row by row, with chroma upsampled into row buffers first so that
// the matrix loop is a plain vectorisable loop over floats.
#include "kernels/color_math.h"
#include "kernels/parallel_cpu.h"
#include "kernels/to_rgb.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace upscaled::kernels {
namespace {

using detail::clamp01;

template <typename S>
const S* row_of(const std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<const S*>(base + y * pitch);
}

// Loads `n` samples starting at `in` with element stride `stride`, shifted right by `shift`.
template <typename S>
void load_row(const S* in, int n, int stride, int shift, float* out) {
  for (int i = 0; i < n; ++i) out[i] = static_cast<float>(in[static_cast<std::ptrdiff_t>(i) * stride] >> shift);
}

template <typename S>
void yuv_rows(const FrameView& f, const LayoutInfo& li, const ColorSpec& spec, RgbPlanes<float> dst, int y0, int y1) {
  const int w = f.width;
  const PlaneSize cps = plane_size(f.layout, f.width, f.height, 1);
  const int cw = cps.width, ch = cps.height;
  const detail::YuvToRgb m = detail::make_yuv_to_rgb(spec, li.bits);
  const float offx = detail::chroma_offset_x(spec.siting), offy = detail::chroma_offset_y(spec.siting);
  std::vector<detail::Lerp> hl(w);
  for (int x = 0; x < w; ++x) hl[x] = detail::chroma_lerp(x, li.chroma_shift_x, offx, cw);
  std::vector<float> yb(w), ub(w), vb(w), u0(cw), u1(cw), v0(cw), v1(cw), uc(cw), vc(cw);
  const int cstride = li.interleaved_uv ? 2 : 1;
  const std::uint8_t* uplane = f.data[1];
  const std::uint8_t* vplane = li.interleaved_uv ? f.data[1] + sizeof(S) : f.data[2];
  const std::ptrdiff_t upitch = f.pitch[1], vpitch = li.interleaved_uv ? f.pitch[1] : f.pitch[2];
  int loaded0 = -1, loaded1 = -1;
  for (int y = y0; y < y1; ++y) {
    load_row(row_of<S>(f.data[0], f.pitch[0], y), w, 1, li.msb_shift, yb.data());
    const detail::Lerp vl = detail::chroma_lerp(y, li.chroma_shift_y, offy, ch);
    if (vl.i0 != loaded0 || vl.i1 != loaded1) {  // consecutive luma rows share chroma rows
      load_row(row_of<S>(uplane, upitch, vl.i0), cw, cstride, li.msb_shift, u0.data());
      load_row(row_of<S>(vplane, vpitch, vl.i0), cw, cstride, li.msb_shift, v0.data());
      load_row(row_of<S>(uplane, upitch, vl.i1), cw, cstride, li.msb_shift, u1.data());
      load_row(row_of<S>(vplane, vpitch, vl.i1), cw, cstride, li.msb_shift, v1.data());
      loaded0 = vl.i0;
      loaded1 = vl.i1;
    }
    const float fy = vl.f;
    for (int i = 0; i < cw; ++i) {
      uc[i] = (1.f - fy) * u0[i] + fy * u1[i];
      vc[i] = (1.f - fy) * v0[i] + fy * v1[i];
    }
    if (li.chroma_shift_x == 0) {
      ub.assign(uc.begin(), uc.end());
      vb.assign(vc.begin(), vc.end());
    } else {
      for (int x = 0; x < w; ++x) {
        const detail::Lerp l = hl[x];
        ub[x] = (1.f - l.f) * uc[l.i0] + l.f * uc[l.i1];
        vb[x] = (1.f - l.f) * vc[l.i0] + l.f * vc[l.i1];
      }
    }
    float* r = dst.r.row(y);
    float* g = dst.g.row(y);
    float* b = dst.b.row(y);
    for (int x = 0; x < w; ++x) {
      const float Y = yb[x], U = ub[x], V = vb[x];
      r[x] = clamp01(m.m[0] * Y + m.m[1] * U + m.m[2] * V + m.off[0]);
      g[x] = clamp01(m.m[3] * Y + m.m[4] * U + m.m[5] * V + m.off[1]);
      b[x] = clamp01(m.m[6] * Y + m.m[7] * U + m.m[8] * V + m.off[2]);
    }
  }
}

template <typename S>
void gray_rows(const FrameView& f, const LayoutInfo& li, const ColorSpec& spec, RgbPlanes<float> dst, int y0, int y1) {
  const detail::CodeScale cs = detail::code_scale(spec.range, li.bits, false);
  for (int y = y0; y < y1; ++y) {
    const S* in = row_of<S>(f.data[0], f.pitch[0], y);
    float* r = dst.r.row(y);
    float* g = dst.g.row(y);
    float* b = dst.b.row(y);
    for (int x = 0; x < f.width; ++x) {
      const float v = clamp01(static_cast<float>(in[x]) * cs.y_scale + cs.y_offset);
      r[x] = v;
      g[x] = v;
      b[x] = v;
    }
  }
}

void packed_rows(const FrameView& f, const LayoutInfo& li, RgbPlanes<float> dst, int y0, int y1) {
  const int ri = li.bgr ? 2 : 0, bi = li.bgr ? 0 : 2;
  constexpr float k = 1.f / 255.f;
  for (int y = y0; y < y1; ++y) {
    const std::uint8_t* in = f.data[0] + y * f.pitch[0];
    float* r = dst.r.row(y);
    float* g = dst.g.row(y);
    float* b = dst.b.row(y);
    for (int x = 0; x < f.width; ++x) {
      r[x] = in[3 * x + ri] * k;
      g[x] = in[3 * x + 1] * k;
      b[x] = in[3 * x + bi] * k;
    }
  }
}

}  // namespace

template <typename T>
void check_rgb_planes(const RgbPlanes<T>& p, int width, int height, const char* who) {
  for (int c = 0; c < 3; ++c) {
    const auto v = p.plane(c);
    if (v.data == nullptr || v.width != width || v.height != height ||
        v.pitch < static_cast<std::ptrdiff_t>(width * sizeof(T)))
      throw std::invalid_argument(std::string(who) + ": RGB plane " + std::to_string(c) + " is " +
                                  std::to_string(v.width) + "x" + std::to_string(v.height) + " pitch " +
                                  std::to_string(v.pitch) + ", expected " + std::to_string(width) + "x" +
                                  std::to_string(height));
  }
}
template void check_rgb_planes(const RgbPlanes<float>&, int, int, const char*);
template void check_rgb_planes(const RgbPlanes<const float>&, int, int, const char*);
template void check_rgb_planes(const RgbPlanes<Half>&, int, int, const char*);
template void check_rgb_planes(const RgbPlanes<const Half>&, int, int, const char*);

void to_rgb_cpu(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst) {
  validate_frame(src, "to_rgb_cpu");
  check_rgb_planes(dst, src.width, src.height, "to_rgb_cpu");
  const LayoutInfo li = layout_info(src.layout);
  parallel_for(src.height, 32, [&](int y0, int y1) {
    if (li.packed_rgb)
      packed_rows(src, li, dst, y0, y1);
    else if (li.gray)
      li.bytes == 1 ? gray_rows<std::uint8_t>(src, li, spec, dst, y0, y1)
                    : gray_rows<std::uint16_t>(src, li, spec, dst, y0, y1);
    else
      li.bytes == 1 ? yuv_rows<std::uint8_t>(src, li, spec, dst, y0, y1)
                    : yuv_rows<std::uint16_t>(src, li, spec, dst, y0, y1);
  });
}

}  // namespace upscaled::kernels
