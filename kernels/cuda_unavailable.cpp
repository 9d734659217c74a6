// Builds without CUDA: the *_cuda entry points throw, so that callers compile the same way
// in every build and learn at run time (they should ask backend.h's cuda_usable() first).
#include "kernels/cuda_modules.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"

#include <stdexcept>
#include <string>

namespace upscaled::kernels {
namespace {
[[noreturn]] void unavailable(const char* who) {
  throw std::runtime_error(std::string(who) + ": this build has no CUDA kernels (configured without CUDA)");
}
}  // namespace

void to_rgb_cuda(const FrameView&, const ColorSpec&, RgbPlanes<float>, Stream) {
  unavailable("to_rgb_cuda");
}
void to_rgb_cuda(const FrameView&, const ColorSpec&, RgbPlanes<Half>, Stream) {
  unavailable("to_rgb_cuda");
}
void from_rgb_cuda(RgbPlanes<const float>, const ColorSpec&, const MutableFrameView&, Dither, Stream) {
  unavailable("from_rgb_cuda");
}
void from_rgb_cuda(RgbPlanes<const Half>, const ColorSpec&, const MutableFrameView&, Dither, Stream) {
  unavailable("from_rgb_cuda");
}

void luma_cuda(const FrameView&, const ColorSpec&, PlaneView<float>, Stream) {
  unavailable("luma_cuda");
}
void luma_thumbnail_cuda(const FrameView&, const ColorSpec&, PlaneView<float>, Stream) {
  unavailable("luma_thumbnail_cuda");
}
void make_gray_cuda(RgbPlanes<float>, ColorMatrix, Stream) {
  unavailable("make_gray_cuda");
}
void make_gray_cuda(RgbPlanes<Half>, ColorMatrix, Stream) {
  unavailable("make_gray_cuda");
}

struct ResizeCuda::Impl {};
ResizeCuda::ResizeCuda(int, int, int, int, ResizeFilter, ResizeStrategy) {
  unavailable("ResizeCuda");
}
bool ResizeCuda::tiled() const {
  return false;
}
bool ResizeCuda::periodic() const {
  return false;
}
ResizeCuda::~ResizeCuda() = default;
ResizeCuda::ResizeCuda(ResizeCuda&&) noexcept = default;
ResizeCuda& ResizeCuda::operator=(ResizeCuda&&) noexcept = default;
void ResizeCuda::run(PlaneView<const float>, PlaneView<float>, Stream) {
  unavailable("ResizeCuda::run");
}
void ResizeCuda::run(PlaneView<const Half>, PlaneView<Half>, Stream) {
  unavailable("ResizeCuda::run");
}
void ResizeCuda::run(RgbPlanes<const float>, RgbPlanes<float>, Stream) {
  unavailable("ResizeCuda::run");
}
void ResizeCuda::run(RgbPlanes<const Half>, RgbPlanes<Half>, Stream) {
  unavailable("ResizeCuda::run");
}
void ResizeCuda::reserve_frame_runs() {
  unavailable("ResizeCuda::reserve_frame_runs");
}
std::size_t ResizeCuda::intermediate_bytes(ResizeRuns) const {
  unavailable("ResizeCuda::intermediate_bytes");
}

ModuleLoadResult load_cuda_kernels() {
  return {0, 0, 0, "this build has no CUDA kernels"};
}

}  // namespace upscaled::kernels
