#include "pipeline/frame_upscaler.h"

#include "core/error.h"
#include "core/log.h"
#include "io/kernel_layout.h"
#include "kernels/backend.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace upscaled::pipeline {
namespace {

// Empty when the GPU path can run; otherwise why not.
std::string gpu_obstacle(const model::Upscaler& upscaler, const UpscaleGeometry& g, const FrameFormats& f) {
#ifndef UPSCALED_WITH_CUDA
  (void)upscaler, (void)g, (void)f;
  return "this build has no CUDA";
#else
  if (!kernels::cuda_usable()) return "no usable CUDA device (" + kernels::cuda_status() + ")";
  if (!upscaler.runs_on_cuda()) return "the model runs on the CPU";
  if (!io::kernel_layout(f.in_format))
    return std::string("input format ") + av_get_pix_fmt_name(f.in_format) + " has no GPU conversion";
  if (!io::kernel_layout(f.out_format))
    return std::string("output format ") + av_get_pix_fmt_name(f.out_format) + " has no GPU conversion";
  if (!g.crop_only()) return "--size resampling runs on the CPU";
  return "";
#endif
}

}  // namespace

std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                   const FrameFormats& formats, const std::string& device) {
  const std::string obstacle = device == "cpu" ? "--device cpu" : gpu_obstacle(upscaler, geometry, formats);
  if (obstacle.empty()) {
#ifdef UPSCALED_WITH_CUDA
    log::info("frames: colour conversion on the GPU, frames stay on the device between conversion and model");
    return make_gpu_frame_upscaler(upscaler, geometry, formats);
#endif
  }
  log::info("frames: colour conversion on the CPU (" + obstacle + ")");
  return make_cpu_frame_upscaler(upscaler, geometry, formats);
}

}  // namespace upscaled::pipeline
