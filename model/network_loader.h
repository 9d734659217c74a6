// Entry point into the libtorch networks (target upscaled_torch). Torch-free header:
// callers never see libtorch types. Defined only when UPSCALED_HAVE_TORCH.
#pragma once

#include "model/model_loader.h"

namespace upscaled::model {

// Loads a network named by request.name (registry name or path). Throws Error(model).
std::unique_ptr<Upscaler> load_network_upscaler(const ModelRequest& request);

// planned_cuda_device() for a network (model/model_loader.h): resolve_device's answer.
int network_cuda_device(const ModelRequest& request);

// How warm_up_network_device() sets up cuDNN.
enum class WarmUpPath {
  both,      // a convolution through libtorch's cuDNN path, then the cuDNN executor's warm-up
  executor,  // the executor's warm-up only: the network's every convolution runs there
};

// The one-off GPU set-up of a network's first run, done now (DeviceWarmUp's thread):
// libtorch's CUDA state, then cuDNN along `path` (model/cudnn/cudnn_warm_up.h for the
// executor). Synchronous, on a pool stream of the request's device. Nothing for the CPU,
// without CUDA, or in a build without them (returns false then). On success the warmed
// device's index goes to `device_index` when given. Throws on errors.
bool warm_up_network_device(const ModelRequest& request, WarmUpPath path = WarmUpPath::both,
                            int* device_index = nullptr);

}  // namespace upscaled::model
