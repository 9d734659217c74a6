// CUDA side of the device probe (kernels/device_probe.h): a one-thread kernel launched on
// every probed GPU, so that "no kernel image for this device" shows up at start, not in
// the middle of a job.
#include "kernels/device_probe.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>

namespace upscaled::kernels {
namespace {

constexpr unsigned kProbeValue = 0x5ca1edu;

__global__ void probe_kernel(unsigned* out, unsigned value) {
  if (threadIdx.x == 0 && blockIdx.x == 0) *out = value;
}

std::string cuda_text(cudaError_t rc) {
  return std::string(cudaGetErrorName(rc)) + ": " + cudaGetErrorString(rc);
}

// The architectures nvcc compiled this file for (__CUDA_ARCH_LIST__, e.g. 750,800,...,900):
// the same list every kernel in upscaled_kernels is built with.
#define UPSCALED_STR2(...) #__VA_ARGS__
#define UPSCALED_STR(...) UPSCALED_STR2(__VA_ARGS__)
std::string compiled_architectures() {
#ifdef __CUDA_ARCH_LIST__
  return UPSCALED_STR(__CUDA_ARCH_LIST__);
#else
  return "unknown";
#endif
}

// Runs the probe kernel on the current device; fills kernel_ok / kernel_error.
void launch_probe(DeviceInfo& info) {
  cudaFuncAttributes attr{};
  if (cudaError_t rc = cudaFuncGetAttributes(&attr, probe_kernel); rc != cudaSuccess) {
    info.kernel_error = cuda_text(rc);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return;
  }
  info.binary_version = attr.binaryVersion;
  info.ptx_version = attr.ptxVersion;

  cudaStream_t stream = nullptr;
  unsigned* d_out = nullptr;
  unsigned h_out = 0;
  cudaError_t rc = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (rc == cudaSuccess) rc = cudaMalloc(reinterpret_cast<void**>(&d_out), sizeof(unsigned));
  if (rc == cudaSuccess) rc = cudaMemsetAsync(d_out, 0, sizeof(unsigned), stream);
  if (rc == cudaSuccess) {
    probe_kernel<<<1, 1, 0, stream>>>(d_out, kProbeValue);
    rc = cudaGetLastError();
  }
  if (rc == cudaSuccess) rc = cudaMemcpyAsync(&h_out, d_out, sizeof(unsigned), cudaMemcpyDeviceToHost, stream);
  if (rc == cudaSuccess) rc = cudaStreamSynchronize(stream);
  if (stream) {
    cudaStreamSynchronize(stream);
    cudaStreamDestroy(stream);
  }
  if (d_out) cudaFree(d_out);
  if (rc != cudaSuccess) {
    info.kernel_error = cuda_text(rc);
    cudaGetLastError();
  } else if (h_out != kProbeValue) {
    info.kernel_error = "probe kernel ran but wrote a wrong value";
  } else {
    info.kernel_ok = true;
  }
}

}  // namespace

DeviceProbe probe_devices(int max_devices) {
  DeviceProbe probe;
  probe.built_with_cuda = true;
  probe.runtime_version = CUDART_VERSION;
  probe.compiled_architectures = compiled_architectures();
  cudaRuntimeGetVersion(&probe.linked_runtime_version);
  if (cudaDriverGetVersion(&probe.driver_version) != cudaSuccess) probe.driver_version = 0;

  int count = 0;
  if (cudaError_t rc = cudaGetDeviceCount(&count); rc != cudaSuccess) {
    probe.error = cuda_text(rc);
    cudaGetLastError();
    return probe;
  }
  probe.device_count = count;
  if (count == 0) probe.error = "no CUDA device visible";
  const int n = max_devices < 0 ? count : std::min(count, max_devices);

  int previous = 0;
  const bool restore = cudaGetDevice(&previous) == cudaSuccess;
  for (int i = 0; i < n; ++i) {
    DeviceInfo info;
    info.index = i;
    cudaDeviceProp prop{};
    if (cudaError_t rc = cudaGetDeviceProperties(&prop, i); rc != cudaSuccess) {
      info.kernel_error = cuda_text(rc);
      cudaGetLastError();
      probe.devices.push_back(std::move(info));
      continue;
    }
    info.name = prop.name;
    info.cc_major = prop.major;
    info.cc_minor = prop.minor;
    info.total_bytes = prop.totalGlobalMem;
    if (cudaError_t rc = cudaSetDevice(i); rc != cudaSuccess) {
      info.kernel_error = cuda_text(rc);
      cudaGetLastError();
    } else {
      size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) info.free_bytes = free_b;
      launch_probe(info);
    }
    probe.devices.push_back(std::move(info));
  }
  if (restore) cudaSetDevice(previous);
  return probe;
}

}  // namespace upscaled::kernels
