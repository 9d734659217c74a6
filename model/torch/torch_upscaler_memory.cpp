// TorchUpscaler's device-memory planning (contract in torch_upscaler.h): measure the
// network's memory per input pixel once, reserve from the process's ledger, fit tile and
// batch inside the reservation.
#include "core/error.h"
#include "core/log.h"
#include "core/memory_cost_cache.h"
#include "model/torch/torch_upscaler.h"
#include "model/torch_info.h"

#ifdef UPSCALED_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

namespace upscaled::model::torchnet {
namespace {

#ifdef UPSCALED_TORCH_CUDA
std::size_t free_device_memory(int device) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  std::size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  // Memory this process's caching allocator holds but does not use is free for our jobs.
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  const auto cached = stats.reserved_bytes[0].current - stats.allocated_bytes[0].current;
  return free + static_cast<std::size_t>(std::max<std::int64_t>(0, cached));
}

// What a measured cost depends on besides the network and its precision: the GPU, driver,
// CUDA, libtorch and cuDNN, and this very program (its file's size and time: a rebuild may
// change how the network allocates).
std::string software_key(int device) {
  cudaDeviceProp prop{};
  int driver = 0, runtime = 0;
  cudaGetDeviceProperties(&prop, device);
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto size = ec ? 0 : std::filesystem::file_size(exe, ec);
  const auto time = ec ? 0 : std::filesystem::last_write_time(exe, ec).time_since_epoch().count();
  const TorchInfo torch = query_torch_info();
  return log::cat("gpu=", prop.name, ";memory=", prop.totalGlobalMem, ";driver=", driver, ";runtime=", runtime,
                  ";torch=", torch.version, ";cudnn=", torch.cudnn_version, ";exe=", exe.string(), ":", size, ":",
                  time);
}

DeviceMemoryLedger& ledger() {
  return DeviceMemoryLedger::process(free_device_memory);
}

// One measurement per model, precision and device for the whole process: later jobs with
// the same model reuse it (and do not measure while another job's allocations move).
std::mutex measure_mutex;
std::map<std::string, MemoryCost> measured_costs;
#endif

}  // namespace

PlanRequest TorchUpscaler::plan_request(int width, int height) const {
  PlanRequest r;
  r.width = width;
  r.height = height;
  r.max_batch = max_batch_;
  r.user_tile = user_tile_ ? tile_ : 0;
  r.user_batch = user_batch_ ? batch_ : 0;
  r.overlap = overlap_;
  r.min_tile = kMinTile;
  if (io_) {  // the caller's own account (the staged GPU pipeline's)
    r.io_bytes_per_frame = static_cast<double>(io_->per_frame);
    r.io_fixed_bytes = static_cast<double>(io_->fixed);
  } else {  // one set of packed pictures (at most 3 bytes per pixel) and float16 RGB in and out
    const double s2 = static_cast<double>(network_->scale()) * network_->scale();
    r.io_bytes_per_frame = 9.0 * (1 + s2) * width * height;
  }
  return r;
}

#ifdef UPSCALED_TORCH_CUDA
MemoryCost TorchUpscaler::measure_memory_cost() {
  namespace alloc = c10::cuda::CUDACachingAllocator;
  const auto index = static_cast<c10::DeviceIndex>(cuda_device());
  const std::string key = name_ + "|" + network_->describe() + "|" + device_.str() + "|" + std::to_string(int(dtype_));
  std::lock_guard lock(measure_mutex);
  if (auto it = measured_costs.find(key); it != measured_costs.end()) return it->second;
  // The device, driver and program queries only when there is a file to key.
  const std::string file_key = memory_cost_file_.empty() ? std::string() : key + "|" + software_key(cuda_device());
  if (!memory_cost_file_.empty()) {
    if (auto cached = load_memory_cost(memory_cost_file_, file_key)) {
      log::debug(log::cat("model '", name_, "': device memory ", static_cast<long long>(cached->per_pixel),
                          " bytes per input pixel + ", format_bytes(static_cast<std::size_t>(cached->fixed)),
                          " per call (measured by an earlier run: ", memory_cost_file_.string(), ")"));
      measured_costs.emplace(key, *cached);
      cost_from_file_ = true;
      return *cached;
    }
  }
  c10::cuda::CUDAGuard guard(index);
  c10::InferenceMode inference;
  const auto start = std::chrono::steady_clock::now();
  std::string steps;  // seconds per run, for the debug line
  auto peak_for = [&](int side) {
    const auto run_start = std::chrono::steady_clock::now();
    c10::cuda::getCurrentCUDAStream(index).synchronize();
    alloc::resetPeakStats(index);
    const std::int64_t before = alloc::getDeviceStats(index).allocated_bytes[0].current;
    {
      const torch::Tensor y =
          infer(torch::zeros({1, 3, side, side}, torch::TensorOptions().device(device_).dtype(dtype_)));
      c10::cuda::getCurrentCUDAStream(index).synchronize();
    }
    steps += log::cat(steps.empty() ? "" : ", ", side, "x", side, " ",
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count(), " s");
    return static_cast<double>(alloc::getDeviceStats(index).allocated_bytes[0].peak - before);
  };
  peak_for(64);  // cuDNN autotuning and lazy state, not counted
  const double small = peak_for(96), large = peak_for(192);
  MemoryCost cost;
  // Output (3 x s^2 values) and input of the dtype are a floor no measurement may go under.
  const double element = dtype_ == torch::kFloat32 ? 4.0 : 2.0;
  const double floor_per_pixel = element * 3.0 * (1.0 + network_->scale() * network_->scale());
  cost.per_pixel = std::max(floor_per_pixel, (large - small) / (192.0 * 192.0 - 96.0 * 96.0));
  cost.fixed = std::max(0.0, small - cost.per_pixel * 96.0 * 96.0);
  // Margins: allocator rounding, and cuDNN picking algorithms with larger workspaces for
  // larger inputs than the ones measured.
  cost.per_pixel *= 1.25;
  cost.fixed = cost.fixed * 1.25 + 64.0 * 1024 * 1024;
  log::debug(log::cat(
      "model '", name_, "': device memory ", static_cast<long long>(cost.per_pixel), " bytes per input pixel + ",
      format_bytes(static_cast<std::size_t>(cost.fixed)), " per call (measured in ",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s: ", steps, ")"));
  measured_costs.emplace(key, cost);
  if (!memory_cost_file_.empty() && !store_memory_cost(memory_cost_file_, file_key, cost))
    log::debug(log::cat("model '", name_, "': cannot write the memory-cost cache ", memory_cost_file_.string()));
  return cost;
}
#endif

void TorchUpscaler::prepare(int width, int height, std::optional<IoDeviceBytes> io) {
#ifdef UPSCALED_TORCH_CUDA
  if (!device_.is_cuda() || (width == planned_width_ && height == planned_height_ && io == io_)) return;
  io_ = io;
  const int device = cuda_device();
  if (!cost_) cost_ = measure_memory_cost();
  if (memory_limit_ > 0) ledger().set_limit(device, memory_limit_);
  const PlanRequest request = plan_request(width, height);
  std::optional<InferencePlan> plan = reservation_ ? fit_plan(*cost_, request, reservation_.bytes()) : std::nullopt;
  if (!plan) {  // first frame, or a larger frame than the reservation was made for
    reservation_.release();
    const std::size_t least = smallest_plan(*cost_, request).bytes;
    const std::size_t share = ledger().capacity(device) / static_cast<std::size_t>(memory_share_);
    const std::size_t want = std::max(least, std::min(preferred_plan(*cost_, request).bytes, share));
    const auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(memory_wait_s_ * 1000));
    reservation_ = ledger().reserve(device, least, want, wait);
    plan = fit_plan(*cost_, request, reservation_.bytes());
    if (!plan) throw Error(ErrorCode::internal, "model '" + name_ + "': no plan fits its own reservation");
  }
  tile_ = plan->tile;
  batch_ = plan->batch;
  planned_width_ = width;
  planned_height_ = height;
  // The first-call costs of this size, beside the caller's own start (the decoder's).
  start_first_run(!cost_from_file_);
  cost_from_file_ = false;  // a later prepare() (another size) follows real runs
  log::info(log::cat("model '", name_, "': ", format_bytes(reservation_.bytes()), " of GPU memory reserved on ",
                     device_.str(), " (", format_bytes(ledger().capacity(device)), " usable by this process): ",
                     tile_ > 0 ? log::cat(tile_, "-pixel tiles") : std::string("whole frames"), ", batch ", batch_,
                     " for ", width, "x", height,
                     io_ ? log::cat(" (", format_bytes(io_->fixed + io_->per_frame * static_cast<std::size_t>(batch_)),
                                    " of it for the frame path's buffers)")
                         : std::string()));
#else
  (void)width, (void)height, (void)io;
#endif
}

void TorchUpscaler::release_reservation() {
  reservation_.release();
  planned_width_ = planned_height_ = 0;  // the next prepare() plans and reserves again
}

}  // namespace upscaled::model::torchnet
