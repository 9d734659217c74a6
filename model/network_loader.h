// Entry point into the libtorch networks (target upscaled_torch). Torch-free header:
// callers never see libtorch types. Defined only when UPSCALED_HAVE_TORCH.
#pragma once

#include "model/model_loader.h"

namespace upscaled::model {

// Loads a network named by request.name (registry name or path). Throws Error(model).
std::unique_ptr<Upscaler> load_network_upscaler(const ModelRequest& request);

// The one-off GPU set-up of a network's first run, done now (DeviceWarmUp's thread):
// libtorch's CUDA state and a convolution through its cuDNN path, then the cuDNN executor's
// warm-up (model/cudnn/cudnn_warm_up.h). Synchronous, on a pool stream of the request's
// device. Nothing for the CPU, without CUDA, or in a build without them (returns false
// then). On success the warmed device's index goes to `device_index` when given. Throws on
// errors.
// planned_cuda_device() for a network (model/model_loader.h): resolve_device's answer.
int network_cuda_device(const ModelRequest& request);

bool warm_up_network_device(const ModelRequest& request, int* device_index = nullptr);

}  // namespace upscaled::model
