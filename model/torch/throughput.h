// Torch-free entry points of the upscaled_torch target for tests and bench/: whether
// libtorch sees a CUDA device, and model-only throughput of a network.
//
// Contract: synchronous. measure_network_throughput() loads the model named by
// request.name (a path, as load_network_upscaler takes), moves it to request's device and
// precision, and times Network::forward on a device-resident random batch (no host
// transfers, no clamping): `warmup` untimed runs, then `iterations` timed runs, each
// followed by a device synchronisation. Throws upscaled::Error like the loaders.
#pragma once

#include "model/model_loader.h"

#include <string>
#include <vector>

namespace upscaled::model {

bool torch_cuda_available();

// For tests that provoke an out-of-memory on purpose: caps torch's caching allocator on
// `device` at `fraction` of the GPU's memory (1.0 = no cap) after returning its cached
// blocks to the driver. False when this libtorch has no CUDA.
bool limit_torch_cuda_memory(double fraction, int device);

struct ThroughputResult {
  std::string network;    // Network::describe()
  std::string device;     // "cpu", "cuda:0"
  std::string precision;  // fp32 | fp16 | bf16
  int width = 0, height = 0, batch = 1, scale = 0;
  std::vector<double> ms_per_batch;  // every timed iteration
  double median_ms_per_frame = 0;
  double multiply_adds_per_input_pixel = 0;  // from the network's convolutions; 0 = unknown
};

ThroughputResult measure_network_throughput(const ModelRequest& request, int width, int height, int warmup,
                                            int iterations);

}  // namespace upscaled::model
