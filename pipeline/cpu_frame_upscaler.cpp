// CPU frame upscaler: the kernels' CPU twins (the same arithmetic as the GPU path) convert
// frames to planar float RGB (area pre-resize fused), resample / pad / crop the network's
// output and convert it back; swscale handles the formats they do not cover and frames whose
// size changed mid-stream. The model runs through Upscaler::upscale() (which may itself use
// the GPU, with host copies).
#include "io/av_error.h"
#include "io/kernel_layout.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"
#include "pipeline/duplicate_skipper.h"
#include "pipeline/frame_upscaler.h"

#include <optional>

namespace upscaled::pipeline {
namespace {

// Views of the width x height part at (x, y) of an image's planes (rows keep the image's pitch).
kernels::RgbPlanes<float> planes(model::PlanarImage& img, int x, int y, int width, int height) {
  const auto pitch = static_cast<std::ptrdiff_t>(img.width * sizeof(float));
  const std::size_t at = static_cast<std::size_t>(y) * img.width + x;
  return {{img.plane(0) + at, width, height, pitch},
          {img.plane(1) + at, width, height, pitch},
          {img.plane(2) + at, width, height, pitch}};
}
kernels::RgbPlanes<float> planes(model::PlanarImage& img) {
  return planes(img, 0, 0, img.width, img.height);
}

class CpuFrameUpscaler final : public BatchFrameUpscaler {
 public:
  CpuFrameUpscaler(model::Upscaler& upscaler, const FramePlan& plan, const FrameFormats& formats,
                   const FrameOptions& options)
      : upscaler_(upscaler),
        p_(plan),
        options_(options),
        formats_in_(formats.in_format),
        out_format_(formats.out_format),
        in_layout_(io::kernel_layout(formats.in_format)),
        out_layout_(io::kernel_layout(formats.out_format)),
        in_spec_(io::kernel_color(formats.in_color, formats.in_chroma)),
        out_spec_(io::kernel_color(formats.out_color, AVCHROMA_LOC_LEFT)),
        to_rgb_(plan.net_width, plan.net_height),
        to_frame_(formats.out_color),
        skipper_(options.skip_threshold, plan.src_width, plan.src_height) {
    // Zeroed once: the pad bars are never written again (resampling only writes the picture).
    if (p_.post_resize()) canvas_.resize(p_.canvas_width, p_.canvas_height);
  }

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) override;
  std::string name() const override { return "cpu"; }
  std::int64_t skipped() const override { return skipper_.skipped(); }

 private:
  // The layout the kernels read this frame in directly; none: swscale converts it. A frame
  // in another format than the stream's that the kernels know (NVDEC's nv12 / p010 copied to
  // the host: the same picture packed otherwise) is read directly too, with the stream's
  // colour: swscale's conversion of it lost about 4 dB against the kernels' (measured on
  // the H200 with Nvdec.FramesReachTheCpuFramePathWhenTheJobEndsUpThere).
  std::optional<kernels::PixelLayout> direct_layout(const AVFrame* f) const {
    if (f->width != p_.src_width || f->height != p_.src_height) return std::nullopt;
    return f->format == formats_in_ ? in_layout_ : io::kernel_layout(static_cast<AVPixelFormat>(f->format));
  }
  void to_network_input(const AVFrame* f, model::PlanarImage& dst);
  io::FramePtr to_output(model::PlanarImage& model_out, std::int64_t pts);

  model::Upscaler& upscaler_;
  FramePlan p_;
  FrameOptions options_;
  int formats_in_;
  AVPixelFormat out_format_;
  std::optional<kernels::PixelLayout> in_layout_, out_layout_;
  kernels::ColorSpec in_spec_, out_spec_;
  io::FrameToRgb to_rgb_;
  io::RgbToFrame to_frame_;
  DuplicateSkipper skipper_;
  std::vector<float> thumbs_;
  std::vector<model::PlanarImage> inputs_, outputs_;
  model::PlanarImage canvas_;
};

void CpuFrameUpscaler::to_network_input(const AVFrame* f, model::PlanarImage& dst) {
  dst.resize(p_.net_width, p_.net_height);
  const std::optional<kernels::PixelLayout> layout = direct_layout(f);
  if (!layout) {
    to_rgb_.convert(f, dst.plane(0), dst.plane(1), dst.plane(2));  // rescales to the network size
    return;
  }
  const kernels::FrameView src = io::kernel_view(f, *layout);
  if (p_.pre_resize())
    kernels::resize_cpu(src, in_spec_, planes(dst), kernels::ResizeFilter::area);
  else
    kernels::to_rgb_cpu(src, in_spec_, planes(dst));
}

io::FramePtr CpuFrameUpscaler::to_output(model::PlanarImage& model_out, std::int64_t pts) {
  model::PlanarImage* canvas = &model_out;
  if (p_.post_resize()) {
    const kernels::RgbPlanes<float> m = planes(model_out);
    kernels::resize_cpu(m.as_const(), planes(canvas_, p_.picture_x, p_.picture_y, p_.picture_width, p_.picture_height),
                        post_resize_filter(p_));
    canvas = &canvas_;
  }
  const kernels::RgbPlanes<float> window = planes(*canvas, p_.window_x, p_.window_y, p_.out_width, p_.out_height);
  // Bars are black (0, 0, 0) and stay so: gray of black is black.
  if (options_.grayscale) kernels::make_gray_cpu(window, in_spec_.matrix);

  io::FramePtr out = io::make_frame();
  out->format = out_format_;
  out->width = p_.out_width;
  out->height = p_.out_height;
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
    const bool eight_bit = kernels::layout_info(dst.layout).bits == 8;
    kernels::from_rgb_cpu(window.as_const(), out_spec_, dst,
                          eight_bit ? kernels::Dither::ordered : kernels::Dither::none);
  } else {
    // Rows of the window keep the canvas's pitch: swscale reads out_height of them.
    to_frame_.convert(window.r.data, window.g.data, window.b.data, canvas->width, canvas->height - p_.window_y,
                      out.get());
  }
  out->pts = pts;
  return out;
}

std::vector<io::FramePtr> CpuFrameUpscaler::process(std::vector<io::FramePtr>& frames) {
  const int n = static_cast<int>(frames.size());
  const int tw = skipper_.thumb_width(), th = skipper_.thumb_height();
  if (skipper_.enabled()) {
    thumbs_.resize(static_cast<std::size_t>(n) * tw * th);
    for (int i = 0; i < n; ++i)
      if (const auto layout = direct_layout(frames[i].get()))
        kernels::luma_thumbnail_cpu(io::kernel_view(frames[i].get(), *layout), in_spec_,
                                    {thumbs_.data() + static_cast<std::size_t>(i) * tw * th, tw, th,
                                     static_cast<std::ptrdiff_t>(tw * sizeof(float))});
  }
  const DuplicateSkipper::Selection selection = skipper_.select(n, [&](int i) -> kernels::PlaneView<const float> {
    if (!direct_layout(frames[i].get())) return {};  // not comparable: it runs
    return {thumbs_.data() + static_cast<std::size_t>(i) * tw * th, tw, th,
            static_cast<std::ptrdiff_t>(tw * sizeof(float))};
  });

  const std::vector<int>& run = selection.run;
  const std::size_t k = run.size();
  inputs_.resize(k);
  outputs_.resize(k);
  for (std::size_t j = 0; j < k; ++j) to_network_input(frames[run[j]].get(), inputs_[j]);
  if (k > 0)
    upscaler_.upscale(std::span<const model::PlanarImage>(inputs_.data(), k),
                      std::span<model::PlanarImage>(outputs_.data(), k));

  std::vector<io::FramePtr> pictures;
  pictures.reserve(k);
  for (std::size_t j = 0; j < k; ++j) pictures.push_back(to_output(outputs_[j], frames[run[j]]->pts));
  std::vector<std::int64_t> pts;
  pts.reserve(frames.size());
  for (const auto& f : frames) pts.push_back(f->pts);
  return skipper_.assemble(selection, std::move(pictures), pts);
}

}  // namespace

std::unique_ptr<BatchFrameUpscaler> make_cpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                            const FrameFormats& formats, const FrameOptions& options) {
  return std::make_unique<CpuFrameUpscaler>(upscaler, plan, formats, options);
}

}  // namespace upscaled::pipeline
