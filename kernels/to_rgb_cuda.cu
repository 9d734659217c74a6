// CUDA twin of to_rgb_cpu: one thread per output pixel, same arithmetic (frame_sampler.cuh
// and color_math.h). Chroma neighbours are re-read by adjacent threads and served from L1/L2,
// so DRAM traffic stays at one read of the frame and one write of the RGB planes.
#include "kernels/frame_sampler.cuh"
#include "kernels/to_rgb.h"

namespace upscaled::kernels {
namespace {

using namespace cudadetail;

template <typename S, typename Out>
__global__ void to_rgb_kernel(FrameSampler f, Planes3<Out> dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= f.width || y >= f.height) return;
  const float3 c = sample_rgb<S>(f, x, y);
  dst.row(0, y)[x] = from_f<Out>(c.x);
  dst.row(1, y)[x] = from_f<Out>(c.y);
  dst.row(2, y)[x] = from_f<Out>(c.z);
}

template <typename HostOut>
void launch(const FrameView& src, const ColorSpec& spec, RgbPlanes<HostOut> dst, Stream stream, const char* who) {
  validate_frame(src, who);
  check_rgb_planes(dst, src.width, src.height, who);
  using Out = typename DeviceType<HostOut>::type;
  const FrameSampler f = make_sampler(src, spec);
  const dim3 block(32, 8);
  const dim3 grid(div_up(src.width, 32), div_up(src.height, 8));
  const Planes3<Out> d = planes3<Out>(dst);
  if (f.li.bytes == 1)
    to_rgb_kernel<std::uint8_t, Out><<<grid, block, 0, to_cuda(stream)>>>(f, d);
  else
    to_rgb_kernel<std::uint16_t, Out><<<grid, block, 0, to_cuda(stream)>>>(f, d);
  cuda_check_launch(who);
}

}  // namespace

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(float)");
}

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(half)");
}

}  // namespace upscaled::kernels
