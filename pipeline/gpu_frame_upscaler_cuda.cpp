// GPU frame upscaler: three stages, each on its own thread and its own non-blocking CUDA
// stream on the model's device, passing batches (GpuBatch, gpu_batch_cuda.h) from a pool
// made at start through a SlotChain (slot_chain.h):
//
//   preprocess   pack decoded frames into its pinned buffer and upload them, or make
//                the stream wait for NVDEC frames' decode events; --skip-duplicates
//                thumbnails; to_rgb / fused area pre-resize into float16 RGB; records
//                `preprocessed`, then waits for its own stream and releases the decoded
//                frames (NVDEC surfaces go back to FFmpeg's pool only after the kernels that
//                read them have completed).
//   infer        makes its stream wait for `preprocessed`, queues the model's device path on
//                it (libtorch on this stream) between `infer_started` and `inferred`, and
//                hands the batch on without waiting: the next batch's launches are queued
//                while this one runs, so the GPU does not idle between batches while the
//                host wakes up and starts the next (measured in docs/gpu-pipeline.md).
//                UPSCALED_INFER_SYNC=1 waits for each batch instead, for comparisons.
//   postprocess  waits on the host for `inferred` (its wait for input in --stats) and reads
//                the network's GPU time from the two events (the infer stage's GPU time in
//                --stats); resample / pad / crop, gray, from_rgb; downloads into its
//                pinned buffer, waits for its stream, unpacks into AVFrames, repeats
//                --skip-duplicates pictures, pushes them in order; the batch then returns to
//                the pool (all work on it has completed).
//
// Streams are ordered only by the batch's events (cudaStreamWaitEvent); the host waits only
// on a stage's own stream or a batch's event, never on the device. A batch with a frame whose
// size or format differs from the first (a mid-stream change) takes the CPU route in the
// infer stage (the model is used by that stage only) and passes the other two stages untouched.
#include "core/device_memory_ledger.h"
#include "core/log.h"
#include "io/hw_decode.h"
#include "io/kernel_layout.h"
#include "kernels/cuda_modules.h"
#include "kernels/cuda_raii.h"
#include "kernels/from_rgb.h"
#include "kernels/grayscale.h"
#include "kernels/resize.h"
#include "kernels/to_rgb.h"
#include "pipeline/device_frames_cuda.h"
#include "pipeline/duplicate_skipper.h"
#include "pipeline/frame_upscaler.h"
#include "pipeline/gpu_batch_cuda.h"
#include "pipeline/gpu_frame_memory.h"
#include "pipeline/slot_chain.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

namespace upscaled::pipeline {
namespace {

using kernels::cuda_check;
using kernels::Half;

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "1") == 0;
}

class GpuFrameUpscaler final : public FrameUpscaler {
 public:
  // The caller has made the model's device current (make_gpu_frame_upscaler): the streams,
  // the plans and every buffer belong to that device.
  GpuFrameUpscaler(model::Upscaler& upscaler, const FramePlan& plan, const FrameFormats& f, const FrameOptions& o)
      : upscaler_(upscaler),
        p_(plan),
        formats_(f),
        options_(o),
        device_(upscaler.cuda_device()),
        in_(*io::kernel_layout(f.in_format), plan.src_width, plan.src_height),
        out_(*io::kernel_layout(f.out_format), plan.out_width, plan.out_height),
        in_spec_(io::kernel_color(f.in_color, f.in_chroma)),
        out_spec_(io::kernel_color(f.out_color, AVCHROMA_LOC_LEFT)),
        dither_(kernels::layout_info(out_.layout).bits == 8 ? kernels::Dither::ordered : kernels::Dither::none),
        skipper_(o.skip_threshold, plan.src_width, plan.src_height) {
    // The plans' tap tables only: their intermediates and the canvas are made by add_stages,
    // after the model's reservation has counted them (device_bytes).
    if (p_.pre_resize())
      pre_.emplace(p_.src_width, p_.src_height, p_.net_width, p_.net_height, kernels::ResizeFilter::area);
    if (p_.post_resize())
      post_.emplace(p_.model_width, p_.model_height, p_.picture_width, p_.picture_height, post_resize_filter(p_));
  }

  // Work may still be queued after a stage failed: let it pass before buffers are freed.
  ~GpuFrameUpscaler() override {
    try {
      kernels::CudaDeviceGuard device(device_);
      for (const kernels::CudaStream* s : {&pre_stream_, &infer_stream_, &post_stream_})
        cudaStreamSynchronize(s->get());
    } catch (...) {  // a destructor never throws; the context may be gone
    }
  }

  std::string name() const override { return "cuda"; }
  std::int64_t skipped() const override { return skipper_.skipped() + (cpu_ ? cpu_->skipped() : 0); }
  // Preprocess releases its batch's frames once its stream is done with them.
  int frames_held(int batch) const override { return batch + 1; }

  model::IoDeviceBytes device_bytes() const override {
    GpuFrameBuffers b;
    b.in_picture = in_.bytes;
    b.out_picture = out_.bytes;
    b.thumb = thumb_bytes_;
    b.pool = gpu_batch_pool_size(options_.batch_queue);
    b.pre_resize = pre_ ? pre_->intermediate_bytes(kernels::ResizeRuns::frames) : 0;
    b.post_resize = post_ ? post_->intermediate_bytes(kernels::ResizeRuns::half_planes) : 0;
    return gpu_frame_device_bytes(p_, b);
  }

  void add_stages(StageGroup& group, const UpscaleLinks& links) override {
    links_ = links;
    kernels::CudaDeviceGuard device(device_);
    const model::IoDeviceBytes counted = device_bytes();  // what the model's reservation was told
    if (pre_) pre_->reserve_frame_runs();                 // here rather than in the first frame's preprocess
    if (post_) {
      // One canvas serves every picture: postprocess draws and converts them in its stream's
      // order. Zeroed once (float16 0 is all-zero bits): the pad bars are never written again.
      canvas_ = kernels::DeviceBuffer(rgb_half_bytes(p_.canvas_width, p_.canvas_height));
      cuda_check(cudaMemsetAsync(canvas_.get(), 0, canvas_.bytes(), post_stream_.get()), "clearing the canvas");
    }
    GpuBatchShape shape;
    shape.capacity = links.batch;
    shape.rgb_in_bytes = rgb_half_bytes(p_.net_width, p_.net_height);
    shape.rgb_out_bytes = rgb_half_bytes(p_.model_width, p_.model_height);
    // One set of each stage's own buffers, not one per batch: pinned memory is slow to make
    // (page locking), and while it is made other threads' CUDA calls wait (measured at start-up,
    // docs/gpu-pipeline.md).
    const auto frames = static_cast<std::size_t>(links.batch);
    upload_ = kernels::PinnedBuffer(frames * in_.bytes);
    // UPSCALED_POST_STREAMED=0: each batch's pictures leave together (comparisons).
    const char* streamed = std::getenv("UPSCALED_POST_STREAMED");
    streamed_post_ = !skipper_.enabled() && !(streamed && std::strcmp(streamed, "0") == 0);
    if (streamed_post_)
      for (std::size_t j = 0; j < frames; ++j)
        downloaded_.push_back(std::make_unique<kernels::CudaEvent>(cudaEventDisableTiming));
    dev_in_ = kernels::DeviceBuffer(frames * in_.bytes);
    if (skipper_.enabled()) {
      host_thumbs_ = kernels::PinnedBuffer(frames * thumb_bytes_);
      dev_thumbs_ = kernels::DeviceBuffer(frames * thumb_bytes_);
    }
    dev_out_ = kernels::DeviceBuffer(frames * out_.bytes);
    download_ = kernels::PinnedBuffer(frames * out_.bytes);
    const auto depth = static_cast<std::size_t>(options_.batch_queue);
    std::vector<std::unique_ptr<GpuBatch>> pool;
    for (int i = 0; i < gpu_batch_pool_size(options_.batch_queue); ++i)
      pool.push_back(std::make_unique<GpuBatch>(shape));
    log::debug(log::cat("frames: ", pool.size(), " GPU batches of ", links.batch, " frame(s), ", depth,
                        " per queue between preprocess, infer and postprocess"));
    check_account(counted, frames, pool);
    chain_ = std::make_unique<SlotChain<GpuBatch>>(std::move(pool), depth);
    auto bind = [this] { cuda_check(cudaSetDevice(device_), "cudaSetDevice (upscale stage thread)"); };
    chain_->add_to(group, {"preprocess", [this](GpuBatch& b) { return preprocess(b); }, bind},
                   {{"infer", [this](GpuBatch& b) { infer(b); }, bind,
                     // The last batch's network, so that infer's wall time covers its GPU time.
                     [this] { infer_stream_.synchronize(); }},
                    {"postprocess", [this](GpuBatch& b) { postprocess(b); }, bind, {}}},
                   [out = links.out] { out->close(); });
  }

  std::vector<StageStats> stage_stats(const std::vector<StageTiming>& t, std::size_t first) const override {
    std::vector<StageStats> stats = chain_->waits();
    for (std::size_t i = 0; i < stats.size(); ++i) stats[i].wall_s = t.at(first + i).wall_s;
    stats.front().wait_input_s += links_.in->stats().pop_wait_s;
    stats.back().wait_output_s += links_.out->stats().push_wait_s;
    stats[1].device_s = infer_gpu_s_;             // infer
    stats[2].wait_input_s += post_wait_infer_s_;  // postprocess, waiting for the network
    return stats;
  }

 private:
  // The device buffers now held (the post-resize plan's two-pass intermediate, made on its
  // first run, as its plan estimates it) against what device_bytes() told the model's
  // reservation: more would mean the account missed something, which the log says.
  void check_account(const model::IoDeviceBytes& counted, std::size_t frames,
                     const std::vector<std::unique_ptr<GpuBatch>>& pool) const {
    std::size_t held = dev_in_.bytes() + dev_out_.bytes() + dev_thumbs_.bytes() + canvas_.bytes();
    if (pre_) held += pre_->intermediate_bytes(kernels::ResizeRuns::frames);
    if (post_) held += post_->intermediate_bytes(kernels::ResizeRuns::half_planes);
    for (const auto& b : pool) held += b->rgb_in.bytes() + b->rgb_out.bytes();
    const std::size_t told = counted.fixed + counted.per_frame * frames;
    log::debug(log::cat("frames: ", format_bytes(held), " of device buffers (", format_bytes(told),
                        " counted in the model's reservation)"));
    if (held > told)
      log::warn(log::cat("frames: the frame path's device buffers (", held,
                         " bytes) exceed what the model's reservation counted for them (", told, " bytes)"));
  }

  // Preprocess stage. False at end of input.
  bool preprocess(GpuBatch& b) {
    b.frames = take_batch(*links_.in, links_.batch);
    if (b.frames.empty()) return false;
    const int n = static_cast<int>(b.frames.size());
    b.pts.clear();
    for (const auto& f : b.frames) b.pts.push_back(f->pts);
    b.cpu_outputs.clear();
    b.cpu = false;
    for (const auto& f : b.frames)
      if (!accepts(f.get())) {
        io::download_device_frames(b.frames);
        b.cpu = true;
        return true;
      }
    const cudaStream_t s = pre_stream_.get();
    bool any_host = false;
    for (int i = 0; i < n; ++i) {
      if (io::is_device_frame(b.frames[i].get())) {
        wait_for_decode(b.frames[i].get(), s);
      } else {
        in_.pack(b.frames[i].get(), upload_.get() + i * in_.bytes);
        any_host = true;
      }
    }
    if (any_host)
      cuda_check(cudaMemcpyAsync(dev_in_.get(), upload_.get(), n * in_.bytes, cudaMemcpyHostToDevice, s), "upload");
    b.selection = skipper_.select(n, thumbnails(b));
    const std::vector<int>& run = b.selection.run;
    for (std::size_t j = 0; j < run.size(); ++j) {
      const kernels::FrameView src = input_view(b, run[j]);
      const auto dst = batch_planes(b.rgb_in.as<Half>(), static_cast<int>(j), p_.net_width, p_.net_height, 0, 0,
                                    p_.net_width, p_.net_height);
      if (pre_)
        pre_->run(src, in_spec_, dst, pre_stream_.stream());
      else
        kernels::to_rgb_cuda(src, in_spec_, dst, pre_stream_.stream());
    }
    b.preprocessed.record(s);
    pre_stream_.synchronize();
    b.frames.clear();
    return true;
  }

  // Infer stage.
  void infer(GpuBatch& b) {
    if (b.cpu) {
      b.cpu_outputs = cpu_fallback().process(b.frames);
      b.frames.clear();
      return;
    }
    const cudaStream_t s = infer_stream_.get();
    b.infer_begin = std::chrono::steady_clock::now();
    cuda_check(cudaStreamWaitEvent(s, b.preprocessed.get(), 0), "cudaStreamWaitEvent (preprocessed)");
    b.infer_started.record(s);
    const int k = static_cast<int>(b.selection.run.size());
    if (k > 0)
      upscaler_.upscale_device({b.rgb_in.get(), k, p_.net_height, p_.net_width},
                               {b.rgb_out.get(), k, p_.model_height, p_.model_width}, s);
    b.inferred.record(s);
    if (infer_sync_) infer_stream_.synchronize();
  }

  // Postprocess stage, first: the network's batch done, its GPU time, the first batches logged.
  void wait_for_inference(const GpuBatch& b) {
    const auto start = std::chrono::steady_clock::now();
    b.inferred.synchronize();
    const auto done = std::chrono::steady_clock::now();
    post_wait_infer_s_ += std::chrono::duration<double>(done - start).count();
    const double gpu_s = kernels::CudaEvent::elapsed_ms(b.infer_started, b.inferred) / 1000.0;
    infer_gpu_s_ += gpu_s;
    const int k = static_cast<int>(b.selection.run.size());
    // The first batches carry the network's one-off set-up (cuDNN plans, allocations); the
    // second shows the steady cost next to it. `took`: from the infer stage's start on the
    // batch to its completion, as the old synchronous stage measured it.
    if (k > 0 && batches_inferred_ < 2 && log::enabled(log::Level::debug))
      log::debug(log::cat("infer: batch ", batches_inferred_ + 1, " of ", k, " frames took ",
                          std::chrono::duration<double>(done - b.infer_begin).count(), " s (GPU ", gpu_s, " s)"));
    if (k > 0) ++batches_inferred_;
  }

  // Postprocess stage.
  void postprocess(GpuBatch& b) {
    std::vector<io::FramePtr> pictures;
    if (b.cpu) {
      pictures = std::move(b.cpu_outputs);
    } else {
      const cudaStream_t s = post_stream_.get();
      wait_for_inference(b);
      const auto start = std::chrono::steady_clock::now();
      cuda_check(cudaStreamWaitEvent(s, b.inferred.get(), 0), "cudaStreamWaitEvent (inferred)");
      const int k = static_cast<int>(b.selection.run.size());
      if (streamed_post_) {
        post_streamed(b, k, start);
        return;
      }
      if (k > 0) {
        for (int j = 0; j < k; ++j) to_output(b, j);
        cuda_check(cudaMemcpyAsync(download_.get(), dev_out_.get(), k * out_.bytes, cudaMemcpyDeviceToHost, s),
                   "download");
        post_stream_.synchronize();
      }
      for (int j = 0; j < k; ++j)
        pictures.push_back(
            out_.unpack(download_.get() + j * out_.bytes, formats_.out_format, b.pts[b.selection.run[j]]));
      pictures = skipper_.assemble(b.selection, std::move(pictures), b.pts);
      if (k > 0) note_posted(start);
    }
    for (auto& f : pictures)
      if (!links_.out->push(std::move(f))) return;  // cancelled
  }

  // Postprocess without --skip-duplicates (each output is its own frame's picture, in
  // order): every picture is converted and downloaded on the stream with an event after it,
  // then each leaves as soon as its own event completes, while the stream still works on the
  // next ones. The first picture of a batch reaches the encoder after one conversion and
  // download instead of the whole batch's (the start-up's last step; docs/gpu-pipeline.md).
  void post_streamed(GpuBatch& b, int k, std::chrono::steady_clock::time_point start) {
    const cudaStream_t s = post_stream_.get();
    for (int j = 0; j < k; ++j) {
      to_output(b, j);
      cuda_check(cudaMemcpyAsync(download_.get() + j * out_.bytes, dev_out_.as<std::uint8_t>() + j * out_.bytes,
                                 out_.bytes, cudaMemcpyDeviceToHost, s),
                 "download");
      downloaded_[static_cast<std::size_t>(j)]->record(s);
    }
    for (int j = 0; j < k; ++j) {
      downloaded_[static_cast<std::size_t>(j)]->synchronize();
      io::FramePtr picture =
          out_.unpack(download_.get() + j * out_.bytes, formats_.out_format, b.pts[b.selection.run[j]]);
      if (!links_.out->push(std::move(picture))) {
        post_stream_.synchronize();  // the batch goes back to the pool only once the stream is done with it
        return;
      }
    }
    if (k > 0) note_posted(start);
  }

  // The first batch with pictures: how long its postprocess took, for debug timelines.
  void note_posted(std::chrono::steady_clock::time_point start) {
    if (batches_posted_++ == 0)
      log::debug(log::cat("postprocess: first batch converted, downloaded and unpacked in ",
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s"));
  }

  // With --skip-duplicates: every frame's luma thumbnail, made on the preprocess stream and
  // copied back (a few KiB; one wait on that stream per batch). Otherwise a provider that is
  // never called.
  std::function<kernels::PlaneView<const float>(int)> thumbnails(GpuBatch& b) {
    if (!skipper_.enabled()) return {};
    const int n = static_cast<int>(b.frames.size());
    const int tw = skipper_.thumb_width(), th = skipper_.thumb_height();
    const auto pitch = static_cast<std::ptrdiff_t>(tw * sizeof(float));
    for (int i = 0; i < n; ++i)
      kernels::luma_thumbnail_cuda(
          input_view(b, i), in_spec_,
          {reinterpret_cast<float*>(dev_thumbs_.as<std::uint8_t>() + i * thumb_bytes_), tw, th, pitch},
          pre_stream_.stream());
    cuda_check(cudaMemcpyAsync(host_thumbs_.get(), dev_thumbs_.get(), n * thumb_bytes_, cudaMemcpyDeviceToHost,
                               pre_stream_.get()),
               "thumbnail download");
    pre_stream_.synchronize();
    const std::uint8_t* host = host_thumbs_.get();
    return [this, host, tw, th, pitch](int i) -> kernels::PlaneView<const float> {
      return {reinterpret_cast<const float*>(host + i * thumb_bytes_), tw, th, pitch};
    };
  }

  // The first frame's size, and the decoded format or an NVDEC frame the kernels read.
  bool accepts(const AVFrame* f) const {
    if (f->width != p_.src_width || f->height != p_.src_height) return false;
    return io::is_device_frame(f) ? device_frame_view(f).has_value() : f->format == formats_.in_format;
  }

  // Frame i's planes on the device: FFmpeg's own for NVDEC frames, else the uploaded copy.
  kernels::FrameView input_view(const GpuBatch& b, int i) const {
    const AVFrame* f = b.frames[static_cast<std::size_t>(i)].get();
    if (io::is_device_frame(f)) return *device_frame_view(f);
    return in_.view(dev_in_.as<const std::uint8_t>() + i * in_.bytes);
  }

  // Model output j -> (resample onto the canvas) -> window -> (gray) -> encoder picture j.
  void to_output(GpuBatch& b, int j) {
    const auto ks = post_stream_.stream();
    Half* rgb_out = b.rgb_out.as<Half>();
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

  BatchFrameUpscaler& cpu_fallback() {
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
  DuplicateSkipper skipper_;  // select(): preprocess; assemble(): postprocess
  kernels::CudaStream pre_stream_, infer_stream_, post_stream_;
  const bool infer_sync_ = env_flag("UPSCALED_INFER_SYNC");
  int batches_inferred_ = 0;                                     // postprocess only
  int batches_posted_ = 0;                                       // postprocess only
  bool streamed_post_ = false;                                   // post_streamed(): set by add_stages
  std::vector<std::unique_ptr<kernels::CudaEvent>> downloaded_;  // post_streamed(): one per frame of a batch
  double infer_gpu_s_ = 0;                                       // postprocess only; read after the run
  double post_wait_infer_s_ = 0;                                 // postprocess only; read after the run
  std::optional<kernels::ResizeCuda> pre_;                       // preprocess only
  std::optional<kernels::ResizeCuda> post_;                      // postprocess only
  kernels::DeviceBuffer canvas_;                                 // postprocess only
  // Each used and waited for within one batch by one stage (add_stages makes them).
  kernels::PinnedBuffer upload_, host_thumbs_;  // preprocess
  kernels::DeviceBuffer dev_in_, dev_thumbs_;   // preprocess
  kernels::DeviceBuffer dev_out_;               // postprocess
  kernels::PinnedBuffer download_;              // postprocess
  // One frame's thumbnail (float), 0 without --skip-duplicates.
  const std::size_t thumb_bytes_ =
      skipper_.enabled() ? static_cast<std::size_t>(skipper_.thumb_width()) * skipper_.thumb_height() * sizeof(float)
                         : 0;
  UpscaleLinks links_;
  std::unique_ptr<SlotChain<GpuBatch>> chain_;  // after the streams: destroyed before them
  std::unique_ptr<BatchFrameUpscaler> cpu_;     // infer only
};

}  // namespace

void load_gpu_frame_kernels_on(int device) {
  static std::mutex mutex;
  static std::set<int> loaded;  // devices whose context has every kernel loaded
  const std::lock_guard lock(mutex);
  if (loaded.count(device)) return;
  const auto start = std::chrono::steady_clock::now();
  kernels::CudaDeviceGuard guard(device);
  const kernels::ModuleLoadResult r = kernels::load_cuda_kernels();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.error.empty())
    log::debug(log::cat("frames: kernels load at their first launch (", r.error, "; ", r.functions, " loaded)"));
  else
    log::debug(log::cat("frames: ", r.functions, " kernels of ", r.modules, " modules loaded in ", s, " s"));
  if (r.error.empty()) loaded.insert(device);
}

std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                       const FrameFormats& formats, const FrameOptions& options) {
  // Construction allocates (streams, the resize plans' tap tables): on the model's device,
  // whichever thread builds the job; the calling thread's own device is restored after.
  kernels::CudaDeviceGuard device(upscaler.cuda_device());
  return std::make_unique<GpuFrameUpscaler>(upscaler, plan, formats, options);
}

}  // namespace upscaled::pipeline
