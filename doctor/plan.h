// GPU or CPU per stage, decided from the check results.
//
// Contract: decide_plan() is pure (facts in, plan out) so that tests can feed crafted
// facts; log_plan() writes one line per decision through core/log.h.
#pragma once

#include "doctor/codec_probe.h"
#include "doctor/doctor.h"
#include "doctor/driver_info.h"
#include "doctor/gpu_checks.h"
#include "kernels/device_probe.h"

#include <string>

namespace upscaled::doctor {

struct PlanInputs {
  std::string device = "auto";  // the user's wish: auto | cpu | cuda
  bool classic_model = true;
  std::string encoder = "libx264";
  std::string input_codec;      // empty = unknown
  std::string decode = "auto";  // --decode: auto | cpu | nvdec
  const DriverInfo* driver = nullptr;
  const kernels::DeviceProbe* devices = nullptr;
  const TorchFacts* torch = nullptr;
  const CodecProbes* codecs = nullptr;  // null when not probed
};

StagePlan decide_plan(const PlanInputs& in);

// info level for each decision ("stage decode: cpu (fallback: no NVIDIA driver ...)").
void log_plan(const StagePlan& plan, bool quiet_when_gpu);

}  // namespace upscaled::doctor
