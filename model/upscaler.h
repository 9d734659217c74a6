// The interface every upscaling model implements: networks (libtorch) and the classic
// resamplers alike.
//
// Contract: upscale() is synchronous and not thread-safe (one caller at a time; the
// pipeline's infer stage). Images are planar RGB float32 in [0, 1], owned by the caller;
// the callee sizes each output to (width * scale, height * scale). Errors are thrown as
// upscaled::Error (ErrorCode::model for bad weights, ErrorCode::device for GPU trouble).
#pragma once

#include "core/inference_plan.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

// cudaStream_t's underlying type, declared at global scope as the CUDA runtime does.
struct CUstream_st;

namespace upscaled::model {

struct PlanarImage {
  int width = 0;
  int height = 0;
  std::vector<float> pixels;  // 3 planes (R, G, B) of width * height, row-major, no padding

  void resize(int w, int h) {
    width = w;
    height = h;
    pixels.resize(static_cast<size_t>(w) * h * 3);
  }
  float* plane(int c) { return pixels.data() + static_cast<size_t>(c) * width * height; }
  const float* plane(int c) const { return pixels.data() + static_cast<size_t>(c) * width * height; }
};

// A batch of planar RGB float16 images in device memory: n x 3 x height x width, dense
// (NCHW). Used by the GPU pipeline so that frames never leave the device.
struct DeviceImages {
  void* data = nullptr;  // __half*, device memory, owned by the caller
  int n = 0;
  int height = 0;
  int width = 0;
};

// cudaStream_t without the CUDA headers.
using DeviceStream = ::CUstream_st*;

class Upscaler {
 public:
  virtual ~Upscaler() = default;
  virtual int scale() const = 0;
  // One line for logs and doctor: name, architecture, device, precision.
  virtual std::string describe() const = 0;
  // Frames the model prefers per call; the infer stage batches up to this many.
  virtual int preferred_batch() const { return 1; }
  // The most frames per call prepare() may pick, for any frame size: known before prepare(),
  // so that buffers sized by the batch (NVDEC's surfaces) can be made before it.
  virtual int max_batch() const { return preferred_batch(); }
  // Called once the frame size is known, before preferred_batch() is read for the job: a
  // GPU model reserves its device memory here and picks tile and batch to fit it (may
  // block while other jobs hold the GPU's memory; throws Error(ErrorCode::device) when it
  // cannot get enough). The model also does this on first use if nobody called it.
  // io: the caller's own device buffers (the staged GPU pipeline's pictures, float16 RGB
  // batches, resize intermediates: FrameUpscaler::device_bytes), counted against the same
  // reservation. Without it the model counts one set of packed pictures and float16 RGB input
  // and output per frame of a batch at the network's sizes.
  virtual void prepare(int width, int height, std::optional<IoDeviceBytes> io = std::nullopt) {
    (void)width, (void)height, (void)io;
  }
  // Gives back what prepare() reserved (device memory in the process's ledger); the next
  // prepare() reserves again. For a model kept loaded between jobs (model/upscaler_cache.h),
  // so that an idle model holds no reservation that another job could use.
  virtual void release_reservation() {}
  // The CUDA device the model runs on; -1 on the CPU.
  virtual int cuda_device() const { return -1; }
  virtual void upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) = 0;

  // True when upscale_device() can be used: the model runs on a CUDA device.
  virtual bool runs_on_cuda() const { return false; }
  // Device path. Asynchronous on `stream`: reads `in` and writes `out` (caller-allocated,
  // n x 3 x height*scale x width*scale float16, clamped to [0, 1]); both stay owned by the
  // caller and must live until the stream has passed this work. Tiling and out-of-memory
  // retries behave as in upscale(). Throws std::logic_error when !runs_on_cuda().
  virtual void upscale_device(const DeviceImages& in, const DeviceImages& out, DeviceStream stream);
};

inline void Upscaler::upscale_device(const DeviceImages&, const DeviceImages&, DeviceStream) {
  throw std::logic_error("this model has no CUDA device path");
}

}  // namespace upscaled::model
