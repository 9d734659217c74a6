// FFmpeg's CUDA hardware device (AV_HWDEVICE_TYPE_CUDA) on the CUDA runtime's primary
// context of one GPU, for NVDEC decoding through FFmpeg's CUDA hwaccel.
//
// Contract: created once per job on the main thread, before the decoder opens; owns one
// reference to the AVHWDeviceContext (decoders add their own with av_buffer_ref, so the
// device lives as long as its last user). FFmpeg works in the primary context of
// `device_index`, the one the CUDA runtime and libtorch use, so device pointers from decoded
// frames are valid there without any copy:
//   - `context` given (a CUcontext: the runtime's primary context, which the runtime keeps
//     alive): handed to FFmpeg as AVCUDADeviceContext::cuda_ctx before av_hwdevice_ctx_init
//     (FFmpeg never destroys a context it did not create). This is the path the pipeline
//     takes, because FFmpeg 5.1's "primary_ctx" option refuses a primary context that is
//     already active with flags other than CU_CTX_SCHED_BLOCKING_SYNC ("Primary context
//     already active with incompatible flags", seen on an H200 once libtorch was up).
//   - `context` null: av_hwdevice_ctx_create(CUDA, "N", primary_ctx=1), FFmpeg retains the
//     primary context itself (works when nothing activated it yet).
// `stream` (a CUstream / cudaStream_t, owned by the caller and outliving every decoder
// that uses the device) becomes AVCUDADeviceContext::stream: FFmpeg queues its work for
// this device there (nvdec maps/copies decoded pictures on it), so the caller can order its
// own stream after it with an event. No CUDA runtime code here: FFmpeg's API only.
// Throws Error(ErrorCode::device) with FFmpeg's reason when the device cannot be created.
#pragma once

#include "io/av_handles.h"

namespace upscaled::io {

class CudaHwDevice {
 public:
  CudaHwDevice(int device_index, void* context, void* stream);

  AVBufferRef* ref() const { return ref_.get(); }
  int device_index() const { return index_; }

 private:
  BufferRefPtr ref_;
  int index_ = 0;
};

}  // namespace upscaled::io
