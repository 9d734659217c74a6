// Shared pieces of bench_kernels: one result row per (kernel, size, backend).
#pragma once

#include <string>
#include <vector>

namespace upscaled::bench {

struct KernelResult {
  std::string name;     // e.g. "to_rgb yuv420p->rgb f16"
  std::string size;     // "1920x1080"
  std::string backend;  // "cuda" / "cpu"
  double bytes = 0;     // minimum bytes read + written by one call
  double median_ms = 0;
  double gbps() const { return median_ms > 0 ? bytes / (median_ms * 1e-3) / 1e9 : 0; }
  double copy_fraction = 0;  // achieved / device-to-device copy bandwidth (GPU only)
  double cpu_ms = 0;         // CPU mode: median process CPU time of one call, all threads
};

struct BenchOptions {
  int runs = 20;
  bool include_4k = true;
  // GPU mode: launches per timed interval (back to back between the two events; the time
  // of one launch is the interval / batch). 1 = one launch per interval, which includes
  // the host's launch latency (the GPU is idle when the first event is recorded).
  int batch = 1;
  // Only the rows whose name contains one of these (all rows when empty).
  std::vector<std::string> filter;
  bool selected(const std::string& name) const {
    if (filter.empty()) return true;
    for (const auto& f : filter)
      if (name.find(f) != std::string::npos) return true;
    return false;
  }
};

// GPU mode: appends kernel rows to `rows` and the device-to-device copy reference of each
// size to `copies` (copy_fraction of a row = its GB/s over its size's copy GB/s).
void run_gpu_bench(const BenchOptions& opt, std::vector<KernelResult>& rows, std::vector<KernelResult>& copies);

// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, driver 12.8" (GPU mode only).
std::string gpu_description();

}  // namespace upscaled::bench
