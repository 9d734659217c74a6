// The upscale stage's work, behind one interface with a CPU and a GPU implementation.
//
// Contract: process() runs on the upscale stage's thread only; it takes a batch of decoded
// frames and returns the same number of frames in the encoder's format and size, each with
// its source pts. make_frame_upscaler() is the one place that picks the implementation:
// the GPU one when this build has CUDA, the model runs on CUDA and the kernels cover the
// input and output formats; otherwise the CPU one. The choice and its reason are logged once.
#pragma once

#include "io/av_handles.h"
#include "io/rgb_converter.h"
#include "model/upscaler.h"

#include <memory>
#include <string>
#include <vector>

namespace upscaled::pipeline {

struct UpscaleGeometry {
  int in_width = 0, in_height = 0;        // what the model is fed (first frame's size)
  int model_width = 0, model_height = 0;  // model output (in * scale)
  int out_width = 0, out_height = 0;      // encoder size (--size, or model size made even)

  // True when the output is the model's output, at most cropped by one pixel per axis.
  bool crop_only() const {
    return out_width <= model_width && out_height <= model_height && model_width - out_width <= 1 &&
           model_height - out_height <= 1;
  }
};

struct FrameFormats {
  AVPixelFormat in_format = AV_PIX_FMT_NONE;
  io::ColorInfo in_color;
  AVChromaLocation in_chroma = AVCHROMA_LOC_UNSPECIFIED;
  AVPixelFormat out_format = AV_PIX_FMT_NONE;
  io::ColorInfo out_color;
};

class FrameUpscaler {
 public:
  virtual ~FrameUpscaler() = default;
  virtual std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) = 0;
  virtual std::string name() const = 0;  // "cpu" or "cuda", for logs and --stats
};

std::unique_ptr<FrameUpscaler> make_cpu_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                       const FrameFormats& formats);
// Defined in gpu_frame_upscaler_cuda.cpp (CUDA builds only).
std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                       const FrameFormats& formats);

// `device`: the user's --device ("auto", "cpu", "cuda").
std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                   const FrameFormats& formats, const std::string& device);

}  // namespace upscaled::pipeline
