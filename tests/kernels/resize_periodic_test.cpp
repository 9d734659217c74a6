// detail::find_periodic (the CUDA backend's periodic resize plan) on the CPU: which ratios
// it recognises, and that evaluating its phase taps with a replicated border gives what
// resize_cpu gives, borders included, on odd sizes (the GPU kernel computes exactly that
// formula; KernelsCuda.PeriodicResizeMatchesCpu checks the kernel itself on a GPU).
#include "kernel_test_util.h"
#include "kernels/resize.h"
#include "kernels/resize_taps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>

#ifdef UPSCALED_WITH_CUDA
namespace upscaled::kernels::cudadetail {
// Host-side kernel choices of the CUDA backend (declared in resize_sliding_cuda.cuh and
// resize_periodic_cuda.cuh, which only nvcc can read).
bool sliding_supported(const detail::PeriodicTaps& t);
bool sliding_preferred(const detail::PeriodicTaps& t);
bool periodic_supported(const detail::PeriodicTaps& t);
}  // namespace upscaled::kernels::cudadetail
#endif

namespace upscaled::kernels::test {
namespace {

constexpr ResizeFilter kFilters[] = {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3,
                                     ResizeFilter::area};

// "bilinear 1920x1080 -> 3840x2160", for failure messages.
std::string plan_name(ResizeFilter f, int sw, int sh, int dw, int dh) {
  return std::string(resize_filter_name(f)) + " " + std::to_string(sw) + "x" + std::to_string(sh) + " -> " +
         std::to_string(dw) + "x" + std::to_string(dh);
}

bool periodic(int sw, int sh, int dw, int dh, ResizeFilter f, detail::PeriodicTaps* out = nullptr) {
  detail::PeriodicTaps t;
  const bool ok = detail::find_periodic(detail::make_taps(sw, dw, f), detail::make_taps(sh, dh, f), sw, sh, dw, dh, t);
  if (out) *out = t;
  return ok;
}

// The periodic formula, separable, horizontal then vertical, replicated border.
std::vector<float> periodic_resize(const detail::PeriodicTaps& t, const std::vector<float>& src, int sw, int sh, int dw,
                                   int dh) {
  auto tap = [&](int d, int k, int size) { return std::clamp(t.q * (d / t.p) + t.origin + k, 0, size - 1); };
  std::vector<float> mid(static_cast<std::size_t>(sh) * dw), dst(static_cast<std::size_t>(dh) * dw);
  for (int y = 0; y < sh; ++y)
    for (int x = 0; x < dw; ++x) {
      float s = 0.f;
      for (int k = 0; k < t.kw; ++k) s += t.w[x % t.p][k] * src[static_cast<std::size_t>(y) * sw + tap(x, k, sw)];
      mid[static_cast<std::size_t>(y) * dw + x] = s;
    }
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) {
      float s = 0.f;
      for (int k = 0; k < t.kw; ++k) s += t.w[y % t.p][k] * mid[static_cast<std::size_t>(tap(y, k, sh)) * dw + x];
      dst[static_cast<std::size_t>(y) * dw + x] = s;
    }
  return dst;
}

TEST(ResizePeriodic, RecognisesTwoFourAndOneAndAHalfUpAndTwoDown) {
  for (ResizeFilter f : kFilters) {
    detail::PeriodicTaps t;
    ASSERT_TRUE(periodic(1920, 1080, 3840, 2160, f, &t)) << resize_filter_name(f);
    EXPECT_EQ(t.p, 2);
    EXPECT_EQ(t.q, 1);
    ASSERT_TRUE(periodic(3840, 2160, 1920, 1080, f, &t)) << resize_filter_name(f);
    EXPECT_EQ(t.p, 1);
    EXPECT_EQ(t.q, 2);
    ASSERT_TRUE(periodic(2560, 1440, 3840, 2160, f, &t)) << resize_filter_name(f);
    EXPECT_EQ(t.p, 3);
    EXPECT_EQ(t.q, 2);
    ASSERT_TRUE(periodic(33, 19, 132, 76, f, &t)) << resize_filter_name(f);
    EXPECT_EQ(t.p, 4);
    // Each phase's weights sum to 1 (make_taps normalises them; padding taps are 0).
    for (int r = 0; r < t.p; ++r) {
      double sum = 0;
      for (int k = 0; k < t.kw; ++k) sum += t.w[r][k];
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  }
}

// The taps the CUDA kernel computes per phase (detail::periodic_taps_fit): the filter's own
// support, not make_taps' padded table; one tap fewer does not hold the weights.
TEST(ResizePeriodic, NonzeroTapsFitTheFilterSupport) {
  struct Case {
    int sw, sh, dw, dh;
    ResizeFilter f;
    int n;
  };
  const Case cases[] = {
      {1920, 1080, 3840, 2160, ResizeFilter::bilinear, 2}, {1920, 1080, 3840, 2160, ResizeFilter::area, 2},
      {1920, 1080, 3840, 2160, ResizeFilter::bicubic, 4},  {1920, 1080, 3840, 2160, ResizeFilter::lanczos3, 6},
      {33, 19, 132, 76, ResizeFilter::bilinear, 2},        {33, 19, 132, 76, ResizeFilter::lanczos3, 6},
      {3840, 2160, 1920, 1080, ResizeFilter::area, 2},     {3840, 2160, 1920, 1080, ResizeFilter::bilinear, 4},
      {3840, 2160, 1920, 1080, ResizeFilter::bicubic, 8},  {3840, 2160, 1920, 1080, ResizeFilter::lanczos3, 12},
      {2560, 1440, 3840, 2160, ResizeFilter::bilinear, 2}, {2560, 1440, 3840, 2160, ResizeFilter::area, 2},
      {2560, 1440, 3840, 2160, ResizeFilter::bicubic, 4},  {2560, 1440, 3840, 2160, ResizeFilter::lanczos3, 6},
      {66, 34, 99, 51, ResizeFilter::lanczos3, 6},
  };
  for (const Case& c : cases) {
    detail::PeriodicTaps t;
    ASSERT_TRUE(periodic(c.sw, c.sh, c.dw, c.dh, c.f, &t)) << resize_filter_name(c.f);
    const std::string what = plan_name(c.f, c.sw, c.sh, c.dw, c.dh);
    EXPECT_TRUE(detail::periodic_taps_fit(t, c.n)) << what;
    EXPECT_FALSE(detail::periodic_taps_fit(t, c.n - 1)) << what;
    // Every weight outside the fitted taps is an exact zero, and each phase still sums to 1.
    for (int r = 0; r < t.p; ++r) {
      double sum = 0;
      for (int k = detail::periodic_first_tap(t.p, t.q, r); k < detail::periodic_first_tap(t.p, t.q, r) + c.n; ++k)
        sum += t.w[r][k];
      EXPECT_NEAR(sum, 1.0, 1e-6) << what << " phase " << r;
    }
  }
  detail::PeriodicTaps odd;  // a weight outside the allowed range: no fit
  odd.p = 2;
  odd.q = 1;
  odd.kw = 3;
  odd.w[0][0] = 0.5f, odd.w[0][2] = 0.5f, odd.w[1][1] = 1.f;
  EXPECT_FALSE(detail::periodic_taps_fit(odd, 2));
  EXPECT_TRUE(detail::periodic_taps_fit(odd, 3));
}

TEST(ResizePeriodic, OtherRatiosAndTinySizesAreNotPeriodic) {
  for (ResizeFilter f : kFilters) {
    EXPECT_FALSE(periodic(2880, 1620, 1920, 1080, f)) << "1.5x down";
    EXPECT_FALSE(periodic(1920, 1080, 2880, 2160, f)) << "1.5x wide, 2x high";
    EXPECT_FALSE(periodic(1920, 1080, 3840, 1080, f)) << "2x wide only";
    EXPECT_FALSE(periodic(100, 100, 200, 400, f)) << "2x by 4x";
    EXPECT_FALSE(periodic(3840, 2160, 1280, 720, f)) << "3x down";
    EXPECT_FALSE(periodic(1, 1, 2, 2, f)) << "no interior entry";
    EXPECT_FALSE(periodic(3, 3, 1, 1, f)) << "no interior entry";
  }
}

TEST(ResizePeriodic, PhaseTapsWithAReplicatedBorderEqualResizeCpu) {
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  struct Case {
    int sw, sh, dw, dh;
  } cases[] = {{7, 5, 14, 10},   {17, 13, 34, 26}, {65, 33, 130, 66},  {5, 7, 20, 28},      {33, 19, 132, 76},
               {14, 10, 7, 5},   {34, 26, 17, 13}, {130, 66, 65, 33},  {258, 134, 129, 67}, {40, 22, 20, 11},
               {14, 10, 21, 15}, {66, 34, 99, 51}, {130, 68, 195, 102}};
  int checked = 0;
  for (ResizeFilter f : kFilters)
    for (const Case& c : cases) {
      detail::PeriodicTaps t;
      const std::string what = plan_name(f, c.sw, c.sh, c.dw, c.dh);
      if (!periodic(c.sw, c.sh, c.dw, c.dh, f, &t)) {
        // Only small sources may lack an interior entry (the widest filter, 13 taps at x2 down).
        EXPECT_LT(std::min(c.sw, c.sh), 14) << what;
        continue;
      }
      std::vector<float> src(static_cast<std::size_t>(c.sw) * c.sh);
      for (float& v : src) v = d(rng);
      Guarded gs(static_cast<std::size_t>(c.sw) * 4, c.sh, 3, 4), gd(static_cast<std::size_t>(c.dw) * 4, c.dh, 3, 4);
      PlaneView<float> sv = gs.view<float>(c.sw), dv = gd.view<float>(c.dw);
      for (int y = 0; y < c.sh; ++y) std::copy_n(src.data() + static_cast<std::size_t>(y) * c.sw, c.sw, sv.row(y));
      resize_cpu(sv.as_const(), dv, f);
      const std::vector<float> got = periodic_resize(t, src, c.sw, c.sh, c.dw, c.dh);
      double worst = 0;
      for (int y = 0; y < c.dh; ++y)
        for (int x = 0; x < c.dw; ++x)
          worst = std::max(worst,
                           static_cast<double>(std::fabs(got[static_cast<std::size_t>(y) * c.dw + x] - dv.row(y)[x])));
      EXPECT_LE(worst, 2e-6) << what;
      ++checked;
    }
  EXPECT_GE(checked, 47);  // every case but some of the smallest sources
  std::printf("periodic cases checked: %d of %zu\n", checked, std::size(kFilters) * std::size(cases));
}

#ifdef UPSCALED_WITH_CUDA
// Which CUDA kernel a periodic plan takes (decided on the host, no GPU needed): the register
// window (resize_sliding_cuda.cu) for x2 with at most 4 taps per phase, preferred over the
// aligned tile kernel with 2; the shared-memory tile kernels for the longer filters, x4 and
// x1.5. The speeds in docs/benchmarks.md (twenty-third session, run 2) were measured with
// exactly this split.
TEST(ResizePeriodic, CudaKernelChoiceFollowsTheTapCount) {
  struct Case {
    int sw, sh, dw, dh;
    ResizeFilter f;
    bool sliding, preferred;
  };
  const Case cases[] = {
      {1920, 1080, 3840, 2160, ResizeFilter::bilinear, true, true},
      {1920, 1080, 3840, 2160, ResizeFilter::area, true, true},
      {1920, 1080, 3840, 2160, ResizeFilter::bicubic, true, false},
      {1920, 1080, 3840, 2160, ResizeFilter::lanczos3, false, false},
      {3840, 2160, 1920, 1080, ResizeFilter::area, true, true},
      {3840, 2160, 1920, 1080, ResizeFilter::bilinear, true, false},
      {3840, 2160, 1920, 1080, ResizeFilter::bicubic, false, false},
      {3840, 2160, 1920, 1080, ResizeFilter::lanczos3, false, false},
      {960, 540, 3840, 2160, ResizeFilter::bilinear, false, false},
      {33, 19, 66, 38, ResizeFilter::bilinear, true, true},
      {2560, 1440, 3840, 2160, ResizeFilter::bilinear, false, false},
      {2560, 1440, 3840, 2160, ResizeFilter::lanczos3, false, false},
  };
  for (const Case& c : cases) {
    detail::PeriodicTaps t;
    ASSERT_TRUE(periodic(c.sw, c.sh, c.dw, c.dh, c.f, &t)) << resize_filter_name(c.f);
    const std::string what = plan_name(c.f, c.sw, c.sh, c.dw, c.dh);
    EXPECT_EQ(cudadetail::sliding_supported(t), c.sliding) << what;
    EXPECT_EQ(cudadetail::sliding_preferred(t), c.preferred) << what;
    EXPECT_TRUE(cudadetail::periodic_supported(t)) << what;
  }
}
#endif

}  // namespace
}  // namespace upscaled::kernels::test
