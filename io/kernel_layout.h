// Maps FFmpeg's pixel formats and colour tags onto kernels/' own small enums, so that the
// kernels stay free of FFmpeg. Pure functions, no state.
#pragma once

#include "io/av_handles.h"
#include "io/rgb_converter.h"
#include "kernels/pixel_format.h"

#include <optional>

namespace upscaled::io {

// nullopt when kernels/ has no layout for the format (the CPU path then handles it).
std::optional<kernels::PixelLayout> kernel_layout(AVPixelFormat format);
kernels::ColorSpec kernel_color(const ColorInfo& color, AVChromaLocation location);
// A view of `frame`'s planes (host memory); the layout must come from kernel_layout().
kernels::FrameView kernel_view(const AVFrame* frame, kernels::PixelLayout layout);

}  // namespace upscaled::io
