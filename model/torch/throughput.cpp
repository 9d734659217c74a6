// Model-only timing (see throughput.h): no PlanarImage conversion, no host copies, so the
// figure is the network's own cost on the device.
#include "model/torch/throughput.h"

#include "core/error.h"
#include "model/torch/network.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>

#ifdef UPSCALED_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace upscaled::model {

bool torch_cuda_available() {
  return torch::cuda::is_available();
}

bool limit_torch_cuda_memory(double fraction, int device) {
#ifdef UPSCALED_TORCH_CUDA
  c10::cuda::CUDACachingAllocator::emptyCache();
  c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, static_cast<c10::DeviceIndex>(device));
  return true;
#else
  (void)fraction, (void)device;
  return false;
#endif
}

namespace {

std::unique_ptr<torchnet::Network> load_network(const std::filesystem::path& path, int scale) {
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(file)) {
    if (std::filesystem::exists(file / "model.json"))
      file /= "model.json";
    else
      file = file / ("x" + std::to_string(scale)) / "model.json";
  }
  const std::string ext = file.extension().string();
  if (ext == ".json") return torchnet::load_tfjs_network(file);
  if (ext == ".pth") return torchnet::load_pth_network(file);
  if (ext == ".safetensors") return torchnet::load_safetensors_network(file);
  return torchnet::load_torchscript_network(file);
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}

}  // namespace

ThroughputResult measure_network_throughput(const ModelRequest& request, int width, int height, int warmup,
                                            int iterations) {
  const bool cuda = request.device == "cuda" || (request.device == "auto" && torch::cuda::is_available());
  if (cuda && !torch::cuda::is_available()) throw Error(ErrorCode::device, "CUDA requested but not available");
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  torch::Dtype dtype = torch::kFloat32;
  if (cuda && request.precision != "fp32") dtype = request.precision == "bf16" ? torch::kBFloat16 : torch::kFloat16;

  auto net = load_network(request.name, request.scale);
  net->to(device, dtype);
  if (cuda) torchnet::set_cudnn_autotune(*net);
  c10::InferenceMode guard;
  ThroughputResult r;
  r.network = net->describe();
  r.device = device.str();
  r.precision = dtype == torch::kFloat16 ? "fp16" : dtype == torch::kBFloat16 ? "bf16" : "fp32";
  r.width = width;
  r.height = height;
  r.batch = std::max(1, request.batch);
  r.scale = net->scale();
  r.multiply_adds_per_input_pixel = net->multiply_adds_per_input_pixel();
  torch::Tensor x = torch::rand({r.batch, 3, height, width}, torch::TensorOptions().device(device).dtype(dtype));
  if (cuda) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  for (int i = 0; i < warmup; ++i) net->forward(x);
  sync(device);
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor y = net->forward(x);
    sync(device);
    r.ms_per_batch.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<double> sorted = r.ms_per_batch;
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty()) r.median_ms_per_frame = sorted[sorted.size() / 2] / r.batch;
  return r;
}

}  // namespace upscaled::model
