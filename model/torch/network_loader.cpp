// load_network_upscaler(): resolves a model path (file or folder) to a torchnet::Network by
// file type and wraps it in a TorchUpscaler. Registry names were already turned into paths
// by model_loader.cpp; anything that is not an existing path is reported as such.
#include "model/network_loader.h"

#include "core/error.h"
#include "core/file_extension.h"
#include "core/log.h"
#include "core/step_timer.h"
#include "model/torch/network.h"
#include "model/torch/torch_upscaler.h"

#include <torch/cuda.h>

#ifdef UPSCALED_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif
#ifdef UPSCALED_CUDNN_GRAPH
#include "model/cudnn/cudnn_warm_up.h"
#endif

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <utility>

namespace upscaled::model {
namespace {

namespace fs = std::filesystem;

// A folder stands for its model.json, or for x{scale}/model.json (an UpscalerJS package's
// models/ folder or the package itself).
fs::path resolve_folder(const fs::path& dir, int scale) {
  if (fs::exists(dir / "model.json")) return dir / "model.json";
  for (const fs::path& base : {dir, dir / "models"}) {
    if (scale > 0 && fs::exists(base / ("x" + std::to_string(scale)) / "model.json"))
      return base / ("x" + std::to_string(scale)) / "model.json";
  }
  std::string hint = scale > 0 ? "model.json or x" + std::to_string(scale) + "/model.json"
                               : "model.json (or pass a scale to pick x{scale}/model.json)";
  throw Error(ErrorCode::model, dir.string() + ": folder holds no " + hint);
}

}  // namespace

std::unique_ptr<Upscaler> load_network_upscaler(const ModelRequest& request) {
  fs::path path = request.name;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(ErrorCode::model, path.string() + ": no such model file or folder");
  if (fs::is_directory(path, ec)) path = resolve_folder(path, request.scale);

  const std::string ext = lower_extension(path);
  std::unique_ptr<torchnet::Network> net;
  if (path.filename() == "model.json" || ext == ".json") {
    net = torchnet::load_tfjs_network(path);
  } else if (ext == ".pth") {
    net = torchnet::load_pth_network(path);
  } else if (ext == ".safetensors") {
    net = torchnet::load_safetensors_network(path);
  } else if (ext == ".pt" || ext == ".ts" || ext == ".torchscript") {
    net = torchnet::load_torchscript_network(path);
  } else {
    throw Error(ErrorCode::model, path.string() +
                                      ": unknown model file type (expected a TF.js model.json, .pth, .safetensors, "
                                      "or TorchScript .pt/.ts/.torchscript)");
  }
  if (request.scale > 0 && request.scale != net->scale())
    throw Error(ErrorCode::model, path.string() + ": the network upscales x" + std::to_string(net->scale()) + " but x" +
                                      std::to_string(request.scale) + " was requested");
  auto upscaler = std::make_unique<torchnet::TorchUpscaler>(std::move(net), request);
  log::info(log::cat("model ", upscaler->describe()));
  return upscaler;
}

int network_cuda_device(const ModelRequest& request) {
  try {
    const torch::Device device = torchnet::resolve_device(request.device, request.name);
    return device.is_cuda() ? std::max<int>(0, device.index()) : -1;
  } catch (const std::exception&) {
    return -1;  // the load reports the request's error itself
  }
}

bool warm_up_network_device(const ModelRequest& request, WarmUpPath path, int* device_index) {
#ifdef UPSCALED_TORCH_CUDA
  // Where the time goes, for --log-level debug (docs/gpu-pipeline.md, start-up).
  StepTimer steps;
  (void)path;  // a build without the executor has one path
  if (request.device == "cpu" || !torch::cuda::is_available()) return false;
  torch::Device device = torchnet::resolve_device(request.device, request.name);
  if (!device.is_cuda()) return false;
  if (device.index() < 0) device = torch::Device(torch::kCUDA, 0);
  steps.step("driver");
  c10::cuda::CUDAGuard guard(device);
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(false, device.index());
  c10::cuda::CUDAStreamGuard on_stream(stream);
  c10::InferenceMode inference;
  steps.step("context and stream");
  // libtorch's CUDA state: its lazy initialisation, the caching allocator, a fill kernel's load.
  const auto first_tensors = [device] {
    const auto half = torch::TensorOptions().device(device).dtype(torch::kHalf);
    return std::pair{torch::zeros({1, 64, 16, 16}, half).contiguous(torch::MemoryFormat::ChannelsLast),
                     torch::zeros({64, 64, 3, 3}, half).contiguous(torch::MemoryFormat::ChannelsLast)};
  };
#ifdef UPSCALED_CUDNN_GRAPH
  if (path == WarmUpPath::executor) {
    // cuDNN's first use (0.09-0.10 s on the H200, its first workspace query) needs nothing of
    // libtorch, so libtorch's set-up (0.02-0.03 s) runs beside it rather than before it.
    std::exception_ptr torch_failed;
    double torch_s = 0;
    std::thread torch_side([&] {
      try {
        const auto start = std::chrono::steady_clock::now();
        const c10::cuda::CUDAGuard side_guard(device);
        const c10::cuda::CUDAStreamGuard side_stream(stream);
        const c10::InferenceMode side_inference;
        (void)first_tensors();
        stream.synchronize();
        torch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } catch (...) {
        torch_failed = std::current_exception();
      }
    });
    try {
      cudnn::warm_up(stream.stream());
    } catch (...) {
      torch_side.join();
      throw;
    }
    steps.step("executor");
    torch_side.join();
    if (torch_failed) std::rethrow_exception(torch_failed);
    steps.step(log::cat("then libtorch's first tensors (", torch_s, " s beside it)").c_str());
  } else
#endif
  {
    const auto [x, w] = first_tensors();
    steps.step("first tensors");
    torch::conv2d(x, w, {}, 1, 1);
    steps.step("libtorch convolution");
#ifdef UPSCALED_CUDNN_GRAPH
    cudnn::warm_up(stream.stream());
#endif
    stream.synchronize();
    steps.step("executor");
  }
  log::debug("GPU warm-up steps: " + steps.text());
  if (device_index) *device_index = device.index();
  return true;
#else
  (void)request, (void)path, (void)device_index;
  return false;
#endif
}

}  // namespace upscaled::model
