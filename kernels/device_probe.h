// Proves that this binary's own CUDA kernels can run on each visible GPU, and reports what
// the CUDA runtime says about the GPUs. Used by doctor/ at start and by `upscaled doctor`.
//
// Contract: probe_devices() is synchronous and thread-safe. For each probed GPU it asks the
// runtime for the kernel's binary (cudaFuncGetAttributes: fails when the fat binary holds
// neither SASS for the GPU's architecture nor PTX the driver can JIT-compile), then launches
// a one-block kernel on a stream of its own, waits for it and checks the value it wrote.
// Touching a GPU creates its primary context (the pipeline later reuses it). Never throws:
// every CUDA failure becomes text in the result. In a build without CUDA
// (UPSCALED_WITH_CUDA undefined) it returns built_with_cuda = false and probes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace upscaled::kernels {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;
  // The kernel's image for this GPU: binary_version is the SASS architecture the driver
  // picked (e.g. 90), ptx_version the PTX it was JIT-compiled from (0 when SASS matched).
  int binary_version = 0;
  int ptx_version = 0;
  bool kernel_ok = false;    // launched, finished and wrote the expected value
  std::string kernel_error;  // CUDA's own text when !kernel_ok
};

struct DeviceProbe {
  bool built_with_cuda = false;
  int runtime_version = 0;             // CUDART_VERSION this binary was compiled with, e.g. 13000
  int linked_runtime_version = 0;      // cudaRuntimeGetVersion() of the libcudart actually loaded
  int driver_version = 0;              // cudaDriverGetVersion(): CUDA version the driver supports; 0 = no driver
  int device_count = 0;                // visible devices (after CUDA_VISIBLE_DEVICES)
  std::string compiled_architectures;  // e.g. "75;80;86;89;90-real;90-virtual" (build setting)
  std::string error;                   // why device_count is 0 or the query failed (CUDA's text)
  std::vector<DeviceInfo> devices;
};

// Probes the visible GPUs; max_devices < 0 probes them all, otherwise at most that many
// (startup probes only the GPU it will use, to keep start-up cheap).
DeviceProbe probe_devices(int max_devices = -1);

// "13.0" from 13000; "none" from 0.
std::string cuda_version_text(int version);

}  // namespace upscaled::kernels
