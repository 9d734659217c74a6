// The NVIDIA driver as the process sees it, without linking libcuda: libcuda.so.1 and
// libnvidia-ml.so.1 are opened with dlopen at run time, so this binary starts (and falls
// back to the CPU) on machines without a driver.
//
// Contract: query_driver() is synchronous, thread-safe, never throws; it calls cuInit(0),
// which is cheap and creates no context. driver_check() is pure.
#pragma once

#include "doctor/check.h"

#include <string>

namespace upscaled::doctor {

struct DriverInfo {
  bool libcuda_loaded = false;
  std::string load_error;      // dlerror() text when libcuda.so.1 did not load
  int cuda_version = 0;        // cuDriverGetVersion(): newest CUDA the driver supports, e.g. 12080
  std::string init_error;      // cuInit(0) failure ("CUDA_ERROR_NO_DEVICE: ..."), empty when fine
  int device_count = 0;        // cuDeviceGetCount() after cuInit (honours CUDA_VISIBLE_DEVICES)
  std::string driver_version;  // e.g. "580.65.06"; empty when unknown
  std::string version_source;  // "nvml" or "/proc/driver/nvidia/version"
  int physical_gpus = -1;      // NVML's count (ignores CUDA_VISIBLE_DEVICES); -1 when unknown
};

DriverInfo query_driver();

// Minimum Linux driver for a CUDA version (e.g. 13000 -> "580.65.06"); empty when unknown.
std::string min_driver_for_cuda(int cuda_version);

// The "driver" check: loaded, version, supports the CUDA runtime this binary was built with
// (binary_cuda, 0 = no CUDA) and the one libtorch was built for (torch_cuda, 0 = CPU build).
Check driver_check(const DriverInfo& driver, int binary_cuda, int torch_cuda);

}  // namespace upscaled::doctor
