// NVDEC decoding through FFmpeg's CUDA hwaccel: whether a stream can use it, the decoder
// options that turn it on, and the run-time fallback to CPU decoding.
//
// Contract: everything runs on the decode stage's thread (or on the main thread before the
// pipeline starts). FFmpeg calls the get_format callback with the decoder's own context;
// its state lives in a HwDecodeState reached through AVCodecContext::opaque (never static),
// which the Decoder owns and keeps alive as long as its codec context.
// Decoded device frames are AV_PIX_FMT_CUDA with sw_format nv12 (8-bit) or p010 (10-bit);
// their data[] are device pointers on the HW device's GPU, valid while the frame is
// referenced. FFmpeg's work that fills them is queued on the device's stream
// (AVCUDADeviceContext::stream, io/hw_device.h); on_device_frame runs right after
// avcodec_receive_frame() returned such a frame, so a consumer can record an event there.
// When NVDEC cannot decode the stream (no CUDA hwaccel for the codec, 4:2:2/4:4:4, 12-bit,
// hwaccel start-up failure, a mid-stream change to an unsupported format) the decoder
// returns system-memory frames instead and the reason is logged once (warn).
#pragma once

#include "io/av_handles.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace upscaled::io {

struct HwDecodeOptions {
  AVBufferRef* device = nullptr;                  // CudaHwDevice::ref(); the decoder takes its own reference
  int extra_frames = 0;                           // AVCodecContext::extra_hw_frames: frames the pipeline holds
  std::function<void(AVFrame*)> on_device_frame;  // decode thread, once per device frame
  bool required = false;                          // --decode nvdec: no fallback, an error
};

// Per-decoder state for the get_format callback.
struct HwDecodeState {
  std::string source;     // the input's name, for the log line
  bool required = false;  // --decode nvdec: the Decoder throws instead of falling back
  std::atomic<bool> fallback_logged{false};
  std::atomic<bool> cuda_chosen{false};  // the last get_format call chose AV_PIX_FMT_CUDA
  std::mutex mutex;
  std::string fallback_reason;  // why the last get_format call chose a software format
};

// Throws Error(gpu_required) naming the source and the reason when `state.required` and
// `frame` (just decoded) is not a device frame.
void check_required_device_frame(const AVFrame* frame, HwDecodeState& state);

// Empty when NVDEC through FFmpeg's CUDA hwaccel can decode this stream as far as its
// parameters tell (codec has a CUDA hwaccel in this FFmpeg build, 4:2:0, 8 or 10 bits);
// otherwise the reason, one line. The driver may still refuse at start-up (run-time fallback).
std::string nvdec_obstacle(const AVCodecParameters* par);

// Sets hw_device_ctx, extra_hw_frames, get_format and opaque on an unopened context, and
// state.required from the options.
void enable_hw_decode(AVCodecContext* ctx, const HwDecodeOptions& options, HwDecodeState& state);

// True for a frame in device memory (AV_PIX_FMT_CUDA with a hardware frames context).
bool is_device_frame(const AVFrame* frame);
// The device frame's picture format in memory (nv12, p010); AV_PIX_FMT_NONE otherwise.
AVPixelFormat device_sw_format(const AVFrame* frame);
// Replaces every device frame in `frames` by a system-memory copy (av_hwframe_transfer_data,
// synchronous), keeping pts and frame properties; system-memory frames are left alone.
void download_device_frames(std::vector<FramePtr>& frames);

}  // namespace upscaled::io
