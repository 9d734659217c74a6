// Host side of the device probe (kernels/device_probe.h): the version formatting both
// builds share, and the answer of a build without CUDA (the CUDA build defines
// probe_devices() in device_probe_cuda.cu).
#include "kernels/device_probe.h"

namespace upscaled::kernels {

std::string cuda_version_text(int version) {
  if (version <= 0) return "none";
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

#ifndef UPSCALED_WITH_CUDA
DeviceProbe probe_devices(int /*max_devices*/) {
  DeviceProbe probe;
  probe.built_with_cuda = false;
  probe.error = "this build has no CUDA kernels (configured without a CUDA toolkit or with -DUPSCALED_CUDA=OFF)";
  return probe;
}
#endif

}  // namespace upscaled::kernels
