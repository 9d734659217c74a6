// CPU grayscale: the source matrix's luma coefficients, thumbnails as box means of the luma
// plane, the thumbnail difference metric and the neutral-gray output mode.
#include "kernels/grayscale.h"
#include "kernel_test_util.h"
#include "kernels/from_rgb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace upscaled::kernels::test {
namespace {

struct Plane {
  Guarded g;
  int w, h;
  Plane(int width, int height) : g(static_cast<size_t>(width) * 4, height, 9, 4), w(width), h(height) {}
  PlaneView<float> view() { return g.view<float>(w); }
  float& at(int x, int y) { return view().row(y)[x]; }
};

TEST(GrayscaleCpu, LumaUsesTheSourceMatrixCoefficients) {
  HostFrame red(PixelLayout::rgb24, 3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      red.planes[0].row(y)[3 * x] = 255;
      red.planes[0].row(y)[3 * x + 1] = 0;
      red.planes[0].row(y)[3 * x + 2] = 0;
    }
  const std::pair<ColorMatrix, float> cases[] = {
      {ColorMatrix::bt601, 0.299f}, {ColorMatrix::bt709, 0.2126f}, {ColorMatrix::bt2020ncl, 0.2627f}};
  for (const auto& [m, kr] : cases) {
    Plane l(3, 2);
    luma_cpu(red.view(), {m, ColorRange::full, ChromaSiting::left}, l.view());
    EXPECT_NEAR(l.at(2, 1), kr, 1e-6) << matrix_name(m);
  }
  // YUV: the normalised Y' sample itself (limited range 16..235), p010 high bits.
  HostFrame f(PixelLayout::p010, 2, 1);
  const std::uint16_t y0 = 64 << 6, y1 = 502 << 6;
  std::memcpy(f.planes[0].row(0), &y0, 2);
  std::memcpy(f.planes[0].row(0) + 2, &y1, 2);
  Plane l(2, 1);
  luma_cpu(f.view(), {}, l.view());
  EXPECT_NEAR(l.at(0, 0), 0.f, 1e-6);
  EXPECT_NEAR(l.at(1, 0), (502 - 64) / 876.f, 1e-6);
}

TEST(GrayscaleCpu, ThumbnailIsTheBoxMeanOfTheLumaPlane) {
  std::mt19937 rng(21);
  const int cases[][4] = {{64, 36, 16, 9}, {17, 13, 5, 3}, {7, 5, 7, 5},
                          {3, 2, 8, 4},    {1, 1, 1, 1},   {1920, 1080, 64, 36}};
  for (PixelLayout lay : kAllLayouts)
    for (const auto& c : cases) {
      const int w = c[0], h = c[1], tw = c[2], th = c[3];
      if (w >= 1920 && lay != PixelLayout::yuv420p) continue;  // one layout is enough for the large case
      HostFrame f(lay, w, h);
      f.randomize(rng);
      const ColorSpec spec{ColorMatrix::bt709, ColorRange::limited, ChromaSiting::left};
      Plane luma(w, h), thumb(tw, th);
      luma_cpu(f.view(), spec, luma.view());
      luma_thumbnail_cpu(f.view(), spec, thumb.view());
      ASSERT_EQ(luma.g.check_guards("luma"), "");
      ASSERT_EQ(thumb.g.check_guards("thumb"), "");
      for (int ty = 0; ty < th; ++ty)
        for (int tx = 0; tx < tw; ++tx) {
          const int x0 = tx * w / tw, x1 = std::max(x0 + 1, (tx + 1) * w / tw);
          const int y0 = ty * h / th, y1 = std::max(y0 + 1, (ty + 1) * h / th);
          double s = 0;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) s += luma.at(x, y);
          ASSERT_NEAR(thumb.at(tx, ty), s / ((x1 - x0) * (y1 - y0)), 1e-5)
              << layout_name(lay) << " " << w << "x" << h << " -> " << tw << "x" << th;
        }
    }
}

TEST(GrayscaleCpu, ThumbnailDifference) {
  Plane a(2, 2), b(2, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) a.at(x, y) = b.at(x, y) = 0.5f;
  ThumbnailDifference same = thumbnail_difference(a.view().as_const(), b.view().as_const());
  EXPECT_EQ(same.mean_abs, 0.0);
  EXPECT_EQ(same.max_abs, 0.0);
  EXPECT_EQ(same.psnr_db, std::numeric_limits<double>::infinity());
  b.at(1, 1) = 0.6f;
  ThumbnailDifference diff = thumbnail_difference(a.view().as_const(), b.view().as_const());
  EXPECT_NEAR(diff.mean_abs, 0.025, 1e-7);
  EXPECT_NEAR(diff.max_abs, 0.1, 1e-7);
  EXPECT_NEAR(diff.psnr_db, 10 * std::log10(4 / 0.01), 1e-4);
  Plane c(3, 2);
  EXPECT_THROW(thumbnail_difference(a.view().as_const(), c.view().as_const()), std::invalid_argument);
}

TEST(GrayscaleCpu, MakeGrayGivesNeutralChroma) {
  std::mt19937 rng(31);
  HostRgb<float> rgb(13, 7);
  randomize_rgb(rgb, rng, -0.1f, 1.1f);
  HostRgb<float> orig = rgb;
  make_gray_cpu(rgb.view(), ColorMatrix::bt709);
  ASSERT_EQ(rgb.check_guards(), "");
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x) {
      auto c01 = [](float v) { return std::clamp(v, 0.f, 1.f); };
      const float l =
          0.2126f * c01(orig.at(0, x, y)) + 0.7152f * c01(orig.at(1, x, y)) + 0.0722f * c01(orig.at(2, x, y));
      ASSERT_NEAR(rgb.at(0, x, y), l, 1e-6);
      ASSERT_EQ(rgb.at(0, x, y), rgb.at(1, x, y));
      ASSERT_EQ(rgb.at(0, x, y), rgb.at(2, x, y));
    }
  HostFrame f(PixelLayout::yuv420p10, 13, 7);
  from_rgb_cpu(rgb.cview(), {}, f.mview());
  for (int p = 1; p < 3; ++p)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 7; ++x) ASSERT_EQ(f.sample(p, y, x), 512);
}

}  // namespace
}  // namespace upscaled::kernels::test
