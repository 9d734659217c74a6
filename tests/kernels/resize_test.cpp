// CPU resize properties: constants stay constant, identity sizes copy, integer area
// downscales give block means, linear ramps survive in the interior, guards stay intact.
#include "kernels/resize.h"
#include "kernel_test_util.h"
#include "kernels/to_rgb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace upscaled::kernels::test {
namespace {

constexpr ResizeFilter kFilters[] = {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3,
                                     ResizeFilter::area};

struct Plane {
  Guarded g;
  int w, h;
  Plane(int width, int height, int extra = 5)
      : g(static_cast<size_t>(width) * 4, height, extra, 4), w(width), h(height) {}
  PlaneView<float> view() { return g.view<float>(w); }
  float& at(int x, int y) { return view().row(y)[x]; }
};

TEST(ResizeCpu, ConstantStaysConstantAndGuardsHold) {
  const int sizes[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31};
  for (ResizeFilter f : kFilters)
    for (int sw : sizes)
      for (int dw : sizes) {
        const int sh = (sw * 7) % 17 + 1, dh = (dw * 5) % 17 + 1;
        Plane src(sw, sh), dst(dw, dh);
        for (int y = 0; y < sh; ++y)
          for (int x = 0; x < sw; ++x) src.at(x, y) = 0.625f;
        resize_cpu(src.view().as_const(), dst.view(), f);
        ASSERT_EQ(dst.g.check_guards("dst"), "");
        for (int y = 0; y < dh; ++y)
          for (int x = 0; x < dw; ++x)
            ASSERT_NEAR(dst.at(x, y), 0.625f, 1e-5)
                << resize_filter_name(f) << " " << sw << "x" << sh << " -> " << dw << "x" << dh;
      }
}

TEST(ResizeCpu, SameSizeIsACopy) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (ResizeFilter f : kFilters) {
    Plane src(19, 11), dst(19, 11);
    for (int y = 0; y < 11; ++y)
      for (int x = 0; x < 19; ++x) src.at(x, y) = d(rng);
    resize_cpu(src.view().as_const(), dst.view(), f);
    for (int y = 0; y < 11; ++y)
      for (int x = 0; x < 19; ++x) ASSERT_NEAR(dst.at(x, y), src.at(x, y), 1e-6) << resize_filter_name(f);
  }
}

TEST(ResizeCpu, IntegerAreaDownscaleIsTheBlockMean) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (int k : {2, 3, 4, 5}) {
    const int dw = 7, dh = 5;
    Plane src(dw * k, dh * k), dst(dw, dh);
    for (int y = 0; y < dh * k; ++y)
      for (int x = 0; x < dw * k; ++x) src.at(x, y) = d(rng);
    resize_cpu(src.view().as_const(), dst.view(), ResizeFilter::area);
    for (int y = 0; y < dh; ++y)
      for (int x = 0; x < dw; ++x) {
        double mean = 0;
        for (int j = 0; j < k; ++j)
          for (int i = 0; i < k; ++i) mean += src.at(x * k + i, y * k + j);
        ASSERT_NEAR(dst.at(x, y), mean / (k * k), 1e-5) << "factor " << k;
      }
  }
}

// f(x, y) = a x + b y + c sampled at pixel centres must come back as the same plane at the
// destination's centres (mapped through the pixel-centre convention), away from the borders
// where replication bends the ramp. Upscaling with bilinear and Catmull-Rom reproduces linear
// functions exactly; Lanczos-3 (normalised) and the widened (antialiasing) kernels of a
// downscale do within 0.2% of the ramp's range.
TEST(ResizeCpu, LinearRampsSurviveInTheInterior) {
  const int sizes[][4] = {{40, 30, 80, 60}, {40, 30, 120, 45}, {60, 44, 37, 29}, {33, 21, 50, 50}};
  for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3})
    for (const auto& s : sizes) {
      const int sw = s[0], sh = s[1], dw = s[2], dh = s[3];
      Plane src(sw, sh), dst(dw, dh);
      auto ramp = [&](double x, double y) { return 0.1 + 0.6 * x / sw + 0.3 * y / sh; };
      for (int y = 0; y < sh; ++y)
        for (int x = 0; x < sw; ++x) src.at(x, y) = static_cast<float>(ramp(x, y));
      resize_cpu(src.view().as_const(), dst.view(), f);
      const double sx = static_cast<double>(dw) / sw, sy = static_cast<double>(dh) / sh;
      const double margin = 3.0 * std::max(1.0, 1.0 / std::min(sx, sy)) + 1.0;  // source pixels of support
      const double tol = f == ResizeFilter::lanczos3 || sx < 1.0 || sy < 1.0 ? 2e-3 : 2e-5;
      for (int y = 0; y < dh; ++y)
        for (int x = 0; x < dw; ++x) {
          const double xs = (x + 0.5) / sx - 0.5, ys = (y + 0.5) / sy - 0.5;
          if (xs < margin || ys < margin || xs > sw - 1 - margin || ys > sh - 1 - margin) continue;
          ASSERT_NEAR(dst.at(x, y), ramp(xs, ys), tol) << resize_filter_name(f) << " " << sw << "x" << sh << " -> "
                                                       << dw << "x" << dh << " at " << x << "," << y;
        }
    }
}

TEST(ResizeCpu, RgbOverloadResizesEachPlane) {
  std::mt19937 rng(8);
  HostRgb<float> src(23, 17), dst(11, 9);
  randomize_rgb(src, rng);
  resize_cpu(src.cview(), dst.view(), ResizeFilter::lanczos3);
  ASSERT_EQ(dst.check_guards(), "");
  for (int c = 0; c < 3; ++c) {
    Plane single(11, 9);
    resize_cpu(src.cview().plane(c), single.view(), ResizeFilter::lanczos3);
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 11; ++x) ASSERT_EQ(single.at(x, y), dst.at(c, x, y));
  }
}

// The frame overload is to_rgb followed by resize: a flat YUV colour comes out as that colour.
TEST(ResizeCpu, FromFrameConvertsThenResizes) {
  HostFrame f(PixelLayout::nv12, 9, 7);
  for (int y = 0; y < 7; ++y) std::fill(f.planes[0].row(y), f.planes[0].row(y) + 9, 126);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) {
      f.planes[1].row(y)[2 * x] = 100;
      f.planes[1].row(y)[2 * x + 1] = 170;
    }
  HostRgb<float> one(1, 1), out(20, 3);
  HostFrame px(PixelLayout::yuv444p, 1, 1);
  px.planes[0].row(0)[0] = 126;
  px.planes[1].row(0)[0] = 100;
  px.planes[2].row(0)[0] = 170;
  const ColorSpec spec{ColorMatrix::bt601, ColorRange::limited, ChromaSiting::center};
  to_rgb_cpu(px.view(), spec, one.view());
  for (ResizeFilter flt : kFilters) {
    resize_cpu(f.view(), spec, out.view(), flt);
    ASSERT_EQ(out.check_guards(), "");
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 20; ++x) ASSERT_NEAR(out.at(c, x, y), one.at(c, 0, 0), 1e-5) << resize_filter_name(flt);
  }
}

TEST(ResizeCpu, NamesRoundTripAndBadInputThrows) {
  for (ResizeFilter f : kFilters) EXPECT_EQ(parse_resize_filter(resize_filter_name(f)), f);
  EXPECT_THROW(parse_resize_filter("nearest"), std::invalid_argument);
  Plane a(4, 4);
  EXPECT_THROW(resize_cpu(a.view().as_const(), PlaneView<float>{a.view().data, 0, 4, 16}, ResizeFilter::area),
               std::invalid_argument);
}

}  // namespace
}  // namespace upscaled::kernels::test
