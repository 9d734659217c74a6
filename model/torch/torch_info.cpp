// libtorch facts for doctor (model/torch_info.h). Written against the API common to
// libtorch 1.13 and 2.x: at::detail::getCUDAHooks() answers for CUDA builds and CPU builds
// alike (a CPU build's hooks say hasCUDA() == false), so no CUDA header is needed here.
#include "model/torch_info.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <exception>

namespace upscaled::model {

TorchInfo query_torch_info() {
  TorchInfo info;
  info.version = TORCH_VERSION;
  try {
    const auto& hooks = at::detail::getCUDAHooks();
    // A CPU build's hooks throw here; libtorch_cuda's return the CUDART_VERSION it was
    // compiled with, with or without a GPU (unlike hasCUDA(), which needs a device).
    try {
      info.cuda_version = static_cast<int>(hooks.versionCUDART());
      info.built_with_cuda = info.cuda_version > 0;
    } catch (const std::exception&) {
      info.built_with_cuda = false;
    }
    if (info.built_with_cuda && hooks.compiledWithCuDNN()) info.cudnn_version = hooks.versionCuDNN();
    info.cuda_available = torch::cuda::is_available();
    info.device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
    info.cudnn_available = info.cuda_available && torch::cuda::cudnn_is_available();
  } catch (const std::exception& e) {
    info.error = e.what();
  }
  return info;
}

TorchConvProbe run_torch_conv_probe(int device_index) {
  TorchConvProbe probe;
  try {
    torch::NoGradGuard no_grad;
    const torch::Device device = device_index < 0
                                     ? torch::Device(torch::kCPU)
                                     : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_index));
    probe.device = device.str();
    // Fixed inputs (not random) so that a failure reproduces; small enough for any GPU.
    const auto input = torch::linspace(0.0, 1.0, 3 * 32 * 32, torch::kFloat32).reshape({1, 3, 32, 32});
    const auto weight = torch::linspace(-0.5, 0.5, 8 * 3 * 3 * 3, torch::kFloat32).reshape({8, 3, 3, 3});
    const auto bias = torch::linspace(-0.1, 0.1, 8, torch::kFloat32);
    const auto expected = torch::conv2d(input, weight, bias, 1, 1);
    probe.used_cudnn = device.is_cuda() && at::globalContext().userEnabledCuDNN() && torch::cuda::cudnn_is_available();
    const auto got = torch::conv2d(input.to(device), weight.to(device), bias.to(device), 1, 1).to(torch::kCPU);
    probe.max_abs_diff = (got - expected).abs().max().item<double>();
    // TF32 on Ampere and newer keeps about 10 mantissa bits: allow for it.
    if (probe.max_abs_diff > 1e-2) {
      probe.error = "convolution result differs from the CPU by " + std::to_string(probe.max_abs_diff);
    } else {
      probe.ok = true;
    }
  } catch (const std::exception& e) {
    probe.error = e.what();
    // libtorch messages carry a C++ backtrace after the first line; doctor shows one line.
    if (auto nl = probe.error.find('\n'); nl != std::string::npos) probe.error.resize(nl);
  }
  return probe;
}

}  // namespace upscaled::model
