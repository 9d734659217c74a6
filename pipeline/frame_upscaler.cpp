#include "pipeline/frame_upscaler.h"

#include "core/error.h"
#include "core/log.h"
#include "io/hw_decode.h"
#include "io/kernel_layout.h"
#include "kernels/backend.h"
#include "pipeline/slot_chain.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

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

// UPSCALED_FRAME_PATH=cpu: the CPU implementation even where the GPU one could run, for
// comparisons and for the test of NVDEC's frames reaching it (planned_frames_device does not
// read it, so the decoder still starts for the GPU path).
std::string frame_path_obstacle(const model::Upscaler& upscaler, const FrameFormats& formats,
                                const FrameOptions& options) {
  if (options.device == "cpu") return "--device cpu";
  if (const char* forced = std::getenv("UPSCALED_FRAME_PATH"); forced && std::string(forced) == "cpu")
    return "UPSCALED_FRAME_PATH=cpu";
  return gpu_obstacle(upscaler, formats);
}

}  // namespace

std::vector<io::FramePtr> take_batch(BoundedQueue<io::FramePtr>& in, int batch) {
  std::vector<io::FramePtr> frames;
  while (static_cast<int>(frames.size()) < std::max(1, batch)) {
    std::optional<io::FramePtr> next = in.pop();
    if (!next) break;
    frames.push_back(std::move(*next));
  }
  return frames;
}

void BatchFrameUpscaler::add_stages(StageGroup& group, const UpscaleLinks& links) {
  links_ = links;
  group.add_stage(
      "upscale",
      [this, links] {
        for (;;) {
          std::vector<io::FramePtr> frames = take_batch(*links.in, links.batch);
          if (frames.empty()) return;
          // NVDEC started for a GPU frame path that this job did not get (planned_frames_device).
          io::download_device_frames(frames);
          for (auto& out : process(frames))
            if (!links.out->push(std::move(out))) return;
        }
      },
      [links] { links.out->close(); });
}

std::vector<StageStats> BatchFrameUpscaler::stage_stats(const std::vector<StageTiming>& t, std::size_t first) const {
  return {{t.at(first).name, t.at(first).wall_s, links_.in->stats().pop_wait_s, links_.out->stats().push_wait_s}};
}

kernels::ResizeFilter post_resize_filter(const FramePlan& p) {
  return p.picture_width <= p.model_width && p.picture_height <= p.model_height ? kernels::ResizeFilter::area
                                                                                : kernels::ResizeFilter::lanczos3;
}

int gpu_batch_pool_size(int batch_queue) {
  constexpr std::size_t kStages = 3;
  return static_cast<int>(SlotChain<int>::pool_size(kStages, static_cast<std::size_t>(std::max(1, batch_queue))));
}

bool frames_on_gpu(const model::Upscaler& upscaler, const FrameFormats& formats, const FrameOptions& options) {
  return frame_path_obstacle(upscaler, formats, options).empty();
}

int planned_frames_device(const model::ModelRequest& request, AVPixelFormat in_format, const FrameOptions& options) {
#ifdef UPSCALED_WITH_CUDA
  if (options.device == "cpu" || !kernels::cuda_usable() || !io::kernel_layout(in_format)) return -1;
  return model::planned_cuda_device(request);
#else
  (void)request, (void)in_format, (void)options;
  return -1;
#endif
}

void load_gpu_frame_kernels(const model::Upscaler& upscaler) {
  preload_gpu_frame_kernels(upscaler.cuda_device());
}

void preload_gpu_frame_kernels(int device) {
#ifdef UPSCALED_WITH_CUDA
  const char* env = std::getenv("UPSCALED_LOAD_KERNELS");
  if (device >= 0 && (!env || std::string(env) != "0")) load_gpu_frame_kernels_on(device);
#else
  (void)device;
#endif
}

std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                   const FrameFormats& formats, const FrameOptions& options) {
  const std::string obstacle = frame_path_obstacle(upscaler, formats, options);
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
