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
  // Rounding thresholds, 8 rows (y & 7) of `width` entries: 0.5, or the Bayer pattern when
  // dithering. Unit-stride tables keep the row loops vectorisable.
  const float* luma_thr = nullptr;  // 8 x dst.width
  const float* u_thr = nullptr;     // 8 x chroma width
  const float* v_thr = nullptr;     // 8 x chroma width (pattern shifted by (4, 2))
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
  const float* __restrict thr = c.luma_thr + static_cast<std::size_t>(y & 7) * w;
  for (int x = 0; x < w; ++x) {
    const float code = off + thr[x] + m0 * sane01(r[x]) + m1 * sane01(g[x]) + m2 * sane01(b[x]);
    out[x] = static_cast<S>(detail::quantise(code, 0.f, mx) << shift);
  }
}

// acc[x] += wk * clamp(in[x]); a separate function so that GCC sees the restrict pointers.
void accumulate(float* __restrict acc, const float* __restrict in, float wk, int n) {
  for (int x = 0; x < n; ++x) acc[x] += wk * sane01(in[x]);
}

// One chroma plane row from filtered RGB: out[i] = quantise(off + threshold + m . rgb).
template <typename S>
void chroma_codes(const float* __restrict r, const float* __restrict g, const float* __restrict b, float m0, float m1,
                  float m2, float off, const float* __restrict thr, float mx, int shift, S* __restrict out, int n) {
  for (int i = 0; i < n; ++i)
    out[i] = static_cast<S>(detail::quantise(off + thr[i] + m0 * r[i] + m1 * g[i] + m2 * b[i], 0.f, mx) << shift);
}

// One chroma row: filter RGB vertically into acc[0..3w), then horizontally into
// acc[3w..3w + 3cw), then apply the chroma rows of the matrix (linear, so filtering RGB first
// is exact). The sums run in the CUDA kernel's order (k = 0, 1, ...), so both backends agree;
// the interior loop only drops the index clamps that are no-ops there.
template <typename S>
void chroma_row(const Ctx& c, int cy, std::vector<float>& acc) {
  const int w = c.dst.width, h = c.dst.height;
  const int cw = plane_size(c.dst.layout, w, h, 1).width;
  const int sx = c.li.chroma_shift_x;
  const detail::DownTaps tv = detail::down_taps(c.li.chroma_shift_y, c.spec.siting != ChromaSiting::topleft);
  const detail::DownTaps th = detail::down_taps(sx, c.spec.siting == ChromaSiting::center);
  float* __restrict ar = acc.data();
  float* __restrict ag = ar + w;
  float* __restrict ab = ag + w;
  std::fill(acc.begin(), acc.begin() + 3 * w, 0.f);
  for (int k = 0; k < tv.n; ++k) {
    const int y = std::clamp((cy << c.li.chroma_shift_y) + tv.first + k, 0, h - 1);
    const float wk = tv.w[k];
    accumulate(ar, c.src.r.row(y), wk, w);
    accumulate(ag, c.src.g.row(y), wk, w);
    accumulate(ab, c.src.b.row(y), wk, w);
  }
  const float* hr = ar;
  const float* hg = ag;
  const float* hb = ab;
  if (th.n > 1) {
    float* __restrict fr = ab + w;
    float* __restrict fg = fr + cw;
    float* __restrict fb = fg + cw;
    auto generic = [&](int cx) {
      float R = 0.f, G = 0.f, B = 0.f;
      for (int k = 0; k < th.n; ++k) {
        const int x = std::clamp((cx << sx) + th.first + k, 0, w - 1);
        R += th.w[k] * ar[x];
        G += th.w[k] * ag[x];
        B += th.w[k] * ab[x];
      }
      fr[cx] = R;
      fg[cx] = G;
      fb[cx] = B;
    };
    const int last_inside = (w - 2) / 2;  // every tap of 1..last_inside lies inside the row
    generic(0);
    const float w0 = th.w[0], w1 = th.w[1], w2 = th.w[2];
    if (th.n == 3) {
      for (int cx = 1; cx <= last_inside && cx < cw; ++cx) {
        const int x = 2 * cx - 1;
        fr[cx] = w0 * ar[x] + w1 * ar[x + 1] + w2 * ar[x + 2];
        fg[cx] = w0 * ag[x] + w1 * ag[x + 1] + w2 * ag[x + 2];
        fb[cx] = w0 * ab[x] + w1 * ab[x + 1] + w2 * ab[x + 2];
      }
    } else {
      for (int cx = 1; cx <= last_inside && cx < cw; ++cx) {
        const int x = 2 * cx;
        fr[cx] = w0 * ar[x] + w1 * ar[x + 1];
        fg[cx] = w0 * ag[x] + w1 * ag[x + 1];
        fb[cx] = w0 * ab[x] + w1 * ab[x + 1];
      }
    }
    for (int cx = std::max(1, last_inside + 1); cx < cw; ++cx) generic(cx);
    hr = fr;
    hg = fg;
    hb = fb;
  }
  const float m3 = c.m.m[3], m4 = c.m.m[4], m5 = c.m.m[5], m6 = c.m.m[6], m7 = c.m.m[7], m8 = c.m.m[8];
  const float ou = c.m.off[1], ov = c.m.off[2], mx = c.m.max_code;
  const int shift = c.li.msb_shift;
  const float* __restrict thr_u = c.u_thr + static_cast<std::size_t>(cy & 7) * cw;
  const float* __restrict thr_v = c.v_thr + static_cast<std::size_t>(cy & 7) * cw;
  S* __restrict uo = out_row<S>(c.dst.data[1], c.dst.pitch[1], cy);
  if (!c.li.interleaved_uv) {
    chroma_codes(hr, hg, hb, m3, m4, m5, ou, thr_u, mx, shift, uo, cw);
    chroma_codes(hr, hg, hb, m6, m7, m8, ov, thr_v, mx, shift, out_row<S>(c.dst.data[2], c.dst.pitch[2], cy), cw);
    return;
  }
  for (int cx = 0; cx < cw; ++cx) {  // nv12 / p010: interleaved U, V
    const float u = ou + thr_u[cx] + m3 * hr[cx] + m4 * hg[cx] + m5 * hb[cx];
    const float v = ov + thr_v[cx] + m6 * hr[cx] + m7 * hg[cx] + m8 * hb[cx];
    uo[2 * cx] = static_cast<S>(detail::quantise(u, 0.f, mx) << shift);
    uo[2 * cx + 1] = static_cast<S>(detail::quantise(v, 0.f, mx) << shift);
  }
}

void packed_row(const Ctx& c, int y) {
  const float* __restrict thr = c.luma_thr + static_cast<std::size_t>(y & 7) * c.dst.width;
  const float* r = c.src.r.row(y);
  const float* g = c.src.g.row(y);
  const float* b = c.src.b.row(y);
  std::uint8_t* out = c.dst.data[0] + y * c.dst.pitch[0];
  const int ri = c.li.bgr ? 2 : 0, bi = c.li.bgr ? 0 : 2;
  for (int x = 0; x < c.dst.width; ++x) {
    const float t = thr[x];
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
    std::vector<float> acc(static_cast<size_t>(c.dst.width) * 6);
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
  const bool dith = dither == Dither::ordered && li.bits == 8;
  const int w = dst.width, cw = plane_size(dst.layout, dst.width, dst.height, li.yuv ? 1 : 0).width;
  std::vector<float> thr(8 * static_cast<std::size_t>(w + 2 * cw));
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < w; ++x) thr[y * w + x] = dith ? detail::bayer8(x, y) : 0.5f;
    for (int x = 0; x < cw; ++x) {
      thr[8 * w + y * cw + x] = dith ? detail::bayer8(x, y) : 0.5f;
      thr[8 * w + 8 * cw + y * cw + x] = dith ? detail::bayer8(x + 4, y + 2) : 0.5f;
    }
  }
  Ctx c{src, dst, li, spec, detail::make_rgb_to_yuv(spec, li.bits), dith};
  c.luma_thr = thr.data();
  c.u_thr = thr.data() + 8 * w;
  c.v_thr = thr.data() + 8 * w + 8 * cw;
  if (li.bytes == 1)
    run<std::uint8_t>(c);
  else
    run<std::uint16_t>(c);
}

}  // namespace upscaled::kernels
