// Whether a job decodes with NVDEC, and the CUDA objects that decoding needs.
//
// Contract: main thread, before the pipeline starts. precheck() runs before the model loads
// and throws Error(gpu_required) for --decode nvdec when NVDEC cannot possibly run (no CUDA
// build, no usable GPU, a codec or format NVDEC lacks). start() decides once the frame path
// is known: NVDEC only feeds the GPU frame upscaler (device frames go straight into the CUDA
// colour conversion), so with the CPU frame path it decodes on the CPU (an error for
// --decode nvdec). It logs the decision, one line. When it returns true, options() are the
// Decoder's HwDecodeOptions; the session owns the decode stream and FFmpeg's CUDA device, so
// it must be declared before the Decoder and outlive it and every frame it decodes.
#pragma once

#include "io/hw_decode.h"
#include "io/hw_device.h"
#include "pipeline/device_frames.h"

#include <memory>
#include <string>

namespace upscaled::pipeline {

struct NvdecRequest {
  std::string mode = "auto";  // --decode: auto | cpu | nvdec
  std::string source;         // the input's name, for messages
  const AVCodecParameters* par = nullptr;
  bool gpu_frames = false;  // the GPU frame upscaler runs
  int device = 0;           // the GPU the model and kernels use
  int extra_frames = 0;     // frames the pipeline holds between decoder and upscaler
};

class NvdecSession {
 public:
  static void precheck(const NvdecRequest& request);
  bool start(const NvdecRequest& request);
  const io::HwDecodeOptions& options() const { return options_; }

 private:
  std::unique_ptr<DecodeStream> stream_;  // declared first: outlives the FFmpeg device
  std::unique_ptr<io::CudaHwDevice> device_;
  io::HwDecodeOptions options_;
};

}  // namespace upscaled::pipeline
