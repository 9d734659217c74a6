// CPU frame upscaler: the kernels' CPU twins (the same arithmetic as the GPU path) convert
// frames to planar float RGB and back, swscale handles the formats they do not cover and
// frames whose size changed mid-stream; the model runs through Upscaler::upscale() (which
// may itself use the GPU, with host copies).
#include "io/av_error.h"
#include "io/kernel_layout.h"
#include "kernels/from_rgb.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"
#include "pipeline/frame_upscaler.h"

#include <optional>

namespace upscaled::pipeline {
namespace {

class CpuFrameUpscaler final : public FrameUpscaler {
 public:
  CpuFrameUpscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry, const FrameFormats& formats)
      : upscaler_(upscaler),
        g_(geometry),
        formats_in_(formats.in_format),
        out_format_(formats.out_format),
        in_layout_(io::kernel_layout(formats.in_format)),
        out_layout_(io::kernel_layout(formats.out_format)),
        in_spec_(io::kernel_color(formats.in_color, formats.in_chroma)),
        out_spec_(io::kernel_color(formats.out_color, AVCHROMA_LOC_LEFT)),
        to_rgb_(geometry.in_width, geometry.in_height),
        to_frame_(formats.out_color) {}

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) override;
  std::string name() const override { return "cpu"; }

 private:
  model::Upscaler& upscaler_;
  UpscaleGeometry g_;
  int formats_in_;
  AVPixelFormat out_format_;
  std::optional<kernels::PixelLayout> in_layout_, out_layout_;
  kernels::ColorSpec in_spec_, out_spec_;
  io::FrameToRgb to_rgb_;
  io::RgbToFrame to_frame_;
  std::vector<model::PlanarImage> inputs_, outputs_;
  model::PlanarImage resized_;
};

// Views of the top-left width x height of an image's planes (rows keep the image's pitch).
kernels::RgbPlanes<float> planes(model::PlanarImage& img, int width, int height) {
  const auto pitch = static_cast<std::ptrdiff_t>(img.width * sizeof(float));
  return {
      {img.plane(0), width, height, pitch}, {img.plane(1), width, height, pitch}, {img.plane(2), width, height, pitch}};
}
kernels::RgbPlanes<float> planes(const model::PlanarImage& img, int width, int height) {
  return planes(const_cast<model::PlanarImage&>(img), width, height);
}

std::vector<io::FramePtr> CpuFrameUpscaler::process(std::vector<io::FramePtr>& frames) {
  const size_t n = frames.size();
  inputs_.resize(n);
  outputs_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    inputs_[i].resize(g_.in_width, g_.in_height);
    const AVFrame* f = frames[i].get();
    if (in_layout_ && f->format == formats_in_ && f->width == g_.in_width && f->height == g_.in_height)
      kernels::to_rgb_cpu(io::kernel_view(f, *in_layout_), in_spec_, planes(inputs_[i], g_.in_width, g_.in_height));
    else
      to_rgb_.convert(f, inputs_[i].plane(0), inputs_[i].plane(1), inputs_[i].plane(2));
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
    if (out_layout_) {
      kernels::MutableFrameView dst;
      dst.layout = *out_layout_;
      dst.width = out->width;
      dst.height = out->height;
      for (int p = 0; p < 3; ++p) {
        dst.data[p] = out->data[p];
        dst.pitch[p] = out->linesize[p];
      }
      const auto rgb = planes(*src, g_.out_width, g_.out_height);  // crops an odd pixel, if any
      const kernels::RgbPlanes<const float> in{rgb.r.as_const(), rgb.g.as_const(), rgb.b.as_const()};
      const bool eight_bit = kernels::layout_info(dst.layout).bits == 8;
      kernels::from_rgb_cpu(in, out_spec_, dst, eight_bit ? kernels::Dither::ordered : kernels::Dither::none);
    } else {
      to_frame_.convert(src->plane(0), src->plane(1), src->plane(2), src->width, src->height, out.get());
    }
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
