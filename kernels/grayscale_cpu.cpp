// CPU twins of the grayscale kernels: one luma-row routine feeds both the full-resolution
// plane and the thumbnail (which sums rows into per-column accumulators, then boxes).
#include "kernels/color_math.h"
#include "kernels/grayscale.h"
#include "kernels/parallel_cpu.h"
#include "kernels/to_rgb.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace upscaled::kernels {
namespace {

void check_plane(PlaneView<const float> p, int w, int h, const char* who) {
  if (p.data == nullptr || p.width != w || p.height != h || p.pitch < static_cast<std::ptrdiff_t>(w * sizeof(float)))
    throw std::invalid_argument(std::string(who) + ": plane is " + std::to_string(p.width) + "x" +
                                std::to_string(p.height) + ", expected " + std::to_string(w) + "x" + std::to_string(h));
}

// Normalised luma of source row y into out[0, width).
void luma_row(const FrameView& f, const LayoutInfo& li, const ColorSpec& spec, int y, float* out) {
  const std::uint8_t* row = f.data[0] + y * f.pitch[0];
  if (li.packed_rgb) {
    const detail::LumaCoeffs k = detail::luma_coeffs(spec.matrix);
    const float kr = k.kr / 255.f, kg = k.kg / 255.f, kb = k.kb / 255.f;
    const int ri = li.bgr ? 2 : 0, bi = li.bgr ? 0 : 2;
    for (int x = 0; x < f.width; ++x) out[x] = kr * row[3 * x + ri] + kg * row[3 * x + 1] + kb * row[3 * x + bi];
    return;
  }
  const detail::CodeScale cs = detail::code_scale(spec.range, li.bits, false);
  if (li.bytes == 1) {
    for (int x = 0; x < f.width; ++x) out[x] = detail::clamp01(row[x] * cs.y_scale + cs.y_offset);
  } else {
    const auto* r16 = reinterpret_cast<const std::uint16_t*>(row);
    const int sh = li.msb_shift;
    for (int x = 0; x < f.width; ++x)
      out[x] = detail::clamp01(static_cast<float>(r16[x] >> sh) * cs.y_scale + cs.y_offset);
  }
}

}  // namespace

void luma_cpu(const FrameView& src, const ColorSpec& spec, PlaneView<float> dst) {
  validate_frame(src, "luma_cpu");
  check_plane(dst.as_const(), src.width, src.height, "luma_cpu");
  const LayoutInfo li = layout_info(src.layout);
  parallel_for(src.height, 32, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) luma_row(src, li, spec, y, dst.row(y));
  });
}

void luma_thumbnail_cpu(const FrameView& src, const ColorSpec& spec, PlaneView<float> thumb) {
  validate_frame(src, "luma_thumbnail_cpu");
  if (thumb.data == nullptr || thumb.width <= 0 || thumb.height <= 0)
    throw std::invalid_argument("luma_thumbnail_cpu: empty thumbnail");
  const LayoutInfo li = layout_info(src.layout);
  const int W = src.width, H = src.height, tw = thumb.width, th = thumb.height;
  // Box bounds per thumbnail column (same integer formula as the CUDA kernel).
  std::vector<int> x0(tw), x1(tw);
  for (int t = 0; t < tw; ++t) {
    x0[t] = static_cast<int>(static_cast<long long>(t) * W / tw);
    x1[t] = std::max(x0[t] + 1, static_cast<int>(static_cast<long long>(t + 1) * W / tw));
  }
  parallel_for(th, 1, [&](int t0, int t1) {
    std::vector<float> line(W);
    std::vector<double> colsum(W);
    for (int ty = t0; ty < t1; ++ty) {
      const int y0 = static_cast<int>(static_cast<long long>(ty) * H / th);
      const int y1 = std::max(y0 + 1, static_cast<int>(static_cast<long long>(ty + 1) * H / th));
      std::fill(colsum.begin(), colsum.end(), 0.0);
      for (int y = y0; y < y1; ++y) {
        luma_row(src, li, spec, y, line.data());
        for (int x = 0; x < W; ++x) colsum[x] += line[x];
      }
      float* out = thumb.row(ty);
      for (int tx = 0; tx < tw; ++tx) {
        double s = 0.0;
        for (int x = x0[tx]; x < x1[tx]; ++x) s += colsum[x];
        out[tx] = static_cast<float>(s / (static_cast<double>(x1[tx] - x0[tx]) * (y1 - y0)));
      }
    }
  });
}

void make_gray_cpu(RgbPlanes<float> rgb, ColorMatrix matrix) {
  check_rgb_planes(rgb, rgb.r.width, rgb.r.height, "make_gray_cpu");
  const detail::LumaCoeffs k = detail::luma_coeffs(matrix);
  parallel_for(rgb.r.height, 32, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* r = rgb.r.row(y);
      float* g = rgb.g.row(y);
      float* b = rgb.b.row(y);
      for (int x = 0; x < rgb.r.width; ++x) {
        const float l = k.kr * detail::clamp01(r[x]) + k.kg * detail::clamp01(g[x]) + k.kb * detail::clamp01(b[x]);
        r[x] = l;
        g[x] = l;
        b[x] = l;
      }
    }
  });
}

ThumbnailDifference thumbnail_difference(PlaneView<const float> a, PlaneView<const float> b) {
  check_plane(b, a.width, a.height, "thumbnail_difference");
  if (a.width <= 0 || a.height <= 0) throw std::invalid_argument("thumbnail_difference: empty thumbnail");
  double sum = 0.0, sq = 0.0, mx = 0.0;
  for (int y = 0; y < a.height; ++y) {
    const float* pa = a.row(y);
    const float* pb = b.row(y);
    for (int x = 0; x < a.width; ++x) {
      const double d = std::abs(static_cast<double>(pa[x]) - pb[x]);
      sum += d;
      sq += d * d;
      mx = std::max(mx, d);
    }
  }
  const double n = static_cast<double>(a.width) * a.height;
  ThumbnailDifference r;
  r.mean_abs = sum / n;
  r.max_abs = mx;
  r.psnr_db = sq == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(n / sq);
  return r;
}

}  // namespace upscaled::kernels
