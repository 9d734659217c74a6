// The GPU frame upscaler's side of NVDEC frames (CUDA builds only; includes the CUDA runtime).
//
// Contract: both functions run on the upscale thread. wait_for_decode() makes `stream` wait
// (cudaStreamWaitEvent, no host wait) for the decode work of `frame`, recorded by
// DecodeStream::mark_decoded(); a frame without a mark is an error (it would race).
// device_frame_view() describes a device frame's planes (device pointers, FFmpeg's pitches)
// for the kernels; nullopt when its sw_format has no kernel layout. The caller keeps the
// frame referenced until `stream` has passed the work that reads it.
#pragma once

#include "io/av_handles.h"
#include "kernels/cuda_raii.h"
#include "kernels/pixel_format.h"

#include <optional>

namespace upscaled::pipeline {

void wait_for_decode(const AVFrame* frame, cudaStream_t stream);
std::optional<kernels::FrameView> device_frame_view(const AVFrame* frame);

}  // namespace upscaled::pipeline
