// GpuBatch buffers and the packed layout's host copies (pipeline/gpu_batch_cuda.h).
#include "pipeline/gpu_batch_cuda.h"

#include "io/av_error.h"

#include <cstring>

namespace upscaled::pipeline {

using kernels::Half;

kernels::RgbPlanes<Half> batch_planes(Half* base, int i, int width, int height, int x, int y, int w, int h) {
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  const std::size_t at = static_cast<std::size_t>(y) * width + x;
  const auto pitch = static_cast<std::ptrdiff_t>(width * sizeof(Half));
  return {{base + (i * 3 + 0) * plane + at, w, h, pitch},
          {base + (i * 3 + 1) * plane + at, w, h, pitch},
          {base + (i * 3 + 2) * plane + at, w, h, pitch}};
}

PackedLayout::PackedLayout(kernels::PixelLayout l, int w, int h) : layout(l), width(w), height(h) {
  planes = kernels::layout_info(l).planes;
  for (int p = 0; p < planes; ++p) {
    const kernels::PlaneSize s = kernels::plane_size(l, w, h, p);
    offset[p] = bytes;
    pitch[p] = static_cast<std::size_t>(s.row_bytes);
    rows[p] = s.height;
    bytes += pitch[p] * rows[p];
  }
  bytes = (bytes + 255) & ~std::size_t{255};
}

namespace {
template <typename Byte>
kernels::FrameViewT<Byte> packed_view(const PackedLayout& l, Byte* base) {
  kernels::FrameViewT<Byte> v;
  v.layout = l.layout;
  v.width = l.width;
  v.height = l.height;
  for (int p = 0; p < l.planes; ++p) {
    v.data[p] = base + l.offset[p];
    v.pitch[p] = static_cast<std::ptrdiff_t>(l.pitch[p]);
  }
  return v;
}
}  // namespace

kernels::FrameView PackedLayout::view(const std::uint8_t* base) const {
  return packed_view(*this, base);
}
kernels::MutableFrameView PackedLayout::view(std::uint8_t* base) const {
  return packed_view(*this, base);
}

void PackedLayout::pack(const AVFrame* f, std::uint8_t* dst) const {
  for (int p = 0; p < planes; ++p)
    for (int y = 0; y < rows[p]; ++y)
      std::memcpy(dst + offset[p] + y * pitch[p], f->data[p] + static_cast<std::ptrdiff_t>(y) * f->linesize[p],
                  pitch[p]);
}

io::FramePtr PackedLayout::unpack(const std::uint8_t* src, AVPixelFormat format, std::int64_t pts) const {
  io::FramePtr f = io::make_frame();
  f->format = format;
  f->width = width;
  f->height = height;
  io::av_check(av_frame_get_buffer(f.get(), 0), "allocating an output frame");
  for (int p = 0; p < planes; ++p)
    for (int y = 0; y < rows[p]; ++y)
      std::memcpy(f->data[p] + static_cast<std::ptrdiff_t>(y) * f->linesize[p], src + offset[p] + y * pitch[p],
                  pitch[p]);
  f->pts = pts;
  return f;
}

GpuBatch::GpuBatch(const GpuBatchShape& s)
    : rgb_in(s.capacity * s.rgb_in_bytes),
      rgb_out(s.capacity * s.rgb_out_bytes),
      preprocessed(cudaEventDisableTiming),
      infer_started(cudaEventDefault),
      inferred(cudaEventDefault) {
  frames.reserve(s.capacity);
  pts.reserve(s.capacity);
}

}  // namespace upscaled::pipeline
