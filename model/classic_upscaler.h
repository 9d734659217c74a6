// Classic resamplers (Lanczos-3, bicubic, bilinear) behind the model interface: no
// weights, any integer scale. Used for previews and wherever no network is wanted.
#pragma once

#include "kernels/resize.h"
#include "model/upscaler.h"

namespace upscaled::model {

class ClassicUpscaler final : public Upscaler {
 public:
  ClassicUpscaler(kernels::ResizeFilter filter, int scale);
  int scale() const override { return scale_; }
  std::string describe() const override;
  void upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) override;

 private:
  kernels::ResizeFilter filter_;
  int scale_;
};

}  // namespace upscaled::model
