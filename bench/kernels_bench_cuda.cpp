// GPU half of bench_kernels: every kernel at 1920x1080 and 3840x2160 on one non-blocking
// stream, timed with CUDA events (median of N launches after warm-up), against a
// device-to-device cudaMemcpyAsync of a 4:4:4 float16 RGB frame measured in the same run.
#include "kernels/cuda_raii.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"
#include "kernels_bench.h"

#include <algorithm>
#include <functional>
#include <memory>

namespace upscaled::bench {
namespace {

using namespace upscaled::kernels;

double median_ms(CudaStream& s, int runs, int batch, const std::function<void()>& op) {
  for (int i = 0; i < 3; ++i) op();  // warm-up: first launches load modules
  s.synchronize();
  CudaEvent a, b;
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    a.record(s.get());
    for (int k = 0; k < batch; ++k) op();
    b.record(s.get());
    b.synchronize();
    t.push_back(CudaEvent::elapsed_ms(a, b) / batch);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// A device picture of any layout with CUDA-chosen pitches.
struct DevFrame {
  std::vector<DeviceBuffer> planes;
  MutableFrameView view;
  double bytes = 0;
  DevFrame(PixelLayout l, int w, int h) {
    view = {l, w, h, {}, {}};
    for (int p = 0; p < layout_info(l).planes; ++p) {
      const PlaneSize ps = plane_size(l, w, h, p);
      planes.emplace_back(static_cast<std::size_t>(ps.row_bytes), static_cast<std::size_t>(ps.height));
      cuda_check(cudaMemset(planes.back().get(), 0x40, planes.back().bytes()), "cudaMemset");
      view.data[p] = planes.back().as<std::uint8_t>();
      view.pitch[p] = static_cast<std::ptrdiff_t>(planes.back().pitch());
      bytes += static_cast<double>(ps.row_bytes) * ps.height;
    }
  }
};

template <typename T>
struct DevRgb {
  DevicePlane<T> p[3];
  DevRgb(int w, int h) : p{DevicePlane<T>(w, h), DevicePlane<T>(w, h), DevicePlane<T>(w, h)} {
    for (auto& q : p) cuda_check(cudaMemset2D(q.view().data, q.view().pitch, 0x30, w * sizeof(T), h), "cudaMemset2D");
  }
  RgbPlanes<T> view() const { return {p[0].view(), p[1].view(), p[2].view()}; }
  static double bytes(int w, int h) { return 3.0 * w * h * sizeof(T); }
};

std::string size_name(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

}  // namespace

std::string gpu_description() {
  int dev = 0, driver = 0;
  cuda_check(cudaGetDevice(&dev), "cudaGetDevice");
  cudaDeviceProp p{};
  cuda_check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  cudaDriverGetVersion(&driver);
  return std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " + std::to_string(p.totalGlobalMem >> 20) + " MiB, driver " +
         std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10);
}

void run_gpu_bench(const BenchOptions& opt, std::vector<KernelResult>& rows, std::vector<KernelResult>& copies) {
  CudaStream s;
  const Stream st = s.stream();
  std::vector<std::pair<int, int>> sizes{{1920, 1080}};
  if (opt.include_4k) sizes.push_back({3840, 2160});
  for (auto [w, h] : sizes) {
    const std::string sz = size_name(w, h);
    // Reference: copy of one float16 RGB frame (read + write counted).
    const std::size_t copy_bytes = static_cast<std::size_t>(w) * h * 3 * 2;
    DeviceBuffer ca(copy_bytes), cb(copy_bytes);
    KernelResult copy{"cudaMemcpy D2D (f16 RGB frame)", sz, "cuda", 2.0 * copy_bytes, 0, 1.0, 0};
    copy.median_ms = median_ms(s, opt.runs, opt.batch, [&] {
      cuda_check(cudaMemcpyAsync(cb.get(), ca.get(), copy_bytes, cudaMemcpyDeviceToDevice, s.get()), "memcpy");
    });
    copies.push_back(copy);
    const double copy_gbps = copy.gbps();
    auto add = [&](const std::string& name, double bytes, const std::function<void()>& op) {
      if (!opt.selected(name)) return;
      KernelResult r{name, sz, "cuda", bytes, median_ms(s, opt.runs, opt.batch, op), 0, 0};
      r.copy_fraction = r.gbps() / copy_gbps;
      rows.push_back(r);
    };

    DevRgb<Half> rgb_h(w, h);
    DevRgb<float> rgb_f(w, h);
    const ColorSpec spec{ColorMatrix::bt709, ColorRange::limited, ChromaSiting::left};
    for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::nv12, PixelLayout::yuv420p10, PixelLayout::p010,
                          PixelLayout::yuv422p, PixelLayout::yuv444p, PixelLayout::rgb24, PixelLayout::gray8}) {
      DevFrame f(l, w, h);
      add(std::string("to_rgb ") + layout_name(l) + "->f16", f.bytes + DevRgb<Half>::bytes(w, h),
          [&] { to_rgb_cuda(as_const(f.view), spec, rgb_h.view(), st); });
      if (l == PixelLayout::yuv420p) {
        add("to_rgb yuv420p->f32", f.bytes + DevRgb<float>::bytes(w, h),
            [&] { to_rgb_cuda(as_const(f.view), spec, rgb_f.view(), st); });
        add("from_rgb f32->yuv420p", f.bytes + DevRgb<float>::bytes(w, h),
            [&] { from_rgb_cuda(rgb_f.view().as_const(), spec, f.view, Dither::none, st); });
      }
      add(std::string("from_rgb f16->") + layout_name(l), f.bytes + DevRgb<Half>::bytes(w, h),
          [&] { from_rgb_cuda(rgb_h.view().as_const(), spec, f.view, Dither::none, st); });
      if (layout_info(l).bits == 8)
        add(std::string("from_rgb f16->") + layout_name(l) + " dither", f.bytes + DevRgb<Half>::bytes(w, h),
            [&] { from_rgb_cuda(rgb_h.view().as_const(), spec, f.view, Dither::ordered, st); });
      if (l == PixelLayout::yuv420p) {
        DevicePlane<float> thumb(64, 36);
        add("luma_thumbnail yuv420p->64x36", static_cast<double>(w) * h,
            [&] { luma_thumbnail_cuda(as_const(f.view), spec, thumb.view(), st); });
      }
    }
    add("make_gray f16 (in place)", 2 * DevRgb<Half>::bytes(w, h),
        [&] { make_gray_cuda(rgb_h.view(), ColorMatrix::bt709, st); });
    // Fused conversion + resize from a yuv420p frame at half this size, 2x up into this size
    // (Lanczos), against the unfused pair to_rgb + resize.
    {
      DevFrame small(PixelLayout::yuv420p, w / 2, h / 2);
      DevRgb<Half> small_rgb(w / 2, h / 2);
      ResizeCuda plan(w / 2, h / 2, w, h, ResizeFilter::lanczos3);
      add("fused yuv420p->f16 + lanczos x2 (to " + sz + ")", small.bytes + DevRgb<Half>::bytes(w, h),
          [&] { plan.run(as_const(small.view), spec, rgb_h.view(), st); });
      add("unfused to_rgb + lanczos x2 (to " + sz + ")", small.bytes + DevRgb<Half>::bytes(w, h), [&] {
        to_rgb_cuda(as_const(small.view), spec, small_rgb.view(), st);
        plan.run(small_rgb.view().as_const(), rgb_h.view(), st);
      });
    }
    // Resizes whose larger side is this size: 2x up into it and 2x down from it (f16 RGB).
    DevRgb<Half> half_size(w / 2, h / 2);
    for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3, ResizeFilter::area}) {
      const double b = DevRgb<Half>::bytes(w, h) + DevRgb<Half>::bytes(w / 2, h / 2);
      auto up = std::make_shared<ResizeCuda>(w / 2, h / 2, w, h, f);
      add(std::string("resize ") + resize_filter_name(f) + " x2 up f16 (to " + sz + ")", b,
          [&] { up->run(half_size.view().as_const(), rgb_h.view(), st); });
      auto down = std::make_shared<ResizeCuda>(w, h, w / 2, h / 2, f);
      add(std::string("resize ") + resize_filter_name(f) + " x2 down f16 (from " + sz + ")", b,
          [&] { down->run(rgb_h.view().as_const(), half_size.view(), st); });
      // The same ratios through the general tiled kernel (what other ratios get), for
      // comparison with the periodic one that integer ratios take.
      auto up_t = std::make_shared<ResizeCuda>(w / 2, h / 2, w, h, f, ResizeStrategy::tiled);
      add(std::string("resize ") + resize_filter_name(f) + " x2 up f16 tiled (to " + sz + ")", b,
          [&] { up_t->run(half_size.view().as_const(), rgb_h.view(), st); });
      auto down_t = std::make_shared<ResizeCuda>(w, h, w / 2, h / 2, f, ResizeStrategy::tiled);
      add(std::string("resize ") + resize_filter_name(f) + " x2 down f16 tiled (from " + sz + ")", b,
          [&] { down_t->run(rgb_h.view().as_const(), half_size.view(), st); });
      if (f == ResizeFilter::lanczos3) {  // the two-pass strategy, for comparison
        auto up2 = std::make_shared<ResizeCuda>(w / 2, h / 2, w, h, f, ResizeStrategy::two_pass);
        add(std::string("resize lanczos x2 up f16 two-pass (to ") + sz + ")", b,
            [&] { up2->run(half_size.view().as_const(), rgb_h.view(), st); });
      }
    }
    // 1.5x up into this size (2/3 of it as source): the periodic plan (3 phases per 2 source
    // samples) and, for comparison, the tiled kernel.
    {
      DevRgb<Half> two_thirds(w * 2 / 3, h * 2 / 3);
      const double b = DevRgb<Half>::bytes(w, h) + DevRgb<Half>::bytes(w * 2 / 3, h * 2 / 3);
      for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3}) {
        auto plan = std::make_shared<ResizeCuda>(w * 2 / 3, h * 2 / 3, w, h, f);
        add(std::string("resize ") + resize_filter_name(f) + " x1.5 up f16 (to " + sz + ")", b,
            [&] { plan->run(two_thirds.view().as_const(), rgb_h.view(), st); });
        auto tiled = std::make_shared<ResizeCuda>(w * 2 / 3, h * 2 / 3, w, h, f, ResizeStrategy::tiled);
        add(std::string("resize ") + resize_filter_name(f) + " x1.5 up f16 tiled (to " + sz + ")", b,
            [&] { tiled->run(two_thirds.view().as_const(), rgb_h.view(), st); });
      }
    }
  }
}

}  // namespace upscaled::bench
