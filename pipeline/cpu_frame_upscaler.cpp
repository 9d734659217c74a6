// CPU frame upscaler: swscale converts frames to planar float RGB and back; the model runs
// through Upscaler::upscale() (which may itself use the GPU, with host copies).
#include "io/av_error.h"
#include "kernels/resize.h"
#include "pipeline/frame_upscaler.h"

namespace upscaled::pipeline {
namespace {

class CpuFrameUpscaler final : public FrameUpscaler {
 public:
  CpuFrameUpscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry, const FrameFormats& formats)
      : upscaler_(upscaler),
        g_(geometry),
        out_format_(formats.out_format),
        to_rgb_(geometry.in_width, geometry.in_height),
        to_frame_(formats.out_color) {}

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) override;
  std::string name() const override { return "cpu"; }

 private:
  model::Upscaler& upscaler_;
  UpscaleGeometry g_;
  AVPixelFormat out_format_;
  io::FrameToRgb to_rgb_;
  io::RgbToFrame to_frame_;
  std::vector<model::PlanarImage> inputs_, outputs_;
  model::PlanarImage resized_;
};

std::vector<io::FramePtr> CpuFrameUpscaler::process(std::vector<io::FramePtr>& frames) {
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
    // --size: resample the model's output to the exact size; an odd size for 4:2:0 is only
    // cropped by a pixel (handled by RgbToFrame), not resampled.
    if (!g_.crop_only()) {
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

}  // namespace

std::unique_ptr<FrameUpscaler> make_cpu_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                       const FrameFormats& formats) {
  return std::make_unique<CpuFrameUpscaler>(upscaler, geometry, formats);
}

}  // namespace upscaled::pipeline
