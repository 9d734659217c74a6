// The upscale stage: decoded frames in, encoder-ready frames out.
//
// Contract: runs on one thread (owned by the stage group); process() takes a batch of
// decoded frames and returns the same number of frames in the encoder's format and size,
// each keeping its source pts. Batches are formed by the caller up to
// Upscaler::preferred_batch(). Conversion is swscale (io/rgb_converter.h) on the CPU;
// the model runs through the model::Upscaler interface.
#pragma once

#include "io/av_handles.h"
#include "io/rgb_converter.h"
#include "kernels/resize.h"
#include "model/upscaler.h"

#include <vector>

namespace upscaled::pipeline {

struct UpscaleGeometry {
  int in_width = 0, in_height = 0;    // what the model is fed (first frame's size)
  int model_width = 0, model_height = 0;  // model output (in * scale)
  int out_width = 0, out_height = 0;  // encoder size (--size, or model size made even)
};

class UpscaleStage {
 public:
  UpscaleStage(model::Upscaler& upscaler, const UpscaleGeometry& geometry, AVPixelFormat out_format,
               const io::ColorInfo& out_color);

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames);

 private:
  model::Upscaler& upscaler_;
  UpscaleGeometry g_;
  AVPixelFormat out_format_;
  io::FrameToRgb to_rgb_;
  io::RgbToFrame to_frame_;
  std::vector<model::PlanarImage> inputs_, outputs_;
  model::PlanarImage resized_;
};

}  // namespace upscaled::pipeline
