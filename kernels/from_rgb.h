// Network output -> encoder input: planar RGB float in [0, 1] to any PixelLayout.
//
// This is the pipeline's entry point after the network (encoder formats yuv420p, yuv420p10,
// nv12, p010, yuv444p, rgb24; the other layouts work the same way).
//
// Semantics (both backends):
//   - RGB is clamped into [0, 1] first (networks overshoot a little; NaN becomes 0).
//   - YUV: `spec` matrix and range. Subsampled chroma is filtered from RGB at the positions
//     `spec.siting` gives: co-sited axes use [1 2 1]/4 centred on the even luma sample,
//     centred axes average the two luma samples; edges are clamped.
//   - Rounding to nearest and clamping to the layout's code range ([0, 2^n - 1]; limited
//     range keeps in-gamut input inside 16..235/240 by construction, out-of-range values
//     are not clipped to the legal range). p010 puts the value in the high 10 bits.
//   - Dither::ordered adds an 8x8 Bayer threshold instead of 0.5 before truncation for
//     8-bit layouts (so smooth gradients do not band); 10-bit layouts are always rounded.
//   - src planes must be dst.width x dst.height; only each plane's row bytes are written.
//
// from_rgb_cpu: synchronous, host memory. from_rgb_cuda: asynchronous on `stream`, device
// memory, caller keeps buffers alive until the stream passes; errors as in to_rgb.h.
#pragma once

#include "kernels/half.h"
#include "kernels/image_view.h"
#include "kernels/pixel_format.h"

namespace upscaled::kernels {

enum class Dither { none, ordered };

void from_rgb_cpu(RgbPlanes<const float> src, const ColorSpec& spec, const MutableFrameView& dst,
                  Dither dither = Dither::none);

void from_rgb_cuda(RgbPlanes<const float> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream);
void from_rgb_cuda(RgbPlanes<const Half> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream);

}  // namespace upscaled::kernels
