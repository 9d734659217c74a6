#include "model/classic_upscaler.h"

#include <stdexcept>
#include <string>

namespace upscaled::model {

ClassicUpscaler::ClassicUpscaler(kernels::ResizeFilter filter, int scale) : filter_(filter), scale_(scale) {
  if (scale < 1 || scale > 16) throw std::invalid_argument("classic upscaler: scale must be 1..16");
}

std::string ClassicUpscaler::describe() const {
  return std::string("classic ") + kernels::resize_filter_name(filter_) + " x" + std::to_string(scale_) + " (cpu)";
}

void ClassicUpscaler::upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) {
  if (in.size() != out.size()) throw std::invalid_argument("classic upscaler: batch size mismatch");
  for (size_t i = 0; i < in.size(); ++i) {
    const PlanarImage& src = in[i];
    PlanarImage& dst = out[i];
    dst.resize(src.width * scale_, src.height * scale_);
    for (int c = 0; c < 3; ++c) {
      kernels::PlaneView<const float> s{src.plane(c), src.width, src.height,
                                        static_cast<std::ptrdiff_t>(src.width * sizeof(float))};
      kernels::PlaneView<float> d{dst.plane(c), dst.width, dst.height,
                                  static_cast<std::ptrdiff_t>(dst.width * sizeof(float))};
      kernels::resize_cpu(s, d, filter_);
    }
  }
}

}  // namespace upscaled::model
