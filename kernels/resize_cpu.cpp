#include "kernels/parallel_cpu.h"
#include "kernels/resize.h"
#include "kernels/resize_taps.h"
#include "kernels/to_rgb.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace upscaled::kernels {
namespace {

double filter_support(ResizeFilter f) {
  switch (f) {
    case ResizeFilter::bilinear:
      return 1.0;
    case ResizeFilter::bicubic:
      return 2.0;
    case ResizeFilter::lanczos3:
      return 3.0;
    case ResizeFilter::area:
      return 0.5;
  }
  return 1.0;
}

double sinc(double x) {
  if (std::abs(x) < 1e-8) return 1.0;
  const double px = std::numbers::pi * x;
  return std::sin(px) / px;
}

double filter_weight(ResizeFilter f, double x) {
  x = std::abs(x);
  switch (f) {
    case ResizeFilter::bilinear:
      return x < 1.0 ? 1.0 - x : 0.0;
    case ResizeFilter::bicubic: {  // Catmull-Rom (B=0, C=0.5)
      if (x < 1.0) return 1.5 * x * x * x - 2.5 * x * x + 1.0;
      if (x < 2.0) return -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0;
      return 0.0;
    }
    case ResizeFilter::lanczos3:
      return x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
    case ResizeFilter::area:
      return x <= 0.5 ? 1.0 : 0.0;  // unused: make_taps computes coverage
  }
  return 0.0;
}

}  // namespace

namespace detail {

Taps make_taps(int src_size, int dst_size, ResizeFilter f) {
  const double scale = static_cast<double>(dst_size) / src_size;
  const double stretch = scale < 1.0 ? 1.0 / scale : 1.0;  // antialias when shrinking
  // Area: exact coverage of each source pixel [j - 0.5, j + 0.5] by the destination pixel's
  // footprint [c - stretch / 2, c + stretch / 2] (for upscaling this is the tent filter).
  const bool area = f == ResizeFilter::area;
  const double support = area ? 0.5 * stretch + 0.5 : filter_support(f) * stretch;
  Taps t;
  t.count = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(dst_size);
  t.weights.assign(static_cast<size_t>(dst_size) * t.count, 0.f);
  std::vector<double> w(t.count), folded(t.count);
  for (int d = 0; d < dst_size; ++d) {
    const double centre = (d + 0.5) / scale - 0.5;
    int first = static_cast<int>(std::floor(centre - support)) + 1;
    double sum = 0.0;
    for (int k = 0; k < t.count; ++k) {
      const double x = first + k - centre;
      w[k] = area ? std::max(0.0, std::min(x + 0.5, 0.5 * stretch) - std::max(x - 0.5, -0.5 * stretch))
                  : filter_weight(f, x / stretch);
      sum += w[k];
    }
    // Fold taps outside the source onto the border sample (replicated edge) and slide the
    // window inside, so the inner loops need no clamping when count <= src_size.
    if (t.count <= src_size) {
      const int inside = std::clamp(first, 0, src_size - t.count);
      folded.assign(t.count, 0.0);
      for (int k = 0; k < t.count; ++k) folded[std::clamp(first + k, 0, src_size - 1) - inside] += w[k];
      w.swap(folded);
      first = inside;
    }
    t.first[d] = first;
    for (int k = 0; k < t.count; ++k) t.weights[static_cast<size_t>(d) * t.count + k] = static_cast<float>(w[k] / sum);
  }
  return t;
}

}  // namespace detail

ResizeFilter parse_resize_filter(std::string_view name) {
  if (name == "bilinear") return ResizeFilter::bilinear;
  if (name == "bicubic") return ResizeFilter::bicubic;
  if (name == "lanczos" || name == "lanczos3") return ResizeFilter::lanczos3;
  if (name == "area") return ResizeFilter::area;
  throw std::invalid_argument("unknown resize filter '" + std::string(name) +
                              "' (expected bilinear, bicubic, lanczos or area)");
}

const char* resize_filter_name(ResizeFilter filter) {
  switch (filter) {
    case ResizeFilter::bilinear:
      return "bilinear";
    case ResizeFilter::bicubic:
      return "bicubic";
    case ResizeFilter::lanczos3:
      return "lanczos";
    case ResizeFilter::area:
      return "area";
  }
  return "?";
}

void resize_cpu(PlaneView<const float> src, PlaneView<float> dst, ResizeFilter filter) {
  if (src.data == nullptr || dst.data == nullptr || src.width <= 0 || src.height <= 0 || dst.width <= 0 ||
      dst.height <= 0)
    throw std::invalid_argument("resize_cpu: empty plane");
  const detail::Taps h = detail::make_taps(src.width, dst.width, filter);
  const detail::Taps v = detail::make_taps(src.height, dst.height, filter);
  const bool folded = h.count <= src.width;  // make_taps slid every window inside the source
  // Horizontal pass into a dense temporary of src.height x dst.width.
  std::vector<float> tmp(static_cast<size_t>(src.height) * dst.width);
  parallel_for(src.height, 16, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* in = src.row(y);
      float* out = tmp.data() + static_cast<size_t>(y) * dst.width;
      for (int x = 0; x < dst.width; ++x) {
        const float* w = h.weights.data() + static_cast<size_t>(x) * h.count;
        const int first = h.first[x];
        float acc = 0.f;
        if (folded) {
          for (int k = 0; k < h.count; ++k) acc += w[k] * in[first + k];
        } else {
          for (int k = 0; k < h.count; ++k) acc += w[k] * in[std::clamp(first + k, 0, src.width - 1)];
        }
        out[x] = acc;
      }
    }
  });
  parallel_for(dst.height, 16, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      float* out = dst.row(y);
      const float* w = v.weights.data() + static_cast<size_t>(y) * v.count;
      const int first = v.first[y];
      for (int x = 0; x < dst.width; ++x) out[x] = 0.f;
      for (int k = 0; k < v.count; ++k) {
        if (w[k] == 0.f) continue;
        const float* in = tmp.data() + static_cast<size_t>(std::clamp(first + k, 0, src.height - 1)) * dst.width;
        const float wk = w[k];
        for (int x = 0; x < dst.width; ++x) out[x] += wk * in[x];
      }
    }
  });
}

void resize_cpu(RgbPlanes<const float> src, RgbPlanes<float> dst, ResizeFilter filter) {
  for (int c = 0; c < 3; ++c) resize_cpu(src.plane(c), dst.plane(c), filter);
}

void resize_cpu(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, ResizeFilter filter) {
  validate_frame(src, "resize_cpu(frame)");
  const std::size_t n = static_cast<std::size_t>(src.width) * src.height;
  std::vector<float> rgb(3 * n);
  const std::ptrdiff_t pitch = static_cast<std::ptrdiff_t>(src.width) * sizeof(float);
  RgbPlanes<float> tmp{{rgb.data(), src.width, src.height, pitch},
                       {rgb.data() + n, src.width, src.height, pitch},
                       {rgb.data() + 2 * n, src.width, src.height, pitch}};
  to_rgb_cpu(src, spec, tmp);
  resize_cpu(tmp.as_const(), dst, filter);
}

}  // namespace upscaled::kernels
