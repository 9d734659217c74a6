// Separable resampling of single planes: bilinear, bicubic (Catmull-Rom), Lanczos-3 and
// area (antialiased) filters, arbitrary source and destination sizes.
//
// Used before the network (feed it a smaller frame when the target is below input x scale)
// and after it (--outscale, --size WxH) on planar RGB float.
//
// Semantics (both backends, same tap tables from make_taps):
//   - Pixel-centre convention: x_src = (x_dst + 0.5) / sx - 0.5; replicated borders.
//   - Downscaling widens the filter by the scale factor (antialiasing); area computes the
//     exact coverage of each source pixel by the destination footprint (an integer factor
//     gives the block mean; upscaling with area is the tent filter).
//   - Values are not clamped: Lanczos and bicubic overshoot slightly; from_rgb clamps.
//   - dst is written entirely and nothing outside its rows' [0, width) is touched.
//
// resize_cpu: synchronous; host memory owned by the caller; threads via parallel_for.
// ResizeCuda: a plan for one (source size, destination size, filter) that owns the device
//   tap tables and the intermediate buffers (two-pass runs, periodic frame runs).
//   Constructing it allocates and uploads (synchronous; do it once, not per frame); the
//   first two-pass run and a periodic plan's first frame run allocate their intermediate
//   (synchronous too). run() is asynchronous on `stream`; the plan's intermediate buffers are
//   reused, so runs of one plan must be ordered on one stream (or synchronised by the caller).
//   src/dst are device memory kept alive by the caller until the stream passes. Half planes
//   are filtered in float32 and rounded once.
#pragma once

#include "kernels/half.h"
#include "kernels/image_view.h"
#include "kernels/pixel_format.h"

#include <cstddef>
#include <memory>
#include <string_view>

namespace upscaled::kernels {

enum class ResizeFilter { bilinear, bicubic, lanczos3, area };

// Throws std::invalid_argument for an unknown name; accepts bilinear, bicubic, lanczos
// (or lanczos3) and area.
ResizeFilter parse_resize_filter(std::string_view name);
const char* resize_filter_name(ResizeFilter filter);

void resize_cpu(PlaneView<const float> src, PlaneView<float> dst, ResizeFilter filter);
void resize_cpu(RgbPlanes<const float> src, RgbPlanes<float> dst, ResizeFilter filter);

// Conversion + resize from a decoded frame (to_rgb.h semantics: each source pixel converted
// and clamped, then filtered): equal to to_rgb followed by resize. The CUDA plan converts
// each source pixel where its tiles (or its horizontal pass) read it, so no full-size RGB
// frame is written or read, except for periodic plans (see ResizeStrategy), which convert
// the frame into a float32 RGB intermediate the plan allocates on its first frame run (12
// bytes per source pixel) and resize that with the periodic kernel: faster than the fused
// tile kernel (docs/kernels.md). The CPU version is that composition (with a temporary
// full-size RGB frame).
void resize_cpu(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, ResizeFilter filter);

// automatic: for plane runs that scale both axes by 2, 4 or 1.5 up or by 2 down, a periodic
// kernel (constant taps per output phase, no tap tables; x1.5 only for planes whose pitches
// are multiples of 16 bytes, others take the tiled kernel); otherwise one tiled kernel through shared
// memory when the filter has at most 13 taps and its window fits (upscales and downscales up
// to about 2x), else two passes through a device intermediate.
// tiled skips the periodic kernel, two_pass forces the last (tests and benchmarks compare).
enum class ResizeStrategy { automatic, tiled, two_pass };

// The kinds of run a plan serves, for ResizeCuda::intermediate_bytes.
enum class ResizeRuns { half_planes, float_planes, frames };

class ResizeCuda {
 public:
  // Throws std::invalid_argument for empty sizes, CudaError (or std::runtime_error in a
  // build without CUDA) when allocation fails.
  ResizeCuda(int src_width, int src_height, int dst_width, int dst_height, ResizeFilter filter,
             ResizeStrategy strategy = ResizeStrategy::automatic);
  ~ResizeCuda();
  ResizeCuda(const ResizeCuda&) = delete;
  ResizeCuda& operator=(const ResizeCuda&) = delete;
  ResizeCuda(ResizeCuda&&) noexcept;
  ResizeCuda& operator=(ResizeCuda&&) noexcept;

  // Plane sizes must match the plan's; std::invalid_argument otherwise.
  void run(PlaneView<const float> src, PlaneView<float> dst, Stream stream);
  void run(PlaneView<const Half> src, PlaneView<Half> dst, Stream stream);
  void run(RgbPlanes<const float> src, RgbPlanes<float> dst, Stream stream);
  void run(RgbPlanes<const Half> src, RgbPlanes<Half> dst, Stream stream);
  // Fused conversion + resize (see resize_cpu above); src is the plan's source size.
  void run(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream);
  void run(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream);
  // Allocates now what frame runs need (a periodic plan's float32 RGB intermediate), so that
  // the first frame run does not; synchronous, a no-op when there is nothing to allocate.
  void reserve_frame_runs();
  // Device bytes of the intermediate buffer that runs of kind `runs` use (a periodic plan's
  // float32 RGB frame, or the two-pass kernels' float32 planes of src height x dst width),
  // allocated or not yet; 0 when they use none. For memory accounting before the first run
  // (the GPU frame path counts it in the model's reservation). An unallocated pitched
  // intermediate is counted with rows padded to 512 bytes (at least cudaMallocPitch's pitch).
  std::size_t intermediate_bytes(ResizeRuns runs) const;

  // True when plane runs use a single kernel (periodic or tiled). Fused frame runs use the
  // tiled one when their three-plane tile fits in shared memory (the conversion happens where
  // the tile's source window is loaded); otherwise they take two passes, converting in the
  // horizontal one.
  bool tiled() const;
  // True when the plan is periodic (see ResizeStrategy): plane runs use the periodic kernel
  // (x1.5: where the pitches allow) and frame runs its float32 intermediate.
  bool periodic() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace upscaled::kernels
