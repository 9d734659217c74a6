// GPU frame upscaler: decoded frames are uploaded once from pinned host memory, converted to
// float16 RGB by the project's kernels, upscaled by the model's device path and converted
// to the encoder's format on the device; only the encoder-ready picture comes back.
//
// Everything runs on this stage's own non-blocking stream; the one wait per batch is on
// that stream (never the device), before the host copies the results into AVFrames.
// Buffers grow to the largest batch seen and are reused (no cudaMalloc per frame).
// NVDEC frames (AV_PIX_FMT_CUDA) skip the pack and upload: the stream waits for their
// decode event and the kernels read FFmpeg's device planes (pipeline/device_frames_cuda.h).
#include "core/log.h"
#include "io/av_error.h"
#include "io/hw_decode.h"
#include "io/kernel_layout.h"
#include "kernels/cuda_raii.h"
#include "kernels/from_rgb.h"
#include "kernels/to_rgb.h"
#include "pipeline/device_frames_cuda.h"
#include "pipeline/frame_upscaler.h"

#include <cstring>

namespace upscaled::pipeline {
namespace {

using kernels::cuda_check;
using kernels::PinnedBuffer;

// A picture packed plane after plane, rows tight (pitch = row bytes).
struct PackedLayout {
  kernels::PixelLayout layout{};
  int width = 0, height = 0, planes = 0;
  std::size_t offset[3] = {0, 0, 0};
  std::size_t pitch[3] = {0, 0, 0};
  int rows[3] = {0, 0, 0};
  std::size_t bytes = 0;

  PackedLayout() = default;
  PackedLayout(kernels::PixelLayout l, int w, int h) : layout(l), width(w), height(h) {
    planes = kernels::layout_info(l).planes;
    for (int p = 0; p < planes; ++p) {
      const kernels::PlaneSize s = kernels::plane_size(l, w, h, p);
      offset[p] = bytes;
      pitch[p] = static_cast<std::size_t>(s.row_bytes);
      rows[p] = s.height;
      bytes += pitch[p] * rows[p];
    }
    bytes = (bytes + 255) & ~std::size_t{255};  // keep every picture of a batch aligned
  }
  template <typename Byte>
  kernels::FrameViewT<Byte> view(Byte* base) const {
    kernels::FrameViewT<Byte> v;
    v.layout = layout;
    v.width = width;
    v.height = height;
    for (int p = 0; p < planes; ++p) {
      v.data[p] = base + offset[p];
      v.pitch[p] = static_cast<std::ptrdiff_t>(pitch[p]);
    }
    return v;
  }
};

class GpuFrameUpscaler final : public FrameUpscaler {
 public:
  GpuFrameUpscaler(model::Upscaler& upscaler, const UpscaleGeometry& g, const FrameFormats& f)
      : upscaler_(upscaler),
        g_(g),
        formats_(f),
        in_(*io::kernel_layout(f.in_format), g.in_width, g.in_height),
        out_(*io::kernel_layout(f.out_format), g.out_width, g.out_height),
        in_spec_(io::kernel_color(f.in_color, f.in_chroma)),
        out_spec_(io::kernel_color(f.out_color, AVCHROMA_LOC_LEFT)),
        dither_(kernels::layout_info(out_.layout).bits == 8 ? kernels::Dither::ordered : kernels::Dither::none) {}

  std::string name() const override { return "cuda"; }

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) override {
    // A frame that differs from the first (a mid-stream size or format change) takes the
    // CPU route, which rescales it to the first frame's size.
    for (auto& f : frames)
      if (!accepts(f.get())) {
        io::download_device_frames(frames);
        return cpu_fallback().process(frames);
      }
    const int n = static_cast<int>(frames.size());
    reserve(n);
    const cudaStream_t s = stream_.get();
    const auto ks = stream_.stream();
    const std::size_t in_plane = static_cast<std::size_t>(g_.in_width) * g_.in_height;
    const std::size_t model_plane = static_cast<std::size_t>(g_.model_width) * g_.model_height;

    bool any_host = false;
    for (int i = 0; i < n; ++i) {
      if (io::is_device_frame(frames[i].get())) {
        wait_for_decode(frames[i].get(), s);
        continue;
      }
      pack(frames[i].get(), upload_.get() + i * in_.bytes);
      any_host = true;
    }
    if (any_host)
      cuda_check(cudaMemcpyAsync(dev_in_.get(), upload_.get(), n * in_.bytes, cudaMemcpyHostToDevice, s), "upload");
    auto* rgb_in = rgb_in_.as<kernels::Half>();
    auto* rgb_out = rgb_out_.as<kernels::Half>();
    for (int i = 0; i < n; ++i) {
      kernels::RgbPlanes<kernels::Half> dst;
      for (int c = 0; c < 3; ++c) {
        kernels::PlaneView<kernels::Half> v{rgb_in + (i * 3 + c) * in_plane, g_.in_width, g_.in_height,
                                            static_cast<std::ptrdiff_t>(g_.in_width * sizeof(kernels::Half))};
        (c == 0 ? dst.r : c == 1 ? dst.g : dst.b) = v;
      }
      const kernels::FrameView src = io::is_device_frame(frames[i].get())
                                         ? *device_frame_view(frames[i].get())
                                         : in_.view(dev_in_.as<const std::uint8_t>() + i * in_.bytes);
      kernels::to_rgb_cuda(src, in_spec_, dst, ks);
    }
    upscaler_.upscale_device({rgb_in, n, g_.in_height, g_.in_width}, {rgb_out, n, g_.model_height, g_.model_width}, s);
    for (int i = 0; i < n; ++i) {
      // The output view may be a pixel narrower or shorter than the model's (even sizes
      // for 4:2:0): the planes keep the model's pitch, the crop drops the last column/row.
      kernels::RgbPlanes<const kernels::Half> src;
      for (int c = 0; c < 3; ++c) {
        kernels::PlaneView<const kernels::Half> v{rgb_out + (i * 3 + c) * model_plane, g_.out_width, g_.out_height,
                                                  static_cast<std::ptrdiff_t>(g_.model_width * sizeof(kernels::Half))};
        (c == 0 ? src.r : c == 1 ? src.g : src.b) = v;
      }
      kernels::from_rgb_cuda(src, out_spec_, out_.view(dev_out_.as<std::uint8_t>() + i * out_.bytes), dither_, ks);
    }
    cuda_check(cudaMemcpyAsync(download_.get(), dev_out_.get(), n * out_.bytes, cudaMemcpyDeviceToHost, s), "download");
    stream_.synchronize();

    std::vector<io::FramePtr> result;
    result.reserve(n);
    for (int i = 0; i < n; ++i) result.push_back(unpack(download_.get() + i * out_.bytes, frames[i]->pts));
    return result;
  }

 private:
  // The first frame's size, and the decoded format or an NVDEC frame the kernels read.
  bool accepts(const AVFrame* f) const {
    if (f->width != g_.in_width || f->height != g_.in_height) return false;
    return io::is_device_frame(f) ? device_frame_view(f).has_value() : f->format == formats_.in_format;
  }

  void reserve(int n) {
    if (n <= capacity_) return;
    const std::size_t in_rgb = static_cast<std::size_t>(n) * 3 * g_.in_width * g_.in_height * sizeof(kernels::Half);
    const std::size_t out_rgb =
        static_cast<std::size_t>(n) * 3 * g_.model_width * g_.model_height * sizeof(kernels::Half);
    upload_ = PinnedBuffer(n * in_.bytes);
    download_ = PinnedBuffer(n * out_.bytes);
    dev_in_ = kernels::DeviceBuffer(n * in_.bytes);
    dev_out_ = kernels::DeviceBuffer(n * out_.bytes);
    rgb_in_ = kernels::DeviceBuffer(in_rgb);
    rgb_out_ = kernels::DeviceBuffer(out_rgb);
    capacity_ = n;
  }

  void pack(const AVFrame* f, std::uint8_t* dst) const {
    for (int p = 0; p < in_.planes; ++p)
      for (int y = 0; y < in_.rows[p]; ++y)
        std::memcpy(dst + in_.offset[p] + y * in_.pitch[p],
                    f->data[p] + static_cast<std::ptrdiff_t>(y) * f->linesize[p], in_.pitch[p]);
  }

  io::FramePtr unpack(const std::uint8_t* src, std::int64_t pts) const {
    io::FramePtr f = io::make_frame();
    f->format = formats_.out_format;
    f->width = g_.out_width;
    f->height = g_.out_height;
    io::av_check(av_frame_get_buffer(f.get(), 0), "allocating an output frame");
    for (int p = 0; p < out_.planes; ++p)
      for (int y = 0; y < out_.rows[p]; ++y)
        std::memcpy(f->data[p] + static_cast<std::ptrdiff_t>(y) * f->linesize[p],
                    src + out_.offset[p] + y * out_.pitch[p], out_.pitch[p]);
    f->pts = pts;
    return f;
  }

  FrameUpscaler& cpu_fallback() {
    if (!cpu_) {
      log::warn("frames: a frame differs in size or format from the first; such frames take the CPU route");
      cpu_ = make_cpu_frame_upscaler(upscaler_, g_, formats_);
    }
    return *cpu_;
  }

  model::Upscaler& upscaler_;
  UpscaleGeometry g_;
  FrameFormats formats_;
  PackedLayout in_, out_;
  kernels::ColorSpec in_spec_, out_spec_;
  kernels::Dither dither_;
  kernels::CudaStream stream_;
  int capacity_ = 0;
  PinnedBuffer upload_, download_;
  kernels::DeviceBuffer dev_in_, dev_out_, rgb_in_, rgb_out_;
  std::unique_ptr<FrameUpscaler> cpu_;
};

}  // namespace

std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const UpscaleGeometry& geometry,
                                                       const FrameFormats& formats) {
  return std::make_unique<GpuFrameUpscaler>(upscaler, geometry, formats);
}

}  // namespace upscaled::pipeline
