// GPU frame upscaler: decoded frames are uploaded once from pinned host memory, converted to
// float16 RGB by the project's kernels (area pre-resize fused into the conversion),
// upscaled by the model's device path, resampled / padded / cropped, made gray if asked and
// converted to the encoder's format on the device; only the encoder-ready picture comes back.
//
// Everything runs on this stage's own non-blocking stream on the model's device (set on the
// calling thread for each batch); the waits are on that stream (never the device): one per
// batch before the host copies the results into AVFrames, and with --skip-duplicates one
// more for the tiny luma thumbnails that decide which frames run. Buffers grow to the
// largest batch seen and are reused (no cudaMalloc per frame); resize plans are made once.
// NVDEC frames (AV_PIX_FMT_CUDA) skip the pack and upload: the stream waits for their
// decode event and the kernels read FFmpeg's device planes (pipeline/device_frames_cuda.h).
#include "core/log.h"
#include "io/av_error.h"
#include "io/hw_decode.h"
#include "io/kernel_layout.h"
#include "kernels/cuda_raii.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"
#include "pipeline/device_frames_cuda.h"
#include "pipeline/duplicate_skipper.h"
#include "pipeline/frame_upscaler.h"

#include <cstring>
#include <optional>

namespace upscaled::pipeline {
namespace {

using kernels::cuda_check;
using kernels::Half;
using kernels::PinnedBuffer;

// Planes of picture i of a dense n x 3 x height x width batch, viewed at (x, y) as w x h.
kernels::RgbPlanes<Half> batch_planes(Half* base, int i, int width, int height, int x, int y, int w, int h) {
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  const std::size_t at = static_cast<std::size_t>(y) * width + x;
  const auto pitch = static_cast<std::ptrdiff_t>(width * sizeof(Half));
  return {{base + (i * 3 + 0) * plane + at, w, h, pitch},
          {base + (i * 3 + 1) * plane + at, w, h, pitch},
          {base + (i * 3 + 2) * plane + at, w, h, pitch}};
}

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
  // The caller has made options.device current (make_gpu_frame_upscaler): the stream, the
  // plans and every buffer belong to that device.
  GpuFrameUpscaler(model::Upscaler& upscaler, const FramePlan& plan, const FrameFormats& f, const FrameOptions& o)
      : upscaler_(upscaler),
        p_(plan),
        formats_(f),
        options_(o),
        device_(cuda_device_index(o.device)),
        in_(*io::kernel_layout(f.in_format), plan.src_width, plan.src_height),
        out_(*io::kernel_layout(f.out_format), plan.out_width, plan.out_height),
        in_spec_(io::kernel_color(f.in_color, f.in_chroma)),
        out_spec_(io::kernel_color(f.out_color, AVCHROMA_LOC_LEFT)),
        dither_(kernels::layout_info(out_.layout).bits == 8 ? kernels::Dither::ordered : kernels::Dither::none),
        skipper_(o.skip_threshold, plan.src_width, plan.src_height) {
    if (p_.pre_resize())
      pre_.emplace(p_.src_width, p_.src_height, p_.net_width, p_.net_height, kernels::ResizeFilter::area);
    if (p_.post_resize()) {
      post_.emplace(p_.model_width, p_.model_height, p_.picture_width, p_.picture_height, post_resize_filter(p_));
      // One canvas serves every picture of a batch: they are drawn and converted in stream
      // order. Zeroed once (float16 0 is all-zero bits): the pad bars are never written again.
      canvas_ = kernels::DeviceBuffer(std::size_t{3} * p_.canvas_width * p_.canvas_height * sizeof(Half));
      cuda_check(cudaMemsetAsync(canvas_.get(), 0, canvas_.bytes(), stream_.get()), "clearing the canvas");
    }
    if (skipper_.enabled()) {
      thumb_bytes_ = static_cast<std::size_t>(skipper_.thumb_width()) * skipper_.thumb_height() * sizeof(float);
    }
  }

  std::string name() const override { return "cuda"; }
  std::int64_t skipped() const override { return skipper_.skipped() + (cpu_ ? cpu_->skipped() : 0); }

  std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) override {
    // A frame that differs from the first (a mid-stream size or format change) takes the
    // CPU route, which rescales it to the first frame's size.
    for (auto& f : frames)
      if (!accepts(f.get())) {
        io::download_device_frames(frames);
        return cpu_fallback().process(frames);
      }
    // This runs on the upscale stage's thread, whose current device is not ours by default.
    kernels::CudaDeviceGuard device(device_);
    const int n = static_cast<int>(frames.size());
    reserve(n);
    const cudaStream_t s = stream_.get();
    const auto ks = stream_.stream();

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
    const std::vector<int>& run = skipper_.select(n, thumbnails(frames));
    const int k = static_cast<int>(run.size());
    if (k > 0) {
      auto* rgb_in = rgb_in_.as<Half>();
      auto* rgb_out = rgb_out_.as<Half>();
      for (int j = 0; j < k; ++j) {
        const kernels::FrameView src = input_view(frames, run[j]);
        const auto dst = batch_planes(rgb_in, j, p_.net_width, p_.net_height, 0, 0, p_.net_width, p_.net_height);
        if (pre_)
          pre_->run(src, in_spec_, dst, ks);
        else
          kernels::to_rgb_cuda(src, in_spec_, dst, ks);
      }
      upscaler_.upscale_device({rgb_in, k, p_.net_height, p_.net_width}, {rgb_out, k, p_.model_height, p_.model_width},
                               s);
      for (int j = 0; j < k; ++j) to_output(rgb_out, j);
      cuda_check(cudaMemcpyAsync(download_.get(), dev_out_.get(), k * out_.bytes, cudaMemcpyDeviceToHost, s),
                 "download");
      stream_.synchronize();
    }

    std::vector<io::FramePtr> pictures;
    pictures.reserve(k);
    for (int j = 0; j < k; ++j) pictures.push_back(unpack(download_.get() + j * out_.bytes, frames[run[j]]->pts));
    return skipper_.assemble(std::move(pictures), frames);
  }

 private:
  // With --skip-duplicates: every frame's luma thumbnail, made on the device and copied back
  // (a few KiB; the one extra wait per batch). Otherwise a provider that is never called.
  std::function<kernels::PlaneView<const float>(int)> thumbnails(const std::vector<io::FramePtr>& frames) {
    if (!skipper_.enabled()) return {};
    const int n = static_cast<int>(frames.size());
    const int tw = skipper_.thumb_width(), th = skipper_.thumb_height();
    const auto pitch = static_cast<std::ptrdiff_t>(tw * sizeof(float));
    for (int i = 0; i < n; ++i)
      kernels::luma_thumbnail_cuda(
          input_view(frames, i), in_spec_,
          {reinterpret_cast<float*>(dev_thumbs_.as<std::uint8_t>() + i * thumb_bytes_), tw, th, pitch},
          stream_.stream());
    cuda_check(
        cudaMemcpyAsync(host_thumbs_.get(), dev_thumbs_.get(), n * thumb_bytes_, cudaMemcpyDeviceToHost, stream_.get()),
        "thumbnail download");
    stream_.synchronize();
    return [this, tw, th, pitch](int i) -> kernels::PlaneView<const float> {
      return {reinterpret_cast<const float*>(host_thumbs_.get() + i * thumb_bytes_), tw, th, pitch};
    };
  }

  // The first frame's size, and the decoded format or an NVDEC frame the kernels read.
  bool accepts(const AVFrame* f) const {
    if (f->width != p_.src_width || f->height != p_.src_height) return false;
    return io::is_device_frame(f) ? device_frame_view(f).has_value() : f->format == formats_.in_format;
  }

  // Frame i's planes on the device: FFmpeg's own for NVDEC frames, else the uploaded copy.
  kernels::FrameView input_view(const std::vector<io::FramePtr>& frames, int i) const {
    const AVFrame* f = frames[static_cast<std::size_t>(i)].get();
    if (io::is_device_frame(f)) return *device_frame_view(f);
    return in_.view(dev_in_.as<const std::uint8_t>() + i * in_.bytes);
  }

  // Model output j -> (resample onto the canvas) -> window -> (gray) -> encoder picture j.
  void to_output(Half* rgb_out, int j) {
    const auto ks = stream_.stream();
    kernels::RgbPlanes<Half> window;
    if (post_) {
      const auto model =
          batch_planes(rgb_out, j, p_.model_width, p_.model_height, 0, 0, p_.model_width, p_.model_height);
      post_->run(model.as_const(),
                 batch_planes(canvas_.as<Half>(), 0, p_.canvas_width, p_.canvas_height, p_.picture_x, p_.picture_y,
                              p_.picture_width, p_.picture_height),
                 ks);
      window = batch_planes(canvas_.as<Half>(), 0, p_.canvas_width, p_.canvas_height, p_.window_x, p_.window_y,
                            p_.out_width, p_.out_height);
    } else {
      // The window may drop an odd last row/column (4:2:0) or be a --fit crop of the output.
      window = batch_planes(rgb_out, j, p_.model_width, p_.model_height, p_.window_x, p_.window_y, p_.out_width,
                            p_.out_height);
    }
    if (options_.grayscale) kernels::make_gray_cuda(window, in_spec_.matrix, ks);
    kernels::from_rgb_cuda(window.as_const(), out_spec_, out_.view(dev_out_.as<std::uint8_t>() + j * out_.bytes),
                           dither_, ks);
  }

  void reserve(int n) {
    if (n <= capacity_) return;
    const std::size_t in_rgb = static_cast<std::size_t>(n) * 3 * p_.net_width * p_.net_height * sizeof(Half);
    const std::size_t out_rgb = static_cast<std::size_t>(n) * 3 * p_.model_width * p_.model_height * sizeof(Half);
    // A batch that threw may have left work queued on the old buffers: let it pass first.
    stream_.synchronize();
    upload_ = PinnedBuffer(n * in_.bytes);
    download_ = PinnedBuffer(n * out_.bytes);
    dev_in_ = kernels::DeviceBuffer(n * in_.bytes);
    dev_out_ = kernels::DeviceBuffer(n * out_.bytes);
    rgb_in_ = kernels::DeviceBuffer(in_rgb);
    rgb_out_ = kernels::DeviceBuffer(out_rgb);
    if (thumb_bytes_) {
      dev_thumbs_ = kernels::DeviceBuffer(n * thumb_bytes_);
      host_thumbs_ = PinnedBuffer(n * thumb_bytes_);
    }
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
    f->width = p_.out_width;
    f->height = p_.out_height;
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
      cpu_ = make_cpu_frame_upscaler(upscaler_, p_, formats_, options_);
    }
    return *cpu_;
  }

  model::Upscaler& upscaler_;
  FramePlan p_;
  FrameFormats formats_;
  FrameOptions options_;
  int device_;
  PackedLayout in_, out_;
  kernels::ColorSpec in_spec_, out_spec_;
  kernels::Dither dither_;
  DuplicateSkipper skipper_;
  kernels::CudaStream stream_;
  std::optional<kernels::ResizeCuda> pre_, post_;
  kernels::DeviceBuffer canvas_;
  std::size_t thumb_bytes_ = 0;
  int capacity_ = 0;
  PinnedBuffer upload_, download_, host_thumbs_;
  kernels::DeviceBuffer dev_in_, dev_out_, rgb_in_, rgb_out_, dev_thumbs_;
  std::unique_ptr<FrameUpscaler> cpu_;
};

}  // namespace

std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                       const FrameFormats& formats, const FrameOptions& options) {
  // Construction allocates (stream, plans, canvas): on the model's device, whichever thread
  // builds the job; the calling thread's own device is restored after.
  kernels::CudaDeviceGuard device(cuda_device_index(options.device));
  return std::make_unique<GpuFrameUpscaler>(upscaler, plan, formats, options);
}

}  // namespace upscaled::pipeline
