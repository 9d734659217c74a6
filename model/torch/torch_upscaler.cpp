// TorchUpscaler: device/precision choice, batching, tiling and the out-of-memory retry
// around a torchnet::Network (contract in torch_upscaler.h).
#include "model/torch/torch_upscaler.h"

#include "core/error.h"
#include "core/log.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#ifdef UPSCALED_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>

namespace upscaled::model::torchnet {
namespace {

const char* dtype_name(torch::Dtype d) {
  return d == torch::kFloat16 ? "fp16" : d == torch::kBFloat16 ? "bf16" : "fp32";
}

bool is_out_of_memory(const c10::Error& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return true;
  return std::string(e.what_without_backtrace()).find("out of memory") != std::string::npos;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// A torch view of a planar image (no copy): 3 x height x width float32.
torch::Tensor planes(const PlanarImage& img) {
  return torch::from_blob(const_cast<float*>(img.pixels.data()), {3, img.height, img.width}, torch::kFloat32);
}

}  // namespace

TilePlan plan_tiles(int width, int height, int tile, int overlap) {
  TilePlan plan;
  if (tile <= 0 || (width <= tile && height <= tile)) {
    plan.tiles.push_back({0, 0, width, height, 0, 0, width, height});
    return plan;
  }
  struct Span {
    int start, size, core, core_size;
  };
  auto cut = [&](int length) {
    std::vector<Span> spans;
    const int window = std::min(tile + 2 * overlap, length);
    for (int core = 0; core < length; core += tile) {
      const int core_size = std::min(tile, length - core);
      // Shifting the window inside the frame keeps every window the same size; it still
      // covers the core (window >= core_size + overlap on the side away from the border).
      const int start = std::clamp(core - overlap, 0, length - window);
      spans.push_back({start, window, core, core_size});
    }
    return spans;
  };
  for (const Span& ys : cut(height))
    for (const Span& xs : cut(width))
      plan.tiles.push_back({xs.start, ys.start, xs.size, ys.size, xs.core, ys.core, xs.core_size, ys.core_size});
  return plan;
}

void set_cudnn_autotune(const Network& network) {
  const char* choice = std::getenv("UPSCALED_CUDNN_BENCHMARK");
  const std::string forced = choice ? choice : "";
  at::globalContext().setBenchmarkCuDNN(forced == "1" || (forced != "0" && network.wants_cudnn_autotune()));
}

torch::Device resolve_device(const std::string& dev, const std::string& model_name) {
  if (dev == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (dev == "cpu") return torch::Device(torch::kCPU);
  if (dev.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error(ErrorCode::device,
                  "model '" + model_name + "': device '" + dev + "' requested but CUDA is not available");
    return torch::Device(dev);
  }
  throw Error(ErrorCode::usage, "model '" + model_name + "': unknown device '" + dev + "' (auto, cpu, cuda[:N])");
}

TorchUpscaler::TorchUpscaler(std::unique_ptr<Network> network, const ModelRequest& request)
    : network_(std::move(network)), name_(request.name), device_(resolve_device(request.device, request.name)) {
  const std::string& p = request.precision;
  if (p != "auto" && p != "fp32" && p != "fp16" && p != "bf16")
    throw Error(ErrorCode::usage, "model '" + name_ + "': unknown precision '" + p + "' (auto, fp32, fp16, bf16)");
  if (device_.is_cuda()) {
    dtype_ = p == "fp32" ? torch::kFloat32 : p == "bf16" ? torch::kBFloat16 : torch::kFloat16;
  } else if (p == "fp16" || p == "bf16") {
    log::warn(log::cat("model '", name_, "': precision ", p, " is GPU-only; the CPU runs fp32"));
  }
  tile_ = std::max(0, request.tile);
  overlap_ = std::max(request.tile_overlap, network_->context_pixels());
  batch_ = request.batch > 0 ? request.batch : device_.is_cuda() ? kDefaultGpuBatch : 1;
  max_batch_ = batch_;
  user_tile_ = request.tile > 0;
  user_batch_ = request.batch > 0;
  memory_limit_ = request.gpu_memory_limit;
  memory_wait_s_ = request.gpu_memory_wait_seconds;
  memory_share_ = std::max(1, request.gpu_jobs);
  memory_cost_file_ = request.memory_cost_cache;
  network_->to(device_, dtype_);
  if (device_.is_cuda()) set_cudnn_autotune(*network_);
#ifdef UPSCALED_TORCH_CUDA
  // to() converted the weights on this thread's current stream; the stages' own streams and
  // the priming thread's read them without other ordering.
  if (device_.is_cuda()) c10::cuda::getCurrentCUDAStream(device_.index()).synchronize();
#endif
}

TorchUpscaler::~TorchUpscaler() {
  join_first_run();
}

void TorchUpscaler::join_first_run() {
  if (first_run_.joinable()) first_run_.join();
}

void TorchUpscaler::start_first_run(bool after_measurement) {
#ifdef UPSCALED_TORCH_CUDA
  // UPSCALED_FIRST_RUN: "0" none, "small" the 64x64 run only (for comparisons).
  const char* env = std::getenv("UPSCALED_FIRST_RUN");
  const std::string mode = env ? env : "";
  if (mode == "0") return;
  join_first_run();
  const TilePlan tiles = plan_tiles(planned_width_, planned_height_, tile_, overlap_);
  const int64_t n = batch_, h = tiles.tiles.front().h, w = tiles.tiles.front().w;
  const bool prime = mode != "small";
  if (!prime && after_measurement) return;  // the measurement's runs paid the one-off costs
  // Returns once the priming has made its cuDNN handle, plan and scratch: what the caller
  // does next (the batch pool's pinned memory, whose making holds a driver lock) slowed
  // those down (handle 16-26 ms instead of 1.4-4.2). Measured: docs/gpu-pipeline.md, start-up.
  // UPSCALED_PRIME_SET_UP=0 returns at once, =handle|plan after that step (for comparisons).
  const char* set_up_env = std::getenv("UPSCALED_PRIME_SET_UP");
  const std::string wait_for = set_up_env ? set_up_env : "scratch";
  auto set_up = std::make_shared<std::promise<void>>();
  std::future<void> set_up_done = set_up->get_future();
  auto release = [set_up, released = std::make_shared<std::atomic<bool>>(false)] {
    if (!released->exchange(true)) set_up->set_value();
  };
  first_run_ = std::thread([this, prime, after_measurement, n, h, w, wait_for, release] {
    const auto start = std::chrono::steady_clock::now();
    struct Release {  // on every way out of the thread
      std::function<void()> f;
      ~Release() { f(); }
    } released_at_exit{release};
    try {
      const c10::DeviceIndex index = static_cast<c10::DeviceIndex>(cuda_device());
      c10::cuda::CUDAGuard guard(index);
      const c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(false, index);
      c10::cuda::CUDAStreamGuard on_stream(stream);
      c10::InferenceMode inference;
      // What the priming leaves in libtorch's cache: its scratch is stream-ordered and given
      // back, so this is 0 (nothing else allocates through libtorch while it runs).
      auto reserved = [index] {
        return c10::cuda::CUDACachingAllocator::getDeviceStats(index).reserved_bytes[0].current;
      };
      const auto reserved_before = reserved();
      std::string what;
      if (prime && network_->prime(n, h, w, [&](const char* step) {
            if (wait_for == step) release();
          })) {
        stream.synchronize();
        what = log::cat("primed for ", n, "x", h, "x", w, " (libtorch's cache grew by ",
                        (reserved() - reserved_before) >> 20, " MiB)");
      } else if (!after_measurement) {
        release();  // a whole first run: nothing the caller makes would slow it much
        (void)infer(torch::zeros({1, 3, 64, 64}, torch::TensorOptions().device(device_).dtype(dtype_)));
        what = "first run (64x64)";
      } else {
        return;
      }
      stream.synchronize();
      log::debug(log::cat("model '", name_, "': ", what, " beside the pipeline's start in ",
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), " s"));
    } catch (const std::exception& e) {
      // The first real call runs the same network and reports its own error.
      log::debug(log::cat("model '", name_, "': first run failed: ", e.what()));
    }
  });
  if (wait_for != "0") set_up_done.wait();
#else
  (void)after_measurement;
#endif
}

std::string TorchUpscaler::describe() const {
  return log::cat(name_, ": ", network_->describe(), " on ", device_.str(), " ", dtype_name(dtype_),
                  tile_ > 0 ? log::cat(", tile ", tile_, "+", overlap_) : std::string(", whole frames"), ", batch ",
                  batch_);
}

torch::Tensor TorchUpscaler::infer(const torch::Tensor& batch) {
  torch::Tensor x = batch.to(device_, dtype_);
  if (device_.is_cuda()) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor y = network_->forward(x);
  const int s = network_->scale();
  if (y.dim() != 4 || y.size(0) != x.size(0) || y.size(1) != 3 || y.size(2) != x.size(2) * s ||
      y.size(3) != x.size(3) * s)
    throw Error(ErrorCode::model, "model '" + name_ + "': network output has shape " + c10::str(y.sizes()) +
                                      ", expected [" + std::to_string(x.size(0)) + ",3," +
                                      std::to_string(x.size(2) * s) + "," + std::to_string(x.size(3) * s) + "]");
  return y.clamp(0.0, 1.0);
}

void TorchUpscaler::run_frames(size_t count, int w, int h, const FrameTensor& frame, const FrameTensor& target) {
  const int s = network_->scale();
  // The first call's host time by part, for --log-level debug (what the start-up pays).
  using Clock = std::chrono::steady_clock;
  const bool timed = !first_call_logged_ && log::enabled(log::Level::debug);
  first_call_logged_ = true;
  double stack_s = 0, infer_s = 0, copy_s = 0;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const TilePlan plan = plan_tiles(w, h, tile_, overlap_);
  // Work items: (frame, tile); batched across tiles and frames, all windows share one size.
  std::vector<std::pair<size_t, size_t>> items;
  for (size_t f = 0; f < count; ++f)
    for (size_t t = 0; t < plan.tiles.size(); ++t) items.emplace_back(f, t);
  for (size_t first = 0; first < items.size(); first += static_cast<size_t>(batch_)) {
    const size_t n = std::min(items.size() - first, static_cast<size_t>(batch_));
    std::vector<torch::Tensor> windows;
    for (size_t i = 0; i < n; ++i) {
      const auto& [f, t] = items[first + i];
      const TilePlan::Tile& tile = plan.tiles[t];
      windows.push_back(frame(f).slice(1, tile.y, tile.y + tile.h).slice(2, tile.x, tile.x + tile.w));
    }
    auto mark = Clock::now();
    const torch::Tensor stacked = torch::stack(windows);
    stack_s += since(mark);
    mark = Clock::now();
    const torch::Tensor result = infer(stacked);
    infer_s += since(mark);
    mark = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      const auto& [f, t] = items[first + i];
      const TilePlan::Tile& tile = plan.tiles[t];
      const int cx = (tile.core_x - tile.x) * s, cy = (tile.core_y - tile.y) * s;
      torch::Tensor core =
          result[static_cast<int64_t>(i)].slice(1, cy, cy + tile.core_h * s).slice(2, cx, cx + tile.core_w * s);
      target(f)
          .slice(1, tile.core_y * s, (tile.core_y + tile.core_h) * s)
          .slice(2, tile.core_x * s, (tile.core_x + tile.core_w) * s)
          .copy_(core);
    }
    copy_s += since(mark);
  }
  if (timed)
    log::debug(log::cat("model '", name_, "': first call at ", count, "x", h, "x", w, ": host time stack ", stack_s,
                        " s, network and clamp ", infer_s, " s, copy out ", copy_s, " s"));
}

void TorchUpscaler::run_with_retry(size_t count, int width, int height, const FrameTensor& frame,
                                   const FrameTensor& target) {
  if (width <= 0 || height <= 0)
    throw Error(ErrorCode::internal, "upscale: empty frame given to model '" + name_ + "'");
  prepare(width, height, io_);
  join_first_run();
  for (;;) {
    try {
      run_frames(count, width, height, frame, target);
      return;
    } catch (const c10::Error& e) {
      if (!is_out_of_memory(e))
        throw Error(device_.is_cuda() ? ErrorCode::device : ErrorCode::model,
                    "model '" + name_ + "': inference failed: " + first_line(e.what_without_backtrace()));
      const int longest = std::max(width, height);
      int next = tile_ > 0 ? tile_ / 2 : 1;
      if (tile_ == 0)
        while (next * 2 < longest) next *= 2;  // largest power of two below the frame
      if (next < kMinTile)
        throw Error(ErrorCode::device, "model '" + name_ + "': out of memory on " + device_.str() + " even with " +
                                           std::to_string(tile_) + "-pixel tiles and batch " + std::to_string(batch_));
      log::warn(log::cat("model '", name_, "': out of memory on ", device_.str(), " with ",
                         tile_ > 0 ? std::to_string(tile_) + "-pixel tiles" : std::string("whole frames"),
                         "; retrying with ", next, "-pixel tiles"));
      tile_ = next;
    }
  }
}

void TorchUpscaler::upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) {
  if (in.size() != out.size())
    throw Error(ErrorCode::internal,
                "upscale: " + std::to_string(in.size()) + " inputs but " + std::to_string(out.size()) + " outputs");
  c10::InferenceMode guard;
  const int s = network_->scale();
  // Runs of equally sized frames go through together.
  for (size_t first = 0; first < in.size();) {
    size_t last = first + 1;
    while (last < in.size() && in[last].width == in[first].width && in[last].height == in[first].height) ++last;
    for (size_t f = first; f < last; ++f) out[f].resize(in[f].width * s, in[f].height * s);
    run_with_retry(
        last - first, in[first].width, in[first].height, [&](size_t f) { return planes(in[first + f]); },
        [&](size_t f) { return planes(out[first + f]); });
    first = last;
  }
}

void TorchUpscaler::upscale_device(const DeviceImages& in, const DeviceImages& out, DeviceStream stream) {
#ifdef UPSCALED_TORCH_CUDA
  if (!device_.is_cuda()) throw std::logic_error("upscale_device: model '" + name_ + "' runs on the CPU");
  const int s = network_->scale();
  if (in.n != out.n || out.width != in.width * s || out.height != in.height * s)
    throw Error(ErrorCode::internal, "upscale_device: output batch does not match input x" + std::to_string(s));
  c10::InferenceMode guard;
  c10::cuda::CUDAStreamGuard on_stream(
      c10::cuda::getStreamFromExternal(stream, device_.index() < 0 ? 0 : device_.index()));
  const auto options = torch::TensorOptions().dtype(torch::kFloat16).device(device_);
  const torch::Tensor src = torch::from_blob(in.data, {in.n, 3, in.height, in.width}, options);
  const torch::Tensor dst = torch::from_blob(out.data, {out.n, 3, out.height, out.width}, options);
  run_with_retry(
      static_cast<size_t>(in.n), in.width, in.height, [&](size_t f) { return src[static_cast<int64_t>(f)]; },
      [&](size_t f) { return dst[static_cast<int64_t>(f)]; });
#else
  (void)in, (void)out, (void)stream;
  throw std::logic_error("upscale_device: this libtorch has no CUDA");
#endif
}

}  // namespace upscaled::model::torchnet
