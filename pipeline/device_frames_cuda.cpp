// DecodeStream and the device-frame helpers on the CUDA runtime (pipeline/device_frames.h,
// pipeline/device_frames_cuda.h).
#include "pipeline/device_frames_cuda.h"
#include "core/error.h"
#include "io/hw_decode.h"
#include "io/kernel_layout.h"
#include "pipeline/device_frames.h"

#include <mutex>
#include <string>
#include <vector>

namespace upscaled::pipeline {
namespace {

using kernels::cuda_check;

// Decoded frames' events, reused: an event rides on its frame as an AVBuffer whose free
// callback (on whichever thread drops the frame's last reference) returns it here. The pool
// grows to the number of frames in flight at once and never shrinks; it is destroyed with
// the DecodeStream, after every frame it marked.
class EventPool {
 public:
  EventPool() = default;
  EventPool(const EventPool&) = delete;
  EventPool& operator=(const EventPool&) = delete;
  ~EventPool() {
    for (cudaEvent_t e : free_) cudaEventDestroy(e);
  }

  // On a thread whose current device is the pool's.
  cudaEvent_t take() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        cudaEvent_t e = free_.back();
        free_.pop_back();
        return e;
      }
    }
    cudaEvent_t e = nullptr;
    cuda_check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate (decoded frame)");
    return e;
  }
  void give_back(cudaEvent_t e) {
    std::lock_guard lock(mutex_);
    free_.push_back(e);
  }
  static void on_free(void* pool, std::uint8_t* event) {
    static_cast<EventPool*>(pool)->give_back(reinterpret_cast<cudaEvent_t>(event));
  }

 private:
  std::mutex mutex_;
  std::vector<cudaEvent_t> free_;
};

// The calling thread's current CUcontext through the runtime's driver entry point (no link
// against libcuda: CPU-only machines must still start the binary).
void* current_context() {
  using CtxGetCurrent = int (*)(void**);  // CUresult cuCtxGetCurrent(CUcontext*)
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
  cuda_check(cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &fn, 12000, cudaEnableDefault, &found),
             "cudaGetDriverEntryPointByVersion(cuCtxGetCurrent)");
#else
  cuda_check(cudaGetDriverEntryPoint("cuCtxGetCurrent", &fn, cudaEnableDefault, &found),
             "cudaGetDriverEntryPoint(cuCtxGetCurrent)");
#endif
  void* context = nullptr;
  if (found != cudaDriverEntryPointSuccess || !fn || reinterpret_cast<CtxGetCurrent>(fn)(&context) != 0 || !context)
    throw Error(ErrorCode::device, "cannot read the CUDA primary context (cuCtxGetCurrent)");
  return context;
}

class CudaDecodeStream final : public DecodeStream {
 public:
  explicit CudaDecodeStream(int device) : device_(device) {
    try {
      cuda_check(cudaSetDevice(device), "cudaSetDevice");
      cuda_check(cudaFree(nullptr), "CUDA runtime initialisation");  // primary context now current
      context_ = current_context();
      stream_ = std::make_unique<kernels::CudaStream>();
    } catch (const kernels::CudaError& e) {
      throw Error(ErrorCode::device,
                  std::string("NVDEC decode stream on GPU ") + std::to_string(device) + ": " + e.what());
    }
  }

  void* cuda_stream() const override { return stream_->get(); }
  void* cuda_context() const override { return context_; }

  void mark_decoded(AVFrame* frame) override {
    // The decode thread's current device must be the stream's (events are made there): set
    // on the first frame, a cheap check after.
    int current = -1;
    cuda_check(cudaGetDevice(&current), "cudaGetDevice (decode thread)");
    if (current != device_) cuda_check(cudaSetDevice(device_), "cudaSetDevice (decode thread)");
    cudaEvent_t event = events_.take();
    AVBufferRef* ref = av_buffer_create(reinterpret_cast<std::uint8_t*>(event), sizeof(event), EventPool::on_free,
                                        &events_, AV_BUFFER_FLAG_READONLY);
    if (!ref) {
      events_.give_back(event);
      throw std::bad_alloc();
    }
    av_buffer_unref(&frame->opaque_ref);
    frame->opaque_ref = ref;
    cuda_check(cudaEventRecord(event, stream_->get()), "cudaEventRecord (decoded frame)");
  }

 private:
  int device_ = 0;
  void* context_ = nullptr;
  std::unique_ptr<kernels::CudaStream> stream_;
  EventPool events_;  // after the stream: its events are destroyed first
};

}  // namespace

std::unique_ptr<DecodeStream> make_decode_stream(int device) {
  return std::make_unique<CudaDecodeStream>(device);
}

void wait_for_decode(const AVFrame* frame, cudaStream_t stream) {
  if (!frame->opaque_ref || frame->opaque_ref->size != sizeof(cudaEvent_t))
    throw std::logic_error("a device frame reached the GPU upscaler without its decode event");
  const auto event = reinterpret_cast<cudaEvent_t>(frame->opaque_ref->data);
  cuda_check(cudaStreamWaitEvent(stream, event, 0), "cudaStreamWaitEvent (decoded frame)");
}

std::optional<kernels::FrameView> device_frame_view(const AVFrame* frame) {
  const AVPixelFormat sw = io::device_sw_format(frame);
  if (sw != AV_PIX_FMT_NV12 && sw != AV_PIX_FMT_P010LE) return std::nullopt;
  const auto layout = io::kernel_layout(sw);
  if (!layout) return std::nullopt;
  return io::kernel_view(frame, *layout);
}

}  // namespace upscaled::pipeline
