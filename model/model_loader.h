// Turns a model name or path into a ready Upscaler.
//
// Names: "lanczos", "bicubic", "bilinear" (classic resamplers, any scale); a registry name
// such as "esrgan-slim" (model/registry.h; looked up in models_dir); or a path to a model
// file or folder (TF.js model.json, .pth, .safetensors, TorchScript .pt). Synchronous;
// loading a network may take seconds. Throws upscaled::Error(ErrorCode::model) with a
// one-line message naming the file and the problem.
#pragma once

#include "model/upscaler.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace upscaled::model {

struct ModelRequest {
  std::string name = "default";      // "default" = the registry's default model
  int scale = 0;                     // wanted scale; 0 = the model's own (classic: 2)
  std::string device = "auto";       // auto | cpu | cuda | cuda:N
  std::string precision = "auto";    // auto | fp32 | fp16 | bf16 (CPU is always fp32)
  int tile = 0;                      // 0 = whole frame (tile only when needed)
  int tile_overlap = 16;             // input pixels shared by neighbouring tiles
  int batch = 0;                     // 0 = model's preference
  std::filesystem::path models_dir;  // empty = default_models_dir()
  // Device memory this process may plan for on the model's GPU (0 = 90% of what is free
  // when the process first uses it); shared by every job of the process (core/device_memory_ledger.h).
  std::size_t gpu_memory_limit = 0;
  // How long a job waits for other jobs on the same GPU to release memory before failing
  // with a (transient) device error.
  double gpu_memory_wait_seconds = 0;
  // Jobs expected to share the GPU (the service's jobs_per_gpu): a job asks for at most its
  // share of the capacity, so one job's preference does not starve the others.
  int gpu_jobs = 1;
  // A file where measured device-memory costs are kept between processes
  // (core/memory_cost_cache.h): a later run of the same network on the same GPU and software
  // skips the measurement. Empty = measure once per process.
  std::filesystem::path memory_cost_cache;
};

// $UPSCALED_MODELS_DIR, else $XDG_CACHE_HOME/upscaled/models, else ~/.cache/upscaled/models.
std::filesystem::path default_models_dir();

bool is_classic_model(const std::string& name);

std::unique_ptr<Upscaler> load_upscaler(const ModelRequest& request);

// Frames per network call on a GPU when the request names none (ModelRequest::batch = 0):
// also the most a GPU model may pick, known before it is loaded (NVDEC's surfaces).
inline constexpr int kDefaultGpuBatch = 4;

// The CUDA device a network loaded for `request` will run on, known before loading it
// (the same device rule as the load); -1 for classic resamplers, device "cpu", a build or
// machine without CUDA for libtorch, or a device string the load will reject.
int planned_cuda_device(const ModelRequest& request);

// Whether a network loaded for `request` is expected to run every convolution in the cuDNN
// executor (a TF.js model, by path or registry entry, at the CUDA default float16): a guess
// made before loading, used only to skip set-up the run will not need. Never throws.
bool executor_expected(const ModelRequest& request);

// The GPU's one-off set-up for a network (libtorch's CUDA state, cuDNN's libraries, the
// executor's kernels: model/network_loader.h) on a thread of its own, started before
// load_upscaler() so that it overlaps reading the model instead of delaying the first run;
// `file` starts it before its startup check, beside the driver's set-up (app/cmd_file.cpp).
// Nothing happens for classic resamplers, device "cpu", a machine or build without CUDA,
// or UPSCALED_GPU_WARMUP=0. `then`, when given, runs last on the same thread with the
// warmed device's index (e.g. loading the frame path's kernels there). wait() (and the
// destructor) join the thread; call it before measuring device memory, so that the
// warm-up's allocations are not counted. A failure inside is logged at debug level and
// otherwise ignored: the real run reports its own. wait() is for one thread at a time.
class DeviceWarmUp {
 public:
  explicit DeviceWarmUp(const ModelRequest& request, std::function<void(int device)> then = {});
  ~DeviceWarmUp() { wait(); }
  DeviceWarmUp(const DeviceWarmUp&) = delete;
  DeviceWarmUp& operator=(const DeviceWarmUp&) = delete;
  void wait() {
    if (thread_.joinable()) thread_.join();
  }
  bool started() const { return started_; }
  // The request it was started for: a job reuses it only for the same device and model.
  const ModelRequest& request() const { return request_; }

 private:
  ModelRequest request_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace upscaled::model
