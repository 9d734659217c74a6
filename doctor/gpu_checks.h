// Turns the GPU facts (kernels/device_probe.h, model/torch_info.h) into report lines.
//
// Contract: pure functions of their inputs; synchronous, never throw.
#pragma once

#include "doctor/check.h"
#include "doctor/codec_probe.h"
#include "doctor/driver_info.h"
#include "kernels/device_probe.h"

#include <optional>
#include <string>
#include <vector>

namespace upscaled::doctor {

// The libtorch facts doctor needs, copied from model::TorchInfo so that this header does
// not depend on whether the build has libtorch.
struct TorchFacts {
  bool linked = false;  // this build has libtorch at all
  std::string version;
  bool built_with_cuda = false;
  int cuda_version = 0;
  bool cuda_available = false;
  int device_count = 0;
  bool cudnn_available = false;
  long cudnn_version = 0;
  std::string error;
  // The convolution probe, when it was run.
  bool conv_run = false;
  bool conv_ok = false;
  std::string conv_device;
  bool conv_cudnn = false;
  std::string conv_error;
};

// "gpu" (what the runtime sees) and one "gpu.<i>" per probed device.
std::vector<Check> gpu_checks(const kernels::DeviceProbe& probe, const DriverInfo& driver);
// "torch" (version, CUDA, cuDNN) and, when it ran, "torch.conv".
std::vector<Check> torch_checks(const TorchFacts& torch, const DriverInfo& driver);
// One "nvdec.<codec>" / "nvenc.<encoder>" line per probe.
std::vector<Check> codec_checks(const CodecProbes& probes, const DriverInfo& driver);

std::string cudnn_version_text(long version);  // 91002 -> "9.10.2", 8902 -> "8.9.2"

}  // namespace upscaled::doctor
