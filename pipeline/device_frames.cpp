// Builds without CUDA: no decode stream (device_frames_cuda.cpp has the CUDA one).
#include "pipeline/device_frames.h"

#include "core/error.h"

namespace upscaled::pipeline {

#ifndef UPSCALED_WITH_CUDA
std::unique_ptr<DecodeStream> make_decode_stream(int) {
  throw Error(ErrorCode::gpu_required, "NVDEC decoding needs a CUDA build");
}
#endif

}  // namespace upscaled::pipeline
