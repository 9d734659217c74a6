// Temporary: compiling entry points so other targets can link; replaced by the real loaders.
#include "core/error.h"
#include "model/torch/network.h"

namespace upscaled::model::torchnet {

std::unique_ptr<Network> load_pth_network(const std::filesystem::path& path) {
  throw Error(ErrorCode::model, path.string() + ": .pth loading not implemented yet");
}

std::unique_ptr<Network> load_safetensors_network(const std::filesystem::path& path) {
  throw Error(ErrorCode::model, path.string() + ": .safetensors loading not implemented yet");
}

std::unique_ptr<Network> load_torchscript_network(const std::filesystem::path& path) {
  throw Error(ErrorCode::model, path.string() + ": TorchScript loading not implemented yet");
}

}  // namespace upscaled::model::torchnet
