// bench_kernels: achieved bytes/s of the project's kernels.
//   bench_kernels [--gpu|--cpu] [--runs N] [--batch N] [--filter A,B,..] [--no-4k] [--json PATH]
// --gpu (default when a GPU is usable): every CUDA kernel at 1920x1080 and 3840x2160 against
//   a device-to-device copy measured in the same run (kernels_bench_cuda.cpp).
//   --batch N: N launches back to back per timed interval (default 1: one launch, whose time
//   then includes the host's launch latency).
//   --filter A,B,..: only the rows whose name contains one of the comma-separated strings.
// --cpu: the CPU twins, ms/frame (median of N, wall clock, all threads of parallel_for).
// Prints a table; --json writes the same rows (plus machine facts) for docs/kernels.md.
#include "kernels_bench.h"
#include "kernels/backend.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>

namespace upscaled::bench {
namespace {

using namespace upscaled::kernels;

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

// Median wall time and median process CPU time (all threads) of `runs` calls. On a shared
// machine the wall figure includes waiting for cores; the CPU figure is the work itself.
std::pair<double, double> median_ms(int runs, const std::function<void()>& op) {
  op();  // warm-up (page faults, thread start)
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    const auto a = std::chrono::steady_clock::now();
    const double c = process_cpu_ms();
    op();
    cpu.push_back(process_cpu_ms() - c);
    wall.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

struct HostFrameBuf {
  std::vector<std::vector<std::uint8_t>> planes;
  MutableFrameView view;
  double bytes = 0;
  HostFrameBuf(PixelLayout l, int w, int h, std::mt19937& rng) {
    view = {l, w, h, {}, {}};
    const LayoutInfo li = layout_info(l);
    for (int p = 0; p < li.planes; ++p) {
      const PlaneSize ps = plane_size(l, w, h, p);
      planes.emplace_back(static_cast<std::size_t>(ps.row_bytes) * ps.height);
      for (auto& b : planes.back()) b = static_cast<std::uint8_t>(rng());
      if (li.bytes == 2)  // keep 10-bit samples valid
        for (std::size_t i = 0; i + 1 < planes.back().size(); i += 2)
          planes.back()[i + 1] &= li.msb_shift ? 0xff : 0x03;
      view.data[p] = planes.back().data();
      view.pitch[p] = ps.row_bytes;
      bytes += static_cast<double>(planes.back().size());
    }
  }
};

struct HostRgbBuf {
  std::vector<float> data;
  int w, h;
  HostRgbBuf(int width, int height, std::mt19937& rng)
      : data(static_cast<std::size_t>(width) * height * 3), w(width), h(height) {
    std::uniform_real_distribution<float> d(0.f, 1.f);
    for (auto& v : data) v = d(rng);
  }
  RgbPlanes<float> view() {
    const std::ptrdiff_t pitch = static_cast<std::ptrdiff_t>(w) * 4;
    const std::size_t n = static_cast<std::size_t>(w) * h;
    return {{data.data(), w, h, pitch}, {data.data() + n, w, h, pitch}, {data.data() + 2 * n, w, h, pitch}};
  }
  double bytes() const { return static_cast<double>(data.size()) * 4; }
};

void run_cpu_bench(const BenchOptions& opt, std::vector<KernelResult>& rows) {
  std::mt19937 rng(1);
  std::vector<std::pair<int, int>> sizes{{1920, 1080}};
  if (opt.include_4k) sizes.push_back({3840, 2160});
  for (auto [w, h] : sizes) {
    const std::string sz = std::to_string(w) + "x" + std::to_string(h);
    auto add = [&](const std::string& name, double bytes, const std::function<void()>& op) {
      if (!opt.selected(name)) return;
      const auto [wall, cpu] = median_ms(opt.runs, op);
      rows.push_back({name, sz, "cpu", bytes, wall, 0, cpu});
    };
    HostRgbBuf rgb(w, h, rng);
    const ColorSpec spec{ColorMatrix::bt709, ColorRange::limited, ChromaSiting::left};
    for (PixelLayout l : {PixelLayout::yuv420p, PixelLayout::nv12, PixelLayout::yuv420p10, PixelLayout::p010,
                          PixelLayout::yuv444p, PixelLayout::rgb24}) {
      HostFrameBuf f(l, w, h, rng);
      add(std::string("to_rgb ") + layout_name(l) + "->f32", f.bytes + rgb.bytes(),
          [&] { to_rgb_cpu(as_const(f.view), spec, rgb.view()); });
      add(std::string("from_rgb f32->") + layout_name(l), f.bytes + rgb.bytes(),
          [&] { from_rgb_cpu(rgb.view().as_const(), spec, f.view, Dither::none); });
      if (l == PixelLayout::yuv420p) {
        add("from_rgb f32->yuv420p dither", f.bytes + rgb.bytes(),
            [&] { from_rgb_cpu(rgb.view().as_const(), spec, f.view, Dither::ordered); });
        std::vector<float> thumb(64 * 36);
        add("luma_thumbnail yuv420p->64x36", static_cast<double>(w) * h, [&] {
          luma_thumbnail_cpu(as_const(f.view), spec, {thumb.data(), 64, 36, 64 * 4});
        });
      }
    }
    add("make_gray f32 (in place)", 2 * rgb.bytes(), [&] { make_gray_cpu(rgb.view(), ColorMatrix::bt709); });
    HostRgbBuf half_size(w / 2, h / 2, rng);
    for (ResizeFilter f : {ResizeFilter::bilinear, ResizeFilter::bicubic, ResizeFilter::lanczos3, ResizeFilter::area}) {
      const double b = rgb.bytes() + half_size.bytes();
      add(std::string("resize ") + resize_filter_name(f) + " x2 up f32 (to " + sz + ")", b,
          [&] { resize_cpu(half_size.view().as_const(), rgb.view(), f); });
      add(std::string("resize ") + resize_filter_name(f) + " x2 down f32 (from " + sz + ")", b,
          [&] { resize_cpu(rgb.view().as_const(), half_size.view(), f); });
    }
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_kernels [--gpu|--cpu] [--runs N] [--batch N] [--filter A,B,..] [--no-4k] [--json PATH]\n");
  return 2;
}

}  // namespace
}  // namespace upscaled::bench

int main(int argc, char** argv) {
  using namespace upscaled::bench;
  BenchOptions opt;
  bool gpu = upscaled::kernels::cuda_usable();
  bool runs_given = false;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gpu") {
      gpu = true;
    } else if (a == "--cpu") {
      gpu = false;
    } else if (a == "--no-4k") {
      opt.include_4k = false;
    } else if (a == "--runs" && i + 1 < argc) {
      opt.runs = std::max(1, std::atoi(argv[++i]));
      runs_given = true;
    } else if (a == "--batch" && i + 1 < argc) {
      opt.batch = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--filter" && i + 1 < argc) {
      std::string list = argv[++i];
      for (std::size_t p = 0; p <= list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        if (q > p) opt.filter.push_back(list.substr(p, q - p));
        p = q + 1;
      }
    } else if (a == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      return usage();
    }
  }
  if (!gpu && !runs_given) opt.runs = 5;  // CPU runs are slow; 5 keeps the median honest enough
  if (gpu && !upscaled::kernels::cuda_usable()) {
    std::fprintf(stderr, "bench_kernels: --gpu: CUDA not usable: %s\n", upscaled::kernels::cuda_status().c_str());
    return 1;
  }
  std::vector<KernelResult> rows, copies;
  std::string device = std::to_string(std::thread::hardware_concurrency()) + " CPU threads";
  try {
    if (gpu) device = gpu_description();
    if (gpu)
      run_gpu_bench(opt, rows, copies);
    else
      run_cpu_bench(opt, rows);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  std::printf("bench_kernels: %s mode on %s, median of %d runs", gpu ? "GPU" : "CPU", device.c_str(), opt.runs);
  if (gpu) std::printf(" of %d launch(es) each", opt.batch);
  std::printf("\n");
  for (const auto& c : copies)
    std::printf("%-46s %-10s %9.3f ms %8.1f GB/s\n", c.name.c_str(), c.size.c_str(), c.median_ms, c.gbps());
  std::printf("%-46s %-10s %12s %13s %s\n", "kernel", "size", "median", "GB/s",
              gpu ? "of copy" : "cpu-time (all threads)");
  for (const auto& r : rows) {
    std::printf("%-46s %-10s %9.3f ms %8.2f GB/s", r.name.c_str(), r.size.c_str(), r.median_ms, r.gbps());
    if (gpu)
      std::printf(" %6.1f%%", 100.0 * r.copy_fraction);
    else
      std::printf(" %9.3f ms", r.cpu_ms);
    std::printf("\n");
  }
  if (!json_path.empty()) {
    nlohmann::json j;
    j["mode"] = gpu ? "gpu" : "cpu";
    j["runs"] = opt.runs;
    j["batch"] = opt.batch;
    j["cuda_status"] = upscaled::kernels::cuda_status();
    j["device"] = device;
    j["hardware_threads"] = std::thread::hardware_concurrency();
    auto row = [](const KernelResult& r) {
      return nlohmann::json{{"kernel", r.name},
                            {"size", r.size},
                            {"backend", r.backend},
                            {"bytes", r.bytes},
                            {"median_ms", r.median_ms},
                            {"gbps", r.gbps()},
                            {"copy_fraction", r.copy_fraction},
                            {"cpu_ms", r.cpu_ms}};
    };
    for (const auto& c : copies) j["copy"].push_back(row(c));
    for (const auto& r : rows) j["kernels"].push_back(row(r));
    std::ofstream out(json_path);
    if (!out) {
      std::fprintf(stderr, "bench_kernels: cannot write %s\n", json_path.c_str());
      return 1;
    }
    out << j.dump(2) << "\n";
  }
  return 0;
}
