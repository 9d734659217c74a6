// FFmpeg's CUDA hardware device (AV_HWDEVICE_TYPE_CUDA) on the CUDA runtime's primary
// context of one GPU, for NVDEC decoding through FFmpeg's CUDA hwaccel.
//
// Contract: created once per job on the main thread, before the decoder opens; owns one
// reference to the AVHWDeviceContext (decoders add their own with av_buffer_ref, so the
// device lives as long as its last user). "primary_ctx=1" makes FFmpeg retain the primary
// context of `device_index` instead of creating its own, so device pointers from decoded
// frames are valid in the CUDA runtime and libtorch of this process without any copy.
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
  CudaHwDevice(int device_index, void* stream);

  AVBufferRef* ref() const { return ref_.get(); }
  int device_index() const { return index_; }

 private:
  BufferRefPtr ref_;
  int index_ = 0;
};

}  // namespace upscaled::io
