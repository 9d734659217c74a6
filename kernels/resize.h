// Separable resampling of single planes: bilinear, bicubic (Catmull-Rom), Lanczos-3 and
// area (antialiased) filters, arbitrary source and destination sizes.
//
// Contract (CPU): synchronous; src and dst are host memory owned by the caller; dst is
// written entirely and nothing outside its rows' [0, width) is touched. Downscaling widens
// the filter by the scale factor (antialiasing) for every filter but bilinear-exact use.
// Sample positions follow the pixel-centre convention: x_src = (x_dst + 0.5) / sx - 0.5.
#pragma once

#include "kernels/image_view.h"

#include <string_view>

namespace upscaled::kernels {

enum class ResizeFilter { bilinear, bicubic, lanczos3, area };

// Throws std::invalid_argument for an unknown name; accepts bilinear, bicubic, lanczos
// (or lanczos3) and area.
ResizeFilter parse_resize_filter(std::string_view name);
const char* resize_filter_name(ResizeFilter filter);

// Values are not clamped: Lanczos and bicubic overshoot slightly, callers clamp on
// conversion to integers.
void resize_cpu(PlaneView<const float> src, PlaneView<float> dst, ResizeFilter filter);

}  // namespace upscaled::kernels
