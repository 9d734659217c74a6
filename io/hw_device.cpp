#include "io/hw_device.h"

#include "io/av_error.h"
#include "io/ffmpeg_log.h"

// hwcontext_cuda.h needs CUDA's driver types: take them from the NVIDIA codec headers
// (what FFmpeg itself builds against) rather than the CUDA toolkit, which io/ does not use.
#if __has_include(<ffnvcodec/dynlink_cuda.h>)
#include <ffnvcodec/dynlink_cuda.h>
#define UPSCALED_HAVE_FFNVCODEC 1
#endif

extern "C" {
#include <libavutil/hwcontext.h>
#ifdef UPSCALED_HAVE_FFNVCODEC
#include <libavutil/hwcontext_cuda.h>
#endif
}

#include <string>

namespace upscaled::io {

CudaHwDevice::CudaHwDevice(int device_index, void* context, void* stream) : index_(device_index) {
#ifndef UPSCALED_HAVE_FFNVCODEC
  (void)context, (void)stream;
  throw Error(ErrorCode::device, "FFmpeg CUDA device: built without the NVIDIA codec headers (ffnvcodec)");
#else
  const std::string what = "FFmpeg CUDA device " + std::to_string(device_index) + ": ";
  FfmpegLogCapture capture;
  if (context) {
    ref_.reset(av_hwdevice_ctx_alloc(AV_HWDEVICE_TYPE_CUDA));
    if (!ref_) throw std::bad_alloc();
    auto* hwctx = static_cast<AVCUDADeviceContext*>(reinterpret_cast<AVHWDeviceContext*>(ref_->data)->hwctx);
    hwctx->cuda_ctx = static_cast<CUcontext>(context);
    // Read by nvdec when a decoder is created on this device (decoder->stream) and by
    // hwcontext_cuda's transfers: set before any decoder opens.
    hwctx->stream = static_cast<CUstream>(stream);
    if (const int rc = av_hwdevice_ctx_init(ref_.get()); rc < 0)
      throw Error(ErrorCode::device, what + capture.reason(rc));
    return;
  }
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "primary_ctx", "1", 0);
  AVBufferRef* ref = nullptr;
  const int rc = av_hwdevice_ctx_create(&ref, AV_HWDEVICE_TYPE_CUDA, std::to_string(device_index).c_str(), opts, 0);
  av_dict_free(&opts);
  if (rc < 0) throw Error(ErrorCode::device, what + capture.reason(rc));
  ref_.reset(ref);
  auto* device = reinterpret_cast<AVHWDeviceContext*>(ref_->data);
  static_cast<AVCUDADeviceContext*>(device->hwctx)->stream = static_cast<CUstream>(stream);
#endif
}

}  // namespace upscaled::io
