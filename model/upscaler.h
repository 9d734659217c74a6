// The interface every upscaling model implements: networks (libtorch) and the classic
// resamplers alike.
//
// Contract: upscale() is synchronous and not thread-safe (one caller at a time; the
// pipeline's infer stage). Images are planar RGB float32 in [0, 1], owned by the caller;
// the callee sizes each output to (width * scale, height * scale). Errors are thrown as
// upscaled::Error (ErrorCode::model for bad weights, ErrorCode::device for GPU trouble).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

class Upscaler {
 public:
  virtual ~Upscaler() = default;
  virtual int scale() const = 0;
  // One line for logs and doctor: name, architecture, device, precision.
  virtual std::string describe() const = 0;
  // Frames the model prefers per call; the infer stage batches up to this many.
  virtual int preferred_batch() const { return 1; }
  virtual void upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) = 0;
};

}  // namespace upscaled::model
