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
std::string gpu_obstacle(const model::Upscaler& upscaler, const FrameFormats& f) {
#ifndef UPSCALED_WITH_CUDA
  (void)upscaler, (void)f;
  return "this build has no CUDA";
#else
  if (!kernels::cuda_usable()) return "no usable CUDA device (" + kernels::cuda_status() + ")";
  if (!upscaler.runs_on_cuda()) return "the model runs on the CPU";
  if (!io::kernel_layout(f.in_format))
    return std::string("input format ") + av_get_pix_fmt_name(f.in_format) + " has no GPU conversion";
  if (!io::kernel_layout(f.out_format))
    return std::string("output format ") + av_get_pix_fmt_name(f.out_format) + " has no GPU conversion";
  return "";
#endif
}

}  // namespace

int cuda_device_index(const std::string& device) {
  if (device == "auto" || device == "cuda" || device == "cpu") return 0;
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() < 8 &&
      device.find_first_not_of("0123456789", 5) == std::string::npos)
    return std::stoi(device.substr(5));
  throw Error(ErrorCode::usage, "--device '" + device + "': expected auto, cpu, cuda or cuda:N");
}

kernels::ResizeFilter post_resize_filter(const FramePlan& p) {
  return p.picture_width <= p.model_width && p.picture_height <= p.model_height ? kernels::ResizeFilter::area
                                                                                : kernels::ResizeFilter::lanczos3;
}

std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                   const FrameFormats& formats, const FrameOptions& options) {
  const std::string obstacle = options.device == "cpu" ? "--device cpu" : gpu_obstacle(upscaler, formats);
  if (obstacle.empty()) {
#ifdef UPSCALED_WITH_CUDA
    log::info("frames: colour conversion on the GPU, frames stay on the device between conversion and model");
    return make_gpu_frame_upscaler(upscaler, plan, formats, options);
#endif
  }
  log::info("frames: colour conversion on the CPU (" + obstacle + ")");
  return make_cpu_frame_upscaler(upscaler, plan, formats, options);
}

}  // namespace upscaled::pipeline
