// The upscale part of a job, behind one interface with a CPU and a GPU implementation.
//
// Contract: add_stages() (main thread, before the StageGroup runs) adds the upscaler's
// stages to the job's group: they pop decoded frames from `links.in` in batches of up to
// `links.batch`, push frames in the encoder's format and size, each with its source pts and
// in input order, to `links.out`, and close `links.out` when the last stage exits. The CPU
// implementation is one stage, "upscale", that calls process() (a BatchFrameUpscaler); the
// GPU one is three stages, "preprocess", "infer" and "postprocess", each with its own thread
// and CUDA stream (docs/gpu-pipeline.md). Both follow one FramePlan (frame_geometry.h):
// optional area pre-resize before the network, resampling / padding / cropping after it,
// optional --grayscale before the conversion to the encoder's format, and --skip-duplicates
// (duplicate_skipper.h), so that their outputs differ only by float16 rounding.
// make_frame_upscaler() is the one place that picks the implementation: the GPU one when
// this build has CUDA, the model runs on CUDA and the kernels cover the input and output
// formats; otherwise the CPU one. The choice and its reason are logged once.
#pragma once

#include "io/av_handles.h"
#include "io/rgb_converter.h"
#include "kernels/resize.h"
#include "model/model_loader.h"
#include "model/upscaler.h"
#include "pipeline/bounded_queue.h"
#include "pipeline/frame_geometry.h"
#include "pipeline/stage_group.h"

#include <cstdint>

#include <memory>
#include <string>
#include <vector>

namespace upscaled::pipeline {

struct FrameFormats {
  AVPixelFormat in_format = AV_PIX_FMT_NONE;
  io::ColorInfo in_color;
  AVChromaLocation in_chroma = AVCHROMA_LOC_UNSPECIFIED;
  AVPixelFormat out_format = AV_PIX_FMT_NONE;
  io::ColorInfo out_color;
};

// Where the upscale stages meet the rest of the job.
struct UpscaleLinks {
  BoundedQueue<io::FramePtr>* in = nullptr;   // decoded frames; closed at end of input
  BoundedQueue<io::FramePtr>* out = nullptr;  // to the encoder; the upscaler closes it
  int batch = 1;                              // frames per network call, at most
};

class FrameUpscaler {
 public:
  virtual ~FrameUpscaler() = default;
  virtual std::string name() const = 0;  // "cpu" or "cuda", for logs and --stats
  // Frames so far that repeated the previous picture instead of running (--skip-duplicates);
  // read after the stages finished.
  virtual std::int64_t skipped() const = 0;
  // Decoded frames the stages may hold at once besides those in links.in (NVDEC surfaces).
  virtual int frames_held(int batch) const = 0;
  // Device memory add_stages() will allocate (per frame of a batch, and once), for the model's
  // reservation: call Upscaler::prepare() with it before add_stages(). None on the CPU path.
  virtual model::IoDeviceBytes device_bytes() const { return {}; }
  // Call once, before group.run(); `links` must outlive the run.
  virtual void add_stages(StageGroup& group, const UpscaleLinks& links) = 0;
  // After group.run(): one entry per stage added, in order. `timings` are the group's (this
  // upscaler's stages start at `first`); the waits on links.in and links.out are included.
  virtual std::vector<StageStats> stage_stats(const std::vector<StageTiming>& timings, std::size_t first) const = 0;
};

// An upscaler that works one batch at a time on the calling thread: process() takes a batch
// of decoded frames and returns the same number of frames in the encoder's format and size,
// each with its source pts. As a FrameUpscaler it is the one stage "upscale".
class BatchFrameUpscaler : public FrameUpscaler {
 public:
  virtual std::vector<io::FramePtr> process(std::vector<io::FramePtr>& frames) = 0;
  int frames_held(int batch) const override { return batch + 1; }
  void add_stages(StageGroup& group, const UpscaleLinks& links) override;
  std::vector<StageStats> stage_stats(const std::vector<StageTiming>& timings, std::size_t first) const override;

 private:
  UpscaleLinks links_;
};

struct FrameOptions {
  bool grayscale = false;       // --grayscale: R = G = B = luma (source matrix) before encoding
  double skip_threshold = 0;    // --skip-duplicates: mean absolute luma difference; 0 = off
  std::string device = "auto";  // --device as given: "cpu" keeps the frames on the CPU
  int batch_queue = 1;          // GPU path: batches per queue between its stages (--batch-queue)
};

// Pops `batch` frames, waiting for each: fewer only when the input ends (or on cancel),
// empty after the last. Full batches keep the network at one input shape for the whole job
// but its last batch. Each new shape costs the GPU executor a first run with its own set-up
// (on an H200 a 1-frame 640x360 batch took 66-82 ms the first time, 15-17 ms after;
// docs/gpu-pipeline.md), which taking whatever was queued paid for sizes 1, 2 and 3 at the
// start of every job while the decoder filled its queue.
std::vector<io::FramePtr> take_batch(BoundedQueue<io::FramePtr>& in, int batch);

std::unique_ptr<BatchFrameUpscaler> make_cpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                            const FrameFormats& formats, const FrameOptions& options);
// Defined in gpu_frame_upscaler_cuda.cpp (CUDA builds only). Allocates on the model's device
// (Upscaler::cuda_device()).
std::unique_ptr<FrameUpscaler> make_gpu_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                       const FrameFormats& formats, const FrameOptions& options);

// Batches of device buffers the staged GPU path holds at once: its pool, for three stages
// (preprocess, infer, postprocess) joined by queues of batch_queue batches. The model's
// memory reservation counts them (FrameUpscaler::device_bytes).
int gpu_batch_pool_size(int batch_queue);

std::unique_ptr<FrameUpscaler> make_frame_upscaler(model::Upscaler& upscaler, const FramePlan& plan,
                                                   const FrameFormats& formats, const FrameOptions& options);
// make_frame_upscaler()'s choice, known before the model's prepare(): true when it will make
// the GPU implementation (NVDEC's decoder starts before the frame stages are made).
bool frames_on_gpu(const model::Upscaler& upscaler, const FrameFormats& formats, const FrameOptions& options);
// The same choice foreseen before the model is loaded, so that NVDEC's decoder can start as
// soon as the input is open: the CUDA device make_frame_upscaler() will put the frames on
// for a model loaded from `request`, or -1 for the CPU implementation. The encoder's format
// is not known yet and is taken to have a GPU conversion (every format the encoders pick for
// an input NVDEC decodes has one). Where the final choice is the CPU implementation after
// all, it copies NVDEC's frames to the host itself.
int planned_frames_device(const model::ModelRequest& request, AVPixelFormat in_format, const FrameOptions& options);
// For a job whose frames_on_gpu() is true: the GPU frame path's kernels loaded into the
// model's device now (kernels/cuda_modules.h), not at their first launch inside the running
// pipeline; once per device and process (a context keeps its loaded kernels). Synchronous,
// host only: meant for while the GPU is idle (the job calls it while the GPU warm-up runs).
// UPSCALED_LOAD_KERNELS=0 leaves the loads to the first launches. Nothing without CUDA.
void load_gpu_frame_kernels(const model::Upscaler& upscaler);
// The same for CUDA device `device` before any model is loaded (the CLI's early GPU warm-up
// calls it on its thread, model/model_loader.h). Nothing for device < 0 or without CUDA.
void preload_gpu_frame_kernels(int device);
// Defined in gpu_frame_upscaler_cuda.cpp (CUDA builds only).
void load_gpu_frame_kernels_on(int device);

// Post-resize filter: area when the picture is no larger than the model output on both axes
// (exact coverage, no ringing), else Lanczos-3.
kernels::ResizeFilter post_resize_filter(const FramePlan& plan);

}  // namespace upscaled::pipeline
