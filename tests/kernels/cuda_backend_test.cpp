// Every operation on the CUDA backend against the CPU twin, on random data with fixed seeds:
// odd sizes 1..17, 1920x1080 and 3840x2160, pitches wider than rows, guard bytes checked after
// the device wrote (the whole guarded buffer travels to the device and back). Without a
// usable GPU (or in a build without CUDA) every test here is skipped with the reason.
//
// Tolerances: float32 outputs 2e-5 (FMA contraction on the device is the only difference);
// float16 outputs half an ulp of the value plus that; integer outputs at most 1 code and in at
// most 0.2% of samples (a value within float rounding of .5 may round either way).
#include "kernel_test_util.h"
#include "kernels/backend.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"

#include <gtest/gtest.h>

#ifdef UPSCALED_WITH_CUDA
#include "kernels/cuda_raii.h"
#endif

#include <cmath>

namespace upscaled::kernels::test {
namespace {

#define REQUIRE_CUDA()                                                                \
  do {                                                                                \
    if (!cuda_usable()) GTEST_SKIP() << "CUDA backend not usable: " << cuda_status(); \
  } while (0)

#ifdef UPSCALED_WITH_CUDA

// A device copy of a guarded host plane, byte for byte (pattern included).
// cudaMemcpy from pageable memory may return before its DMA has landed, and the kernels run
// on non-blocking streams that do not wait for the legacy stream: without the device
// synchronisation a late upload could overwrite a kernel's output with the host pattern.
struct Mirror {
  Guarded* host;
  DeviceBuffer dev;
  explicit Mirror(Guarded& h) : host(&h), dev(h.size()) {
    cuda_check(cudaMemcpy(dev.get(), h.data(), h.size(), cudaMemcpyHostToDevice), "upload");
    cuda_check(cudaDeviceSynchronize(), "upload");
  }
  void download() { cuda_check(cudaMemcpy(host->data(), dev.get(), host->size(), cudaMemcpyDeviceToHost), "download"); }
  template <typename T>
  PlaneView<T> view(int width) {
    return {dev.as<T>(), width, host->rows(), host->pitch()};
  }
};

struct FrameMirror {
  HostFrame* host;
  std::vector<std::unique_ptr<Mirror>> m;
  explicit FrameMirror(HostFrame& f) : host(&f) {
    for (int p = 0; p < f.plane_count(); ++p) m.push_back(std::make_unique<Mirror>(f.planes[p]));
  }
  MutableFrameView mview() {
    MutableFrameView v{host->layout, host->width, host->height, {}, {}};
    for (size_t p = 0; p < m.size(); ++p) {
      v.data[p] = m[p]->dev.as<std::uint8_t>();
      v.pitch[p] = host->planes[p].pitch();
    }
    return v;
  }
  FrameView view() { return as_const(mview()); }
  void download() {
    for (auto& x : m) x->download();
  }
};

template <typename T>
struct RgbMirror {
  HostRgb<T>* host;
  std::unique_ptr<Mirror> m[3];
  explicit RgbMirror(HostRgb<T>& h) : host(&h) {
    for (int c = 0; c < 3; ++c) m[c] = std::make_unique<Mirror>(h.planes[c]);
  }
  RgbPlanes<T> view() { return {m[0]->view<T>(host->width), m[1]->view<T>(host->width), m[2]->view<T>(host->width)}; }
  void download() {
    for (auto& x : m) x->download();
  }
};

struct Sz {
  int w, h;
};
const Sz kSmall[] = {{1, 1}, {2, 2}, {3, 5}, {7, 3}, {16, 9}, {17, 17}, {1, 13}, {13, 1}, {33, 19}};

template <typename T>
double max_rgb_diff(HostRgb<T>& gpu, HostRgb<float>& cpu, double rel) {
  double worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < cpu.height; ++y)
      for (int x = 0; x < cpu.width; ++x) {
        const double ref = cpu.at(c, x, y);
        const double d = std::abs(value_of(gpu.at(c, x, y)) - ref) - rel * std::abs(ref);
        worst = std::max(worst, d);
      }
  return worst;
}

template <typename T>
void to_rgb_case(PixelLayout l, const ColorSpec& spec, int w, int h, std::mt19937& rng, std::size_t align = 0) {
  HostFrame f(l, w, h, 7, align);
  f.randomize(rng);
  HostRgb<float> cpu(w, h);
  to_rgb_cpu(f.view(), spec, cpu.view());
  HostRgb<T> gpu(w, h, 11, align);
  CudaStream s;
  FrameMirror fm(f);
  RgbMirror<T> gm(gpu);
  to_rgb_cuda(fm.view(), spec, gm.view(), s.stream());
  s.synchronize();
  gm.download();
  const std::string what = std::string(layout_name(l)) + " " + matrix_name(spec.matrix) + " " + range_name(spec.range) +
                           " " + siting_name(spec.siting) + " " + std::to_string(w) + "x" + std::to_string(h) +
                           (sizeof(T) == 2 ? " half" : " float") + (align ? " aligned" : "");
  ASSERT_EQ(gpu.check_guards(), "") << what;
  ASSERT_LE(max_rgb_diff(gpu, cpu, sizeof(T) == 2 ? 1.0 / 2048 : 0.0), 2e-5) << what;
}

// Integer planes: |gpu - cpu| <= 1 code everywhere and != in at most 0.2% of samples.
void compare_frames(const HostFrame& gpu, const HostFrame& cpu, const std::string& what) {
  const LayoutInfo li = layout_info(cpu.layout);
  long differing = 0, total = 0;
  for (int p = 0; p < cpu.plane_count(); ++p) {
    const int n = static_cast<int>(cpu.planes[p].row_bytes()) / li.bytes;
    for (int y = 0; y < cpu.planes[p].rows(); ++y)
      for (int i = 0; i < n; ++i) {
        const int d = std::abs((gpu.sample(p, y, i) >> li.msb_shift) - (cpu.sample(p, y, i) >> li.msb_shift));
        ASSERT_LE(d, 1) << what << " plane " << p << " row " << y << " sample " << i;
        differing += d != 0;
        ++total;
      }
  }
  EXPECT_LE(differing, std::max<long>(1, total / 500)) << what << ": " << differing << " of " << total << " differ";
}

template <typename T>
void from_rgb_case(PixelLayout l, const ColorSpec& spec, Dither dither, int w, int h, std::mt19937& rng,
                   std::size_t align = 0) {
  HostRgb<T> in(w, h, 3, align);
  randomize_rgb(in, rng, -0.05f, 1.05f);
  HostRgb<float> in_f(w, h);  // what the device sees, as float for the CPU twin
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) in_f.at(c, x, y) = value_of(in.at(c, x, y));
  HostFrame cpu(l, w, h), gpu(l, w, h, 13, align);
  from_rgb_cpu(in_f.cview(), spec, cpu.mview(), dither);
  CudaStream s;
  RgbMirror<T> im(in);
  FrameMirror gm(gpu);
  from_rgb_cuda(im.view().as_const(), spec, gm.mview(), dither, s.stream());
  s.synchronize();
  gm.download();
  const std::string what = std::string(layout_name(l)) + " " + matrix_name(spec.matrix) + " " + range_name(spec.range) +
                           " " + siting_name(spec.siting) + " " + std::to_string(w) + "x" + std::to_string(h) +
                           (dither == Dither::ordered ? " dither" : "") + (sizeof(T) == 2 ? " half" : " float") +
                           (align ? " aligned" : "");
  ASSERT_EQ(gpu.check_guards(), "") << what;
  compare_frames(gpu, cpu, what);
}

#endif  // UPSCALED_WITH_CUDA

TEST(KernelsCuda, ToRgbMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(101);
  for (PixelLayout l : kAllLayouts)
    for (ColorMatrix m : {ColorMatrix::bt601, ColorMatrix::bt709, ColorMatrix::bt2020ncl})
      for (ColorRange r : {ColorRange::limited, ColorRange::full})
        for (ChromaSiting s : {ChromaSiting::left, ChromaSiting::center, ChromaSiting::topleft})
          for (const Sz& z : kSmall) {
            to_rgb_case<float>(l, {m, r, s}, z.w, z.h, rng);
            to_rgb_case<Half>(l, {m, r, s}, z.w, z.h, rng);
          }
  for (PixelLayout l : kAllLayouts) {
    to_rgb_case<float>(l, {}, 1920, 1080, rng);
    to_rgb_case<Half>(l, {ColorMatrix::bt2020ncl, ColorRange::full, ChromaSiting::topleft}, 1920, 1080, rng);
  }
  for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::p010, PixelLayout::nv12, PixelLayout::rgb24})
    to_rgb_case<Half>(l, {}, 3840, 2160, rng);
  // Every row aligned (pitches multiples of 64): the vector paths on every row, with the
  // scalar edges of odd widths and heights.
  for (PixelLayout l : kAllLayouts)
    for (ChromaSiting s : {ChromaSiting::left, ChromaSiting::center, ChromaSiting::topleft})
      for (const Sz& z : {Sz{33, 19}, Sz{250, 37}, Sz{1920, 1080}}) {
        if (z.w < 1000 || s == ChromaSiting::left)
          to_rgb_case<Half>(l, {ColorMatrix::bt709, ColorRange::limited, s}, z.w, z.h, rng, 64);
        if (z.w < 1000) to_rgb_case<float>(l, {ColorMatrix::bt601, ColorRange::full, s}, z.w, z.h, rng, 64);
      }
  for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::p010, PixelLayout::nv12, PixelLayout::yuv420p10})
    to_rgb_case<Half>(l, {}, 3840, 2160, rng, 64);
#endif
}

TEST(KernelsCuda, FromRgbMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(202);
  for (PixelLayout l : kAllLayouts)
    for (ColorMatrix m : {ColorMatrix::bt601, ColorMatrix::bt709, ColorMatrix::bt2020ncl})
      for (ColorRange r : {ColorRange::limited, ColorRange::full})
        for (ChromaSiting s : {ChromaSiting::left, ChromaSiting::center, ChromaSiting::topleft})
          for (const Sz& z : kSmall) {
            from_rgb_case<float>(l, {m, r, s}, Dither::none, z.w, z.h, rng);
            from_rgb_case<Half>(l, {m, r, s}, Dither::ordered, z.w, z.h, rng);
          }
  for (PixelLayout l : kAllLayouts) {
    from_rgb_case<float>(l, {}, Dither::ordered, 1920, 1080, rng);
    from_rgb_case<Half>(l, {ColorMatrix::bt601, ColorRange::full, ChromaSiting::center}, Dither::none, 1920, 1080, rng);
  }
  for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::yuv420p10, PixelLayout::p010, PixelLayout::nv12})
    from_rgb_case<Half>(l, {}, Dither::ordered, 3840, 2160, rng);
  // Every row aligned (pitches multiples of 64): the vector paths on every row.
  for (PixelLayout l : kAllLayouts)
    for (ChromaSiting s : {ChromaSiting::left, ChromaSiting::center, ChromaSiting::topleft})
      for (const Sz& z : {Sz{33, 19}, Sz{250, 37}, Sz{1920, 1080}}) {
        if (z.w < 1000 || s == ChromaSiting::center)
          from_rgb_case<Half>(l, {ColorMatrix::bt709, ColorRange::limited, s}, Dither::ordered, z.w, z.h, rng, 64);
        if (z.w < 1000)
          from_rgb_case<Half>(l, {ColorMatrix::bt2020ncl, ColorRange::full, s}, Dither::none, z.w, z.h, rng, 64);
      }
  for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::yuv422p, PixelLayout::nv12})
    from_rgb_case<Half>(l, {}, Dither::none, 3840, 2160, rng, 64);
#endif
}

TEST(KernelsCuda, GrayscaleMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(303);
  const Sz sizes[] = {{1, 1}, {3, 5}, {17, 17}, {33, 19}, {1920, 1080}, {3840, 2160}};
  for (PixelLayout l : kAllLayouts)
    for (const Sz& z : sizes) {
      if (z.w == 3840 && l != PixelLayout::p010) continue;
      const ColorSpec spec{ColorMatrix::bt2020ncl, ColorRange::limited, ChromaSiting::left};
      HostFrame f(l, z.w, z.h);
      f.randomize(rng);
      const std::string what = std::string(layout_name(l)) + " " + std::to_string(z.w) + "x" + std::to_string(z.h);
      CudaStream s;
      FrameMirror fm(f);
      // Full-resolution luma.
      Guarded lc(static_cast<size_t>(z.w) * 4, z.h, 5, 4), lg(static_cast<size_t>(z.w) * 4, z.h, 9, 4);
      luma_cpu(f.view(), spec, lc.view<float>(z.w));
      Mirror lm(lg);
      luma_cuda(fm.view(), spec, lm.view<float>(z.w), s.stream());
      // Thumbnails, including one larger than a tiny frame.
      const int tw = std::max(1, z.w / 30) + 1, th = std::max(1, z.h / 30) + 1;
      Guarded tc(static_cast<size_t>(tw) * 4, th, 3, 4), tg(static_cast<size_t>(tw) * 4, th, 7, 4);
      luma_thumbnail_cpu(f.view(), spec, tc.view<float>(tw));
      Mirror tm(tg);
      luma_thumbnail_cuda(fm.view(), spec, tm.view<float>(tw), s.stream());
      s.synchronize();
      lm.download();
      tm.download();
      ASSERT_EQ(lg.check_guards("luma"), "") << what;
      ASSERT_EQ(tg.check_guards("thumbnail"), "") << what;
      for (int y = 0; y < z.h; ++y)
        for (int x = 0; x < z.w; ++x)
          ASSERT_NEAR(lg.view<float>(z.w).row(y)[x], lc.view<float>(z.w).row(y)[x], 2e-5) << what;
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x)
          ASSERT_NEAR(tg.view<float>(tw).row(y)[x], tc.view<float>(tw).row(y)[x], 2e-5) << what << " thumbnail";
    }
  // Neutral gray, float and half.
  for (const Sz& z : sizes)
    for (std::size_t align : {std::size_t{0}, std::size_t{64}}) {  // 64: every row aligned (vector path)
      HostRgb<float> cpu(z.w, z.h), gpu_f(z.w, z.h, 7, align);
      randomize_rgb(cpu, rng, -0.1f, 1.1f);
      HostRgb<Half> gpu_h(z.w, z.h, 5, align);
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < z.h; ++y)
          for (int x = 0; x < z.w; ++x) {
            gpu_f.at(c, x, y) = cpu.at(c, x, y);
            gpu_h.at(c, x, y) = float_to_half(cpu.at(c, x, y));
          }
      HostRgb<float> cpu_h(z.w, z.h);  // the CPU twin on the half-rounded input
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < z.h; ++y)
          for (int x = 0; x < z.w; ++x) cpu_h.at(c, x, y) = half_to_float(gpu_h.at(c, x, y));
      make_gray_cpu(cpu.view(), ColorMatrix::bt709);
      make_gray_cpu(cpu_h.view(), ColorMatrix::bt709);
      CudaStream s;
      RgbMirror<float> mf(gpu_f);
      RgbMirror<Half> mh(gpu_h);
      make_gray_cuda(mf.view(), ColorMatrix::bt709, s.stream());
      make_gray_cuda(mh.view(), ColorMatrix::bt709, s.stream());
      s.synchronize();
      mf.download();
      mh.download();
      ASSERT_EQ(gpu_f.check_guards(), "");
      ASSERT_EQ(gpu_h.check_guards(), "");
      EXPECT_LE(max_rgb_diff(gpu_f, cpu, 0.0), 2e-5) << z.w << "x" << z.h << " align " << align;
      EXPECT_LE(max_rgb_diff(gpu_h, cpu_h, 1.0 / 2048), 2e-5) << z.w << "x" << z.h << " half align " << align;
    }
#endif
}

#ifdef UPSCALED_WITH_CUDA
template <typename T>
// align: row pitches rounded up to a multiple of it (64: every plane 16-byte aligned, so the
// kernels' vector paths run, which odd pitches keep them off).
void resize_case(ResizeFilter f, int sw, int sh, int dw, int dh, std::mt19937& rng,
                 ResizeStrategy strategy = ResizeStrategy::automatic, std::size_t align = 0) {
  HostRgb<T> src(sw, sh, 3, align);
  randomize_rgb(src, rng);
  HostRgb<float> src_f(sw, sh), cpu(dw, dh);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < sh; ++y)
      for (int x = 0; x < sw; ++x) src_f.at(c, x, y) = value_of(src.at(c, x, y));
  resize_cpu(src_f.cview(), cpu.view(), f);
  HostRgb<T> gpu(dw, dh, 9, align);
  CudaStream s;
  ResizeCuda plan(sw, sh, dw, dh, f, strategy);
  RgbMirror<T> sm(src), dm(gpu);
  plan.run(sm.view().as_const(), dm.view(), s.stream());
  s.synchronize();
  dm.download();
  const std::string what = std::string(resize_filter_name(f)) + " " + std::to_string(sw) + "x" + std::to_string(sh) +
                           " -> " + std::to_string(dw) + "x" + std::to_string(dh) +
                           (sizeof(T) == 2 ? " half" : " float") + (align ? " aligned" : "");
  ASSERT_EQ(gpu.check_guards(), "") << what;
  ASSERT_LE(max_rgb_diff(gpu, cpu, sizeof(T) == 2 ? 1.0 / 2048 : 0.0), 2e-5) << what;
}
#endif

TEST(KernelsCuda, ResizeMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(404);
  for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3, ResizeFilter::area}) {
    for (const Sz& a : kSmall)
      for (const Sz& b : kSmall) {
        resize_case<float>(f, a.w, a.h, b.w, b.h, rng);
        resize_case<Half>(f, b.w, b.h, a.w, a.h, rng);
        resize_case<float>(f, a.w, a.h, b.w, b.h, rng, ResizeStrategy::two_pass);
      }
    resize_case<float>(f, 1920, 1080, 3840, 2160, rng);
    resize_case<Half>(f, 3840, 2160, 1920, 1080, rng);
    resize_case<Half>(f, 1920, 1080, 3840, 2160, rng, ResizeStrategy::two_pass);
    resize_case<float>(f, 3840, 2160, 480, 270, rng);  // 8x down: window too large, two passes
  }
  resize_case<Half>(ResizeFilter::lanczos3, 1920, 1080, 3840, 2160, rng);
  resize_case<float>(ResizeFilter::area, 3840, 2160, 1280, 720, rng);
  // Upscales and 2x downscales take the tiled kernel; an 8x Lanczos downscale cannot.
  EXPECT_TRUE(ResizeCuda(1920, 1080, 3840, 2160, ResizeFilter::lanczos3).tiled());
  EXPECT_TRUE(ResizeCuda(3840, 2160, 1920, 1080, ResizeFilter::lanczos3).tiled());
  EXPECT_FALSE(ResizeCuda(3840, 2160, 480, 270, ResizeFilter::lanczos3).tiled());
  EXPECT_FALSE(ResizeCuda(64, 64, 128, 128, ResizeFilter::bilinear, ResizeStrategy::two_pass).tiled());
  // A plan rejects planes of another size.
  ResizeCuda plan(8, 8, 4, 4, ResizeFilter::area);
  CudaStream s;
  DevicePlane<float> a(8, 8), b(5, 4);
  EXPECT_THROW(plan.run(a.cview(), b.view(), s.stream()), std::invalid_argument);
#endif
}

// Integer ratios take the periodic kernels (the register-window one for short filters at x2,
// the tile one otherwise): x2 and x4 up, x2 down, odd sizes (partial tiles and strips,
// borders on every side), odd and 64-byte-multiple pitches (scalar and vector paths), both
// sample types, against the CPU and against the tiled kernel's route; x1.5 up on the aligned
// kernel (64-byte pitches) and, with odd pitches, on the tiled kernel its plan falls back to.
TEST(KernelsCuda, PeriodicResizeMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(505);
  const Sz up[] = {{7, 5}, {17, 13}, {65, 33}, {33, 71}, {129, 67}, {333, 211}};
  for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3, ResizeFilter::area}) {
    for (const Sz& a : up) {
      for (int k : {2, 4}) {
        const bool want = ResizeCuda(a.w, a.h, k * a.w, k * a.h, f).periodic();
        EXPECT_TRUE(want || std::min(a.w, a.h) < 8) << resize_filter_name(f) << " " << a.w << "x" << a.h << " x" << k;
        resize_case<float>(f, a.w, a.h, k * a.w, k * a.h, rng);
        resize_case<Half>(f, a.w, a.h, k * a.w, k * a.h, rng);
        resize_case<float>(f, a.w, a.h, k * a.w, k * a.h, rng, ResizeStrategy::automatic, 64);
        resize_case<Half>(f, a.w, a.h, k * a.w, k * a.h, rng, ResizeStrategy::automatic, 64);
      }
      const bool down = ResizeCuda(2 * a.w, 2 * a.h, a.w, a.h, f).periodic();
      EXPECT_TRUE(down || std::min(a.w, a.h) < 14) << resize_filter_name(f) << " " << a.w << "x" << a.h << " /2";
      resize_case<float>(f, 2 * a.w, 2 * a.h, a.w, a.h, rng);
      resize_case<Half>(f, 2 * a.w, 2 * a.h, a.w, a.h, rng);
      resize_case<Half>(f, 2 * a.w, 2 * a.h, a.w, a.h, rng, ResizeStrategy::tiled);
      resize_case<float>(f, 2 * a.w, 2 * a.h, a.w, a.h, rng, ResizeStrategy::automatic, 64);
      resize_case<Half>(f, 2 * a.w, 2 * a.h, a.w, a.h, rng, ResizeStrategy::automatic, 64);
    }
    // Frame sizes with 16-byte pitches (the aligned tile kernel, several tiles and phases of
    // the window's shift) and with odd pitches (the other one).
    resize_case<Half>(f, 1920, 1080, 3840, 2160, rng, ResizeStrategy::automatic, 64);
    resize_case<Half>(f, 3840, 2160, 1920, 1080, rng, ResizeStrategy::automatic, 64);
    resize_case<float>(f, 1918, 1078, 959, 539, rng, ResizeStrategy::automatic, 64);
    resize_case<Half>(f, 3838, 2158, 1919, 1079, rng);
    EXPECT_TRUE(ResizeCuda(1920, 1080, 3840, 2160, f).periodic());
    EXPECT_TRUE(ResizeCuda(3840, 2160, 1920, 1080, f).periodic());
    EXPECT_FALSE(ResizeCuda(1920, 1080, 3840, 2160, f, ResizeStrategy::tiled).periodic());
    // x1.5 up: partial tiles on both axes, several tiles, a frame size.
    for (const Sz& a : {Sz{66, 34}, Sz{130, 68}, Sz{258, 134}, Sz{700, 402}}) {
      const int dw = a.w * 3 / 2, dh = a.h * 3 / 2;
      EXPECT_TRUE(ResizeCuda(a.w, a.h, dw, dh, f).periodic()) << resize_filter_name(f) << " " << a.w << "x" << a.h;
      resize_case<float>(f, a.w, a.h, dw, dh, rng, ResizeStrategy::automatic, 64);
      resize_case<Half>(f, a.w, a.h, dw, dh, rng, ResizeStrategy::automatic, 64);
      resize_case<Half>(f, a.w, a.h, dw, dh, rng);
    }
    resize_case<Half>(f, 2560, 1440, 3840, 2160, rng, ResizeStrategy::automatic, 64);
    EXPECT_TRUE(ResizeCuda(1920, 1080, 2880, 1620, f).periodic());
    EXPECT_FALSE(ResizeCuda(2880, 1620, 1920, 1080, f).periodic());
  }
#endif
}

TEST(KernelsCuda, FusedConvertResizeMatchesCpu) {
  REQUIRE_CUDA();
#ifdef UPSCALED_WITH_CUDA
  std::mt19937 rng(505);
  struct Case {
    PixelLayout l;
    ResizeFilter f;
    int sw, sh, dw, dh;
  } cases[] = {{PixelLayout::yuv420p, ResizeFilter::lanczos3, 17, 13, 40, 31},
               {PixelLayout::nv12, ResizeFilter::bicubic, 33, 19, 7, 5},
               {PixelLayout::p010, ResizeFilter::area, 16, 9, 3, 2},
               {PixelLayout::yuv444p10, ResizeFilter::bilinear, 5, 3, 11, 9},
               {PixelLayout::rgb24, ResizeFilter::lanczos3, 1, 1, 3, 2},
               {PixelLayout::gray10, ResizeFilter::area, 13, 17, 13, 17},
               {PixelLayout::yuv420p, ResizeFilter::lanczos3, 1920, 1080, 3840, 2160},
               {PixelLayout::p010, ResizeFilter::area, 3840, 2160, 1920, 1080},
               // Periodic ratios at odd sizes (the float32 RGB intermediate and the aligned
               // kernel, float -> float16 included): x2 up, x2 down, x4 up, x1.5 up.
               {PixelLayout::nv12, ResizeFilter::bicubic, 34, 20, 68, 40},
               {PixelLayout::yuv420p10, ResizeFilter::lanczos3, 66, 46, 33, 23},
               {PixelLayout::rgb24, ResizeFilter::bilinear, 9, 7, 36, 28},
               {PixelLayout::yuv444p, ResizeFilter::lanczos3, 131, 67, 262, 134},
               // x1.5 up (the aligned kernel from the intermediate).
               {PixelLayout::yuv420p, ResizeFilter::lanczos3, 66, 46, 99, 69},
               {PixelLayout::p010, ResizeFilter::bilinear, 130, 68, 195, 102}};
  for (const Case& c : cases) {
    const ColorSpec spec{ColorMatrix::bt709, ColorRange::limited, ChromaSiting::left};
    HostFrame f(c.l, c.sw, c.sh);
    f.randomize(rng);
    HostRgb<float> cpu(c.dw, c.dh), gpu_f(c.dw, c.dh, 5);
    HostRgb<Half> gpu_h(c.dw, c.dh, 7);
    resize_cpu(f.view(), spec, cpu.view(), c.f);
    CudaStream s;
    ResizeCuda plan(c.sw, c.sh, c.dw, c.dh, c.f);
    FrameMirror fm(f);
    RgbMirror<float> mf(gpu_f);
    RgbMirror<Half> mh(gpu_h);
    plan.run(fm.view(), spec, mf.view(), s.stream());
    plan.run(fm.view(), spec, mh.view(), s.stream());
    s.synchronize();
    mf.download();
    mh.download();
    const std::string what = std::string(layout_name(c.l)) + " " + resize_filter_name(c.f) + " " +
                             std::to_string(c.sw) + "x" + std::to_string(c.sh) + " -> " + std::to_string(c.dw) + "x" +
                             std::to_string(c.dh);
    ASSERT_EQ(gpu_f.check_guards(), "") << what;
    ASSERT_EQ(gpu_h.check_guards(), "") << what;
    EXPECT_LE(max_rgb_diff(gpu_f, cpu, 0.0), 3e-5) << what;
    EXPECT_LE(max_rgb_diff(gpu_h, cpu, 1.0 / 2048), 3e-5) << what << " half";
  }
#endif
}

TEST(KernelsCuda, BackendRegistryIsConsistent) {
  // Runs everywhere: without a GPU it checks the negative answer's reason is given.
  const auto backends = available_backends();
  ASSERT_FALSE(backends.empty());
  EXPECT_EQ(backends.front(), Backend::cpu);
  EXPECT_EQ(cuda_usable(), backends.size() == 2);
  EXPECT_FALSE(cuda_status().empty());
  if (!cuda_compiled()) {
    EXPECT_FALSE(cuda_usable());
  }
}

}  // namespace
}  // namespace upscaled::kernels::test
