// CPU twin of from_rgb_cuda: parallel over chroma rows; each task writes its chroma row and
// the luma rows it covers, so no two threads touch the same output bytes.
#include "kernels/color_math.h"
#include "kernels/from_rgb.h"
#include "kernels/parallel_cpu.h"
#include "kernels/to_rgb.h"

#include <algorithm>
#include <vector>

namespace upscaled::kernels {
namespace {

// NaN-safe clamp written as one select chain so that it vectorises (NaN > 0 is false: 0).
inline float sane01(float v) {
  return v > 0.f ? (v < 1.f ? v : 1.f) : 0.f;
}

template <typename S>
S* out_row(std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<S*>(base + y * pitch);
}

struct Ctx {
  RgbPlanes<const float> src;
  MutableFrameView dst;
  LayoutInfo li;
  ColorSpec spec;
  detail::RgbToYuv m;
  bool dither;
};

// Constants are copied into locals and the pointers marked __restrict: stores through an
// 8-bit pointer may alias anything, which otherwise stops GCC from vectorising the loop.
template <typename S>
void luma_row(const Ctx& c, int y) {
  const float* __restrict r = c.src.r.row(y);
  const float* __restrict g = c.src.g.row(y);
  const float* __restrict b = c.src.b.row(y);
  S* __restrict out = out_row<S>(c.dst.data[0], c.dst.pitch[0], y);
  const float m0 = c.m.m[0], m1 = c.m.m[1], m2 = c.m.m[2], off = c.m.off[0], mx = c.m.max_code;
  const int shift = c.li.msb_shift, w = c.dst.width;
  float thr[8];  // per-column rounding threshold: 0.5, or the Bayer row when dithering
  for (int k = 0; k < 8; ++k) thr[k] = c.dither ? detail::bayer8(k, y) : 0.5f;
  int x = 0;
  for (; x + 8 <= w; x += 8)
    for (int k = 0; k < 8; ++k) {
      const float code = m0 * sane01(r[x + k]) + m1 * sane01(g[x + k]) + m2 * sane01(b[x + k]) + off;
      out[x + k] = static_cast<S>(detail::quantise(code, thr[k], mx) << shift);
    }
  for (; x < w; ++x) {
    const float code = m0 * sane01(r[x]) + m1 * sane01(g[x]) + m2 * sane01(b[x]) + off;
    out[x] = static_cast<S>(detail::quantise(code, thr[x & 7], mx) << shift);
  }
}

// One chroma row: filter RGB vertically into `acc` (3 x width), then horizontally, then
// apply the chroma rows of the matrix (linear, so filtering RGB first is exact).
template <typename S>
void chroma_row(const Ctx& c, int cy, std::vector<float>& acc) {
  const int w = c.dst.width, h = c.dst.height;
  const int cw = plane_size(c.dst.layout, w, h, 1).width;
  const detail::DownTaps tv = detail::down_taps(c.li.chroma_shift_y, c.spec.siting != ChromaSiting::topleft);
  const detail::DownTaps th = detail::down_taps(c.li.chroma_shift_x, c.spec.siting == ChromaSiting::center);
  float* ar = acc.data();
  float* ag = ar + w;
  float* ab = ag + w;
  std::fill(acc.begin(), acc.end(), 0.f);
  for (int k = 0; k < tv.n; ++k) {
    const int y = std::clamp((cy << c.li.chroma_shift_y) + tv.first + k, 0, h - 1);
    const float wk = tv.w[k];
    const float* r = c.src.r.row(y);
    const float* g = c.src.g.row(y);
    const float* b = c.src.b.row(y);
    for (int x = 0; x < w; ++x) {
      ar[x] += wk * sane01(r[x]);
      ag[x] += wk * sane01(g[x]);
      ab[x] += wk * sane01(b[x]);
    }
  }
  const detail::RgbToYuv& m = c.m;
  S* uo = out_row<S>(c.dst.data[1], c.dst.pitch[1], cy);
  S* vo = c.li.interleaved_uv ? uo + 1 : out_row<S>(c.dst.data[2], c.dst.pitch[2], cy);
  const int stride = c.li.interleaved_uv ? 2 : 1;
  for (int cx = 0; cx < cw; ++cx) {
    float R = 0.f, G = 0.f, B = 0.f;
    for (int k = 0; k < th.n; ++k) {
      const int x = std::clamp((cx << c.li.chroma_shift_x) + th.first + k, 0, w - 1);
      R += th.w[k] * ar[x];
      G += th.w[k] * ag[x];
      B += th.w[k] * ab[x];
    }
    const float u = m.m[3] * R + m.m[4] * G + m.m[5] * B + m.off[1];
    const float v = m.m[6] * R + m.m[7] * G + m.m[8] * B + m.off[2];
    const float tu = c.dither ? detail::bayer8(cx, cy) : 0.5f;
    const float tvv = c.dither ? detail::bayer8(cx + 4, cy + 2) : 0.5f;  // decorrelate U and V patterns
    uo[cx * stride] = static_cast<S>(detail::quantise(u, tu, m.max_code) << c.li.msb_shift);
    vo[cx * stride] = static_cast<S>(detail::quantise(v, tvv, m.max_code) << c.li.msb_shift);
  }
}

void packed_row(const Ctx& c, int y) {
  const float* r = c.src.r.row(y);
  const float* g = c.src.g.row(y);
  const float* b = c.src.b.row(y);
  std::uint8_t* out = c.dst.data[0] + y * c.dst.pitch[0];
  const int ri = c.li.bgr ? 2 : 0, bi = c.li.bgr ? 0 : 2;
  for (int x = 0; x < c.dst.width; ++x) {
    const float t = c.dither ? detail::bayer8(x, y) : 0.5f;
    out[3 * x + ri] = static_cast<std::uint8_t>(detail::quantise(sane01(r[x]) * 255.f, t, 255.f));
    out[3 * x + 1] = static_cast<std::uint8_t>(detail::quantise(sane01(g[x]) * 255.f, t, 255.f));
    out[3 * x + bi] = static_cast<std::uint8_t>(detail::quantise(sane01(b[x]) * 255.f, t, 255.f));
  }
}

template <typename S>
void run(const Ctx& c) {
  const int h = c.dst.height;
  if (c.li.packed_rgb) {
    parallel_for(h, 32, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) packed_row(c, y);
    });
    return;
  }
  if (!c.li.yuv) {  // gray: luma only
    parallel_for(h, 32, [&](int y0, int y1) {
      for (int y = y0; y < y1; ++y) luma_row<S>(c, y);
    });
    return;
  }
  const int sy = c.li.chroma_shift_y;
  const int ch = plane_size(c.dst.layout, c.dst.width, h, 1).height;
  parallel_for(ch, 16, [&](int c0, int c1) {
    std::vector<float> acc(static_cast<size_t>(c.dst.width) * 3);
    for (int cy = c0; cy < c1; ++cy) {
      chroma_row<S>(c, cy, acc);
      for (int y = cy << sy; y < std::min(h, (cy + 1) << sy); ++y) luma_row<S>(c, y);
    }
  });
}

}  // namespace

void from_rgb_cpu(RgbPlanes<const float> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither) {
  validate_frame(dst, "from_rgb_cpu");
  check_rgb_planes(src, dst.width, dst.height, "from_rgb_cpu");
  const LayoutInfo li = layout_info(dst.layout);
  const Ctx c{src, dst, li, spec, detail::make_rgb_to_yuv(spec, li.bits), dither == Dither::ordered && li.bits == 8};
  if (li.bytes == 1)
    run<std::uint8_t>(c);
  else
    run<std::uint16_t>(c);
}

}  // namespace upscaled::kernels
