// The upscale stage's work, behind one interface with a CPU and a GPU implementation.
//
// Contract: process() runs on the upscale stage's thread only; it takes a batch of decoded
// frames and returns the same number of frames in the encoder's format and size, each with
// its source pts. Both implementations follow one FramePlan (frame_geometry.h): optional
// area pre-resize before the network, resampling / padding / cropping after it, optional
// --grayscale before the conversion to the encoder's format, and --skip-duplicates
// (duplicate_skipper.h), so that their outputs differ only by float16 rounding.
// make_frame_upscaler() is the one place that picks the implementation: the GPU one when
// this build has CUDA, the model runs on CUDA and the kernels cover the input and output
// formats; otherwise the CPU one. The choice and its reason are logged once.
#pragma once

#include "io/av_handles.h"
#include "io/rgb_converter.h"
#include "kernels/resize.h"
#include "model/upscaler.h"
#include "pipeline/frame_geometry.h"

#include <cstdint>

#include <memory>
#include <string>
#include <vector>

namespace upscaled::pipeline {

struct FrameFormats {
  AVPixelFormat in_format = AV_PIX_FMT_NONE;
  io::ColorInfo in_color;
  AVChromaLocation in_chroma = AVCHROMA_LOC_UNSPECIFIED;
  AVPixelFormat out_format = AV_PIX_FMT_NONE;
  io::ColorInfo out_color;
};

class FrameUpscaler {
 public:
  virtual ~FrameUpscaler() = default;
  virtual std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) = 0;
  virtual std::string name() const = 0;  // "cpu" or "cuda", for logs and --stats
  // Frames so far that repeated the previous picture instead of running (--skip-duplicates).
  virtual std::int64_t skipped() const = 0;
};

struct FrameOptions {
  bool grayscale = false;       // --grayscale: R = G = B = luma (source matrix) before encoding
  double skip_threshold = 0;    // --skip-duplicates: mean absolute luma difference; 0 = off
  std::string device = "auto";  // the model's device: auto | cpu | cuda | cuda:N
};

// N of "cuda:N"; 0 for "auto" and "cuda". Throws upscaled::Error (usage) for a bad index.
int cuda_device_index(const std::string& device);

std::unique_ptr<FrameUpscaler> make_cpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                       const FrameFormats& formats, const FrameOptions& options);
// Defined in gpu_frame_upscaler_cuda.cpp (CUDA builds only). Allocates on options.device.
std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                       const FrameFormats& formats, const FrameOptions& options);

std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                   const FrameFormats& formats, const FrameOptions& options);

// Post-resize filter: area when the picture is no larger than the model output on both axes
// (exact coverage, no ringing), else Lanczos-3.
kernels::ResizeFilter post_resize_filter(const FramePlan& plan);

}  // namespace upscaled::pipeline
