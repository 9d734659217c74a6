// What the linked libtorch is and whether it can use the GPU. Torch-free header, so that
// doctor/ can call it without seeing libtorch; defined in model/torch/torch_info.cpp, which
// only exists in builds with libtorch (callers guard with their own compile definition).
//
// Contract: both functions are synchronous, thread-safe and never throw: every libtorch
// failure becomes text in the result. query_torch_info() is cheap (no CUDA context unless
// libtorch's own is_available() creates one). run_torch_conv_probe() runs one small 3x3
// convolution (1x3x32x32 -> 1x8x32x32) on the given device through libtorch's current
// stream, waits for it and compares it with the same convolution on the CPU.
#pragma once

#include <string>

namespace upscaled::model {

struct TorchInfo {
  std::string version;           // libtorch version, e.g. "2.11.0"
  bool built_with_cuda = false;  // libtorch_cuda is linked and registered its hooks
  int cuda_version = 0;          // CUDA runtime libtorch was built for (e.g. 12080); 0 = CPU build
  bool cuda_available = false;   // torch::cuda::is_available()
  int device_count = 0;          // torch::cuda::device_count()
  bool cudnn_available = false;  // torch::cuda::cudnn_is_available()
  long cudnn_version = 0;        // e.g. 91002 (9.10.2); 0 when absent
  std::string error;             // libtorch's text when a query threw
};

TorchInfo query_torch_info();

struct TorchConvProbe {
  bool ok = false;
  std::string device;       // "cuda:0" or "cpu"
  bool used_cudnn = false;  // cuDNN was enabled and available for the run
  double max_abs_diff = 0;  // against the CPU result
  std::string error;        // libtorch's text when !ok
};

// device_index < 0 runs on the CPU (only proves libtorch itself works).
TorchConvProbe run_torch_conv_probe(int device_index);

}  // namespace upscaled::model
