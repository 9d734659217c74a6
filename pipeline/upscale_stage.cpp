#include "pipeline/upscale_stage.h"

#include "io/av_error.h"

namespace upscaled::pipeline {

UpscaleStage::UpscaleStage(model::Upscaler& upscaler, const UpscaleGeometry& geometry, AVPixelFormat out_format,
                           const io::ColorInfo& out_color)
    : upscaler_(upscaler),
      g_(geometry),
      out_format_(out_format),
      to_rgb_(geometry.in_width, geometry.in_height),
      to_frame_(out_color) {}

std::vector<io::FramePtr> UpscaleStage::process(std::vector<io::FramePtr>& frames) {
  const size_t n = frames.size();
  inputs_.resize(n);
  outputs_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    inputs_[i].resize(g_.in_width, g_.in_height);
    to_rgb_.convert(frames[i].get(), inputs_[i].plane(0), inputs_[i].plane(1), inputs_[i].plane(2));
  }
  upscaler_.upscale(std::span<const model::PlanarImage>(inputs_.data(), n),
                    std::span<model::PlanarImage>(outputs_.data(), n));

  std::vector<io::FramePtr> result;
  result.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const model::PlanarImage* src = &outputs_[i];
    const bool exact_size = g_.out_width != g_.model_width || g_.out_height != g_.model_height;
    // --size: resample the model's output to the exact size; an odd size for 4:2:0 is only
    // cropped by a pixel (handled by RgbToFrame), not resampled.
    if (exact_size && (g_.out_width > src->width || g_.out_height > src->height ||
                       src->width - g_.out_width > 1 || src->height - g_.out_height > 1)) {
      resized_.resize(g_.out_width, g_.out_height);
      for (int c = 0; c < 3; ++c) {
        kernels::PlaneView<const float> s{src->plane(c), src->width, src->height,
                                          static_cast<std::ptrdiff_t>(src->width * sizeof(float))};
        kernels::PlaneView<float> d{resized_.plane(c), resized_.width, resized_.height,
                                    static_cast<std::ptrdiff_t>(resized_.width * sizeof(float))};
        kernels::resize_cpu(s, d, kernels::ResizeFilter::lanczos3);
      }
      src = &resized_;
    }
    io::FramePtr out = io::make_frame();
    out->format = out_format_;
    out->width = g_.out_width;
    out->height = g_.out_height;
    io::av_check(av_frame_get_buffer(out.get(), 0), "allocating an output frame");
    to_frame_.convert(src->plane(0), src->plane(1), src->plane(2), src->width, src->height, out.get());
    out->pts = frames[i]->pts;
    result.push_back(std::move(out));
  }
  return result;
}

}  // namespace upscaled::pipeline
