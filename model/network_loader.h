// Entry point into the libtorch networks (target upscaled_torch). Torch-free header:
// callers never see libtorch types. Defined only when UPSCALED_HAVE_TORCH.
#pragma once

#include "model/model_loader.h"

namespace upscaled::model {

// Loads a network named by request.name (registry name or path). Throws Error(model).
std::unique_ptr<Upscaler> load_network_upscaler(const ModelRequest& request);

}  // namespace upscaled::model
