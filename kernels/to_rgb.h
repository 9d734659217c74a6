// Decoded frame -> network input: any PixelLayout to planar RGB in [0, 1].
//
// This is the pipeline's entry point before the network: float32 planes on the CPU path,
// float16 (or float32) planes on the GPU path. 8/10-bit integers become float16 in the same
// pass (no intermediate float32 frame).
//
// Semantics (both backends):
//   - YUV sources: the matrix and range of `spec`; chroma is upsampled by linear
//     interpolation at the positions `spec.siting` gives (clamped at the picture edges).
//   - RGB sources (rgb24/bgr24) are full range: value / 255; `spec` is ignored.
//   - Gray sources: R = G = B = normalised luma with `spec.range`.
//   - Results are clamped into [0, 1] (limited-range foot/headroom and out-of-gamut YUV would
//     otherwise leave it; the networks are trained on [0, 1]).
//   - dst planes must be src.width x src.height; only [0, width) of each row is written.
//
// to_rgb_cpu: synchronous; host memory; threads via parallel_for.
// to_rgb_cuda: asynchronous on `stream` (never the legacy default stream unless the caller
//   passes nullptr on purpose); src and dst in device memory (or host-mapped memory the device
//   can read); the caller keeps both alive until the stream has passed this work.
//   Throws upscaled::kernels::CudaError (with cudaGetErrorString text) when a launch fails,
//   std::runtime_error when the build has no CUDA, std::invalid_argument for bad views.
#pragma once

#include "kernels/half.h"
#include "kernels/image_view.h"
#include "kernels/pixel_format.h"

namespace upscaled::kernels {

void to_rgb_cpu(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst);

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream);
void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream);

// Shared argument check of both backends (sizes, pointers, pitches); throws
// std::invalid_argument naming `who`.
template <typename T>
void check_rgb_planes(const RgbPlanes<T>& p, int width, int height, const char* who);

}  // namespace upscaled::kernels
