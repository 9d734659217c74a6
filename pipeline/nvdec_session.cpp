#include "pipeline/nvdec_session.h"

#include "core/error.h"
#include "core/log.h"
#include "kernels/backend.h"

namespace upscaled::pipeline {
namespace {

// Why NVDEC cannot run for this input at all; empty when it may.
std::string static_obstacle(const NvdecRequest& r) {
#ifndef UPSCALED_WITH_CUDA
  (void)r;
  return "this build has no CUDA";
#else
  if (!kernels::cuda_usable()) return "no usable CUDA device (" + kernels::cuda_status() + ")";
  return io::nvdec_obstacle(r.par);
#endif
}

[[noreturn]] void required_failed(const NvdecRequest& r, const std::string& why) {
  throw Error(ErrorCode::gpu_required, quoted(r.source) + ": --decode nvdec: NVDEC cannot be used (" + why + ")");
}

}  // namespace

void NvdecSession::precheck(const NvdecRequest& r) {
  if (r.mode != "nvdec") return;
  if (const std::string why = static_obstacle(r); !why.empty()) required_failed(r, why);
}

bool NvdecSession::start(const NvdecRequest& r) {
  std::string why;
  if (r.mode == "cpu")
    why = "--decode cpu";
  else if (!r.gpu_frames)
    why = "NVDEC feeds the GPU frame path, and frames are converted on the CPU for this job";
  else
    why = static_obstacle(r);
  if (why.empty()) {
    try {
      stream_ = make_decode_stream(r.device);
      device_ = std::make_unique<io::CudaHwDevice>(r.device, stream_->cuda_context(), stream_->cuda_stream());
    } catch (const Error& e) {
      device_.reset();
      stream_.reset();
      why = e.what();
    }
  }
  if (!why.empty()) {
    if (r.mode == "nvdec") required_failed(r, why);
    log::info("decode: libavcodec on the CPU (" + why + ")");
    return false;
  }
  options_.device = device_->ref();
  options_.extra_frames = r.extra_frames;
  options_.required = r.mode == "nvdec";
  DecodeStream* stream = stream_.get();
  options_.on_device_frame = [stream](AVFrame* frame) { stream->mark_decoded(frame); };
  log::info(log::cat("decode: NVDEC (FFmpeg's CUDA hwaccel on GPU ", r.device, "); decoded frames stay on the device, ",
                     r.extra_frames, " extra surfaces"));
  return true;
}

}  // namespace upscaled::pipeline
