// Grayscale: luma with the source matrix's own coefficients (BT.709 content is not
// 0.299/0.587/0.114), for two pipeline uses:
//  1. `--grayscale` output: make_gray_* replaces R, G, B by the pixel's luma, so the encoder
//     receives a neutral picture (chroma at exactly the neutral code after from_rgb).
//  2. `--skip-duplicates`: luma_thumbnail_* shrinks a decoded frame to a small luma plane
//     (box average; e.g. 64x36), and thumbnail_difference compares two thumbnails. The
//     pipeline skips the network when the difference is below its threshold.
//
// Luma definitions (all results in [0, 1], clamped):
//   YUV sources: the normalised Y' sample (range from `spec`); RGB sources:
//   Kr R + Kg G + Kb B with spec.matrix's Kr/Kb; gray sources: the normalised sample.
//
// *_cpu: synchronous, host memory. *_cuda: asynchronous on `stream`, device memory, the
// caller keeps buffers alive until the stream passes; errors as in to_rgb.h.
#pragma once

#include "kernels/half.h"
#include "kernels/image_view.h"
#include "kernels/pixel_format.h"

namespace upscaled::kernels {

// Full-resolution luma plane (dst is src.width x src.height).
void luma_cpu(const FrameView& src, const ColorSpec& spec, PlaneView<float> dst);
void luma_cuda(const FrameView& src, const ColorSpec& spec, PlaneView<float> dst, Stream stream);

// Thumbnail of any size (typically much smaller than the frame): thumbnail pixel (tx, ty)
// is the mean luma over source columns [tx*W/tw, max(that+1, (tx+1)*W/tw)) and likewise rows.
void luma_thumbnail_cpu(const FrameView& src, const ColorSpec& spec, PlaneView<float> thumb);
void luma_thumbnail_cuda(const FrameView& src, const ColorSpec& spec, PlaneView<float> thumb, Stream stream);

// In-place neutral gray: R = G = B = Kr R + Kg G + Kb B (inputs clamped to [0, 1] first).
void make_gray_cpu(RgbPlanes<float> rgb, ColorMatrix matrix);
void make_gray_cuda(RgbPlanes<float> rgb, ColorMatrix matrix, Stream stream);
void make_gray_cuda(RgbPlanes<Half> rgb, ColorMatrix matrix, Stream stream);

// Host-side comparison of two equally sized thumbnails (tiny: no GPU version needed; the
// GPU path copies its thumbnail to the host). mean_abs and max_abs are in luma units [0, 1];
// psnr_db is 10 log10(1 / MSE), +inf for identical thumbnails.
struct ThumbnailDifference {
  double mean_abs = 0.0;
  double max_abs = 0.0;
  double psnr_db = 0.0;
};
ThumbnailDifference thumbnail_difference(PlaneView<const float> a, PlaneView<const float> b);

}  // namespace upscaled::kernels
