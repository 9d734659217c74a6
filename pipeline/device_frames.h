// NVDEC plumbing between the decode stage and the GPU frame upscaler (docs/gpu-pipeline.md).
//
// Contract: a DecodeStream owns the non-blocking CUDA stream that FFmpeg's CUDA device
// queues its decode work on (io::CudaHwDevice gets cuda_stream()). mark_decoded() runs on
// the decode thread right after avcodec_receive_frame() returned a device frame: it
// records a CUDA event on that stream and attaches it to the frame (frame->opaque_ref, which
// FFmpeg 5.1 decoders leave unset), so that the consumer's stream can wait for exactly that
// frame (device_frames_cuda.h) without any host wait or default-stream sync. Events come
// from a pool owned by the DecodeStream (none is created per frame once the pool has grown
// to the frames in flight) and go back to it with the frame's last reference; the decode
// thread's current device is set on its first frame. The DecodeStream must outlive the decoder and
// every frame it marked (the job destroys frames, decoder and then this, in that order).
#pragma once

#include "io/av_handles.h"

#include <memory>

namespace upscaled::pipeline {

class DecodeStream {
 public:
  virtual ~DecodeStream() = default;
  virtual void* cuda_stream() const = 0;   // a cudaStream_t / CUstream
  virtual void* cuda_context() const = 0;  // the GPU's primary context (CUcontext), runtime-owned
  virtual void mark_decoded(AVFrame* frame) = 0;
};

// A DecodeStream on GPU `device`; throws Error(device) when CUDA fails, and
// Error(gpu_required) in builds without CUDA.
std::unique_ptr<DecodeStream> make_decode_stream(int device);

}  // namespace upscaled::pipeline
